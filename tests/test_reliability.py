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
from narrate.output.lock import LOCK_NAME

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_killed_at_random_moments_a_render_finishes_as_if_never_killed(tmp_path):
    """SIGKILL a render (workers and all) at random moments, several times, checking after
    each kill that every MP3 under its final name decodes whole; then let it finish. The
    files equal an uninterrupted render's byte for byte (a deterministic plug-in engine,
    so that only the pipeline could make them differ)."""
    import random
    import signal

    import miniaudio
    from mutagen.mp3 import MP3

    chapters = "".join(
        f"Chapter {n}\n\n"
        + f'"Is it ready, number {n}?" asked Owen. "I have waited all day for it."\n\n'
        + f'"Nearly," said Rosa. "Give it {n} more minutes, and then we shall see."\n\n'
        + "The rain went on all afternoon, and the kettle sang on the stove.\n\n"
        for n in range(1, 13)
    )
    story = tmp_path / "long.txt"
    story.write_text(f"Title: Many Rooms\nAuthor: Ada Quill\n\n{chapters}", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    command = [sys.executable, "-m", "narrate.cli", "render", str(story), "-q"]
    command += ["--engine", "tone_engine:ToneEngine", "--no-extras"]
    out, cache = tmp_path / "out", tmp_path / "cache"
    folder = out / "Ada Quill" / "Many Rooms"
    rng = random.Random(7)
    kills = midway = 0
    for _ in range(4):
        process = subprocess.Popen(
            [*command, "--out", str(out), "--cache-dir", str(cache)],
            env=env,
            start_new_session=True,  # its own group: the kill takes the workers too
        )
        time.sleep(rng.uniform(0.2, 1.5))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
            written = len(list(folder.glob("*.mp3"))) if folder.exists() else 0
            midway += 0 < written < 12
        process.wait()
        for mp3 in folder.glob("*.mp3") if folder.exists() else ():
            decoded = miniaudio.mp3_read_file_s16(str(mp3))
            assert len(decoded.samples) / decoded.sample_rate == pytest.approx(
                MP3(mp3).info.length, abs=0.05
            )
    assert kills >= 1
    print(f"{kills} kills, {midway} of them with some chapters written")
    subprocess.run([*command, "--out", str(out), "--cache-dir", str(cache)], env=env, check=True)
    whole = tmp_path / "whole"
    subprocess.run(
        [*command, "--out", str(whole), "--cache-dir", str(tmp_path / "fresh-cache")],
        env=env,
        check=True,
    )
    resumed = sorted(p.name for p in folder.iterdir())
    expected = sorted(p.name for p in (whole / "Ada Quill" / "Many Rooms").iterdir())
    assert resumed == expected  # no leftovers: no .part, .tmp or lock files
    for name in expected:
        assert (folder / name).read_bytes() == (
            whole / "Ada Quill" / "Many Rooms" / name
        ).read_bytes()


def faulty_story(tmp_path: Path, trouble: str) -> Path:
    story = tmp_path / "faulty.txt"
    story.write_text(
        "Title: Faults\nAuthor: Ada Quill\n\nChapter 1\n\nAll went well at first.\n\n"
        f'Chapter 2\n\n"Then it went {trouble} at once," said Rosa.\n',
        encoding="utf-8",
    )
    return story


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_engine_that_keeps_failing_stops_the_render_naming_the_chapter_and_line(
    tmp_path, monkeypatch, jobs
):
    import narrate.output.chapter_files
    from narrate.errors import NarrateError
    from narrate.speech.engine import get_engine

    monkeypatch.setattr(narrate.output.chapter_files, "MIN_PARALLEL_TASKS", 0)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    engine = get_engine("tone_engine:FaultyEngine")
    with pytest.raises(NarrateError) as raised:
        narrate.render(
            faulty_story(tmp_path, "kaboom"),
            out=tmp_path / "out",
            engine=engine,
            jobs=jobs,
            cache_dir=tmp_path / "cache",
        )
    message = str(raised.value)
    assert message.startswith("chapter 2, 'Then it went kaboom at once,': ")
    assert "gave up" in message and raised.value.exit_code == 1
    folder = tmp_path / "out" / "Ada Quill" / "Faults"
    if jobs == 1:  # chapter by chapter: the first was finished and stays
        assert [p.name for p in folder.glob("*.mp3")] == ["01 - Chapter 1.mp3"]
    assert not list(folder.glob(".*.part"))


def test_a_passing_engine_fault_is_retried_once(tmp_path):
    from narrate.speech.engine import get_engine

    engine = get_engine("tone_engine:FaultyEngine")
    result = narrate.render(
        faulty_story(tmp_path, "hiccup"),
        out=tmp_path / "out",
        engine=engine,
        jobs=1,
        use_cache=False,
    )
    assert len(result.tracks) == 2 and all(t.duration > 1 for t in result.tracks)


def test_a_full_disk_stops_the_render_in_one_line_keeping_finished_chapters(tmp_path, monkeypatch):
    """ENOSPC as the second chapter is written: one line, exit 1, the first chapter and
    its transcripts kept whole, no temporary file left."""
    import errno

    import narrate.atomic
    from narrate.errors import NarrateError
    from narrate.speech.engine import get_engine

    story = small_story(tmp_path)
    folder = tmp_path / "out" / "Ada Quill" / "Two Rooms"
    real_fsync = narrate.atomic.os.fsync

    def full_after_chapter_one(descriptor):
        if (folder / "01 - Chapter 1.vtt").exists() and (
            folder / "01 - Chapter 1.chapters.json"
        ).exists():
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr(narrate.atomic.os, "fsync", full_after_chapter_one)
    with pytest.raises(NarrateError) as raised:
        narrate.render(
            story,
            out=tmp_path / "out",
            engine=get_engine("tone_engine:ToneEngine"),
            jobs=1,
            use_cache=False,
        )
    assert "No space left on device" in str(raised.value) and raised.value.exit_code == 1
    assert "\n" not in str(raised.value)
    monkeypatch.setattr(narrate.atomic.os, "fsync", real_fsync)
    names = sorted(p.name for p in folder.iterdir())
    assert "01 - Chapter 1.mp3" in names and not any(n.startswith("02") for n in names)
    assert not [n for n in names if n.endswith((".part", ".tmp"))]
    import miniaudio

    assert miniaudio.mp3_read_file_s16(str(folder / "01 - Chapter 1.mp3")).samples


def test_a_hanging_engine_is_given_up_on_and_retried_once(tmp_path, monkeypatch):
    import threading

    import narrate.speech.assemble
    from narrate.errors import NarrateError
    from narrate.speech.engine import get_engine

    monkeypatch.setattr(narrate.speech.assemble, "SYNTHESIS_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(narrate.speech.assemble, "SYNTHESIS_TIMEOUT_PER_CHARACTER", 0.0)
    engine = get_engine("tone_engine:FaultyEngine")
    from tone_engine import FaultyEngine  # the module the plug-in name loaded

    def tries() -> int:  # how often the engine was asked for the line that always stalls
        return sum(n for text, n in FaultyEngine.calls.items() if "went stall at" in text)

    def hanging() -> int:  # synthesis calls still running on their threads
        return sum(thread.name == "narrate-synthesis" for thread in threading.enumerate())

    tries_before, hanging_before = tries(), hanging()
    with pytest.raises(NarrateError) as raised:
        narrate.render(
            faulty_story(tmp_path, "stall"),
            out=tmp_path / "a",
            engine=engine,
            jobs=1,
            use_cache=False,
        )
    assert str(raised.value).startswith("chapter 2, 'Then it went stall at once,': ")
    assert "gave no speech within 0.5 s" in str(raised.value)
    # Two tries of 0.5 s, not a 3 s hang each: the engine was asked twice, and the render
    # stopped while both calls still hung, given up on rather than waited for.
    assert tries() - tries_before == 2
    assert hanging() - hanging_before == 2
    result = narrate.render(
        faulty_story(tmp_path, "stallonce"),
        out=tmp_path / "b",
        engine=engine,
        jobs=1,
        use_cache=False,
    )
    assert len(result.tracks) == 2


def test_an_engine_that_says_nothing_for_words_stops_the_render(tmp_path):
    from narrate.errors import NarrateError
    from narrate.speech.engine import get_engine

    with pytest.raises(NarrateError) as raised:
        narrate.render(
            faulty_story(tmp_path, "hush"),
            out=tmp_path / "out",
            engine=get_engine("tone_engine:FaultyEngine"),
            jobs=1,
            use_cache=False,
        )
    assert str(raised.value).startswith("chapter 2, 'Then it went hush at once,': ")
    assert "gave no audio" in str(raised.value)
