"""Assemble a chapter's audio: speak each segment in its voice, with the pauses between.

Speech comes from the engine sentence by sentence; each sentence is trimmed of the
engine's own leading and trailing silence so the pauses are exactly those of the voices
file: after a sentence, when the speaker changes, between paragraphs, at a scene break and
after the chapter's title, and at the chapter's end. Each segment is brought to the same
loudness before it is joined, so every voice is equally loud; the whole chapter is then
normalised (EBU R128 / ITU-R BS.1770) by :mod:`narrate.loudness`.

pydub holds the pieces (speech and silences) and joins them.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from narrate import loudness
from narrate.cache import SpeechCache, speech_key
from narrate.engine import Engine
from narrate.model import (
    Cast,
    Chapter,
    ChapterMark,
    Pauses,
    Pronunciations,
    Segment,
    VoiceProfile,
)
from narrate.spoken import sentences, spoken_text

with warnings.catch_warnings():
    # pydub looks for ffmpeg at import and warns when there is none; narrate never asks
    # pydub to decode or encode, so it does not need one. Its use of audioop warns on
    # Python 3.12 (audioop-lts replaces it from 3.13).
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message=".*audioop", category=DeprecationWarning)
    from pydub import AudioSegment

#: Loudness every chapter must have in the finished MP3 (LUFS), and its true-peak ceiling.
TARGET_LUFS = -19.0
MAX_TRUE_PEAK = -1.5
#: What the PCM is normalised to before encoding. MP3 at speech bitrates cuts the highs
#: that K-weighting boosts, so the decoded file measures about 0.5 LU quieter than the PCM,
#: and the encoder's ringing lifts peaks a few tenths of a dB: aim a little louder and
#: keep peaks a little lower (measured with ffmpeg's ebur128 on the decoded files).
ENCODE_TARGET_LUFS = TARGET_LUFS + 0.5
ENCODE_MAX_TRUE_PEAK = MAX_TRUE_PEAK - 0.7

#: Samples below this fraction of full scale count as silence when trimming (-50 dBFS).
_SILENCE_LEVEL = 0.0032
_TRIM_MARGIN_SECONDS = 0.015
_LEAD_IN_SECONDS = 0.3


@dataclass(frozen=True)
class TimedSegment:
    """A segment placed in the chapter's audio, with the words actually spoken."""

    segment: Segment
    start_ms: int
    end_ms: int
    spoken: str


@dataclass(frozen=True)
class ChapterAudio:
    """A chapter's finished audio (int16 mono) and where its scenes and segments are."""

    chapter: Chapter
    samples: np.ndarray
    rate: int
    marks: tuple[ChapterMark, ...]
    timeline: tuple[TimedSegment, ...]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def pause_between(previous: Segment | None, current: Segment, pauses: Pauses) -> float:
    """Seconds of silence before ``current``, given the segment spoken before it."""
    if previous is None:
        return _LEAD_IN_SECONDS
    if previous.heading:
        return pauses.scene
    if current.scene != previous.scene:
        return pauses.scene
    if current.paragraph != previous.paragraph:
        if current.speaker != previous.speaker:
            return max(pauses.paragraph, pauses.speaker)
        return pauses.paragraph
    if current.speaker != previous.speaker:
        return pauses.speaker
    return pauses.sentence


def scene_title(chapter: Chapter, scene: int) -> str:
    """The chapter mark's title for a scene: the chapter's title, then "(scene 2)"…"""
    if scene == 0:
        return chapter.title
    return f"{chapter.title} (scene {scene + 1})"


def assemble_chapter(
    chapter: Chapter,
    segments: Sequence[Segment],
    cast: Cast,
    pauses: Pauses,
    engine: Engine,
    progress: Callable[[int], None] | None = None,
    pronunciations: Pronunciations = (),
    cache: SpeechCache | None = None,
) -> ChapterAudio:
    """Speak a chapter's segments and join them into one normalised track, saying the
    words of ``pronunciations`` as the voices file says. Speech found in ``cache`` is not
    synthesized again; what is synthesized is added to it."""
    cache = cache or SpeechCache(None)
    rate = engine.sample_rate
    parts: list[AudioSegment] = []
    timeline: list[TimedSegment] = []
    scene_starts: dict[int, int] = {}
    position = 0  # in samples
    previous: Segment | None = None
    for segment in segments:
        text = spoken_text(segment, chapter.title, pronunciations)
        if progress is not None:
            progress(1)
        if not text:
            continue
        speech = _cached_speech(text, segment, cast, pauses, engine, cache)
        if speech is None:
            continue
        gap = _silence(pause_between(previous, segment, pauses), rate)
        parts.append(gap)
        position += int(gap.frame_count())
        start_ms = _ms(position, rate)
        if segment.scene not in scene_starts:
            scene_starts[segment.scene] = start_ms if segment.scene else 0
        parts.append(speech)
        position += int(speech.frame_count())
        timeline.append(TimedSegment(segment, start_ms, _ms(position, rate), text))
        previous = segment
    parts.append(_silence(pauses.chapter, rate))
    joined = AudioSegment(
        data=b"".join(part.raw_data for part in parts),
        sample_width=2,
        frame_rate=rate,
        channels=1,
    )
    samples = np.frombuffer(joined.raw_data, dtype=np.int16)
    samples = loudness.normalize(samples, rate, ENCODE_TARGET_LUFS, ENCODE_MAX_TRUE_PEAK)
    duration_ms = _ms(len(samples), rate)
    marks = _marks(chapter, scene_starts, duration_ms)
    return ChapterAudio(chapter, samples, rate, marks, tuple(timeline))


