"""Assemble a chapter: speak each segment in its voice, with the pauses between.

Speech comes from the engine sentence by sentence; each sentence is trimmed of the
engine's own leading and trailing silence so the pauses are exactly those of the voices
file: after a sentence, when the speaker changes, between paragraphs, at a scene break and
after the chapter's title, and at the chapter's end.

Each segment is made loud on its own (EBU R128 / ITU-R BS.1770 loudness, true-peak
limited, :mod:`narrate.speech.loudness`) and encoded on its own into an MP3 piece
(:func:`narrate.speech.mp3.encode_piece`), which the speech cache keeps. A chapter is then the
pieces joined end to end with frames of silence between them: the pauses. So a chapter
is never held as PCM, making one from cached pieces costs no encoding, and after a
casting tweak only the changed segments are synthesized and encoded.

Timing: a piece decodes to LAME's and the decoder's delay (1105 samples) of silence, the
speech, then silence to its last frame's end. Pauses are whole silent frames (26 ms at
22050 Hz), chosen so that each segment starts within half a frame of where the pauses say
(never earlier than the previous piece's end allows: about 25-50 ms after its speech).
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from narrate.errors import ConfigError, NarrateError
from narrate.model import (
    Cast,
    Chapter,
    ChapterMark,
    Pauses,
    Pronunciations,
    Script,
    Segment,
    VoiceProfile,
)
from narrate.speech.cache import SpeechCache, speech_key
from narrate.speech.engine import Engine, is_speakable

with warnings.catch_warnings():
    # pydub looks for ffmpeg at import and warns when there is none; narrate never asks
    # pydub to decode or encode, so it does not need one. Its use of audioop warns on
    # Python 3.12 (audioop-lts replaces it from 3.13).
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message=".*audioop", category=DeprecationWarning)
    from pydub import AudioSegment

from narrate.model import balanced, plain
from narrate.speech.mp3 import (
    DECODER_DELAY,
    DEFAULT_BITRATE,
    DEFAULT_QUALITY,
    ENCODER_DELAY,
    Piece,
    encode_piece,
    frame_samples,
    output_rate,
    silent_frames,
    write_mp3,
)
from narrate.speech.text import sentences, split_text, spoken_text

#: Loudness every chapter must have in the finished MP3 (LUFS), and its true-peak ceiling.
TARGET_LUFS = -19.0
MAX_TRUE_PEAK = -1.5
#: What each segment's PCM is normalised to before encoding. MP3 at speech bitrates cuts
#: the highs that K-weighting boosts, so the decoded file measures about 0.5 LU quieter
#: than the PCM, and the encoder's ringing lifts peaks a few tenths of a dB: aim a little
#: louder and keep peaks a little lower (measured with ffmpeg's ebur128 on the decoded
#: files).
ENCODE_TARGET_LUFS = TARGET_LUFS + 0.5
ENCODE_MAX_TRUE_PEAK = MAX_TRUE_PEAK - 0.7
#: Segments are limited on a 2x oversampled signal, not the 9x that BS.1770 asks for at
#: 22050 Hz: three times faster, and on espeak's speech its peaks read at most 0.1 dB
#: under the 9x ones (measured on 300 paragraphs of a novel), which this lower ceiling
#: makes up for.
SEGMENT_OVERSAMPLING = 2
SEGMENT_MAX_TRUE_PEAK = ENCODE_MAX_TRUE_PEAK - 0.2

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
class Encoding:
    """How segments are made loud and encoded: part of every speech cache key."""

    bitrate: int = DEFAULT_BITRATE
    quality: int = DEFAULT_QUALITY

    def describe(self) -> str:
        return (
            f"{self.bitrate}k q{self.quality} {ENCODE_TARGET_LUFS} LUFS"
            f" {SEGMENT_MAX_TRUE_PEAK} dBTP x{SEGMENT_OVERSAMPLING}"
        )


@dataclass(frozen=True)
class Performance:
    """How a script is read aloud: who sounds like what, the pauses, how names are said,
    and how the speech is encoded. With the segments and the engine, all a chapter's
    audio is made from."""

    cast: Cast
    pauses: Pauses
    pronunciations: Pronunciations = ()
    encoding: Encoding = Encoding()

    @classmethod
    def of(cls, script: Script, encoding: Encoding = Encoding()) -> Performance:
        """How ``script`` is read: its cast, pauses and pronunciations, so encoded."""
        return cls(script.cast, script.pauses, script.pronunciations, encoding)


@dataclass(frozen=True)
class SpokenPart:
    """One piece a segment is spoken in: its words, its voice and its speech cache key."""

    text: str
    profile: VoiceProfile
    key: str


def spoken_parts(
    chapter: Chapter, segment: Segment, performance: Performance, engine: Engine
) -> tuple[str, list[SpokenPart]]:
    """What a segment says, and the pieces it is spoken (and cached) in."""
    text = spoken_text(segment, chapter.title, performance.pronunciations)
    profile = performance.cast.profile_for(segment.speaker)
    pauses, encoding = performance.pauses, performance.encoding
    return text, [
        SpokenPart(part, profile, segment_key(part, profile, pauses, engine, encoding))
        for part in parts(text)
    ]


@dataclass(frozen=True)
class ChapterAudio:
    """A chapter laid out as MP3: its frames (pieces and silences, to join), where its
    scenes and segments are, and its length as gapless players play it."""

    chapter: Chapter
    chunks: tuple[bytes, ...]
    rate: int
    encoding: Encoding
    marks: tuple[ChapterMark, ...]
    timeline: tuple[TimedSegment, ...]
    duration: float

    def write(self, path):
        """Write the chapter as one MP3 file (Info frame, LAME tag), atomically."""
        encoding = self.encoding
        return write_mp3(path, list(self.chunks), self.rate, encoding.bitrate, encoding.quality)


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
    performance: Performance,
    engine: Engine,
    progress: Callable[[int], None] | None = None,
    cache: SpeechCache | None = None,
) -> ChapterAudio:
    """Lay out a chapter's segments as MP3 pieces with silent frames between, read as
    ``performance`` says. Pieces found in ``cache`` are not made again; what is made is
    added to it. ``progress(1)`` is called as each segment is spoken."""
    cache = cache or SpeechCache(None)
    pauses, encoding = performance.pauses, performance.encoding
    rate = engine.sample_rate
    per_frame = frame_samples(rate, encoding.bitrate)
    lead = ENCODER_DELAY + DECODER_DELAY
    chunks: list[bytes] = []
    timeline: list[TimedSegment] = []
    scene_starts: dict[int, int] = {}
    # Positions in samples of the MP3's rate. ``position``: the end of the frames so far,
    # counted as gapless players count (from after the first delay); ``spoken_end``: the
    # end of the last speech.
    position = -lead
    spoken_end = 0
    mp3_rate = output_rate(rate, encoding.bitrate)
    previous: Segment | None = None

    frames = size = 0  # so far, to keep the bitrate exact

    def add(data: bytes, count: int) -> None:
        nonlocal position, frames, size
        chunks.append(data)
        position += count * per_frame
        frames += count
        size += len(data)

    def pause(seconds: float, speech_follows: bool = True) -> None:
        # Where the next speech should start, or (at the end) the chapter end; a piece's
        # speech starts one delay into its frames.
        wanted = spoken_end + round(seconds * mp3_rate) - (lead if speech_follows else 0)
        count = max(0, round((wanted - position) / per_frame))
        if count:
            add(silent_frames(count, rate, encoding.bitrate, frames, size), count)

    for segment in segments:
        text, pieces = spoken_parts(chapter, segment, performance, engine)
        if progress is not None:
            progress(1)
        start = None
        for part in pieces:
            try:
                piece = cached_piece(part, pauses.sentence, engine, cache, encoding)
            except NarrateError as error:
                raise with_place(error, chapter.number, part.text) from None
            if not piece.frames:
                continue
            pause(
                pauses.sentence if start is not None else pause_between(previous, segment, pauses)
            )
            if start is None:
                start = position + lead
            add(piece.data, piece.frames)
            spoken_end = position - piece.length + lead + piece.samples
        if start is None:
            continue
        start_ms = _ms(start, mp3_rate)
        if segment.scene not in scene_starts:
            scene_starts[segment.scene] = start_ms if segment.scene else 0
        timeline.append(TimedSegment(segment, start_ms, _ms(spoken_end, mp3_rate), text))
        previous = segment
    pause(pauses.chapter, speech_follows=False)
    if position <= 0:  # nothing was said: a frame of silence, so the file is valid
        count = 1 + lead // per_frame
        add(silent_frames(count, rate, encoding.bitrate, frames, size), count)
    duration_ms = _ms(position, mp3_rate)
    marks = _marks(chapter, scene_starts, duration_ms)
    return ChapterAudio(
        chapter,
        tuple(chunks),
        rate,
        encoding,
        marks,
        tuple(timeline),
        position / mp3_rate,
    )


def with_place(error: NarrateError, chapter: int, text: str) -> NarrateError:
    """The engine's error, saying where in the book it happened."""
    line = " ".join(text.split())
    line = line if len(line) <= 60 else line[:57] + "..."
    message = f"chapter {chapter}, {line!r}: {error}"
    if isinstance(error, ConfigError):
        return ConfigError(message)
    return NarrateError(message, error.exit_code)


