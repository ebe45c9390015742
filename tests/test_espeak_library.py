"""Which libespeak-ng narrate speaks with: its own (the espeakng-loader wheel's) whatever the
system has, the system's only on request, and built-in voices that both have.

The machine's own espeak-ng (Debian's package, 1.51 on Debian 12) is what made the same
book fail on one machine and render on another; CI installs it so that these tests run
with it present. Which library a process really mapped is read from /proc/self/maps, not
from narrate's own account of it.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
from pathlib import Path

import miniaudio
import pytest
from click.testing import CliRunner

import narrate
from narrate.cli import main
from narrate.speech.engine import get_engine
from narrate.speech.espeak import OWN, espeak_rate
from narrate.voices.load import default_voices_path, load_voices

REPOSITORY = Path(__file__).resolve().parent.parent
STORY = REPOSITORY / "examples" / "the-lamp-at-gull-point.txt"
COMMON = Path(__file__).parent / "data" / "espeak-ng-1.51-and-1.52.txt"

SYSTEM_LIBRARY = ctypes.util.find_library("espeak-ng")
# CI installs the system's espeak-ng: there these tests must run, not skip.
needs_system_library = pytest.mark.skipif(
    SYSTEM_LIBRARY is None and not os.environ.get("CI"),
    reason="the system's espeak-ng is not installed (apt install espeak-ng)",
)

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="narrate ships its own espeak-ng on Linux"
)


def wheel_folder() -> Path:
    import espeakng_loader

    return Path(espeakng_loader.__file__).resolve().parent


def in_fresh_process(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a new Python process (a process holds one libespeak-ng)."""
    env = {key: value for key, value in os.environ.items() if key != "ESPEAK_DATA_PATH"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def narrate_command(*arguments, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The narrate command in a new process."""
    code = "import sys; from narrate.cli import main; sys.argv[0] = 'narrate'; main()"
    env = {key: value for key, value in os.environ.items() if key != "ESPEAK_DATA_PATH"}
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


MAPPED = """
import json, sys
from narrate.speech.engine import get_engine
engine = get_engine(sys.argv[1] if len(sys.argv) > 1 else {name!r})
with open("/proc/self/maps") as maps:
    files = sorted({{line.split()[-1] for line in maps if "libespeak-ng" in line}})
print(json.dumps({{"name": engine.name, "version": engine.version, "files": files,
                  "origin": engine.origin,
                  "variants": sorted(v.id[1:] for v in engine.voices() if v.id.startswith("+"))}}))
"""


def mapped(engine_name: str) -> dict:
    result = in_fresh_process(MAPPED.format(name=engine_name))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@linux_only
def test_the_default_engine_speaks_with_narrates_own_library_whatever_the_system_has():
    seen = mapped("auto")
    wheel = wheel_folder()
    assert seen["files"], "no libespeak-ng mapped"
    # Only the wheel's library is mapped, even with the system's installed beside it.
    assert all(Path(file).resolve().parent == wheel for file in seen["files"]), seen["files"]
    assert seen["name"] == "espeak-ng"
    # The version is the wheel's (its file name says which: libespeak-ng.so.1.52.0).
    (versioned,) = [p.name for p in wheel.glob("libespeak-ng.so.1.*")]
    assert seen["version"] == "espeak-ng " + versioned.removeprefix("libespeak-ng.so.")
    # ...and so are the voices: exactly the variant files of the wheel's data.
    assert seen["variants"] == sorted(
        p.name for p in (wheel / "espeak-ng-data/voices/!v").iterdir()
    )
    assert "narrate's own" in seen["origin"] and str(wheel) in seen["origin"]


@linux_only
@needs_system_library
def test_the_system_library_is_used_when_asked_for():
    seen = mapped("espeak-ng-system")
    wheel = wheel_folder()
    assert seen["files"], "no libespeak-ng mapped"
    assert not any(Path(file).resolve().parent == wheel for file in seen["files"]), seen["files"]
    assert seen["name"] == "espeak-ng-system"
    assert "the system's" in seen["origin"]
    assert any(
        Path(file).resolve() == Path(seen["origin"].split(": ")[-1]) for file in seen["files"]
    )


@linux_only
def test_a_process_holds_one_library_and_says_so():
    result = in_fresh_process(
        "from narrate.speech.engine import get_engine\n"
        "from narrate.errors import NarrateError\n"
        "get_engine('espeak-ng')\n"
        "try:\n"
        "    get_engine('espeak-ng-system')\n"
        "except NarrateError as error:\n"
        "    print(error)\n"
    )
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith("this process already speaks with narrate's own libespeak-ng")
    assert "cannot load the system's" in message and "\n" not in message


@linux_only
def test_narrate_voices_names_the_library_it_lists():
    result = narrate_command("voices", "--lang", "all")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Speech engine: espeak-ng (espeak-ng 1.")
    assert "narrate's own libespeak-ng" in first and str(wheel_folder()) in first
    # The id column is 24 characters wide (one variant's file name has a space in it).
    listed = {line[3:26].strip() for line in result.stdout.splitlines() if line.startswith("  +")}
    assert listed == {p.name for p in (wheel_folder() / "espeak-ng-data/voices/!v").iterdir()}


@pytest.mark.slow
@linux_only
@needs_system_library
def test_a_render_forced_onto_the_system_library_uses_the_built_in_voices(tmp_path):
    # From an empty folder: no ./voices.yaml, so the built-in voices file is used.
    result = narrate_command(
        "render",
        STORY,
        "--engine",
        "espeak-ng-system",
        "--out",
        tmp_path / "out",
        "--cache-dir",
        tmp_path / "cache",
        "--jobs",
        "2",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # Every built-in voice is the system's too: nothing left out, nothing to warn about.
    assert "warning" not in result.stderr, result.stderr
    (engine_line,) = [line for line in result.stdout.splitlines() if line.startswith("Engine:")]
    assert engine_line.startswith("Engine: espeak-ng-system (espeak-ng 1.")
    assert "the system's libespeak-ng" in engine_line and str(wheel_folder()) not in engine_line
    chapters = sorted((tmp_path / "out").glob("*/*/*.mp3"))
    assert len(chapters) == 3
    for chapter in chapters:
        decoded = miniaudio.decode_file(str(chapter))
        assert decoded.duration > 60, chapter.name
        assert max(decoded.samples) > 5000, chapter.name  # speech, not silence


def common_voices() -> tuple[set[str], set[str]]:
    """The languages and variants espeak-ng 1.51 and 1.52 both have (tests/data)."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in COMMON.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), set())
        else:
            current.add(line.strip())
    return sections["languages"], sections["variants"]


@pytest.mark.parametrize(
    "path", [default_voices_path(), REPOSITORY / "voices.yaml"], ids=["built-in", "repository"]
)
def test_built_in_voices_are_in_espeak_ng_1_51_and_1_52(path):
    languages, variants = common_voices()
    loaded = load_voices(path)
    assert len(loaded.profile_locations) > 20  # narrator and pools at least
    for where, profile in loaded.profile_locations:
        base, plus, variant = profile.voice.partition("+")
        assert base in languages, where
        if plus:
            assert variant in variants, where


@linux_only
def test_the_common_list_is_true_of_the_wheels_data():
    # The test data must not drift from what narrate ships: every listed variant is there.
    _, variants = common_voices()
    shipped = {p.name for p in (wheel_folder() / "espeak-ng-data/voices/!v").iterdir()}
    assert variants <= shipped
    assert {"Reed", "ian", "mike2"} <= shipped - variants  # 1.52's, not 1.51's


POOLS_WITH_STRANGERS = """\
narrator: {voice: en-us+m3}
pools:
  female:
    - {voice: en-us+NoSuchVariant, pitch: 60}
    - {voice: en-us+f3}
  male:
    - {voice: xx-nowhere+m7}
  neutral:
    - {voice: en-us+Jacky}
"""


def test_a_pool_voice_the_engine_lacks_is_left_out_with_one_warning(tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(POOLS_WITH_STRANGERS, encoding="utf-8")
    script = narrate.script(STORY, voices=voices)
    warnings = [w for w in script.warnings if "left out of the pools" in w]
    assert len(warnings) == 1, script.warnings
    assert "en-us+NoSuchVariant" in warnings[0] and f"{voices}:4" in warnings[0]
    assert "xx-nowhere+m7" in warnings[0] and f"{voices}:7" in warnings[0]
    used = {script.cast.profile_for(c.name).voice for c in script.characters}
    assert used and not used & {"en-us+NoSuchVariant", "xx-nowhere+m7"}
    # The men, with their pool empty, take the neutral voice; the render can speak them.
    engine = get_engine()
    assert all(engine.has_voice(voice) for voice in used)


def test_the_warning_is_one_line_of_the_command_and_the_render_goes_on(tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(POOLS_WITH_STRANGERS, encoding="utf-8")
    result = CliRunner().invoke(main, ["script", str(STORY), "--voices", str(voices)])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("narrate: warning")]
    assert len(warned) == 1 and "does not have 2 pool voices" in warned[0]


def test_a_character_or_narrator_voice_the_engine_lacks_is_still_an_error(tmp_path):
    for section in ("characters:\n  Tom: {voice: en-us+NoSuchVariant}\n", ""):
        narrator = "en-us+m3" if section else "en-us+NoSuchVariant"
        voices = tmp_path / "voices.yaml"
        voices.write_text(f"narrator: {{voice: {narrator}}}\n{section}", encoding="utf-8")
        result = CliRunner().invoke(main, ["script", str(STORY), "--voices", str(voices)])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "unknown voice 'en-us+NoSuchVariant'" in lines[0]


def test_the_render_summary_names_the_library(tmp_path):
    short = tmp_path / "story.txt"
    short.write_text('"Tea?" asked Rosa.\n\n"Please," said Owen.\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(short), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Engine:")]
    engine = get_engine()
    assert line == f"Engine: {engine.name} ({engine.version}; {engine.origin})"
    if sys.platform.startswith("linux"):
        assert engine.library.origin == OWN
        assert str(wheel_folder()) in line


def test_the_rate_asked_is_the_rate_heard():
    # espeak-ng speaks 1.2 times faster than its setting; it takes nothing below 80.
    assert espeak_rate(175) == 146
    assert espeak_rate(240) == 200
    assert espeak_rate(80) == 80
