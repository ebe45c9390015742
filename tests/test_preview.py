"""``narrate preview``: one character's voice, heard before a render.

The audio tests use the real engine and decode the MP3 with miniaudio, as the render tests
do; only the tests of which profile is chosen and which words it is given use a fake engine
that records what it is asked to say, since they are about the choice and not the sound.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import miniaudio
import numpy as np
import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3, BitrateMode
from test_voices_edit import NARRATOR_ONLY

import narrate
from narrate.cli import main
from narrate.model import NARRATOR, VoiceProfile
from narrate.output.player import PLAYERS
from narrate.pipeline import make_script
from narrate.readers import read_book
from narrate.speech.loudness import integrated_loudness
from narrate.speech.preview import AUDITION_SECONDS, find_voice, first_quotes, speech_seconds
from narrate.voices.load import parse_voices

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"

VOICES = """
narrator: {voice: en-us+m3, rate: 170, pitch: 45}
characters:
  Spike: {voice: en-gb-x-rp+m7, rate: 140, pitch: 30, aliases: [William]}
  Dru: {voice: en-us+f3, rate: 175, pitch: 60}
pools:
  male: [{voice: en-us+m1, rate: 180, pitch: 40}]
  female: [{voice: en-gb-x-rp+f2, rate: 170, pitch: 60}]
"""

SHORT = """Title: The Kettle
Author: Ada Quill

Chapter 1

Rosa filled the kettle. Rosa liked her tea strong.

"Is it ready?" asked Owen.

"Nearly," Rosa said.
"""


@pytest.fixture
def voices(tmp_path) -> Path:
    path = tmp_path / "voices.yaml"
    path.write_text(VOICES, encoding="utf-8")
    return path


@pytest.fixture
def short_story(tmp_path) -> Path:
    path = tmp_path / "kettle.txt"
    path.write_text(SHORT, encoding="utf-8")
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def decode(path: Path) -> tuple[np.ndarray, int]:
    sound = miniaudio.mp3_read_file_s16(str(path))
    assert sound.nchannels == 1
    return np.asarray(sound.samples, dtype=np.int16), sound.sample_rate


def expected_seconds(text: str, rate: int) -> float:
    """Speech at the profile's rate, plus the lead-in, sentence pauses and the tail."""
    sentences = len(re.findall(r"[.!?]", text)) or 1
    return speech_seconds(text, rate) + 0.3 + 0.25 * (sentences - 1) + 0.5


PLAYER_NAMES = {name for name, _ in PLAYERS}
REAL_WHICH = shutil.which


def fake_which(found: dict[str, str], looked_up: list[str]):
    """shutil.which that finds only the players in ``found`` and records the players asked
    for (other programs, such as a library lookup while the engine loads, are real)."""

    def which(name, *args, **kwargs):
        if name not in PLAYER_NAMES:
            return REAL_WHICH(name, *args, **kwargs)
        looked_up.append(name)
        return found.get(name)

    return which


@pytest.fixture
def no_player_calls(monkeypatch):
    """Record every player looked for and every subprocess run."""
    calls: list = []
    monkeypatch.setattr(shutil, "which", fake_which({"ffplay": "/usr/bin/ffplay"}, calls))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(("run", a)))
    return calls


# --- the sound ------------------------------------------------------------------------------


def test_greeting_is_written_as_a_decodable_loudness_normalised_mp3(tmp_path, voices):
    output = tmp_path / "previews" / "spike.mp3"
    result = run("preview", "Spike", "--voices", voices, "--output", output, "--no-play")
    assert result.exit_code == 0, result.output
    assert str(output) in result.output
    assert "en-gb-x-rp+m7/r140/p30/v1" in result.output
    samples, rate = decode(output)
    duration = len(samples) / rate
    greeting = "Hello, I am Spike. This is how I sound."
    expected = expected_seconds(greeting, 140)
    assert 0.7 * expected < duration < 1.4 * expected, (duration, expected)
    assert np.abs(samples).max() > 1000  # not silence
    assert integrated_loudness(samples, rate) == pytest.approx(-19.0, abs=1.5)
    info = MP3(output).info
    assert info.bitrate_mode == BitrateMode.CBR and info.channels == 1
    # Written under a temporary name and renamed: nothing else is left in the folder.
    assert [p.name for p in output.parent.iterdir()] == ["spike.mp3"]


