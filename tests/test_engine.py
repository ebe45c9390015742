"""Tests of the speech engine against the real pyttsx3 + espeak-ng (no mocks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from narrate.errors import EXIT_USAGE, ConfigError
from narrate.model import VoiceProfile
from narrate.speech.engine import Engine, check_profiles, get_engine
from narrate.voices.load import parse_voices

REPOSITORY = Path(__file__).resolve().parent.parent

SENTENCE = "This is a fairly ordinary sentence spoken by the narrator. "
PROSE = (
    "It was late in the afternoon when the rain finally stopped, and the street outside the "
    "old bookshop filled with people who had been waiting under awnings and in doorways. "
    "Martha watched them from behind the counter and wondered how many of them would come in."
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return get_engine()


def seconds(engine: Engine, pcm: bytes) -> float:
    return len(pcm) / 2 / engine.sample_rate


def median_pitch(engine: Engine, pcm: bytes) -> float:
    """Median fundamental frequency (Hz) of the loud frames, by autocorrelation."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(float)
    size = 1024
    lowest_lag, highest_lag = engine.sample_rate // 500, engine.sample_rate // 60
    pitches = []
    for start in range(0, len(samples) - size, size):
        frame = samples[start : start + size]
        if np.abs(frame).max() < 2000:
            continue
        frame = frame - frame.mean()
        correlation = np.correlate(frame, frame, "full")[size - 1 :]
        lag = lowest_lag + int(np.argmax(correlation[lowest_lag:highest_lag]))
        pitches.append(engine.sample_rate / lag)
    assert pitches, "no voiced audio found"
    return float(np.median(pitches))


def test_engine_describes_itself(engine: Engine) -> None:
    assert engine.name == "espeak-ng"
    assert engine.sample_rate == 22050
    assert engine.version.startswith("espeak-ng 1.")
    assert get_engine() is engine
    assert get_engine("auto") is engine


def test_unknown_engine_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown speech engine 'festival'"):
        get_engine("festival")


def test_duration_follows_word_count_and_rate(engine: Engine) -> None:
    text = SENTENCE * 3  # 30 words
    pcm = engine.synthesize(text, VoiceProfile("en-us", rate=175))
    assert len(pcm) % 2 == 0
    expected = 30 / 175 * 60  # about 10 s
    assert expected * 0.6 < seconds(engine, pcm) < expected * 1.8
    assert np.abs(np.frombuffer(pcm, dtype="<i2")).max() > 5000  # speech, not silence


def test_higher_rate_gives_shorter_audio(engine: Engine) -> None:
    slow = engine.synthesize(PROSE, VoiceProfile("en-us", rate=120))
    fast = engine.synthesize(PROSE, VoiceProfile("en-us", rate=300))
    assert seconds(engine, fast) < 0.6 * seconds(engine, slow)


def test_pitch_and_volume_take_effect(engine: Engine) -> None:
    low = engine.synthesize(PROSE, VoiceProfile("en-us", pitch=10))
    high = engine.synthesize(PROSE, VoiceProfile("en-us", pitch=90))
    assert median_pitch(engine, high) > 1.4 * median_pitch(engine, low)
    loud = engine.synthesize(PROSE, VoiceProfile("en-us", volume=1.0))
    quiet = engine.synthesize(PROSE, VoiceProfile("en-us", volume=0.3))
    peak = lambda pcm: np.abs(np.frombuffer(pcm, dtype="<i2")).max()  # noqa: E731
    assert peak(quiet) < 0.5 * peak(loud)


def test_every_change_of_settings_takes_effect(engine: Engine) -> None:
    # espeak applies rate and volume on its own thread; changes were once dropped at random
    # when the next utterance started too soon, most often on short texts like these.
    text = "The quick brown fox jumps over the lazy dog."
    wrong = []
    for index in range(24):
        volume = 0.3 if index % 2 else 1.0
        rate = 120 if index // 2 % 2 else 300
        pcm = engine.synthesize(text, VoiceProfile("en-us", rate=rate, volume=volume))
        quiet = np.abs(np.frombuffer(pcm, dtype="<i2")).max() < 12000
        slow = seconds(engine, pcm) > 2.5
        if (quiet, slow) != (volume < 0.5, rate < 200):
            wrong.append((index, rate, volume))
    assert wrong == []


def test_variants_sound_different_and_switch_back(engine: Engine) -> None:
    # espeak adds noise to its output, so equal voices do not give equal bytes: compare pitch.
    female = median_pitch(engine, engine.synthesize(PROSE, VoiceProfile("en-us+f3")))
    male = median_pitch(engine, engine.synthesize(PROSE, VoiceProfile("en-us+m3")))
    again = median_pitch(engine, engine.synthesize(PROSE, VoiceProfile("en-us+f3")))
    plain = median_pitch(engine, engine.synthesize(PROSE, VoiceProfile("en-us")))
    assert female > 1.4 * male
    assert again == pytest.approx(female, rel=0.1)
    assert female > 1.4 * plain


