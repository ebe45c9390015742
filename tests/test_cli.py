"""The command line: commands, output formats, and errors as one line with an exit code."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3

from narrate import __version__
from narrate.cli import main

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"

SHORT = """Title: The Kettle
Author: Ada Quill

Chapter 1

Rosa filled the kettle. Rosa liked her tea strong.

"Is it ready?" asked Owen.

"Nearly," Rosa said.
"""


@pytest.fixture
def short_story(tmp_path):
    path = tmp_path / "kettle.txt"
    path.write_text(SHORT, encoding="utf-8")
    return path


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_version_and_help(runner):
    result = run(runner, "--version")
    assert result.exit_code == 0 and __version__ in result.output
    for command in ("render", "script", "preview", "voices"):
        result = run(runner, command, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_script_jsonl_covers_the_text_with_exact_offsets(runner):
    result = run(runner, "script", "--format", "jsonl", STORY)
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    with open(STORY, encoding="utf-8", newline="") as file:
        text = file.read()
    starts = [r["start"] for r in records]
    assert starts == sorted(starts)
    for record in records:
        assert set(record) >= {"chapter", "kind", "speaker", "voice", "start", "end", "text"}
        assert record["kind"] in ("narration", "dialogue")
        assert text[record["start"] : record["end"]] == record["text"]
        if record["kind"] == "narration":
            assert record["speaker"] == "narrator"
    # Every word of the story is in some segment (quote marks and blank space aside).
    covered = np.zeros(len(text), dtype=bool)
    for record in records:
        covered[record["start"] : record["end"]] = True
    story_start = text.index("Chapter 1")
    missing = [c for i, c in enumerate(text) if i >= story_start and c.isalnum() and not covered[i]]
    assert missing == []
    speakers = {r["speaker"].split()[0] for r in records if r["kind"] == "dialogue"}
    assert {"Mara", "Tom", "Nell"} <= speakers


def test_script_text_reads_like_a_screenplay(runner, short_story):
    result = run(runner, "script", short_story)
    assert result.exit_code == 0
    assert "OWEN: Is it ready?" in result.output
    assert "ROSA: Nearly," in result.output
    assert re.search(r"^ {4,}Rosa filled the kettle", result.output, re.MULTILINE)


def test_voices_lists_voices_and_variants(runner):
    result = run(runner, "voices")
    assert result.exit_code == 0
    assert re.search(r"^\s+en-us\s", result.output, re.MULTILINE)
    assert re.search(r"^\s+\+f3\s.*female", result.output, re.MULTILINE)


def tiny_png() -> bytes:
    """A real 2x2 PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + (chunk(b"IEND", b""))
    )


def test_render_prints_a_summary_and_writes_tagged_files(runner, short_story, tmp_path):
    out = tmp_path / "out"
    cover = tmp_path / "cover.png"
    cover.write_bytes(tiny_png())
    result = run(
        runner,
        "render",
        short_story,
        "--out",
        out,
        "--cover",
        cover,
        "--series",
        "Kitchen",
        "--series-part",
        "2",
    )
    assert result.exit_code == 0, result.output
    assert "Rendered 1 chapter" in result.output
    assert "Rosa" in result.output and "Owen" in result.output
    files = list((out / "Ada Quill" / "The Kettle").glob("*.mp3"))
    assert [f.name for f in files] == ["01 - Chapter 1.mp3"]
    tags = ID3(files[0])
    pictures = tags.getall("APIC")
    assert len(pictures) == 1
    assert pictures[0].data == cover.read_bytes() and pictures[0].mime == "image/png"
    assert pictures[0].type == 3  # front cover
    assert str(tags["TXXX:series"]) == "Kitchen"
    assert str(tags["TXXX:series-part"]) == "2"


def one_line_error(result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and all(line.startswith("narrate: error: ") for line in lines)
    assert "Traceback" not in result.output
    return result.output


def test_missing_input_is_a_usage_error(runner, tmp_path):
    message = one_line_error(run(runner, "script", tmp_path / "nope.txt"), 2)
    assert "nope.txt" in message


def test_empty_input_is_a_usage_error(runner, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert "empty" in one_line_error(run(runner, "render", empty, "--out", tmp_path), 2)


def test_bad_voices_file_names_file_line_and_key_and_renders_nothing(runner, short_story, tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text("narrator: {voice: en-us, rate: 170}\npauses: {scene: loud}\n", "utf-8")
    out = tmp_path / "out"
    message = one_line_error(
        run(runner, "render", short_story, "--voices", voices, "--out", out), 2
    )
    assert f"{voices}:2: pauses.scene" in message
    assert not out.exists()


def test_unknown_voice_is_named_and_renders_nothing(runner, short_story, tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text("narrator: {voice: en-us+nosuchvoice}\n", "utf-8")
    out = tmp_path / "out"
    message = one_line_error(
        run(runner, "render", short_story, "--voices", voices, "--out", out), 2
    )
    assert "en-us+nosuchvoice" in message and f"{voices}:1" in message
    assert not out.exists()


def test_voices_yaml_in_the_working_directory_is_used(runner, short_story, tmp_path, monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "voices.yaml").write_text("narrator: {voice: en-gb-x-rp+m2}\n", "utf-8")
    monkeypatch.chdir(folder)
    result = run(runner, "script", "--format", "jsonl", short_story)
    voices = {json.loads(line)["voice"] for line in result.output.splitlines()}
    assert "en-gb-x-rp+m2/r175/p50/v1" in voices


def test_invalid_bitrate_is_refused_before_rendering(runner, short_story, tmp_path):
    out = tmp_path / "out"
    message = one_line_error(run(runner, "render", short_story, "--bitrate", "65", "--out", out), 2)
    assert "64" in message  # the valid choices are listed
    assert not out.exists()


def test_cover_that_is_not_an_image_is_refused(runner, short_story, tmp_path):
    cover = tmp_path / "cover.jpg"
    cover.write_text("not an image", "utf-8")
    out = tmp_path / "out"
    one_line_error(run(runner, "render", short_story, "--cover", cover, "--out", out), 2)
    assert not out.exists()


def test_debug_shows_the_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "narrate.cli", "--debug", "script", str(tmp_path / "nope.txt")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_errors_without_debug_have_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "narrate.cli", "script", str(tmp_path / "nope.txt")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_ctrl_c_exits_130_with_one_line(runner, short_story, tmp_path, monkeypatch):
    import narrate.output.chapter_files

    def interrupt(path, tags):
        raise KeyboardInterrupt

    monkeypatch.setattr(narrate.output.chapter_files, "write_tags", interrupt)
    out = tmp_path / "out"
    message = one_line_error(run(runner, "render", short_story, "--out", out, "-q"), 130)
    assert "interrupted" in message
    assert [p for p in out.rglob("*") if p.is_file()] == []
