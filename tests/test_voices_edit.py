"""Review of the casting workflow: voices files as users write them, fixes, previews, and
casting a series, each test a bug found by trying what a user would do."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import narrate
from narrate.cli import main
from narrate.dialogue.overrides import apply_fixes
from narrate.model import DIALOGUE, FEMALE, MALE, Character, Segment, VoiceProfile
from narrate.voices import edit as voices_file
from narrate.voices.casting import cast_voices
from narrate.voices.edit import NewCharacter, add_characters
from narrate.voices.load import parse_voices
from tests.test_preview import RecordingEngine

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


def segment(text: str, speaker: str, quote: int) -> Segment:
    return Segment(DIALOGUE, 0, len(text), text, 1, 0, quote, speaker=speaker, quote=quote)


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


# --- fixes: lines and merge -----------------------------------------------------------------


def _config(body: str):
    return parse_voices(NARRATOR_ONLY + POOLS + body).config


def test_opening_words_match_whole_words_only():
    segments = [segment("Yesterday I saw the boat,", "Ann", 0), segment("Yes, I know,", "Tom", 1)]
    fixed, warnings = apply_fixes(segments, _config('lines: {"Yes": Ann}\n'))
    assert [s.speaker for s in fixed] == ["Ann", "Ann"]
    assert warnings == []


def test_opening_words_without_a_word_are_a_config_error():
    with pytest.raises(narrate.ConfigError, match=r"lines\.#"):
        _config('lines: {"#": Ann}\n')


def test_a_fix_names_a_speaker_in_any_case():
    segments = [segment("Yes, I know,", "Tom", 0), segment("Gone,", "Jake", 1)]
    fixed, _ = apply_fixes(segments, _config("lines: {0: jake}\nmerge: {JAKE: tom}\n"))
    assert [s.speaker for s in fixed] == ["Tom", "Tom"]


def test_merges_are_followed_to_the_end_of_a_chain():
    segments = [segment("Yes,", "Tom", 0), segment("No,", "Jake", 1), segment("So,", "Ann", 2)]
    config = _config("merge: {Tom: Jake, Jake: Ann}\nlines: {2: Tom}\n")
    fixed, _ = apply_fixes(segments, config)
    assert [s.speaker for s in fixed] == ["Ann", "Ann", "Ann"]


def test_a_merge_cycle_ends():
    segments = [segment("Yes,", "Tom", 0)]
    fixed, _ = apply_fixes(segments, _config("merge: {Tom: Jake, Jake: Tom}\n"))
    assert fixed[0].speaker in ("Tom", "Jake")


# --- preview --------------------------------------------------------------------------------


def test_preview_says_the_pronunciations(tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(
        NARRATOR_ONLY
        + "characters:\n  Giles: {voice: en-gb-x-rp+m7}\npronunciations: {Giles: Jiles}\n",
        encoding="utf-8",
    )
    engine = RecordingEngine()
    narrate.preview("Giles", voices=voices, output=tmp_path / "p.mp3", engine=engine)
    said = " ".join(text for text, _ in engine.calls)
    assert "Jiles" in said and "Giles" not in said


# --- casting a series -----------------------------------------------------------------------


def test_when_the_file_has_taken_every_pooled_voice_a_new_speaker_shares_one_of_their_gender():
    """After a few books of a series every pool voice is some character's in the file; a new
    woman then shares a woman's voice, never gets the narrator's or a man's."""
    config = parse_voices(
        NARRATOR_ONLY
        + "characters:\n"
        + "  Ann: {voice: en-us+f3, rate: 175, pitch: 55}\n"
        + "  Bea: {voice: en-gb-x-rp+f2, rate: 170, pitch: 60}\n"
        + "  Cal: {voice: en-us+m1, rate: 175, pitch: 40}\n"
        + "  Dan: {voice: en-gb-x-rp+m7, rate: 165, pitch: 35}\n"
        + POOLS
    ).config
    characters = {"Eve": Character("Eve", gender=FEMALE), "Fin": Character("Fin", gender=MALE)}
    cast = cast_voices(config, {"Eve": 3, "Fin": 3}, characters)
    female = {p.voice for p in config.pools["female"]}
    male = {p.voice for p in config.pools["male"]}
    assert cast.profile_for("Eve").voice in female
    assert cast.profile_for("Fin").voice in male
    voices = {cast.profile_for("Eve").voice, cast.profile_for("Fin").voice}
    assert config.narrator.voice not in voices


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