@pytest.mark.parametrize(
    "voice",
    ["en-us", "gmw/en-us", "EN-US", "en-gb", "en", "en-gb-x-rp", "en-gb-x-rp+m7", "en-us+Annie"],
)
def test_accepted_voice_forms_speak(engine: Engine, voice: str) -> None:
    assert engine.has_voice(voice)
    assert seconds(engine, engine.synthesize("Hello there.", VoiceProfile(voice))) > 0.5


@pytest.mark.parametrize(
    "voice",
    ["klingon", "en-us+annie", "en-us+F3", "en-us+nonexistent", "+f3", "en-us+", "", "en-gb+f3+m3"],
)
def test_unknown_voice_is_refused_not_replaced(engine: Engine, voice: str) -> None:
    assert not engine.has_voice(voice)
    with pytest.raises(ConfigError) as raised:
        engine.synthesize("Hello there.", VoiceProfile(voice))
    assert repr(voice) in str(raised.value)
    assert "narrate voices" in str(raised.value)


def test_out_of_range_numbers_are_refused(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="rate: 500 is out of range; must be from 80 to 450"):
        engine.synthesize("Hello.", VoiceProfile("en-us", rate=500))
    with pytest.raises(ConfigError, match=r"volume: 1\.5 is out of range"):
        engine.synthesize("Hello.", VoiceProfile("en-us", volume=1.5))


def test_long_text_keeps_its_full_length(engine: Engine) -> None:
    # One espeak utterance of more than about 12 s was once lost without an error.
    pcm = engine.synthesize(SENTENCE * 14, VoiceProfile("en-us"))
    one = seconds(engine, engine.synthesize(SENTENCE, VoiceProfile("en-us")))
    assert seconds(engine, pcm) > 30
    # One utterance: espeak adds its own pause between the sentences.
    assert 14 * one * 0.95 < seconds(engine, pcm) < 14 * (one + 0.6)


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python process (espeak-ng has one callback per process)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_pyttsx3_engine_speaks_like_the_direct_one(engine: Engine) -> None:
    # The pyttsx3 path: the one used on macOS and Windows, and on Linux on request.
    result = run_python(
        "from narrate.speech.engine import get_engine\n"
        "from narrate.model import VoiceProfile\n"
        "engine = get_engine('pyttsx3-espeak')\n"
        f"pcm = engine.synthesize({PROSE!r}, VoiceProfile('en-gb-x-rp+m7'))\n"
        "print(engine.name, engine.version.split(' / ')[0], len(pcm) / 2 / engine.sample_rate)\n"
    )
    assert result.returncode == 0, result.stderr
    name, library, version, length = result.stdout.split()
    assert (name, library) == ("pyttsx3-espeak", "pyttsx3") and version.startswith("2.")
    direct = seconds(engine, engine.synthesize(PROSE, VoiceProfile("en-gb-x-rp+m7")))
    assert float(length) == pytest.approx(direct, rel=0.1)


@pytest.mark.parametrize("name", ["auto", "pyttsx3-espeak"])
def test_long_text_as_first_utterance_of_a_fresh_process(name: str) -> None:
    result = run_python(
        "from narrate.speech.engine import get_engine\n"
        "from narrate.model import VoiceProfile\n"
        f"engine = get_engine({name!r})\n"
        f"pcm = engine.synthesize({SENTENCE * 14!r}, VoiceProfile('en-us'))\n"
        "print(len(pcm) / 2 / engine.sample_rate)\n"
    )
    assert result.returncode == 0, result.stderr
    # stdout holds the one number: pyttsx3's "Audio saved to ..." lines were swallowed.
    assert float(result.stdout.strip()) > 30