def engine_identity(engine: Engine, voice: str | None = None) -> str:
    """What in an engine decides how ``voice`` sounds: what an engine with an ``identity``
    method says of it (for a Piper voice: the model's identity), else its name and
    version."""
    own = getattr(engine, "identity", None)
    special = own(voice) if own is not None and voice is not None else None
    return special or f"{engine.name} {getattr(engine, 'version', '')}".strip()


def segment_key(
    text: str,
    profile: VoiceProfile,
    pauses: Pauses,
    engine: Engine,
    encoding: Encoding = Encoding(),
) -> str:
    """The speech cache key of a text spoken in ``profile`` by ``engine``."""
    return speech_key(
        text,
        profile,
        pauses.sentence,
        engine_identity(engine, profile.voice),
        engine.sample_rate,
        encoding.describe(),
    )


def chapter_key(
    chapter: Chapter, segments: Sequence[Segment], performance: Performance, engine: Engine
) -> str:
    """A hash of everything a chapter's audio is made from: each segment's speech key, in
    order, where the speaker changes and the pauses. Equal keys, equal audio."""
    digest = hashlib.sha256()
    digest.update(repr((performance.encoding.describe(), performance.pauses)).encode())
    for segment in segments:
        for part in spoken_parts(chapter, segment, performance, engine)[1]:
            place = f"{segment.speaker} {segment.paragraph} {segment.scene}"
            digest.update(f"{part.key} {place}".encode())
    return digest.hexdigest()