def test_text_is_what_is_said(tmp_path, voices):
    short_text = "Yes."
    long_text = (
        "I walked the whole length of the harbour wall before the rain came in, and by "
        "then the boats were all tied up and the lamps were lit in every window of the town."
    )
    short = narrate.preview("spike", text=short_text, voices=voices, output=tmp_path / "short.mp3")
    long = narrate.preview("spike", text=long_text, voices=voices, output=tmp_path / "long.mp3")
    assert short.lines == (short_text,) and long.lines == (long_text,)
    long_samples, rate = decode(long.path)
    short_samples, _ = decode(short.path)
    long_duration = len(long_samples) / rate
    assert len(long_samples) > 4 * len(short_samples)
    expected = expected_seconds(long_text, 140)
    assert 0.7 * expected < long_duration < 1.4 * expected, (long_duration, expected)


def test_book_gives_the_characters_first_quotes_about_twenty_seconds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = narrate.preview("tom", STORY, voices=ROOT / "voices.yaml")
    # The default file name is the character's name as narrate knows it, made safe.
    assert result.path == Path("preview-Tom.mp3") and (tmp_path / "preview-Tom.mp3").is_file()
    script = narrate.script(STORY, voices=ROOT / "voices.yaml")
    toms = [" ".join(s.text.split()) for s in script.segments if s.speaker == "Tom"]
    assert result.lines[0] == toms[0] == "The glass is falling,"
    assert list(result.lines[:-1]) == toms[: len(result.lines) - 1]  # in order, from the start
    spoken = sum(speech_seconds(line, result.profile.rate) for line in result.lines)
    assert AUDITION_SECONDS <= spoken < AUDITION_SECONDS + 8
    samples, rate = decode(tmp_path / "preview-Tom.mp3")
    assert AUDITION_SECONDS * 0.8 < len(samples) / rate < AUDITION_SECONDS * 2
    assert np.abs(samples).max() > 1000


# --- which voice ----------------------------------------------------------------------------


class RecordingEngine:
    """Has every voice; says a tone as long as the text's words; remembers each call."""

    name = "recording"
    version = "test"
    sample_rate = 22050

    def __init__(self) -> None:
        self.calls: list[tuple[str, VoiceProfile]] = []

    def voices(self, language=None):
        return []

    def has_voice(self, voice_id: str) -> bool:
        return True

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        self.calls.append((text, profile))
        seconds = speech_seconds(text, profile.rate)
        time = np.arange(int(seconds * self.sample_rate)) / self.sample_rate
        return (np.sin(2 * np.pi * 200 * time) * 8000).astype(np.int16).tobytes()


def test_the_profile_is_the_one_a_render_would_use(tmp_path, voices, short_story):
    spike = VoiceProfile("en-gb-x-rp+m7", 140, 30, 1.0)
    engine = RecordingEngine()
    narrate.preview("WILLIAM", voices=voices, output=tmp_path / "a.mp3", engine=engine)
    assert engine.calls and {profile for _, profile in engine.calls} == {spike}
    assert "Spike" in engine.calls[0][0]  # the greeting names the character, not the alias

    # A speaker of the book, not in the voices file: the automatic cast's profile.
    engine = RecordingEngine()
    result = narrate.preview(
        "owen", short_story, voices=voices, output=tmp_path / "b.mp3", engine=engine
    )
    cast = narrate.script(short_story, voices=voices, engine=engine).cast
    owen = cast.profile_for("Owen")
    assert owen != cast.narrator
    assert {profile for _, profile in engine.calls} == {owen} and result.profile == owen
    assert [text for text, _ in engine.calls] == ["Is it ready?"]

    engine = RecordingEngine()
    narrate.preview(
        "Narrator", short_story, voices=voices, output=tmp_path / "c.mp3", engine=engine
    )
    assert {profile for _, profile in engine.calls} == {cast.narrator}
    assert engine.calls[0][0] == "Rosa filled the kettle."


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


def test_unknown_character_exits_2_listing_the_known_names(tmp_path, voices, short_story):
    output = tmp_path / "angel.mp3"
    result = run("preview", "Angel", short_story, "--voices", voices, "--output", output)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("narrate: error: ")
    assert "'Angel'" in lines[0]
    for name in ("narrator", "Rosa", "Owen", "Spike", "Dru"):
        assert name in lines[0]
    assert not output.exists()


def test_a_long_list_of_names_is_shortened():
    names = "\n".join(f"  Person{n}: {{voice: en-us}}" for n in range(30))
    config = parse_voices(f"narrator: {{voice: en-us}}\ncharacters:\n{names}\n").config
    with pytest.raises(narrate.ConfigError) as raised:
        find_voice("Nobody", config)
    message = str(raised.value)
    assert "Person0" in message and "Person29" not in message and "and 19 more" in message


def test_a_voice_the_engine_does_not_have_exits_2_naming_it(tmp_path):
    voices = tmp_path / "voices.yaml"
    voices.write_text(
        "narrator: {voice: en-us}\ncharacters:\n  Spike: {voice: en-us+nosuchvoice}\n", "utf-8"
    )
    output = tmp_path / "spike.mp3"
    result = run("preview", "Spike", "--voices", voices, "--output", output, "--no-play")
    assert result.exit_code == 2, result.output
    assert "en-us+nosuchvoice" in result.output and f"{voices}:3" in result.output
    assert not output.exists()


