"""What a render writes besides the MP3s, so the book is ready for every way of listening.

Next to each chapter file ``NN - Title.mp3``: its transcript as ``NN - Title.vtt`` and
``.srt`` and its scenes as ``NN - Title.chapters.json`` (:mod:`narrate.output.transcripts`),
written with the MP3 and kept with it while it is kept. In the book's folder: the podcast
feed ``feed.xml`` and the playlist ``playlist.m3u8`` (:mod:`narrate.output.feed`), written at
the end of every render from the files as they are, and the read-along page
``index.html`` (:mod:`narrate.output.readalong`). Every file is written under a temporary name
and renamed into place.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from narrate.atomic import write_atomically
from narrate.model import Book, ChapterMark, primary_language
from narrate.output import feed, readalong, transcripts

#: The companions of a chapter file: suffix, and MIME type for the feed.
TRANSCRIPTS = ((".vtt", "text/vtt"), (".srt", "application/srt"))
CHAPTERS = ".chapters.json"
#: Enclosure types by file suffix.
AUDIO_TYPES = {".mp3": "audio/mpeg", ".m4b": "audio/mp4"}
COMPANIONS = (*(suffix for suffix, _ in TRANSCRIPTS), CHAPTERS)


def companion(mp3: Path, suffix: str) -> Path:
    """``NN - Title.vtt`` for ``NN - Title.mp3``."""
    return mp3.with_name(mp3.stem + suffix)


def has_companions(mp3: Path) -> bool:
    return all(companion(mp3, suffix).is_file() for suffix in COMPANIONS)


def write_companions(
    mp3: Path, lines: Sequence[transcripts.Cue], marks: Sequence[ChapterMark]
) -> None:
    """Write an MP3's transcripts (of ``lines``) and JSON chapters (of ``marks``)."""
    texts = {
        ".vtt": transcripts.webvtt(lines),
        ".srt": transcripts.srt(lines),
        CHAPTERS: transcripts.chapters_json(marks),
    }
    for suffix, text in texts.items():
        write_atomically(companion(mp3, suffix), text.encode("utf-8"), "the transcript")


def read_cues(mp3: Path) -> list[transcripts.Cue]:
    """The cues of an MP3's WebVTT transcript."""
    return transcripts.read_webvtt(companion(mp3, ".vtt").read_text(encoding="utf-8"))


def read_marks(mp3: Path, duration: float) -> list[ChapterMark]:
    """The chapter marks of an MP3, from its JSON chapters; the last ends at ``duration``."""
    entries = json.loads(companion(mp3, CHAPTERS).read_text(encoding="utf-8"))["chapters"]
    starts = [round(entry["startTime"] * 1000) for entry in entries]
    ends = [*starts[1:], round(duration * 1000)]
    return [
        ChapterMark(entry["title"], start, end)
        for entry, start, end in zip(entries, starts, ends, strict=True)
    ]


def remove_companions(mp3: Path) -> None:
    for suffix in COMPANIONS:
        with contextlib.suppress(OSError):
            companion(mp3, suffix).unlink(missing_ok=True)


COVER_NAMES = {"image/jpeg": "cover.jpg", "image/png": "cover.png"}


def write_cover(folder: Path, cover: tuple[bytes, str]) -> str:
    """Write the book's cover (image bytes, MIME type) into its folder, for the feed and
    players that look for ``cover.jpg``; return its file name. A cover of the other type
    left by an earlier render goes."""
    data, mime = cover
    name = COVER_NAMES.get(mime, "cover.jpg")
    for other in COVER_NAMES.values():
        if other != name:
            with contextlib.suppress(OSError):
                (folder / other).unlink(missing_ok=True)
    path = folder / name
    if not path.is_file() or path.read_bytes() != data:
        write_atomically(path, data, "the cover")
    return name


def write_feed(
    folder: Path,
    show: feed.Show,
    tracks: Sequence,
    base_url: str | None = None,
) -> tuple[Path, Path]:
    """Write ``feed.xml`` and ``playlist.m3u8`` for the chapter files ``tracks`` (each
    with ``path``, ``title`` and ``duration``), in order."""
    episodes = [
        feed.Episode(
            number=number,
            title=track.title,
            audio=track.path.name,
            size=track.path.stat().st_size,
            duration=track.duration,
            mime=AUDIO_TYPES.get(track.path.suffix, "audio/mpeg"),
            chapters=companion(track.path, CHAPTERS).name,
            transcripts=tuple(
                (companion(track.path, suffix).name, mime) for suffix, mime in TRANSCRIPTS
            ),
        )
        for number, track in enumerate(tracks, start=1)
    ]
    feed_path, playlist_path = folder / feed.FEED_NAME, folder / feed.PLAYLIST_NAME
    first = _first_published(feed_path)
    text = feed.feed_xml(show, episodes, first, base_url)
    write_atomically(feed_path, text.encode("utf-8"), "the feed")
    write_atomically(
        playlist_path, feed.playlist(episodes, base_url).encode("utf-8"), "the playlist"
    )
    return feed_path, playlist_path


READALONG_NAME = "index.html"


def write_readalong(folder: Path, show: feed.Show, tracks: Sequence) -> Path:
    """Write the read-along page (:mod:`narrate.output.readalong`) for the chapter files
    ``tracks``, their cues read back from their WebVTT transcripts."""
    chapters = [
        readalong.PageChapter(
            track.title,
            feed.url(track.path.name, None),
            tuple(
                transcripts.read_webvtt(companion(track.path, ".vtt").read_text(encoding="utf-8"))
            ),
        )
        for track in tracks
    ]
    path = folder / READALONG_NAME
    text = readalong.page(show.title, show.author, show.image, chapters)
    write_atomically(path, text.encode("utf-8"), "the read-along page")
    return path


def _first_published(feed_path: Path) -> datetime:
    """When the feed was first written (its channel's pubDate), so that episode dates stay
    put across re-renders; now for a new feed."""
    with contextlib.suppress(OSError, ET.ParseError, TypeError, ValueError, AttributeError):
        channel = ET.parse(feed_path).getroot().find("channel")
        return parsedate_to_datetime(channel.findtext("pubDate"))
    return datetime.now(timezone.utc).replace(microsecond=0)


def write_extras(
    folder: Path,
    book: Book,
    cover: tuple[bytes, str],
    files: Sequence,
    base_url: str | None = None,
) -> None:
    """What every way of listening needs besides the audio and its transcripts: the cover
    file, the podcast feed and playlist of ``files`` (links under ``base_url``, else
    relative), and the read-along page."""
    cover_name = write_cover(folder, cover)
    language = primary_language(book.language) or "en"
    show = feed.Show(book.title, book.author, book.description, language, cover_name)
    write_feed(folder, show, files, base_url)
    write_readalong(folder, show, files)