#: Longest piece made at once: a "sentence" longer than this (a text with no full stops)
#: is cut at clauses, then between words, so that no piece's audio grows without bound.
PART_CHARACTERS = 1000


def parts(text: str) -> list[str]:
    """A segment's words in the pieces they are spoken, made loud, encoded and cached in:
    its sentences. A paragraph can run to minutes of speech; sentence by sentence the
    audio in memory stays small, and a changed word (a pronunciation) re-makes only the
    sentences it is in. (Measured on 300 paragraphs of a novel: making them sentence by
    sentence took 11.9 s, in runs of up to 600 characters 13.0 s.)"""
    return [
        balanced(piece)
        for sentence in sentences(text)
        for piece in split_text(sentence, PART_CHARACTERS)
    ]


def cached_piece(
    part: SpokenPart,
    sentence_pause: float,
    engine: Engine,
    cache: SpeechCache,
    encoding: Encoding = Encoding(),
) -> Piece:
    """A part's speech as an MP3 piece: from the cache, or made and cached."""
    piece = cache.get(part.key)
    if piece is None:
        piece = make_piece(part.text, part.profile, sentence_pause, engine, encoding)
        cache.put(part.key, piece)
    return piece


def make_piece(
    text: str,
    profile: VoiceProfile,
    sentence_pause: float,
    engine: Engine,
    encoding: Encoding = Encoding(),
) -> Piece:
    """Speak ``text``, bring it to the chapters' loudness and encode it: what the speech
    cache holds. A piece of no frames when there is nothing to hear."""
    # Imported here: loudness needs scipy, which a render that only joins cached pieces
    # (or leaves the pieces to worker processes) need not load.
    from narrate.speech import loudness

    try:
        pcm = speak(text, profile, sentence_pause, engine)
    except ConfigError:
        raise  # a voice or setting the engine refuses: trying again changes nothing
    except NarrateError:
        # Once more: the engine faults seen were passing ones (see engine.py).
        pcm = speak(text, profile, sentence_pause, engine)
    rate = engine.sample_rate
    if pcm.size == 0:
        return Piece(b"", 0, 0, rate, frame_samples(rate, encoding.bitrate))
    pcm = loudness.normalize(
        pcm, rate, ENCODE_TARGET_LUFS, SEGMENT_MAX_TRUE_PEAK, SEGMENT_OVERSAMPLING
    )
    return encode_piece(pcm, rate, encoding.bitrate, encoding.quality)


