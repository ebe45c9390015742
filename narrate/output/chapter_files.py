"""A book's chapter files: which are up to date, and the others made from speech pieces.

A chapter file records what it was made from (a hash of its speech keys, pauses, tags and
encoding): one whose record matches what it would be made from now is kept as it is. The
others are planned as :class:`ChapterJob`\\ s and made from their pieces, in this process
or, when worker processes make the missing pieces, each joined as soon as the pieces it
waits for are there.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mutagen import MutagenError
from mutagen.mp3 import MP3

from narrate.atomic import replacing
from narrate.model import Chapter, Script, Segment
from narrate.output.layout import TRACK_PATTERN, track_name
from narrate.output.publish import has_companions, remove_companions, write_companions
from narrate.output.tags import TrackTags, read_made_from, write_tags
from narrate.output.transcripts import cues
from narrate.progress import (
    BookPlanned,
    ChapterPlanned,
    ChapterWritten,
    Progress,
    SegmentsSpoken,
    SpeechMade,
    SpeechPlanned,
)
from narrate.speech.assemble import (
    ChapterAudio,
    Performance,
    TimedSegment,
    assemble_chapter,
    chapter_key,
    spoken_parts,
)
from narrate.speech.cache import FORMAT_VERSION, SpeechCache
from narrate.speech.engine import Engine
from narrate.speech.mp3 import DEFAULT_QUALITY
from narrate.speech.workers import SpeechTask, Workers, run_in_workers

#: Below this many segments to synthesize, starting worker processes (a second or two
#: each) costs more than it saves: the render synthesizes them itself.
MIN_PARALLEL_TASKS = 40
#: ...and below this many segments to assemble and encode.
MIN_PARALLEL_SEGMENTS = 300


@dataclass(frozen=True)
class Track:
    """One written chapter file (or one-file edition)."""

    path: Path
    title: str
    duration: float
    #: Where each spoken segment sits in the file.
    timeline: tuple[TimedSegment, ...] = ()


@dataclass(frozen=True)
class ChapterJob:
    """Everything needed to make one chapter file from speech."""

    chapter: Chapter
    segments: tuple[Segment, ...]
    target: Path
    tags: TrackTags
    made_from: str
    performance: Performance


@dataclass(frozen=True)
class ChapterPlan:
    """The chapter files that are up to date, kept as they are, and those to make."""

    kept: tuple[Track, ...]
    jobs: tuple[ChapterJob, ...]
    chapters: int


@dataclass(frozen=True)
class MadeChapters:
    """Every chapter file, in order, and how many sentences were synthesized or came from
    the cache."""

    tracks: tuple[Track, ...]
    synthesized: int
    reused: int


def plan_chapters(
    book_script: Script,
    folder: Path,
    performance: Performance,
    engine: Engine,
    book_tags: TrackTags,
    progress: Progress | None = None,
) -> ChapterPlan:
    """Which of the book's chapter files in ``folder`` are up to date, and the jobs that
    make the others; reports the book's size, then each chapter, to ``progress``."""
    chapters = book_script.book.chapters
    spoken = sum(1 for segment in book_script.segments if segment.spoken)
    _report(progress, BookPlanned(spoken, len(chapters)))
    kept: list[Track] = []
    jobs: list[ChapterJob] = []
    for chapter in chapters:
        segments = book_script.chapter_segments(chapter.number)
        _report(progress, ChapterPlanned(chapter.number, len(segments)))
        target = folder / track_name(chapter.number, len(chapters), chapter.title)
        tags = replace(
            book_tags, title=chapter.title, track=chapter.number, total_tracks=len(chapters)
        )
        audio_key = chapter_key(chapter, segments, performance, engine)
        made_from = _made_from(audio_key, tags, performance.encoding.bitrate)
        if read_made_from(target) == made_from and has_companions(target):
            kept.append(Track(target, chapter.title, duration(target)))
            _report(progress, SegmentsSpoken(len(segments)))
            _report(progress, ChapterWritten(chapter.number, len(chapters), kept[-1].duration))
            continue
        jobs.append(ChapterJob(chapter, tuple(segments), target, tags, made_from, performance))
    return ChapterPlan(tuple(kept), tuple(jobs), len(chapters))


def make_chapters(
    plan: ChapterPlan,
    engine: Engine,
    cache: SpeechCache,
    workers: Workers | None = None,
    progress: Progress | None = None,
) -> MadeChapters:
    """Make the planned chapter files. With ``workers``, they make the speech the cache
    lacks (when there is enough to be worth starting them) and each chapter is joined as
    its pieces arrive; the rest is made here."""
    with _speech_store(cache, workers is not None) as store:
        tasks, lookups, needed = missing_speech(plan.jobs, engine, store)
        _report(progress, SpeechPlanned(len(tasks), lookups - len(tasks)))
        joiner = ChapterJoiner(plan, engine, store, needed, progress)
        made = 0
        big = len(tasks) >= MIN_PARALLEL_TASKS or lookups >= MIN_PARALLEL_SEGMENTS
        if workers and tasks and (big or workers.executor is not None):
            made = run_in_workers(
                tasks,
                store.folder,
                workers.jobs,
                workers.engine,
                on_batch=joiner.made,
                executor=workers.executor,
            )
        joiner.join_the_rest(segments_progress=not made)
        tracks = sorted((*plan.kept, *joiner.tracks), key=lambda track: track.path.name)
        return MadeChapters(tuple(tracks), made + store.misses, store.hits - made)