def test_missing_pyttsx3_is_one_clear_error() -> None:
    result = run_python(
        "import sys\n"
        "sys.modules['pyttsx3'] = None  # as if it were not installed\n"
        "from narrate.speech.engine import get_engine\n"
        "from narrate.errors import NarrateError\n"
        "try:\n"
        "    get_engine()\n"
        "except NarrateError as error:\n"
        "    print(error)\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("cannot load the speech engine espeak-ng")


def test_nothing_is_printed(engine: Engine, capfd: pytest.CaptureFixture[str]) -> None:
    engine.synthesize(PROSE, VoiceProfile("en-gb-x-rp+m7"))
    output = capfd.readouterr()
    assert output.out == ""
    assert output.err == ""


@pytest.mark.parametrize("text", ["", "   ", "...", "“ — ”", "\n\n"])
def test_text_with_nothing_to_say_gives_no_audio(engine: Engine, text: str) -> None:
    assert engine.synthesize(text, VoiceProfile("en-us")) == b""


def test_voices_lists_languages_and_variants(engine: Engine) -> None:
    english = {voice.id: voice for voice in engine.voices("en")}
    assert {"en-us", "en-gb-x-rp"} <= set(english)
    assert english["en-us"].name == "English (America)"
    assert english["+f3"].gender == "female"
    assert english["+m3"].gender == "male"
    assert english["+Annie"].gender == "female"
    for voice in english.values():
        assert voice.id.startswith("+") or voice.language.startswith("en")
    everything = {voice.id for voice in engine.voices()}
    assert "fr" in everything and "fr" not in english
    for voice in engine.voices():
        combined = voice.id if not voice.id.startswith("+") else "en-us" + voice.id
        assert engine.has_voice(combined), combined


def test_check_profiles_names_the_place_and_the_voice(engine: Engine) -> None:
    good = [("voices.yaml:3 narrator.voice", VoiceProfile("en-gb-x-rp"))]
    check_profiles(engine, good)
    bad = [*good, ("voices.yaml:12 characters.Spike.voice", VoiceProfile("en-us+F3"))]
    with pytest.raises(ConfigError) as raised:
        check_profiles(engine, bad)
    message = str(raised.value)
    assert message.startswith("voices.yaml:12 characters.Spike.voice: unknown voice 'en-us+F3'")
    assert "did you mean 'en-us+f3'" in message
    assert "run `narrate voices`" in message
    assert raised.value.exit_code == 2


def test_unknown_voice_names_the_voice_and_its_place_in_the_file():
    text = "narrator: {voice: en-us+m3}\ncharacters:\n  Spike:\n    voice: en-us+nosuchvariant\n"
    loaded = parse_voices(text, "cast.yaml")
    with pytest.raises(ConfigError) as caught:
        check_profiles(get_engine(), loaded.profile_locations)
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE
    assert message.startswith("cast.yaml:4: characters.Spike.voice: ")
    assert "en-us+nosuchvariant" in message


def test_known_voices_pass_the_engine_check():
    loaded = parse_voices("narrator: en-us+m3\ncharacters:\n  Bo: {voice: en-us+f3}\n")
    check_profiles(get_engine(), loaded.profile_locations)  # raises on the first it lacks
    checked = [profile.voice for _, profile in loaded.profile_locations]
    assert checked == ["en-us+m3", "en-us+f3"] and all(map(get_engine().has_voice, checked))


def test_the_interface_names_stay_importable_from_the_engine_module() -> None:
    # Other code imports these from narrate.speech.engine, wherever they are defined.
    from narrate.speech import engine as engine_module
    from narrate.speech import text

    names = {
        *("Engine", "VoiceInfo", "get_engine", "describe", "check_profiles", "voices_hint"),
        *("is_speakable", "split_text", "MAX_CHUNK_CHARACTERS"),
    }
    assert names <= set(engine_module.__all__)
    assert all(hasattr(engine_module, name) for name in names)
    assert engine_module.split_text is text.split_text
    assert engine_module.is_speakable is text.is_speakable
    assert engine_module.MAX_CHUNK_CHARACTERS == text.MAX_CHUNK_CHARACTERS == 200


def test_the_two_engines_share_by_composition_not_inheritance(engine: Engine) -> None:
    from narrate.speech.catalogue import VoiceCatalogue
    from narrate.speech.espeak import EspeakEngine
    from narrate.speech.mixed import MixedEngine
    from narrate.speech.pyttsx3_engine import Pyttsx3Engine

    # get_engine hands out the mix (Piper's voices beside the chosen engine's).
    assert isinstance(engine, MixedEngine) and isinstance(engine.base, EspeakEngine)
    assert not issubclass(EspeakEngine, Pyttsx3Engine)
    assert isinstance(engine.catalogue, VoiceCatalogue)


def test_a_plug_in_engine_renders_from_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from narrate.cli import main

    story = tmp_path / "story.txt"
    story.write_text('Title: T\nAuthor: A\n\n"Hello," said Ann.\n', encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        ["render", str(story), "--out", str(out), "--engine", "tone_engine:ToneEngine", "-q"],
    )
    assert result.exit_code == 0, result.output
    (mp3,) = out.rglob("*.mp3")
    assert mp3.stat().st_size > 1000
    bad = runner.invoke(main, ["render", str(story), "--engine", "festival"])
    assert bad.exit_code == 2
    assert "unknown speech engine 'festival'" in bad.output


def test_emphasis_is_spoken_as_emphasis_and_its_marks_never_as_words(engine: Engine) -> None:
    from narrate.model import EMPHASIS_CLOSE, EMPHASIS_OPEN
    from narrate.speech.assemble import speak

    profile = VoiceProfile("en-us")
    plain = seconds(
        engine, speak("I never said that you took it.", profile, 0.25, engine).tobytes()
    )
    stressed = seconds(
        engine,
        speak(
            f"I {EMPHASIS_OPEN}never{EMPHASIS_CLOSE} said that you took it.", profile, 0.25, engine
        ).tobytes(),
    )
    # espeak-ng stresses and slows the word (measured +0.13 s); a tag read out as a word
    # would add about 0.6 s.
    assert 0.03 < stressed - plain < 0.4
    # Text that looks like markup is still said as text, not taken for SSML.
    marked = f"Type {EMPHASIS_OPEN}<b>{EMPHASIS_CLOSE} & go."
    assert seconds(engine, engine.synthesize(marked, profile)) > 1.0
