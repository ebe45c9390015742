"""Reliability: what a second render, a dead render or a killed render leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import narrate
from narrate.cli import main
from narrate.files import LOCK_NAME

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"


def small_story(tmp_path: Path) -> Path:
    story = tmp_path / "rooms.txt"
    story.write_text(
        'Title: Two Rooms\nAuthor: Ada Quill\n\nChapter 1\n\n"Tea?" said Rosa.\n\n'
        'Chapter 2\n\n"Please," said Owen.\n',
        encoding="utf-8",
    )
    return story


def test_a_book_locked_by_a_running_render_is_refused_in_one_line(tmp_path):
    story = small_story(tmp_path)
    folder = tmp_path / "out" / "Ada Quill" / "Two Rooms"
    folder.mkdir(parents=True)
    (folder / LOCK_NAME).write_text(f"{os.getpid()} {os.uname().nodename}\n")
    result = CliRunner().invoke(main, ["render", str(story), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"another narrate (process {os.getpid()}) is rendering this book" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not list(folder.glob("*.mp3"))
    assert (folder / LOCK_NAME).exists()  # not ours to remove


def test_a_stale_lock_is_taken_over_and_released(tmp_path):
    story = small_story(tmp_path)
    folder = tmp_path / "out" / "Ada Quill" / "Two Rooms"
    folder.mkdir(parents=True)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (folder / LOCK_NAME).write_text(f"{finished.stdout.strip()} {os.uname().nodename}\n")
    result = narrate.render(story, out=tmp_path / "out", use_cache=False)
    assert len(result.tracks) == 2
    assert not (folder / LOCK_NAME).exists()


def test_two_renders_of_one_book_at_once(tmp_path):
    """A real second render while the first is writing: refused; the first finishes."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    render = [sys.executable, "-m", "narrate.cli", "render", str(STORY), "--out", str(out)]
    first = subprocess.Popen(
        [*render, "--cache-dir", str(cache), "-q"],
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = out / "Hester Quayle" / "The Lamp at Gull Point" / LOCK_NAME
    deadline = time.monotonic() + 60
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if first.poll() is not None:
        pytest.skip("the first render finished before the second could start")
    second = subprocess.run(
        [*render, "--cache-dir", str(tmp_path / "other-cache"), "-q"],
        capture_output=True,
        text=True,
    )
    assert second.returncode == 2
    assert "is rendering this book" in second.stderr
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert len(list(lock.parent.glob("*.mp3"))) == 3 and not lock.exists()