class ChapterJoiner:
    """Joins each planned chapter as soon as the speech pieces it waits for are made: it
    keeps which chapters wait, and how many pieces being made each one still needs (a
    piece two chapters share is made once)."""

    def __init__(
        self,
        plan: ChapterPlan,
        engine: Engine,
        cache: SpeechCache,
        needed: dict[str, set[int]],
        progress: Progress | None,
    ) -> None:
        self.waiting = {job.chapter.number: job for job in plan.jobs}
        self.missing = Counter(chapter for chapters in needed.values() for chapter in chapters)
        self.needed = needed
        self.first_needed = Counter(min(chapters) for chapters in needed.values())
        self.engine, self.cache, self.progress = engine, cache, progress
        self.chapters = plan.chapters
        self.tracks: list[Track] = []

    def made(self, batch: list[SpeechTask]) -> None:
        """A batch of pieces is in the cache: join every chapter that now has all of its."""
        _report(self.progress, SpeechMade(len(batch)))
        for task in batch:
            self.missing.subtract(self.needed[task.key])
        for number in [number for number in self.waiting if self.missing[number] <= 0]:
            self._join(number, segments_progress=False)

    def join_the_rest(self, segments_progress: bool) -> None:
        """Join the chapters still waiting, making here whatever speech they lack."""
        for number in list(self.waiting):
            self._join(number, segments_progress)

    def _join(self, number: int, segments_progress: bool) -> None:
        report = self.progress if segments_progress else None
        job = self.waiting.pop(number)
        self.tracks.append(build_chapter(job, self.engine, self.cache, report))
        if segments_progress:
            # Made here: the pieces this chapter was the first to need.
            _report(self.progress, SpeechMade(self.first_needed[number]))
        else:
            _report(self.progress, SegmentsSpoken(len(job.segments)))
        _report(self.progress, ChapterWritten(number, self.chapters, self.tracks[-1].duration))


def build_chapter(
    job: ChapterJob, engine: Engine, cache: SpeechCache, progress: Progress | None = None
) -> Track:
    """Join one chapter from its speech pieces (making those the cache lacks), tag it, put
    it in place with its transcripts and chapters."""
    audio = assemble_chapter(
        job.chapter,
        job.segments,
        job.performance,
        engine,
        progress=(lambda count: progress(SegmentsSpoken(count))) if progress else None,
        cache=cache,
    )
    tags = replace(job.tags, marks=audio.marks, made_from=job.made_from)
    _write_track(audio, job.target, tags)
    write_companions(job.target, cues(audio.timeline, job.chapter.title), audio.marks)
    return Track(job.target, job.chapter.title, audio.duration, audio.timeline)


def missing_speech(
    jobs: Sequence[ChapterJob], engine: Engine, cache: SpeechCache
) -> tuple[list[SpeechTask], int, dict[str, set[int]]]:
    """The speech the jobs need that the cache does not have, once each; how many pieces
    they join in all; and which chapters need each missing piece."""
    tasks = []
    needed: dict[str, set[int]] = {}
    lookups = 0
    for job in jobs:
        number, performance = job.chapter.number, job.performance
        for segment in job.segments:
            for part in spoken_parts(job.chapter, segment, performance, engine)[1]:
                lookups += 1
                if part.key in needed:
                    needed[part.key].add(number)
                    continue
                if cache.has(part.key):
                    continue
                needed[part.key] = {number}
                sentence = performance.pauses.sentence
                tasks.append(
                    SpeechTask(
                        part.key, part.text, part.profile, sentence, performance.encoding, number
                    )
                )
    return tasks, lookups, needed


def remove_stale_tracks(folder: Path, keep: set[str]) -> None:
    """Chapter files of an earlier render of this book that this render did not write
    (the book's chapters changed) would play as if they belonged to it."""
    for path in folder.iterdir():
        if path.is_file() and TRACK_PATTERN.match(path.name) and path.name not in keep:
            path.unlink()
            remove_companions(path)


def duration(path: Path) -> float:
    """An MP3's length in seconds, as its Info header says (0 when unreadable)."""
    try:
        return float(MP3(str(path)).info.length)
    except (MutagenError, OSError):
        return 0.0


@contextlib.contextmanager
def _speech_store(cache: SpeechCache, workers: bool) -> Iterator[SpeechCache]:
    """The cache, or with --no-cache and workers, a temporary one for this render only:
    the workers hand speech over through it."""
    if cache.folder is not None or not workers:
        yield cache
        return
    with tempfile.TemporaryDirectory(prefix="narrate-speech-") as folder:
        yield SpeechCache(Path(folder))


def _made_from(audio_key: str, tags: TrackTags, bitrate: int) -> str:
    """A hash of a chapter file's audio key, its tags and the encoding settings."""
    digest = hashlib.sha256(audio_key.encode())
    digest.update(repr(replace(tags, cover=None)).encode())
    digest.update(hashlib.sha256(tags.cover or b"").digest())
    digest.update(f"{bitrate} {DEFAULT_QUALITY} {FORMAT_VERSION}".encode())
    return digest.hexdigest()


def _write_track(audio: ChapterAudio, target: Path, tags: TrackTags) -> None:
    with replacing(target) as partial:
        audio.write(partial)
        write_tags(partial, tags)


def _report(progress: Progress | None, event) -> None:
    if progress is not None:
        progress(event)
