"""`narrate cast` (narrate.pipeline.cast): it writes every speaker of a book into the voices
file with a voice, keeps what the user wrote when run again, and a render uses it. The
casting policy is in test_casting.py, how the file is edited and written in
test_voices_edit.py, the fixes to the attribution in test_overrides.py."""

from __future__ import annotations

import json
from pathlib import Path

from narrate.cli import main
from narrate.model import VoiceProfile
from narrate.voices.load import default_voices_path, load_voices

FIRST = """Title: The Ferry
Author: Ada Quill

Chapter 1

Lena Hart and Osric Vane waited at the jetty. Lena watched the water.

"Is that the ferry?" asked Lena.

"It is," said Osric.

"At last," Lena said.
"""

SECOND = """Title: The Ferry Home
Author: Ada Quill

Chapter 1

Lena Hart waited at the jetty with Mabel Finch. Mabel carried the bags.

"Is that the ferry?" asked Lena.

"It is," said Mabel.
"""


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def script_records(runner, story: Path, voices: Path) -> list[dict]:
    result = run(runner, "script", story, "--voices", voices, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def speaker_of(records: list[dict], opening: str) -> str:
    return next(r["speaker"] for r in records if r["text"].startswith(opening))


# narrate cast


def test_cast_writes_every_speaker_with_a_voice(runner, tmp_path):
    story = write(tmp_path, "ferry.txt", FIRST)
    voices = tmp_path / "voices.yaml"
    result = run(runner, "cast", story, "--voices", voices)
    assert result.exit_code == 0, result.output
    config = load_voices(voices).config
    assert set(config.characters) == {"Lena Hart", "Osric Vane"}
    lena, osric = config.characters["Lena Hart"], config.characters["Osric Vane"]
    assert lena.profile.voice != osric.profile.voice
    assert "+ Lena Hart" in result.output and "+ Osric Vane" in result.output
    assert "# female, 2 lines, chapter 1" in voices.read_text()
    # The rest of the built-in file (narrator, pools, pauses, comments) came along.
    default = load_voices(default_voices_path()).config
    assert config.narrator == default.narrator and config.pools == default.pools
    assert voices.read_text().startswith(default_voices_path().read_text().splitlines()[0])


def test_cast_again_keeps_edits_and_comments_byte_for_byte_and_adds_only_new(runner, tmp_path):
    voices = tmp_path / "voices.yaml"
    assert run(runner, "cast", write(tmp_path, "a.txt", FIRST), "--voices", voices).exit_code == 0
    text = voices.read_text()
    lena = next(line for line in text.splitlines() if line.lstrip().startswith("Lena Hart:"))
    edited = "  Lena Hart: {voice: en-us+f5, rate: 150, pitch: 70}   # my own Lena, slower\n"
    text = text.replace(lena + "\n", edited)
    text = text.replace("pools:\n", "# I like these pools\npools:\n")
    voices.write_text(text)

    result = run(runner, "cast", write(tmp_path, "b.txt", SECOND), "--voices", voices)
    assert result.exit_code == 0, result.output
    after = voices.read_text()
    added = [line for line in after.splitlines(keepends=True) if line not in text.splitlines(True)]
    assert len(added) == 1 and added[0].lstrip().startswith("Mabel Finch:")
    assert after.replace(added[0], "", 1) == text  # every other byte as the user left it
    config = load_voices(voices).config
    assert config.characters["Lena Hart"].profile == VoiceProfile("en-us+f5", 150, 70, 1.0)
    assert "+ Mabel Finch" in result.output and "+ Lena" not in result.output

    again = run(runner, "cast", tmp_path / "b.txt", "--voices", voices)
    assert again.exit_code == 0 and voices.read_text() == after
    assert "no new characters" in again.output


def test_a_render_uses_what_the_user_wrote(runner, tmp_path):
    story = write(tmp_path, "ferry.txt", FIRST)
    voices = tmp_path / "voices.yaml"
    run(runner, "cast", story, "--voices", voices)
    text = voices.read_text()
    line = next(x for x in text.splitlines() if x.lstrip().startswith("Osric Vane:"))
    voices.write_text(text.replace(line, "  Osric Vane: {voice: en-us+m8, rate: 140, pitch: 20}"))
    records = script_records(runner, story, voices)
    voices_used = {r["voice"] for r in records if r["speaker"] == "Osric Vane"}
    assert voices_used == {"en-us+m8/r140/p20/v1"}


def test_cast_refuses_a_voice_the_engine_does_not_have(runner, tmp_path):
    voices = write(
        tmp_path,
        "voices.yaml",
        "narrator: {voice: en-us+m3}\ncharacters:\n  Lena: {voice: xx-nope}\n",
    )
    before = voices.read_text()
    result = run(runner, "cast", write(tmp_path, "a.txt", FIRST), "--voices", voices)
    assert result.exit_code == 2
    assert "xx-nope" in result.output and "voices.yaml:3" in result.output
    assert voices.read_text() == before


def test_cast_reports_a_broken_voices_file_with_its_line(runner, tmp_path):
    voices = write(tmp_path, "voices.yaml", "narrator: {voice: en-us+m3, rate: 9000}\n")
    result = run(runner, "cast", write(tmp_path, "a.txt", FIRST), "--voices", voices)
    assert result.exit_code == 2
    assert "voices.yaml:1: narrator.rate" in result.output


# Speakers, chapter ranges and pools, as cast sees them


def _voices_with(tmp_path: Path, extra: str) -> Path:
    return write(tmp_path, "voices.yaml", "narrator: {voice: en-us+m3}\n" + extra)


def test_a_chapter_title_names_no_speaker(runner, tmp_path):
    story = write(
        tmp_path,
        "giles.txt",
        "Title: Visits\nAuthor: Ada Quill\n\n# Giles's Return\n\nGiles came home late.\n\n"
        '"Anyone up?" asked Giles.\n\n"Only me," said Willow.\n',
    )
    records = script_records(runner, story, _voices_with(tmp_path, ""))
    assert {r["speaker"] for r in records if r["kind"] == "dialogue"} == {"Giles", "Willow"}
    result = run(runner, "cast", story, "--voices", tmp_path / "cast.yaml")
    assert "Giles Return" not in result.output


def test_chapter_ranges_join_runs():
    from narrate.pipeline import chapter_ranges

    assert chapter_ranges((1, 2, 3, 5, 7, 8)) == "1-3, 5, 7-8"
    assert chapter_ranges(()) == ""


def test_a_voices_file_without_pools_uses_the_built_in_ones(runner, tmp_path):
    """Nobody unlisted speaks in the narrator's voice, even when the file has no pools."""
    story = write(tmp_path, "ferry.txt", FIRST)
    voices = _voices_with(tmp_path, "characters:\n  Lena Hart: {voice: en-us+f5}\n")
    records = script_records(runner, story, voices)
    osric = {r["voice"] for r in records if r["speaker"] == "Osric Vane"}
    assert len(osric) == 1 and not osric.pop().startswith("en-us+m3/")
    assert load_voices(voices).config.pools == load_voices(default_voices_path()).config.pools
