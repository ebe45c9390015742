"""What a render reports as it goes, for a progress display: typed events, in the order
they come.

``BookPlanned`` first; a ``ChapterPlanned`` per chapter as the chapters are planned;
``SegmentsSpoken`` as segments are spoken or found up to date; ``ChapterWritten`` as each
chapter file is in place.
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
class SegmentsSpoken:
    """This many more segments are spoken (or were up to date)."""

    count: int


@dataclass(frozen=True)
class ChapterWritten:
    """A chapter's file is in place: its number, of how many."""

    chapter: int
    chapters: int


ProgressEvent = BookPlanned | ChapterPlanned | SegmentsSpoken | ChapterWritten

#: What ``narrate.render`` calls with each event.
Progress = Callable[[ProgressEvent], None]
