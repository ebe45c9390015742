"""The progress display (narrate/display.py): a recorded parallel render played through
it, in a terminal and in a log; and a real render in a pseudo-terminal."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

import narrate
import narrate.output.chapter_files
from narrate.display import MIN_FOR_ESTIMATE, ProgressDisplay
from narrate.progress import ChapterWritten, SpeechMade, SpeechPlanned
from narrate.speech.engine import get_engine

CHAPTERS = 12
STORY = "Title: Twelve Rooms\nAuthor: Ada Quill\n\n" + "".join(
    f"Chapter {n}\n\n"
    + f'"Is it ready, number {n}?" asked Owen. "I have waited all day."\n\n'
    + f'"Nearly," said Rosa. "Give it {n} more minutes. Then we shall see."\n\n'
    + "The rain went on all afternoon. The kettle sang on the stove.\n\n"
    for n in range(1, CHAPTERS + 1)
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The events of a real render with two worker processes, in order."""
    folder = tmp_path_factory.mktemp("display")
    story = folder / "twelve.txt"
    story.write_text(STORY, encoding="utf-8")
    patch = pytest.MonkeyPatch()
    patch.setattr(narrate.output.chapter_files, "MIN_PARALLEL_TASKS", 0)
    events: list = []
    try:
        narrate.render(
            story,
            out=folder / "out",
            cache_dir=folder / "cache",
            engine=get_engine("tone_engine:ToneEngine"),
            jobs=2,
            progress=events.append,
        )
    finally:
        patch.undo()
    return events


class Clock:
    """Half a second passes at every event."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _play(events, tty: bool) -> tuple[str, ProgressDisplay]:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, tty, clock)
    for event in events:
        clock.now += 0.5
        display.update(event)
    display.finish()
    return stream.getvalue(), display


def test_the_recorded_render_is_a_parallel_one(recorded) -> None:
    (planned,) = [e for e in recorded if isinstance(e, SpeechPlanned)]
    made = [e.count for e in recorded if isinstance(e, SpeechMade)]
    assert planned.to_make > 0 and len(made) > 1 and sum(made) == planned.to_make
    assert sum(isinstance(e, ChapterWritten) for e in recorded) == CHAPTERS


def test_in_a_terminal_the_bar_never_passes_100_and_counts_chapters(recorded) -> None:
    output, display = _play(recorded, tty=True)
    frames = [frame for frame in output.replace("\n", "\r").split("\r") if frame.strip()]
    percents = [int(m) for frame in frames for m in re.findall(r"(\d+)%", frame)]
    assert percents and max(percents) <= 100 and percents[-1] == 100
    assert percents == sorted(percents)  # it never goes back either
    chapters = [
        tuple(map(int, m.groups())) for f in frames for m in [re.search(r"chapters (\d+)/(\d+)", f)]
    ]
    assert all(total == CHAPTERS and done <= total for done, total in chapters)
    assert chapters[-1] == (CHAPTERS, CHAPTERS)
    # The time left appears once the rate is known, and not in the finished line.
    assert any("left" in frame for frame in frames)
    assert "left" not in frames[-1]
    assert display.fraction() == 1.0


def test_the_time_left_is_the_rate_so_far(recorded) -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, tty=True, clock=clock)
    display.update(SpeechPlanned(to_make=100, from_cache=50))
    display.update(SpeechMade(10))  # the first batch: the rate counts from here
    assert display.seconds_left() is None
    clock.now = 10.0
    display.update(SpeechMade(MIN_FOR_ESTIMATE + 12))  # 20 sentences in 10 s
    assert display.fraction() == pytest.approx(0.3)
    assert display.seconds_left() == pytest.approx(70 / 2)


def test_in_a_log_one_line_per_chapter_with_elapsed_and_time_left(recorded) -> None:
    output, _ = _play(recorded, tty=False)
    lines = output.splitlines()
    assert len(lines) == CHAPTERS
    assert all(
        re.fullmatch(r"chapter \d+/12 written \(\d+:\d\d(, about \d+:\d\d left)?\)", x)
        for x in lines
    )
    assert sorted(int(x.split()[1].split("/")[0]) for x in lines) == list(range(1, CHAPTERS + 1))
    assert "\r" not in output and "\033" not in output


def test_a_book_all_in_the_cache_counts_by_chapters(recorded) -> None:
    kept = [e for e in recorded if isinstance(e, ChapterWritten)]
    output, display = _play([*kept[:1]], tty=True)
    assert display.fraction() == 0.0  # no BookPlanned: nothing known yet
    from narrate.progress import BookPlanned

    output, display = _play([BookPlanned(30, 3), *kept[:2]], tty=True)
    assert display.fraction() == pytest.approx(2 / 3) and "chapters 2/3" in output


@pytest.mark.slow
def test_a_real_render_in_a_pseudo_terminal_ends_at_100(tmp_path) -> None:
    import pty

    story = tmp_path / "twelve.txt"
    story.write_text(STORY, encoding="utf-8")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "narrate.cli", "render", str(story), "-j", "2",
         "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the render ended: the terminal is gone
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    text = seen.decode("utf-8", "replace")
    percents = [int(p) for p in re.findall(r"(\d+)%", text)]
    assert percents and max(percents) == 100 and percents[-1] == 100
    assert "chapters 12/12" in text
