"""Worker processes: a book's missing speech pieces, made on every core.

espeak-ng is not thread-safe and initialises once per process, so each worker process
starts its own engine (processes are spawned, not forked, so no engine thread is copied),
by the name the render's engine was made with. Each worker synthesizes whole segments,
makes them loud and encodes them (:func:`narrate.assemble.make_piece`), writing each
piece into the speech cache itself: only counts travel back. The render then joins the
chapters from the cache, which costs no encoding. A small book, or a render given an
engine object that was not made by name, does all of it in its own process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from narrate.assemble import Encoding
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
    encoding: Encoding = field(default_factory=Encoding)


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def run_in_workers(
    tasks: Iterable[SpeechTask],
    cache_folder: Path,
    jobs: int,
    engine: str = "auto",
    on_speech: Callable[[int], None] | None = None,
) -> int:
    """With ``jobs`` worker processes, each with its own engine ``engine`` (a name for
    :func:`narrate.engine.get_engine`), make every task's piece into the cache at
    ``cache_folder``. Returns how many were made."""
    tasks = list(tasks)
    batches = [tasks[i : i + BATCH] for i in range(0, len(tasks), BATCH)]
    if not batches:
        return 0
    context = multiprocessing.get_context("spawn")
    made = 0
    with ProcessPoolExecutor(
        max_workers=max(1, min(jobs, len(batches))),
        mp_context=context,
        initializer=_start_worker,
        initargs=(str(cache_folder), engine),
    ) as pool:
        try:
            for future in as_completed([pool.submit(_make_batch, b) for b in batches]):
                count = future.result()
                made += count
                if on_speech is not None:
                    on_speech(count)
        except BaseException:
            # Ctrl-C or a failure: stop now, not after the work in flight. The cache only
            # ever holds whole entries, so nothing half-made stays.
            # (The pool forgets its processes on shutdown: take them first.)
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            raise
    return made


# --- inside a worker process ------------------------------------------------------------

_worker: dict = {}


def _start_worker(cache_folder: str, engine: str) -> None:
    import signal

    from narrate import loudness
    from narrate.cache import SpeechCache
    from narrate.engine import get_engine

    # Ctrl-C reaches the whole process group; the parent decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loudness.set_threads(1)
    _worker["engine"] = get_engine(engine)
    _worker["cache"] = SpeechCache(Path(cache_folder))


def _make_batch(batch: list[SpeechTask]) -> int:
    from narrate.assemble import make_piece

    engine, cache = _worker["engine"], _worker["cache"]
    for task in batch:
        piece = make_piece(task.text, task.profile, task.sentence_pause, engine, task.encoding)
        cache.put(task.key, piece)
    return len(batch)
