"""Fixes to the attribution in the voices file (narrate.dialogue.overrides): ``lines:``
gives one quote, by its id or its opening words, to a speaker; ``merge:`` gives all of one
speaker's lines to another, or to the narrator."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from test_cast import _voices_with, run, script_records, speaker_of, write
from test_voices_edit import NARRATOR_ONLY, POOLS

import narrate
from narrate.cli import main
from narrate.dialogue.overrides import apply_fixes
from narrate.model import DIALOGUE, Segment
from narrate.voices.load import parse_voices

FIXABLE = """Title: The Lamp
Author: Ada Quill

Chapter 1

Lena and Osric sat by the lamp. Osric trimmed the wick.

"It smokes," said Lena.

"It always smokes," said Osric.

"Then trim it better."

A stranger knocked. "Is this the lamp house?" asked Pim.
"""


def segment(text: str, speaker: str, quote: int) -> Segment:
    return Segment(DIALOGUE, 0, len(text), text, 1, 0, quote, speaker=speaker, quote=quote)


def _config(body: str):
    return parse_voices(NARRATOR_ONLY + POOLS + body).config


# --- apply_fixes on segments ----------------------------------------------------------------


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


# --- through `narrate script` ---------------------------------------------------------------


def test_a_line_fix_by_opening_words_changes_the_speaker(runner, tmp_path):
    story = write(tmp_path, "lamp.txt", FIXABLE)
    plain = script_records(runner, story, _voices_with(tmp_path, ""))
    assert speaker_of(plain, "Then trim it") == "Lena"
    fixed = script_records(
        runner, story, _voices_with(tmp_path, 'lines:\n  "then trim it": Osric\n')
    )
    assert speaker_of(fixed, "Then trim it") == "Osric"
    assert speaker_of(fixed, "It smokes") == "Lena"  # nothing else moved


def test_a_line_fix_by_id_changes_the_speaker(runner, tmp_path):
    story = write(tmp_path, "lamp.txt", FIXABLE)
    plain = script_records(runner, story, _voices_with(tmp_path, ""))
    quote = next(r["quote"] for r in plain if r["text"].startswith("It smokes"))
    explained = run(runner, "script", story, "--voices", tmp_path / "voices.yaml", "--explain")
    assert f"[#{quote} why:" in explained.output  # the id the user reads
    fixed = script_records(runner, story, _voices_with(tmp_path, f"lines:\n  {quote}: Osric\n"))
    assert speaker_of(fixed, "It smokes") == "Osric"


def test_merge_gives_all_lines_of_one_speaker_to_another_or_the_narrator(runner, tmp_path):
    story = write(tmp_path, "lamp.txt", FIXABLE)
    plain = script_records(runner, story, _voices_with(tmp_path, ""))
    assert speaker_of(plain, "Is this the lamp") == "Pim"
    merged = script_records(runner, story, _voices_with(tmp_path, "merge:\n  pim: Osric\n"))
    assert speaker_of(merged, "Is this the lamp") == "Osric"
    narrated = script_records(runner, story, _voices_with(tmp_path, "merge:\n  Lena: narrator\n"))
    lena = [r for r in narrated if r["text"].startswith(("It smokes", "Then trim"))]
    assert {r["speaker"] for r in lena} == {"narrator"}
    assert {r["voice"] for r in lena} == {"en-us+m3/r175/p50/v1"}


def test_a_fix_that_matches_nothing_is_a_warning_not_an_error(runner, tmp_path):
    story = write(tmp_path, "lamp.txt", FIXABLE)
    voices = _voices_with(tmp_path, 'lines:\n  "no such words": Osric\n')
    result = CliRunner().invoke(main, ["script", str(story), "--voices", str(voices)])
    assert result.exit_code == 0
    assert "warning" in result.stderr and "voices.yaml:3" in result.stderr


def test_a_fix_without_a_speaker_is_a_configuration_error():
    with pytest.raises(Exception) as error:
        parse_voices("narrator: en-us+m3\nlines:\n  12: \n", "v.yaml")
    assert "v.yaml:3: lines.12" in str(error.value)
