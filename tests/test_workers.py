"""Speech synthesized by worker processes: the same book as a serial render, and the cache
they fill is the one a serial render reads. Real engine, spawned workers."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import miniaudio
import numpy as np
import pytest

import narrate
import narrate.output.chapter_files
from narrate.speech.engine import get_engine

STORY = """Title: Two Rooms
Author: Ada Quill

Chapter 1

Rosa filled the kettle. Owen sat by the window.

"Is it ready?" asked Owen.

"Nearly," said Rosa. "Give it a minute."

Chapter 2

The rain went on all afternoon.

"More tea?" said Rosa.

"Please," said Owen.
"""


@pytest.fixture(autouse=True)
def _workers_even_for_a_short_story(monkeypatch):
    monkeypatch.setattr(narrate.output.chapter_files, "MIN_PARALLEL_TASKS", 0)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    path = tmp_path_factory.mktemp("story") / "rooms.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


def samples(path: Path) -> np.ndarray:
    return np.asarray(miniaudio.mp3_read_file_s16(str(path)).samples, dtype=np.int16)


def test_workers_make_the_book_a_serial_render_makes(story, tmp_path):
    parallel = narrate.render(story, out=tmp_path / "p", cache_dir=tmp_path / "pc", jobs=2)
    serial = narrate.render(story, out=tmp_path / "s", cache_dir=tmp_path / "sc", jobs=1)
    assert parallel.synthesized == serial.synthesized > 0
    assert parallel.reused == serial.reused
    assert [t.path.name for t in parallel.tracks] == [t.path.name for t in serial.tracks]
    for one, other in zip(parallel.tracks, serial.tracks, strict=True):
        # espeak's output for a text varies by a few samples between calls
        assert one.duration == pytest.approx(other.duration, rel=0.01)
        assert samples(one.path).size > 0
    assert [s.spoken for s in parallel.tracks[0].timeline] == [
        s.spoken for s in serial.tracks[0].timeline
    ]


def test_parallel_and_serial_renders_make_identical_files(story, tmp_path, monkeypatch):
    """With a deterministic engine (a plug-in, which the workers load by name), so that any
    difference is the pipeline's: ordering, joining, loudness, encoding, tags."""
    tone = get_engine("tone_engine:ToneEngine")
    runs = []
    real = narrate.output.chapter_files.run_in_workers

    def counted(tasks, *args, **kwargs):
        runs.append(len(tasks))
        return real(tasks, *args, **kwargs)

    monkeypatch.setattr(narrate.output.chapter_files, "run_in_workers", counted)
    parallel = narrate.render(
        story, out=tmp_path / "p", cache_dir=tmp_path / "pc", jobs=2, engine=tone
    )
    assert runs and runs[0] == parallel.synthesized > 0  # the workers made them
    serial = narrate.render(
        story, out=tmp_path / "s", cache_dir=tmp_path / "sc", jobs=1, engine=tone
    )
    assert len(runs) == 1
    assert serial.synthesized == parallel.synthesized
    for one, other in zip(parallel.tracks, serial.tracks, strict=True):
        assert one.path.name == other.path.name
        assert one.path.read_bytes() == other.path.read_bytes()
        assert samples(one.path).size > 0


def test_the_cache_the_workers_fill_gives_a_serial_render_the_same_audio(story, tmp_path):
    parallel = narrate.render(story, out=tmp_path / "p", cache_dir=tmp_path / "c", jobs=2)
    serial = narrate.render(story, out=tmp_path / "s", cache_dir=tmp_path / "c", jobs=1)
    assert serial.synthesized == 0
    for one, other in zip(parallel.tracks, serial.tracks, strict=True):
        assert np.array_equal(samples(one.path), samples(other.path))


