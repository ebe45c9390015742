"""A chapter's words with their times: WebVTT and SRT transcripts, Podcasting 2.0 chapters.

Pure: a chapter's timeline (where each spoken segment sits in its file, from
:mod:`narrate.speech.assemble`) and its marks in, text out. The files themselves are written
next to each MP3 by :mod:`narrate.output.publish`.

* **WebVTT** (``.vtt``): one cue per spoken segment at its exact time in the audio;
  dialogue cues carry the speaker as a voice span, ``<v Elizabeth>``, which players and
  the read-along page show. Narration has no voice span.
* **SRT** (``.srt``): the same cues, dialogue prefixed with ``Name:``, for players that
  only read SRT.
* **Chapters** (``.chapters.json``): the Podcasting 2.0 JSON chapters format, version
  1.2.0, one entry per scene, with title and start time in seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from narrate.model import DIALOGUE, NARRATOR, ChapterMark, plain

CHAPTERS_VERSION = "1.2.0"


@dataclass(frozen=True)
class Cue:
    """One line of a transcript: when, who (None for narration) and what."""

    start_ms: int
    end_ms: int
    speaker: str | None
    text: str


def cues(timeline: Sequence, chapter_title: str) -> list[Cue]:
    """The transcript lines of a chapter's timeline (``assemble.TimedSegment`` s): the
    written words of each segment (a heading's is the chapter's title), its speaker for
    dialogue."""
    lines = []
    for timed in timeline:
        segment = timed.segment
        text = chapter_title if segment.heading else " ".join(plain(segment.text).split())
        speaker = segment.speaker if segment.kind == DIALOGUE else None
        if speaker == NARRATOR:
            speaker = None
        lines.append(Cue(timed.start_ms, max(timed.end_ms, timed.start_ms + 1), speaker, text))
    return lines


def webvtt(lines: Sequence[Cue]) -> str:
    """A WebVTT file of the cues."""
    out = ["WEBVTT", ""]
    for number, cue in enumerate(lines, start=1):
        out.append(str(number))
        out.append(f"{_time(cue.start_ms, '.')} --> {_time(cue.end_ms, '.')}")
        text = _vtt_escape(cue.text)
        out.append(f"<v {_vtt_escape(cue.speaker)}>{text}" if cue.speaker else text)
        out.append("")
    return "\n".join(out)


def read_webvtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file as :func:`webvtt` writes them (the read-along page reads
    a chapter's transcript back from its file, also for chapters kept from a past render)."""
    lines = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        rows = [row for row in block.split("\n") if row]
        timing = next((row for row in rows if " --> " in row), None)
        if timing is None:
            continue
        start, end = (_ms(stamp.split()[0]) for stamp in timing.split(" --> "))
        body = " ".join(rows[rows.index(timing) + 1 :])
        speaker = None
        match = _VOICE.match(body)
        if match:
            speaker, body = _vtt_unescape(match.group(1)), match.group(2)
        lines.append(Cue(start, end, speaker, _vtt_unescape(body)))
    return lines


def srt(lines: Sequence[Cue]) -> str:
    """An SRT file of the cues."""
    out = []
    for number, cue in enumerate(lines, start=1):
        out.append(str(number))
        out.append(f"{_time(cue.start_ms, ',')} --> {_time(cue.end_ms, ',')}")
        out.append(f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text)
        out.append("")
    return "\n".join(out)


def chapters_json(marks: Sequence[ChapterMark]) -> str:
    """The Podcasting 2.0 JSON chapters of a file: one entry per scene."""
    entries = [{"startTime": round(mark.start_ms / 1000, 3), "title": mark.title} for mark in marks]
    return json.dumps({"version": CHAPTERS_VERSION, "chapters": entries}, ensure_ascii=False)


def _time(ms: int, separator: str) -> str:
    hours, rest = divmod(max(0, ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


_VOICE = re.compile(r"^<v(?:\.[^ >]*)? ([^>]*)>(.*)$", re.DOTALL)


def _ms(stamp: str) -> int:
    hours, minutes, seconds = stamp.replace(",", ".").split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def _vtt_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _vtt_escape(text: str) -> str:
    # "-->" would end a cue's timing line early; "<" and "&" start markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