def test_empty_text_exits_2(tmp_path, voices):
    result = run("preview", "Spike", "--voices", voices, "--text", " ... ", "--no-play")
    assert result.exit_code == 2, result.output
    assert "nothing to say" in result.output


# --- what is said, from the book ----------------------------------------------------------


def book_script(tmp_path, text: str):
    path = tmp_path / "book.txt"
    path.write_text(text, encoding="utf-8")
    return make_script(read_book(path), parse_voices("narrator: {voice: en-us}\n").config)


def test_quotes_are_taken_in_order_until_about_twenty_seconds(tmp_path):
    quotes = [
        f'"This is line number {n} of what I have to say to you," said Owen.' for n in range(20)
    ]
    script = book_script(tmp_path, "\n\n".join(quotes) + "\n")
    lines = first_quotes(script, "Owen", rate=180)
    said = [part for parts in lines for part in parts]
    assert said == [
        f"This is line number {n} of what I have to say to you," for n in range(len(said))
    ]
    # 13 words at 180 wpm are 4.3 s a quote: the fifth quote reaches 20 s.
    assert len(said) == 5


def test_one_long_speech_is_cut_at_the_sentence_that_reaches_twenty_seconds(tmp_path):
    speech = " ".join(f"Sentence {n} goes on for a few more words than that." for n in range(30))
    script = book_script(tmp_path, f'"{speech}" said Owen.\n\n"Short," said Owen.\n')
    lines = first_quotes(script, "Owen", rate=180)
    assert len(lines) == 1  # at least one quote, and not the next one
    said = lines[0][0]
    assert said.startswith("Sentence 0 goes") and said.endswith(".")
    assert AUDITION_SECONDS <= speech_seconds(said, 180) < AUDITION_SECONDS + 4


def test_a_character_with_no_quotes_in_the_book_gets_the_greeting(tmp_path, voices):
    engine = RecordingEngine()
    book = tmp_path / "quiet.txt"
    book.write_text("Nobody said anything at all.\n", encoding="utf-8")
    narrate.preview("Dru", book, voices=voices, output=tmp_path / "dru.mp3", engine=engine)
    assert [text for text, _ in engine.calls] == ["Hello, I am Dru.", "This is how I sound."]
    assert find_voice("narrator", parse_voices(VOICES).config)[0] == NARRATOR


# --- playing --------------------------------------------------------------------------------


def test_no_play_looks_for_no_player_and_starts_nothing(tmp_path, voices, no_player_calls):
    output = tmp_path / "spike.mp3"
    result = run("preview", "Spike", "--voices", voices, "--output", output, "--no-play")
    assert result.exit_code == 0, result.output
    assert output.is_file()
    assert no_player_calls == []


def test_the_first_player_found_plays_the_file(tmp_path, voices, monkeypatch):
    looked_up: list[str] = []
    started: list[list[str]] = []

    def fake_run(command, *args, **kwargs):
        started.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(shutil, "which", fake_which({"mpv": "/opt/bin/mpv"}, looked_up))
    monkeypatch.setattr(subprocess, "run", fake_run)
    output = tmp_path / "spike.mp3"
    result = run("preview", "Spike", "--voices", voices, "--output", output)
    assert result.exit_code == 0, result.output
    assert looked_up == ["ffplay", "mpv"]
    assert len(started) == 1
    assert started[0][0] == "/opt/bin/mpv" and started[0][-1] == str(output.absolute())


def test_without_a_player_it_says_where_the_file_is(tmp_path, voices, monkeypatch):
    monkeypatch.setattr(shutil, "which", fake_which({}, []))
    output = tmp_path / "spike.mp3"
    result = run("preview", "Spike", "--voices", voices, "--output", output)
    assert result.exit_code == 0, result.output
    assert "No audio player found" in result.output and f"open {output}" in result.output


def test_a_failing_player_does_not_fail_the_command(tmp_path, voices, monkeypatch):
    def broken(command, *args, **kwargs):
        raise OSError("no audio device")

    players = {name: f"/usr/bin/{name}" for name in PLAYER_NAMES}
    monkeypatch.setattr(shutil, "which", fake_which(players, []))
    monkeypatch.setattr(subprocess, "run", broken)
    output = tmp_path / "spike.mp3"
    result = run("preview", "Spike", "--voices", voices, "--output", output)
    assert result.exit_code == 0, result.output
    assert "Could not play it with ffplay (no audio device)" in result.output
    assert output.is_file()