def speak(text: str, profile: VoiceProfile, sentence_pause: float, engine: Engine) -> np.ndarray:
    """A text's speech: its sentences, trimmed, with sentence pauses between; empty when
    there is nothing to hear. pydub joins the sentences and pauses."""
    rate = engine.sample_rate
    joined: AudioSegment | None = None
    pause = AudioSegment.silent(duration=sentence_pause * 1000, frame_rate=rate)
    for sentence in sentences(text):
        raw = synthesize_within(engine, sentence, profile)
        if not raw and is_speakable(plain(sentence)):
            raise NarrateError(f"speech engine {engine.name} gave no audio")
        pcm = _trim(np.frombuffer(raw, np.int16), rate)
        if pcm.size == 0:
            continue
        speech = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=rate, channels=1)
        joined = speech if joined is None else joined + pause + speech
    if joined is None:
        return np.zeros(0, dtype=np.int16)
    return np.frombuffer(joined.raw_data, dtype=np.int16)


#: How long one sentence may take to synthesize before the engine counts as hung: a base,
#: plus a time per character (espeak-ng needs about a millisecond per 15 characters).
SYNTHESIS_TIMEOUT_SECONDS = 60.0
SYNTHESIS_TIMEOUT_PER_CHARACTER = 0.05


def synthesize_within(engine: Engine, text: str, profile: VoiceProfile) -> bytes:
    """``engine.synthesize`` with a time limit: the call runs on its own (daemon) thread,
    and one that does not return in time raises NarrateError (the thread is left to
    itself; the render stops soon after). A hung engine would otherwise hang the render
    with no word."""
    limit = SYNTHESIS_TIMEOUT_SECONDS + SYNTHESIS_TIMEOUT_PER_CHARACTER * len(text)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["pcm"] = engine.synthesize(text, profile)
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error

    worker = threading.Thread(target=run, name="narrate-synthesis", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise NarrateError(f"speech engine {engine.name} gave no speech within {limit:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["pcm"]


def _trim(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Cut the engine's leading and trailing silence, keeping a few milliseconds."""
    loud = np.flatnonzero(np.abs(pcm) > _SILENCE_LEVEL * 32768)
    if loud.size == 0:
        return pcm[:0]
    margin = int(_TRIM_MARGIN_SECONDS * rate)
    return pcm[max(0, loud[0] - margin) : min(pcm.size, loud[-1] + margin)]


def _ms(samples: int, rate: int) -> int:
    return int(round(samples * 1000 / rate))


def _marks(chapter: Chapter, scene_starts: dict[int, int], duration_ms: int) -> tuple:
    starts = sorted(scene_starts.items()) or [(0, 0)]
    starts[0] = (starts[0][0], 0)
    marks = []
    for number, (scene, start) in enumerate(starts):
        end = starts[number + 1][1] if number + 1 < len(starts) else duration_ms
        marks.append(ChapterMark(scene_title(chapter, scene), start, end))
    return tuple(marks)
