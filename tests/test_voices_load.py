"""Tests of loading and checking the voices file (narrate.voices.load). Whether the engine
has the voices it names is the engine's check, in test_engine.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from narrate.errors import EXIT_USAGE, ConfigError
from narrate.model import Pauses, VoiceProfile, VoicesConfig
from narrate.speech.engine import check_profiles, get_engine
from narrate.voices.load import (
    PROFILE_KEYS,
    TOP_KEYS,
    default_voices_path,
    find_voices_file,
    load_voices,
    parse_voices,
)

REPOSITORY = Path(__file__).resolve().parent.parent

GOOD = """\
narrator: {voice: en-us+m3, rate: 170, pitch: 45, volume: 0.9}
characters:
  Spike:
    voice: en-gb-x-rp+m7
    rate: 165
    aliases: [William, Will]
  Dawn: {voice: en-us+f3, aliases: Dawnie}
pools:
  female:
    - {voice: en-us+f3, pitch: 55}
  male:
    - {voice: en-us+m1}
pauses: {sentence: 0.2, chapter: 3}
"""


def problem(text: str, name: str = "cast.yaml") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_voices(text, name)
    assert caught.value.exit_code == EXIT_USAGE
    return str(caught.value)


def line_numbers(message: str, name: str = "cast.yaml") -> list[int]:
    return [int(n) for n in re.findall(rf"^{re.escape(name)}:(\d+): ", message, re.MULTILINE)]


# --- the shipped files --------------------------------------------------------------------


def test_packaged_and_top_level_voices_files_are_identical_and_load():
    packaged = default_voices_path()
    top_level = REPOSITORY / "voices.yaml"
    assert packaged.read_bytes() == top_level.read_bytes()
    loaded = load_voices(packaged)
    config = loaded.config
    assert config.narrator.voice
    for gender in ("female", "male", "neutral"):
        assert len(config.pools[gender]) >= 2
    # Every profile has a location pointing at a line holding its voice.
    lines = packaged.read_text(encoding="utf-8").splitlines()
    for where, profile in loaded.profile_locations:
        match = re.match(r"^(.*):(\d+): ", where)
        assert match
        assert profile.voice in lines[int(match.group(2)) - 1]


def test_packaged_voices_all_exist_in_the_engine():
    loaded = load_voices(default_voices_path())
    check_profiles(get_engine(), loaded.profile_locations)  # raises on the first it lacks
    voices = {profile.voice for _, profile in loaded.profile_locations}
    assert voices and all(map(get_engine().has_voice, voices))


# --- good files ---------------------------------------------------------------------------


def test_a_full_file_is_parsed_with_aliases_pools_and_pauses():
    config = parse_voices(GOOD, "cast.yaml").config
    assert config.narrator == VoiceProfile("en-us+m3", rate=170, pitch=45, volume=0.9)
    spike = config.characters["Spike"]
    assert spike.profile == VoiceProfile("en-gb-x-rp+m7", rate=165)
    assert spike.aliases == ("William", "Will")
    assert config.characters["Dawn"].aliases == ("Dawnie",)
    assert config.pools["female"] == (VoiceProfile("en-us+f3", pitch=55),)
    assert config.pools["male"] == (VoiceProfile("en-us+m1"),)
    assert config.pauses == Pauses(sentence=0.2, chapter=3.0)
    assert config.source == "cast.yaml"


def test_profile_locations_name_the_file_line_and_key():
    loaded = parse_voices(GOOD, "cast.yaml")
    wheres = [where for where, _ in loaded.profile_locations]
    assert "cast.yaml:1: narrator.voice" in wheres
    assert "cast.yaml:4: characters.Spike.voice" in wheres
    assert "cast.yaml:7: characters.Dawn.voice" in wheres


def test_string_profile_shorthand():
    config = parse_voices("narrator: en-us\ncharacters:\n  Bo: en-gb+m3\n").config
    assert config.narrator == VoiceProfile("en-us")
    assert config.characters["Bo"].profile == VoiceProfile("en-gb+m3")


def test_anchors_and_merge_keys_work():
    text = "narrator: &base {voice: en-us, rate: 150}\ncharacters:\n  Bo: {<<: *base, pitch: 70}\n"
    config = parse_voices(text).config
    assert config.characters["Bo"].profile == VoiceProfile("en-us", rate=150, pitch=70)


def test_an_empty_section_is_no_section_but_only_left_out_pools_are_the_built_in_ones():
    empty = "".join(f"{key}:\n" for key in TOP_KEYS if key != "narrator")
    config = parse_voices("narrator: en-us\n" + empty).config
    assert config == VoicesConfig(VoiceProfile("en-us"), source="voices.yaml")
    built_in = parse_voices("narrator: en-us\n").config.pools
    assert built_in == load_voices(default_voices_path()).config.pools and built_in


# --- bad files ------------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_file_and_line():
    text = "narrator:\n  voice: en-us\n  rate: 170: 5\npauses: {scene: 1}\n"
    message = problem(text, "mine.yaml")
    assert message.startswith("mine.yaml:3: ")
    assert "YAML" in message


def test_tab_indentation_error_names_its_line():
    message = problem("narrator: en-us\ncharacters:\n\tBo: en-gb\n")
    assert line_numbers(message) == [3]


def test_unknown_key_lists_the_valid_keys_and_its_line():
    message = problem("narrator:\n  voice: en-us\n  rate: 170\n  colour: blue\n")
    assert message.startswith("cast.yaml:4: narrator.colour: ")
    assert "unknown key" in message
    for key in PROFILE_KEYS:
        assert key in message
    assert "did you mean" not in message  # "colour" is like no key
    assert "unknown key; did you mean 'rate'?" in problem("narrator:\n  voice: en-us\n  rte: 170\n")
    top = problem("narrator: en-us\nvoicez: {}\n")
    assert top.startswith("cast.yaml:2: voicez: ")
    assert "did you mean 'pauses'?" in problem("narrator: en-us\npauzes: {}\n")
    for key in TOP_KEYS:
        assert key in top


def test_wrong_type_is_reported():
    message = problem("narrator:\n  voice: en-us\n  rate: fast\n")
    assert message.startswith("cast.yaml:3: narrator.rate: ")
    assert "'fast'" in message
    assert "80" in message and "450" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("rate", "true"), ("rate", "170.5"), ("pitch", "loud"), ("volume", "[1]")],
)
def test_other_wrong_types(field, value):
    message = problem(f"narrator:\n  voice: en-us\n  {field}: {value}\n")
    assert message.startswith(f"cast.yaml:3: narrator.{field}: must be")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pitch", "101"),
        ("pitch", "-1"),
        ("volume", "1.5"),
        ("volume", "-0.1"),
        ("rate", "20"),
        ("rate", "451"),
        ("volume", ".nan"),
    ],
)
def test_out_of_range_numbers(field, value):
    message = problem(f"narrator:\n  voice: en-us\n  {field}: {value}\n")
    assert message.startswith(f"cast.yaml:3: narrator.{field}: ")
    assert "out of range" in message


def test_boundary_values_are_accepted():
    text = "narrator: {voice: en-us, rate: 80, pitch: 0, volume: 0}\n"
    assert parse_voices(text).config.narrator == VoiceProfile("en-us", 80, 0, 0.0)
    text = "narrator: {voice: en-us, rate: 450, pitch: 100, volume: 1}\n"
    assert parse_voices(text).config.narrator == VoiceProfile("en-us", 450, 100, 1.0)


@pytest.mark.parametrize(
    ("pauses", "key"),
    [
        ("pauses: 3", "pauses"),
        ("pauses:\n  scene: long", "pauses.scene"),
        ("pauses:\n  scene: 31", "pauses.scene"),
        ("pauses:\n  scene: -1", "pauses.scene"),
        ("pauses:\n  nap: 1", "pauses.nap"),
    ],
)
def test_bad_pauses(pauses, key):
    message = problem(f"narrator: en-us\n{pauses}\n")
    assert re.match(rf"cast\.yaml:[23]: {re.escape(key)}: ", message)


def test_missing_or_empty_voice_is_reported():
    assert problem("narrator: {rate: 170}\n").startswith("cast.yaml:1: narrator.voice: ")
    assert problem("narrator: {voice: ''}\n").startswith("cast.yaml:1: narrator.voice: ")
    assert "narrator: missing" in problem("pauses: {scene: 1}\n")


@pytest.mark.parametrize(
    "text",
    [
        "narrator: !!python/object:os.system {voice: en-us}\n",
        "narrator: en-us\ncharacters:\n  Bo: !!python/object/apply:os.system ['echo hi']\n",
        "!!python/object:os.system\nnarrator: en-us\n",
        "narrator: !custom {voice: en-us}\n",
    ],
)
def test_tagged_values_are_refused(text):
    message = problem(text)
    assert "tagged values" in message
    assert "not allowed" in message


def test_all_problems_are_reported_at_once_sorted_by_line():
    text = "\n".join(
        [
            "narrator: en-us",  # 1
            "characters:",  # 2
            "  Dawn: {voice: en-us+f3, pitch: 200}",  # 3
            "  Spike:",  # 4
            "    voice: en-gb",  # 5
            "    rate: quick",  # 6
            "pools:",  # 7
            "  female:",  # 8
            "    - {voice: en-us+f4, rate: 9}",  # 9
            "  robots: []",  # 10
            "bogus: 1",  # 11
            "",
        ]
    )
    message = problem(text)
    lines = message.splitlines()
    assert len(lines) == 5
    assert line_numbers(message) == [3, 6, 9, 10, 11]
    assert "characters.Dawn.pitch" in lines[0]
    assert "characters.Spike.rate" in lines[1]
    assert "pools.female[0].rate" in lines[2]
    assert "pools.robots" in lines[3]
    assert "bogus" in lines[4]


def test_top_level_must_be_a_mapping():
    assert problem("- a\n- b\n").startswith("cast.yaml:1: ")


@pytest.mark.parametrize("text", ["", "# nothing here yet\n"])
def test_empty_voices_file_reports_the_missing_narrator(text):
    message = problem(text)
    assert "narrator" in message


def test_load_voices_reports_a_missing_file(tmp_path: Path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as caught:
        load_voices(path)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE


def test_load_voices_uses_the_path_in_messages(tmp_path: Path):
    path = tmp_path / "voices.yaml"
    path.write_text("narrator:\n  voice: en-us\n  pitch: 500\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_voices(path)
    assert str(caught.value).startswith(f"{path}:3: narrator.pitch: ")


# --- finding the file -------------------------------------------------------------------------


def test_find_voices_file_prefers_the_explicit_path(tmp_path: Path):
    (tmp_path / "voices.yaml").write_text("narrator: en-us\n", encoding="utf-8")
    explicit = tmp_path / "mine.yaml"
    explicit.write_text("narrator: en-gb\n", encoding="utf-8")
    assert find_voices_file(explicit, cwd=tmp_path) == explicit
    assert find_voices_file(str(explicit), cwd=tmp_path) == explicit


def test_find_voices_file_uses_the_working_directory_file(tmp_path: Path):
    local = tmp_path / "voices.yaml"
    local.write_text("narrator: en-us\n", encoding="utf-8")
    assert find_voices_file(None, cwd=tmp_path) == local


def test_find_voices_file_falls_back_to_the_packaged_default(tmp_path: Path):
    found = find_voices_file(None, cwd=tmp_path)
    assert found == default_voices_path()
    assert found.is_file()


def test_find_voices_file_ignores_a_directory_named_voices_yaml(tmp_path: Path):
    (tmp_path / "voices.yaml").mkdir()
    assert find_voices_file(None, cwd=tmp_path) == default_voices_path()


def test_missing_explicit_voices_file_is_a_config_error(tmp_path: Path):
    (tmp_path / "voices.yaml").write_text("narrator: en-us\n", encoding="utf-8")
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        find_voices_file(missing, cwd=tmp_path)
    assert caught.value.exit_code == EXIT_USAGE
    assert str(missing) in str(caught.value)


# --- names and aliases --------------------------------------------------------------------------


def test_an_alias_that_is_another_characters_name_is_refused():
    text = (
        "narrator: en-us\ncharacters:\n  Tom: {voice: en-us, aliases: [Mara]}\n"
        "  Mara: {voice: en-us+f3}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_voices(text, "v.yaml")
    assert "v.yaml:3: characters.Tom.aliases" in str(caught.value)
    assert "'Mara'" in str(caught.value)


def test_the_same_name_twice_in_different_case_is_refused():
    text = "narrator: en-us\ncharacters:\n  Tom: en-us\n  tom: en-us+m1\n"
    with pytest.raises(ConfigError) as caught:
        parse_voices(text, "v.yaml")
    assert "v.yaml:4: characters.tom" in str(caught.value)
