"""The casting workflow: `narrate cast` writes the voices file and keeps what the user
wrote; the casting policy; fixes to the attribution in the voices file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from narrate.cli import main
from narrate.model import FEMALE, MALE, Character, Segment, VoiceProfile, VoicesConfig
from narrate.voices.casting import MINOR_VOICES, cast_voices
from narrate.voices.load import default_voices_path, load_voices, parse_voices

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


@pytest.fixture
def runner():
    return CliRunner()


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


# The casting policy


def _config(pools: dict[str, list[VoiceProfile]]) -> VoicesConfig:
    return VoicesConfig(
        narrator=VoiceProfile("en-us+m3", 170, 45),
        pools={gender: tuple(profiles) for gender, profiles in pools.items()},
    )


def _lines(speakers_by_scene: dict[tuple[int, int], list[str]]) -> list[Segment]:
    segments = []
    for (chapter, scene), names in speakers_by_scene.items():
        for name in names:
            segments.append(
                Segment(
                    kind="dialogue",
                    start=0,
                    end=1,
                    text="Hi.",
                    chapter=chapter,
                    scene=scene,
                    paragraph=0,
                    speaker=name,
                    quote=len(segments),
                )
            )
    return segments


def test_the_narrators_voice_is_never_a_characters():
    pool = [VoiceProfile("en-us+m3", 150, 30), VoiceProfile("en-us+m1", 175, 40)]
    cast = cast_voices(_config({"male": pool}), {"Tom": 5, "Ned": 3}, {}, ())
    assert all(p.voice != "en-us+m3" for p in cast.speakers.values())


def test_two_speakers_of_one_scene_sharing_a_voice_sound_clearly_different():
    pool = [VoiceProfile("en-us+m1", 175, 40)]
    segments = _lines({(1, 0): ["Tom", "Ned"]})
    cast = cast_voices(_config({"male": pool}), {"Tom": 5, "Ned": 4}, {}, segments)
    tom, ned = cast.speakers["Tom"], cast.speakers["Ned"]
    assert tom.voice == ned.voice
    assert abs(tom.pitch - ned.pitch) >= 12 and abs(tom.rate - ned.rate) >= 15


def test_speakers_of_different_scenes_may_share_a_voice_unchanged():
    pool = [VoiceProfile("en-us+m1", 175, 40)]
    segments = _lines({(1, 0): ["Tom"], (2, 0): ["Ned"]})
    cast = cast_voices(_config({"male": pool}), {"Tom": 5, "Ned": 4}, {}, segments)
    assert cast.speakers["Tom"] == cast.speakers["Ned"] == pool[0]


def test_voices_follow_gender_and_the_biggest_parts_come_first():
    women = [VoiceProfile(f"en-us+f{n}", 175, 50) for n in range(1, 6)]
    men = [VoiceProfile(f"en-us+m{n}", 175, 40) for n in (1, 2, 4, 5, 6)]
    characters = {
        "Ann": Character("Ann", gender=FEMALE),
        "Bea": Character("Bea", gender=FEMALE),
        "Cal": Character("Cal", gender=MALE),
    }
    cast = cast_voices(
        _config({"female": women, "male": men}), {"Bea": 3, "Ann": 9, "Cal": 5}, characters
    )
    assert cast.speakers["Ann"] == women[0] and cast.speakers["Bea"] == women[1]
    assert cast.speakers["Cal"] == men[0]
    again = cast_voices(
        _config({"female": women, "male": men}), {"Cal": 5, "Ann": 9, "Bea": 3}, characters
    )
    assert again.speakers == cast.speakers  # the same input, the same casting


def test_minor_parts_share_the_last_voices_of_the_pool():
    women = [VoiceProfile(f"en-us+f{n}", 175, 50 + n) for n in range(1, 8)]
    lines = {"Ann": 9, **{f"Extra{n}": 1 for n in range(6)}}
    characters = {name: Character(name, gender=FEMALE) for name in lines}
    segments = _lines({(n, 0): [f"Extra{n}"] for n in range(6)})
    cast = cast_voices(_config({"female": women}), lines, characters, segments)
    minor = {cast.speakers[f"Extra{n}"] for n in range(6)}
    assert minor <= set(women[-MINOR_VOICES:])
    assert cast.speakers["Ann"] == women[0]


# Fixes in the voices file


FIXABLE = """Title: The Lamp
Author: Ada Quill

Chapter 1

Lena and Osric sat by the lamp. Osric trimmed the wick.

"It smokes," said Lena.

"It always smokes," said Osric.

"Then trim it better."

A stranger knocked. "Is this the lamp house?" asked Pim.
"""


def _voices_with(tmp_path: Path, extra: str) -> Path:
    return write(tmp_path, "voices.yaml", "narrator: {voice: en-us+m3}\n" + extra)


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
