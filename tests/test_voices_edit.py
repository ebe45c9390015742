"""Editing the voices file (narrate.voices.edit) as `narrate cast` does it: characters added
to files as users write them, the file's line endings, permissions and link kept, written
whole or not at all; each test a bug found by trying what a user would do."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from narrate.cli import main
from narrate.model import VoiceProfile
from narrate.voices import edit as voices_file
from narrate.voices.edit import NewCharacter, add_characters
from narrate.voices.load import parse_voices

STORY = """Title: The Boat
Author: Ada Quill

Chapter 1

Ann Hale and Tom Reed stood on the quay.

"Yesterday I saw the boat," said Ann.

"Yes, I know," said Tom.

"Where is it now?" asked Ann.

"Gone to sea," Tom said.
"""

NARRATOR_ONLY = "narrator: {voice: en-us+m3, rate: 170, pitch: 45}\n"
POOLS = """pools:
  male: [{voice: en-us+m1, rate: 175, pitch: 40}, {voice: en-gb-x-rp+m7, rate: 165, pitch: 35}]
  female: [{voice: en-us+f3, rate: 175, pitch: 55}, {voice: en-gb-x-rp+f2, rate: 170, pitch: 60}]
"""
ZOE = NewCharacter("Zoë", (), VoiceProfile("en-us+f3", 175, 55), "female, 1 line")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def story(tmp_path) -> Path:
    path = tmp_path / "boat.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


# --- the voices file as written by hand -----------------------------------------------------


@pytest.mark.parametrize("empty", ["~", "null", "NULL  # none yet", ""])
def test_characters_written_as_null_can_be_added_to(empty):
    text = f"{NARRATOR_ONLY}characters: {empty}\n{POOLS}"
    result = add_characters(text, [ZOE])
    assert "Zoë" in parse_voices(result).config.characters
    comment = empty.partition("#")[2]
    assert result.startswith(NARRATOR_ONLY + "characters:" + (f"  #{comment}" if comment else ""))


def test_characters_key_last_without_a_newline_can_be_added_to():
    text = NARRATOR_ONLY + POOLS + "characters:"
    result = add_characters(text, [ZOE])
    assert result.startswith(text) and "Zoë" in parse_voices(result).config.characters


def test_crlf_file_keeps_its_line_endings(story, tmp_path):
    voices = tmp_path / "voices.yaml"
    original = (NARRATOR_ONLY + "characters:\n  Ann Hale: {voice: en-us+f2}\n" + POOLS).replace(
        "\n", "\r\n"
    )
    voices.write_bytes(original.encode("utf-8"))
    assert run("cast", story, "--voices", voices).exit_code == 0
    written = voices.read_bytes().decode("utf-8")
    assert written.startswith(original.split("pools:")[0])
    assert "Tom Reed" in written
    # Every line, the added ones too, ends as the user's lines do.
    assert written.count("\n") == written.count("\r\n")


def test_a_read_only_voices_file_is_left_alone(story, tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(NARRATOR_ONLY + POOLS, encoding="utf-8")
    voices.chmod(0o444)
    result = run("cast", story, "--voices", voices)
    assert result.exit_code == 2
    assert "read-only" in result.output and "Traceback" not in result.output
    assert voices.read_text(encoding="utf-8") == NARRATOR_ONLY + POOLS
    assert stat.S_IMODE(voices.stat().st_mode) == 0o444


def test_the_voices_file_keeps_its_permissions(story, tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(NARRATOR_ONLY + POOLS, encoding="utf-8")
    voices.chmod(0o600)
    assert run("cast", story, "--voices", voices).exit_code == 0
    assert stat.S_IMODE(voices.stat().st_mode) == 0o600


def test_a_symlinked_voices_file_is_written_through_the_link(story, tmp_path):
    real = tmp_path / "shared" / "series.yaml"
    real.parent.mkdir()
    real.write_text(NARRATOR_ONLY + POOLS, encoding="utf-8")
    link = tmp_path / "voices.yaml"
    link.symlink_to(real)
    assert run("cast", story, "--voices", link).exit_code == 0
    assert link.is_symlink()
    assert "Tom Reed" in real.read_text(encoding="utf-8")


def test_a_voices_file_in_a_missing_folder_is_a_usage_error(story, tmp_path):
    result = run("cast", story, "--voices", tmp_path / "nowhere" / "voices.yaml")
    assert result.exit_code == 2
    assert "nowhere" in result.output and "folder" in result.output
    assert not (tmp_path / "nowhere").exists()


def test_ctrl_c_while_writing_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "voices.yaml"
    target.write_text("old\n", encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(voices_file.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        voices_file.write_voices_file(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voices.yaml"]


# --- casting a series into the file ---------------------------------------------------------


def test_cast_never_writes_the_narrators_voice_for_a_new_character_of_a_series(story, tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(
        NARRATOR_ONLY
        + "characters:\n"
        + "  Bea: {voice: en-us+f3, rate: 175, pitch: 55}\n"
        + "  Cal: {voice: en-us+m1, rate: 175, pitch: 40}\n"
        + "pools:\n  female: [{voice: en-us+f3, rate: 175, pitch: 55}]\n"
        + "  male: [{voice: en-us+m1, rate: 175, pitch: 40}]\n",
        encoding="utf-8",
    )
    assert run("cast", story, "--voices", voices).exit_code == 0
    added = parse_voices(voices.read_text(encoding="utf-8")).config.characters
    assert added["Ann Hale"].profile.voice == "en-us+f3"
    assert added["Tom Reed"].profile.voice == "en-us+m1"


def test_no_stray_files_are_left_next_to_the_voices_file(story, tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(NARRATOR_ONLY + POOLS, encoding="utf-8")
    assert run("cast", story, "--voices", voices).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == ["boat.txt", "voices.yaml"]
