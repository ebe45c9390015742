"""Worker processes: a book's missing speech pieces, made on every core, or elsewhere.

espeak-ng is not thread-safe and initialises once per process, so each worker process
starts its own engine (processes are spawned, not forked, so no engine thread is copied),
by the name the render's engine was made with. Each worker synthesizes whole segments,
makes them loud and encodes them (:func:`narrate.speech.assemble.make_piece`), writing each
piece into the speech cache itself: only counts travel back. The render then joins the
chapters from the cache, which costs no encoding. A small book, or a render given an
engine object that was not made by name, does all of it in its own process.

The work goes out as batches of one chapter's segments, each a call of
:func:`make_batch` that needs nothing but its arguments: the cache folder, the engine's
name and the segments. So any ``concurrent.futures.Executor`` can run them: by default a
pool of local processes, or one given with ``--executor module:factory`` (a Dask
``Client.get_executor()``, say, whose workers share the cache folder).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrate.errors import ConfigError, NarrateError
from narrate.model import VoiceProfile
from narrate.plugins import is_plugin_name, load_plugin
from narrate.speech.assemble import Encoding

#: Segments handed to a worker at once: enough to keep the pipe quiet, few enough that
#: the cores finish together.
BATCH = 24


@dataclass(frozen=True)
class SpeechTask:
    """One segment's speech to make: its cache key, its words, its voice, its chapter."""

    key: str
    text: str
    profile: VoiceProfile
    sentence_pause: float
    encoding: Encoding = field(default_factory=Encoding)
    chapter: int = 0


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def load_executor(spec: str | None, jobs: int) -> Executor | None:
    """The executor ``--executor`` names: None for "local" (narrate's own process pool),
    else ``module:factory``, called with the number of jobs and returning an Executor."""
    if spec is None or spec == "local":
        return None
    if not is_plugin_name(spec):
        raise ConfigError(f"--executor takes 'local' or module:factory, not {spec!r}")
    executor = load_plugin(spec, "the executor")(jobs)
    if not callable(getattr(executor, "submit", None)):
        raise ConfigError(f"the executor {spec!r} made {executor!r}, which has no submit()")
    return executor


def batches(tasks: Iterable[SpeechTask]) -> list[list[SpeechTask]]:
    """Tasks in batches of at most BATCH, each of one chapter."""
    result: list[list[SpeechTask]] = []
    for task in tasks:
        if result and result[-1][0].chapter == task.chapter and len(result[-1]) < BATCH:
            result[-1].append(task)
        else:
            result.append([task])
    return result


def run_in_workers(
    tasks: Iterable[SpeechTask],
    cache_folder: Path,
    jobs: int,
    engine: str = "auto",
    on_batch: Callable[[list[SpeechTask]], None] | None = None,
    executor: Executor | None = None,
) -> int:
    """Make every task's piece into the cache at ``cache_folder``: on ``executor``, or on
    ``jobs`` local worker processes each with its own engine ``engine`` (a name for
    :func:`narrate.speech.engine.get_engine`). ``on_batch(tasks)`` is called in this process as
    each batch is done. Returns how many were made."""
    work = batches(tasks)
    if not work:
        return 0
    own = executor is None
    pool: Executor = executor or local_pool(min(jobs, len(work)))
    made = 0
    futures: dict = {}
    try:
        futures = {
            pool.submit(make_batch, str(cache_folder), engine, batch): batch for batch in work
        }
        for future in as_completed(futures):
            count = future.result()
            made += count
            if on_batch is not None:
                on_batch(futures[future])
    except BaseException:
        # Ctrl-C or a failure: stop now, not after the work in flight. The cache only
        # ever holds whole entries, so nothing half-made stays.
        for future in futures:
            future.cancel()
        if own:
            stop_pool(pool)  # type: ignore[arg-type]
        raise
    if own:
        pool.shutdown()
    return made


def local_pool(jobs: int) -> ProcessPoolExecutor:
    """narrate's own worker processes: spawned (each loads its own engine by name), and
    deaf to Ctrl-C, which the main process handles for them."""
    return ProcessPoolExecutor(
        max_workers=max(1, jobs),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_ignore_interrupts,
    )


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, work in flight and all (Ctrl-C, or a failure)."""
    # (The pool forgets its processes on shutdown: take them first.)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


# --- inside a worker ----------------------------------------------------------------------

_worker: dict = {}


def _ignore_interrupts() -> None:
    import signal

    # Ctrl-C reaches the whole process group; the parent decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_batch(cache_folder: str, engine: str, batch: list[SpeechTask]) -> int:
    """Make a batch's pieces into the cache; the engine and cache are made once per
    process (by name, so this runs on any executor)."""
    from narrate.speech import loudness
    from narrate.speech.assemble import make_piece, with_place
    from narrate.speech.cache import SpeechCache
    from narrate.speech.engine import get_engine
    from narrate.speech.mixed import set_piper_threads

    if _worker.get("setup") != (cache_folder, engine):
        # Worker processes already keep every core busy: one thread each for true peaks.
        loudness.set_threads(1)
        set_piper_threads(1)
        _worker["engine"] = get_engine(engine)
        _worker["cache"] = SpeechCache(Path(cache_folder))
        _worker["setup"] = (cache_folder, engine)
    engine_object, cache = _worker["engine"], _worker["cache"]
    for task in batch:
        try:
            piece = make_piece(
                task.text, task.profile, task.sentence_pause, engine_object, task.encoding
            )
        except NarrateError as error:
            raise with_place(error, task.chapter, task.text) from None
        cache.put(task.key, piece)
    return len(batch)


# --- who makes the missing speech ---------------------------------------------------------


@dataclass(frozen=True)
class Workers:
    """Who makes the speech a render lacks besides its own process: ``jobs`` local worker
    processes, or ``executor``; each makes its own engine by the name ``engine``."""

    jobs: int
    engine: str
    executor: Executor | None = None


def workers_for(engine: Any, jobs: int, executor: Executor | None) -> Workers | None:
    """The workers of a render with ``engine``: none when it was not made by name (a
    worker makes its own engine by that name), or for one job and no executor."""
    name = getattr(engine, "spec", None)
    if name is None or (jobs <= 1 and executor is None):
        return None
    return Workers(jobs, name, executor)