def test_workers_without_a_cache_keep_nothing(story, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    result = narrate.render(story, out=tmp_path / "o", use_cache=False, jobs=2)
    assert result.synthesized > 0 and all(t.duration > 1 for t in result.tracks)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_failing_worker_reports_its_own_error(tmp_path):
    from narrate.errors import NarrateError
    from narrate.model import VoiceProfile
    from narrate.speech.workers import SpeechTask, run_in_workers

    task = SpeechTask("ab" * 32, "Hello.", VoiceProfile("xx-no-such-voice"), 0.25)
    with pytest.raises(NarrateError, match="xx-no-such-voice"):
        run_in_workers([task], tmp_path / "cache", 2)


def test_an_executor_plug_in_makes_the_speech(story, tmp_path):
    import executors

    tone = get_engine("tone_engine:ToneEngine")
    executors.SUBMITTED.clear()
    elsewhere = narrate.render(
        story,
        out=tmp_path / "e",
        cache_dir=tmp_path / "ec",
        engine=tone,
        jobs=1,
        executor="executors:counting",
    )
    # One batch per chapter here (each under BATCH segments), all made by the pool.
    assert len(executors.SUBMITTED) == 2
    assert sum(executors.SUBMITTED) == elsewhere.synthesized > 0
    here = narrate.render(story, out=tmp_path / "h", use_cache=False, engine=tone, jobs=1)
    for one, other in zip(elsewhere.tracks, here.tracks, strict=True):
        assert one.path.read_bytes() == other.path.read_bytes()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere", "--executor takes 'local' or module:factory, not 'nowhere'"),
        ("no_such_module:make", "cannot load the executor 'no_such_module:make'"),
        ("executors:not_an_executor", "which has no submit()"),
    ],
)
def test_a_bad_executor_is_one_clear_error(story, tmp_path, spec, message):
    from click.testing import CliRunner

    from narrate.cli import main

    result = CliRunner().invoke(
        main, ["render", str(story), "--out", str(tmp_path / "o"), "--executor", spec]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.mp3"))


def running_in_group(group: int) -> list[int]:
    """The processes of process group ``group`` that still run. Ended ones that nobody has
    reaped yet (zombies: a container's first process may never reap them) do not count."""
    if Path("/proc").is_dir():
        rows = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):  # ended while we looked
                state, _, pgid = stat.read_text().rsplit(")", 1)[1].split()[:3]
                rows.append((int(stat.parent.name), int(pgid), state))
    else:
        listing = subprocess.run(
            ["ps", "-A", "-o", "pid=,pgid=,stat="], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        rows = [(int(pid), int(pgid), state) for pid, pgid, state in map(str.split, listing)]
    return [pid for pid, pgid, state in rows if pgid == group and not state.startswith("Z")]


def test_ctrl_c_stops_the_workers_and_leaves_no_partial_file(tmp_path):
    """A real SIGINT to a real render while worker processes speak: it ends, and its
    workers with it (none runs on or speaks after it), exit 130, no MP3 under a final or
    temporary name, every cache entry whole."""
    import signal
    import sys
    import time

    story = Path(__file__).resolve().parent.parent / "examples" / "the-lamp-at-gull-point.txt"
    out, cache = tmp_path / "out", tmp_path / "cache"
    command = [sys.executable, "-m", "narrate.cli", "render", str(story), "-j", "2"]
    process = subprocess.Popen(
        [*command, "--out", str(out), "--cache-dir", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which its workers join
    )
    deadline = time.monotonic() + 60
    while not any(cache.rglob("*.piece")) and time.monotonic() < deadline:
        time.sleep(0.02)  # until the workers are making speech
    assert process.poll() is None, "the render ended before it could be interrupted"
    assert len(running_in_group(process.pid)) > 1  # the render and its workers
    process.send_signal(signal.SIGINT)
    # A generous bound, only so that a render that never ends fails instead of hanging.
    _, error = process.communicate(timeout=30)
    assert process.returncode == 130
    assert error.strip().splitlines()[-1] == "narrate: error: interrupted"
    # Its workers ended with it: none runs on, and none made speech after the render had
    # ended (a worker left behind would go on adding to the cache).
    made_by_the_end = sorted(cache.rglob("*.piece"))
    deadline = time.monotonic() + 30
    while running_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # a terminated worker takes a moment to go
    assert running_in_group(process.pid) == []
    assert sorted(cache.rglob("*.piece")) == made_by_the_end
    assert not list(out.rglob("*.mp3")) and not list(out.rglob("*.part"))
    from narrate.speech.cache import SpeechCache

    entries = list(cache.rglob("*.piece"))
    assert entries and not list(cache.rglob("*.part"))
    reader = SpeechCache(cache)
    for entry in entries:
        piece = reader.get(entry.stem)
        assert piece is not None and (piece.frames == 0 or piece.data[:2] == b"\xff\xf3")