def engine_identity(engine: Engine) -> str:
    """What in an engine decides how it sounds: its name and version."""
    return f"{engine.name} {getattr(engine, 'version', '')}".strip()


def segment_key(text: str, segment: Segment, cast: Cast, pauses: Pauses, engine: Engine) -> str:
    """The speech cache key of a segment, as spoken by ``engine``."""
    profile = cast.profile_for(segment.speaker)
    return speech_key(text, profile, pauses.sentence, engine_identity(engine), engine.sample_rate)


def chapter_key(
    chapter: Chapter,
    segments: Sequence[Segment],
    cast: Cast,
    pauses: Pauses,
    engine: Engine,
    pronunciations: Pronunciations = (),
) -> str:
    """A hash of everything a chapter's audio is made from: each segment's speech key, in
    order, where the speaker changes and the pauses. Equal keys, equal audio."""
    digest = hashlib.sha256()
    digest.update(repr((ENCODE_TARGET_LUFS, ENCODE_MAX_TRUE_PEAK, pauses)).encode())
    for segment in segments:
        text = spoken_text(segment, chapter.title, pronunciations)
        if text:
            key = segment_key(text, segment, cast, pauses, engine)
            digest.update(f"{key} {segment.speaker} {segment.paragraph} {segment.scene}".encode())
    return digest.hexdigest()


def _cached_speech(
    text: str, segment: Segment, cast: Cast, pauses: Pauses, engine: Engine, cache: SpeechCache
) -> AudioSegment | None:
    """A segment's speech from the cache, or synthesized and cached."""
    key = segment_key(text, segment, cast, pauses, engine)
    pcm = cache.get(key)
    if pcm is None:
        pcm = _speak(text, segment, cast, pauses, engine)
        cache.put(key, pcm)
    if pcm.size == 0:
        return None
    return AudioSegment(
        data=pcm.tobytes(), sample_width=2, frame_rate=engine.sample_rate, channels=1
    )


def _speak(text: str, segment: Segment, cast: Cast, pauses: Pauses, engine: Engine) -> np.ndarray:
    """One segment's speech in its speaker's voice (empty when there is nothing to hear)."""
    return speak(text, cast.profile_for(segment.speaker), pauses.sentence, engine)


def speak(text: str, profile: VoiceProfile, sentence_pause: float, engine: Engine) -> np.ndarray:
    """A text's speech: its sentences, trimmed, with sentence pauses between, at the common
    loudness; empty when there is nothing to hear. What the speech cache holds."""
    rate = engine.sample_rate
    pieces: list[np.ndarray] = []
    pause = np.zeros(int(round(sentence_pause * rate)), dtype=np.int16)
    for sentence in sentences(text):
        pcm = np.frombuffer(engine.synthesize(sentence, profile), dtype=np.int16)
        pcm = _trim(pcm, rate)
        if pcm.size == 0:
            continue
        if pieces:
            pieces.append(pause)
        pieces.append(pcm)
    if not pieces:
        return np.zeros(0, dtype=np.int16)
    return loudness.match_loudness(np.concatenate(pieces), rate, TARGET_LUFS)


def _trim(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Cut the engine's leading and trailing silence, keeping a few milliseconds."""
    loud = np.flatnonzero(np.abs(pcm) > _SILENCE_LEVEL * 32768)
    if loud.size == 0:
        return pcm[:0]
    margin = int(_TRIM_MARGIN_SECONDS * rate)
    return pcm[max(0, loud[0] - margin) : min(pcm.size, loud[-1] + margin)]


def _ms(samples: int, rate: int) -> int:
    return int(round(samples * 1000 / rate))


def _silence(seconds: float, rate: int) -> AudioSegment:
    return AudioSegment.silent(duration=max(0.0, seconds) * 1000, frame_rate=rate)


def _marks(chapter: Chapter, scene_starts: dict[int, int], duration_ms: int) -> tuple:
    starts = sorted(scene_starts.items()) or [(0, 0)]
    starts[0] = (starts[0][0], 0)
    marks = []
    for number, (scene, start) in enumerate(starts):
        end = starts[number + 1][1] if number + 1 < len(starts) else duration_ms
        marks.append(ChapterMark(scene_title(chapter, scene), start, end))
    return tuple(marks)
