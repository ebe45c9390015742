"""The progress of a render, as the command line shows it on stderr.

It reads the typed events of :mod:`narrate.progress` and says, at a glance, how far the
whole job is, how many chapters are written, and about how long is left:

- in a terminal, one line redrawn in place at most ten times a second::

    [##########--------------]  42%  chapters 5/12  1204/2860 sentences  0:41, about 0:57 left

  The percentage is of the sentences to synthesize (those the cache has cost nothing);
  when none are to be made, of the chapters to write. It never goes past 100%. The time
  left comes from the synthesis rate so far, once there is one.
- anywhere else (a pipe, a log file, CI), one line per chapter written::

    chapter 5/12 written (0:41, about 0:57 left)

The clock is passed in, so tests can play a recorded render through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from narrate.progress import (
    BookPlanned,
    ChapterWritten,
    ProgressEvent,
    SpeechMade,
    SpeechPlanned,
)

#: Redraws per second at most, in a terminal.
REDRAWS_PER_SECOND = 10
#: Sentences made before the time left is estimated: a rate from fewer is noise.
MIN_FOR_ESTIMATE = 8


class ProgressDisplay:
    """Shows a render's progress on ``stream`` (a terminal when ``tty``)."""

    def __init__(
        self,
        stream: TextIO,
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
        width: int = 24,
    ) -> None:
        self.stream, self.tty, self.clock, self.width = stream, tty, clock, width
        self.started = clock()
        self.first_made: float | None = None
        self.chapters = 0
        self.written = 0
        self.to_make = 0
        #: Sentences made; and those made after the first batch, which the rate counts.
        self.made = 0
        self.timed = 0
        self.audio_seconds = 0.0
        self.last_drawn = -1.0
        self.drawn = False

    # --- events -------------------------------------------------------------------------

    def update(self, event: ProgressEvent) -> None:
        if isinstance(event, BookPlanned):
            self.chapters += event.chapters
        elif isinstance(event, SpeechPlanned):
            self.to_make += event.to_make
        elif isinstance(event, SpeechMade):
            if self.first_made is None:
                # The rate counts from the first batch made, not from the start: reading
                # the book and starting the workers are not synthesis.
                self.first_made = self.clock()
            else:
                self.timed += event.count
            self.made += event.count
        elif isinstance(event, ChapterWritten):
            self.written += 1
            self.audio_seconds += event.seconds
            if not self.tty:
                self._line(f"chapter {event.chapter}/{event.chapters} written ({self._times()})")
                return
        else:
            return
        self._draw(force=isinstance(event, ChapterWritten))

    def finish(self) -> None:
        """End the display: the bar's line is finished with a newline."""
        if self.tty and self.drawn:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    # --- what is shown ------------------------------------------------------------------

    def fraction(self) -> float:
        """How far the job is, 0 to 1: sentences made of those to make, else chapters."""
        if self.to_make:
            return min(1.0, self.made / self.to_make)
        return min(1.0, self.written / self.chapters) if self.chapters else 0.0

    def seconds_left(self) -> float | None:
        """The time left at the synthesis rate so far, or None before there is a rate."""
        if self.first_made is None or self.timed < MIN_FOR_ESTIMATE:
            return None
        rate = self.timed / max(1e-6, self.clock() - self.first_made)
        return max(0.0, (self.to_make - self.made) / rate)

    def line(self) -> str:
        fraction = self.fraction()
        filled = round(fraction * self.width)
        parts = [
            f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction:4.0%}",
            f"chapters {self.written}/{self.chapters}",
        ]
        if self.to_make:
            parts.append(f"{min(self.to_make, self.made)}/{self.to_make} sentences")
        elapsed = self.clock() - self.started
        if self.audio_seconds and elapsed > 0:
            parts.append(f"{self.audio_seconds / elapsed:.1f}x real time")
        parts.append(self._times())
        return "  ".join(parts)

    def _times(self) -> str:
        elapsed = clock_text(self.clock() - self.started)
        left = self.seconds_left()
        if left is None or self.fraction() >= 1:
            return elapsed
        return f"{elapsed}, about {clock_text(left)} left"

    def _draw(self, force: bool) -> None:
        if not self.tty:
            return
        now = self.clock()
        if not force and now - self.last_drawn < 1 / REDRAWS_PER_SECOND:
            return
        self.last_drawn = now
        self.drawn = True
        self.stream.write("\r" + self.line() + "\033[K")
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def clock_text(seconds: float) -> str:
    """Seconds as the display and the summaries write them: "4:05", "1:02:03"."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
