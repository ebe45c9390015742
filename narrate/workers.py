"""Worker processes: a book's missing speech, then its chapters, on every core.

espeak-ng is not thread-safe and initialises once per process, so each worker process
starts its own engine (processes are spawned, not forked, so no engine thread is copied).
First the workers synthesize whole segments, writing each into the speech cache
themselves (only counts travel back); then each builds whole chapters from the cache
(assemble, normalise, encode, tag) and sends back the track. A render given an engine
object (tests, other engines), or a small book, does all of it in its own process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from narrate.model import VoiceProfile

#: Segments handed to a worker at once: enough to keep the pipe quiet.
BATCH = 24


@dataclass(frozen=True)
class SpeechTask:
    """One segment's speech to make: its cache key, its words, its voice."""

    key: str
    text: str
    profile: VoiceProfile
    sentence_pause: float


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def run_in_workers(
    tasks: Iterable[SpeechTask],
    chapters: Iterable,
    cache_folder: Path,
    jobs: int,
    on_speech: Callable[[int], None] | None = None,
    on_chapter: Callable[[int], None] | None = None,
) -> list:
    """With ``jobs`` worker processes: synthesize every task into the cache at
    ``cache_folder``, then build every chapter (``pipeline.ChapterJob``) from it, one
    chapter per worker at a time. Returns the chapters' tracks, in the order they
    finished."""
    tasks, chapters = list(tasks), list(chapters)
    batches = [tasks[i : i + BATCH] for i in range(0, len(tasks), BATCH)]
    context = multiprocessing.get_context("spawn")
    tracks = []
    with ProcessPoolExecutor(
        max_workers=max(1, min(jobs, max(len(batches), len(chapters)))),
        mp_context=context,
        initializer=_start_worker,
        initargs=(str(cache_folder),),
    ) as pool:
        try:
            for future in as_completed([pool.submit(_synthesize_batch, b) for b in batches]):
                made = future.result()
                if on_speech is not None:
                    on_speech(made)
            for future in as_completed([pool.submit(_build_chapter, c) for c in chapters]):
                track = future.result()
                tracks.append(track)
                if on_chapter is not None:
                    on_chapter(1)
        except BaseException:
            # Ctrl-C or a failure: stop now, not after the work in flight. The cache and
            # the chapter files only ever hold whole entries, so nothing half-made stays.
            # (The pool forgets its processes on shutdown: take them first.)
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            raise
    return tracks


# --- inside a worker process ------------------------------------------------------------

_worker: dict = {}


def _start_worker(cache_folder: str) -> None:
    import signal

    from narrate.cache import SpeechCache
    from narrate.engine import get_engine

    # Ctrl-C reaches the whole process group; the parent decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker["engine"] = get_engine()
    _worker["cache"] = SpeechCache(Path(cache_folder))


def _synthesize_batch(batch: list[SpeechTask]) -> int:
    from narrate.assemble import speak

    engine, cache = _worker["engine"], _worker["cache"]
    for task in batch:
        cache.put(task.key, speak(task.text, task.profile, task.sentence_pause, engine))
    return len(batch)


def _build_chapter(job):
    from narrate.pipeline import build_chapter

    return build_chapter(job, _worker["engine"], _worker["cache"])
