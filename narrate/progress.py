"""What a render reports as it goes, for a progress display: typed events, in the order
they come.

``BookPlanned`` first; a ``ChapterPlanned`` per chapter as the chapters are planned
(with a ``ChapterWritten`` right away for a chapter already up to date); then
``SpeechPlanned``: how many sentences must be synthesized and how many the cache has;
``SpeechMade`` as sentences are synthesized (by worker processes, batch by batch, or here,
chapter by chapter); ``SegmentsSpoken`` as segments are spoken or found up to date; and
``ChapterWritten`` as each chapter file is in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BookPlanned:
    """The book's spoken segments, and its chapters."""

    segments: int
    chapters: int


@dataclass(frozen=True)
class ChapterPlanned:
    """A chapter (its number) and its segments."""

    chapter: int
    segments: int


@dataclass(frozen=True)
class SpeechPlanned:
    """Sentences of speech the chapters to make need: to synthesize, and in the cache."""

    to_make: int
    from_cache: int


@dataclass(frozen=True)
class SpeechMade:
    """This many more sentences are synthesized."""

    count: int


@dataclass(frozen=True)
class SegmentsSpoken:
    """This many more segments are spoken (or were up to date)."""

    count: int


@dataclass(frozen=True)
class ChapterWritten:
    """A chapter's file is in place: its number, of how many."""

    chapter: int
    chapters: int
    #: Seconds of audio in it.
    seconds: float = 0.0


ProgressEvent = (
    BookPlanned | ChapterPlanned | SpeechPlanned | SpeechMade | SegmentsSpoken | ChapterWritten
)

#: What ``narrate.render`` calls with each event.
Progress = Callable[[ProgressEvent], None]
