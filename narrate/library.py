"""Many books in one command: every book in the paths given, one worker pool for all.

``render_library`` finds the books (:func:`narrate.readers.shelf.find_books`), then renders
each with :func:`narrate.pipeline.render`, all of them through one pool of worker
processes started once (or the executor given), so a small book does not pay for starting
workers and a book already up to date costs about its script's time. A book that fails
(unreadable, an unsafe EPUB, an engine fault in one of its lines) is reported with its
one-line reason and the others carry on; a book another narrate is rendering is skipped
with a note. Ctrl-C stops everything at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from narrate.errors import ConfigError, NarrateError
from narrate.model import Script
from narrate.output.editions import chosen_edition
from narrate.output.lock import BookLocked
from narrate.output.tags import read_cover
from narrate.pipeline import RenderResult, render_script, script
from narrate.readers.shelf import BookSource, find_books
from narrate.speech.engine import Engine, get_engine
from narrate.speech.workers import default_jobs, load_executor, local_pool, stop_pool

#: What became of a book.
MADE, UP_TO_DATE, FAILED, LOCKED = "made", "up to date", "failed", "skipped: being rendered"


@dataclass(frozen=True)
class BookOutcome:
    source: BookSource
    status: str
    seconds: float
    result: RenderResult | None = None
    #: Why it failed or was skipped: one line.
    reason: str = ""


@dataclass(frozen=True)
class LibraryResult:
    books: tuple[BookOutcome, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[BookOutcome, ...]:
        return tuple(book for book in self.books if book.status == FAILED)


def render_library(
    paths: Sequence[str | Path],
    *,
    engine: Engine | None = None,
    jobs: int | None = None,
    executor: str | Executor | None = None,
    on_book: Callable[[BookOutcome, int, int], None] | None = None,
    on_start: Callable[[BookSource, int, int], None] | None = None,
    **options,
) -> LibraryResult:
    """Render every book in ``paths`` (files and folders) into ``out``, as ``render`` does
    one (``options`` are its keyword arguments, but those about one book: title, author,
    cover, series and series_part come from each book, or its calibre library).

    ``on_start(source, number, total)`` and ``on_book(outcome, number, total)`` are called
    as each book starts and ends. Raises ConfigError when the paths hold no book."""
    sources = books_in(paths, **{name: options.pop(name, None) for name in ONE_BOOK_ONLY})
    engine = engine or get_engine()
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if executor is None or isinstance(executor, str):
        executor = load_executor(executor, jobs)
    own = None
    if executor is None and jobs > 1 and getattr(engine, "spec", None) is not None:
        # One pool for all the books: started once, its workers keep their engine.
        own = executor = local_pool(jobs)
    outcomes: list[BookOutcome] = []
    # The next book is read and made into a script on a thread while the pool speaks the
    # current one: the main process waits on the workers most of that time.
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narrate-reader")
    reading_options = {key: options[key] for key in _READING if key in options}
    try:
        upcoming = reader.submit(_read, sources[0], engine, reading_options)
        for number, source in enumerate(sources, 1):
            if on_start is not None:
                on_start(source, number, len(sources))
            read = upcoming
            if number < len(sources):
                upcoming = reader.submit(_read, sources[number], engine, reading_options)
            outcome = _render_one(source, read, engine, jobs, executor, options)
            outcomes.append(outcome)
            if on_book is not None:
                on_book(outcome, number, len(sources))
    except BaseException:
        reader.shutdown(wait=False, cancel_futures=True)
        if own is not None:
            stop_pool(own)
            own = None
        raise
    finally:
        reader.shutdown(wait=False)
        if own is not None:
            own.shutdown()
    return LibraryResult(tuple(outcomes))


#: Options of ``render`` that say something of one book: refused for many.
ONE_BOOK_ONLY = ("title", "author", "cover", "series", "series_part")


def books_in(paths: Sequence[str | Path], **one_book_options) -> list[BookSource]:
    """The books in ``paths`` (see :func:`narrate.readers.shelf.find_books`). ConfigError
    when one of ``one_book_options`` (title, author…) is given, or there is no book."""
    for name, value in one_book_options.items():
        if value is not None:
            raise ConfigError(f"--{name.replace('_', '-')} is for one book, not many")
    sources = find_books(paths)
    if not sources:
        shown = ", ".join(map(str, paths))
        raise ConfigError(f"no books in {shown} (narrate reads .epub .html .md .txt)")
    return sources


#: The options of ``render`` that reading a book into its script takes.
_READING = ("voices", "keep_notes", "language")


def _read(source: BookSource, engine: Engine, options: dict) -> Script:
    """A book's script, as ``render`` reads it (its calibre title and author given)."""
    return script(source.path, title=source.title, author=source.author, engine=engine, **options)


def _render_one(
    source: BookSource,
    read: Future,
    engine: Engine,
    jobs: int,
    executor: Executor | None,
    options: dict,
) -> BookOutcome:
    started = time.monotonic()
    rendering = {key: value for key, value in options.items() if key not in _READING}
    edition = chosen_edition(
        rendering.pop("edition", None),
        rendering.pop("single_file", False),
        rendering.pop("audio_format", "mp3"),
    )
    try:
        result = render_script(
            read.result(),
            cover=read_cover(source.cover) if source.cover is not None else None,
            series=source.series,
            series_part=source.series_part,
            engine=engine,
            jobs=jobs,
            executor=executor,
            edition=edition,
            **rendering,
        )
    except BookLocked as locked:
        return BookOutcome(source, LOCKED, time.monotonic() - started, reason=str(locked))
    except NarrateError as error:
        return BookOutcome(source, FAILED, time.monotonic() - started, reason=str(error))
    status = MADE if result.synthesized or len(result.kept) < len(result.tracks) else UP_TO_DATE
    return BookOutcome(source, status, time.monotonic() - started, result)
