"""Pronunciations from the voices file: how words are said, checked where they are read,
shown by ``narrate script --spoken`` and handed to the engine."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

import narrate
from narrate.cli import main
from narrate.errors import EXIT_USAGE, ConfigError
from narrate.model import NARRATION, Segment, VoiceProfile
from narrate.output.views import records, screenplay
from narrate.speech.text import pronounce, spoken_text
from narrate.voices.load import default_voices_path, parse_voices

SAYINGS = (("Giles", "Jiles"), ("Turok-Han", "Turok Hahn"), ("Dr.", "Doctor"))

STORY = """Title: The Library
Author: Ada Quill

# A Visit for Giles

Giles walked from Gilesford to the library.

"Dr. Turok-Han is waiting," said Willow.

"Then Giles's tea can wait," Giles said.
"""

VOICES = """\
narrator: {voice: en-us+m3}
pronunciations:
  Giles: Jiles
  Turok-Han: Turok Hahn
  "Dr.": Doctor
"""


@pytest.fixture
def story(tmp_path):
    path = tmp_path / "library.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


@pytest.fixture
def voices(tmp_path):
    path = tmp_path / "voices.yaml"
    path.write_text(VOICES, encoding="utf-8")
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# --- pronounce ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Giles sat down.", "Jiles sat down."),
        ("It was Giles's book.", "It was Jiles's book."),
        ("It was Giles\u2019s book.", "It was Jiles\u2019s book."),
        ('"Giles!" she cried.', '"Jiles!" she cried.'),
        ("(Giles) and Giles-like", "(Jiles) and Jiles-like"),
        ("Dr. Turok-Han arrived.", "Doctor Turok Hahn arrived."),
        ("Ask the Dr.", "Ask the Doctor"),
    ],
)
def test_whole_words_are_said_as_written_in_the_voices_file(text, said):
    assert pronounce(text, SAYINGS) == said


@pytest.mark.parametrize(
    "text", ["Gilesford is far.", "McGiles came.", "Giles2 is a robot.", "giles, GILES", "Dr.Who"]
)
def test_no_substitution_inside_longer_words_or_in_another_case(text):
    # The same line ending in the word itself shows the rule is there and only skips these.
    assert pronounce(f"{text} Giles", SAYINGS) == f"{text} Jiles"


@pytest.mark.parametrize(
    "sayings",
    [
        (("Turok", "Tor"), ("Turok-Han", "Turok Hahn")),
        (("Turok-Han", "Turok Hahn"), ("Turok", "Tor")),
    ],
)
def test_the_longer_of_two_overlapping_words_wins_whatever_the_order(sayings):
    assert pronounce("Turok-Han met Turok.", sayings) == "Turok Hahn met Tor."


def test_a_replacement_is_never_replaced_again():
    swapped = (("Giles", "Jiles"), ("Jiles", "Giles"))
    assert pronounce("Giles and Jiles", swapped) == "Jiles and Giles"


def test_a_word_of_several_words_matches_across_a_wrapped_line():
    assert pronounce("Mister\nGiles came", (("Mister Giles", "Rupert"),)) == "Rupert came"


def test_spoken_text_pronounces_narration_dialogue_and_headings():
    heading = Segment(NARRATION, 0, 9, "# A Visit for Giles", 1, 0, 0, heading=True)
    line = Segment("dialogue", 10, 40, "Dr. Turok-Han\nis _waiting_,", 1, 0, 1, speaker="Willow")
    assert spoken_text(heading, "A Visit for Giles", SAYINGS) == "A Visit for Jiles."
    said = spoken_text(line, "A Visit for Giles", SAYINGS)
    assert said == "Doctor Turok Hahn is \ue000waiting\ue001,"  # the italics kept as emphasis


# --- the voices file ----------------------------------------------------------------------


def test_pronunciations_are_read_in_file_order():
    config = parse_voices(VOICES + '  Anya: "  On   ya "\n', "cast.yaml").config
    assert config.pronunciations == (*SAYINGS, ("Anya", "On ya"))


def test_bad_pronunciations_name_file_line_and_key_with_the_other_problems():
    text = """\
narrator: {voice: en-us}
pronunciations:
  Giles: Jiles
  Anya:
  "": nothing
  42: forty-two
  Buffy: 7
  Xander: [Zander]
pauses: {scene: loud}
"""
    with pytest.raises(ConfigError) as caught:
        parse_voices(text, "cast.yaml")
    assert caught.value.exit_code == EXIT_USAGE
    lines = str(caught.value).splitlines()
    assert [re.match(r"cast\.yaml:(\d+): (\S+): ", line).groups() for line in lines] == [
        ("4", "pronunciations.Anya"),
        ("5", 'pronunciations.""'),
        ("6", "pronunciations.42"),
        ("7", "pronunciations.Buffy"),
        ("8", "pronunciations.Xander"),
        ("9", "pauses.scene"),
    ]
    assert 'quote it: "42"' in lines[2]


@pytest.mark.parametrize("value", ["[Giles, Jiles]", "Jiles"])
def test_pronunciations_must_be_a_mapping(value):
    with pytest.raises(ConfigError, match=r"^cast\.yaml:2: pronunciations: must be a mapping"):
        parse_voices(f"narrator: en-us\npronunciations: {value}\n", "cast.yaml")


def test_a_bad_pronunciation_exits_2_through_the_cli_and_renders_nothing(story, tmp_path):
    voices = tmp_path / "bad.yaml"
    voices.write_text("narrator: {voice: en-us}\npronunciations:\n  Giles:\n", "utf-8")
    out = tmp_path / "out"
    result = run("render", story, "--voices", voices, "--out", out)
    assert result.exit_code == 2
    assert result.output.startswith(f"narrate: error: {voices}:3: pronunciations.Giles: ")
    assert "Traceback" not in result.output
    assert not out.exists()


def test_the_shipped_example_is_valid_once_uncommented():
    text = default_voices_path().read_text(encoding="utf-8")
    example = re.search(r"^pronunciations: \{\}\n((?:  # .*\n)+)", text, re.MULTILINE)
    assert example, "the shipped voices file shows a commented pronunciations example"
    entries = example.group(1).replace("  # ", "  ")
    config = parse_voices(f"narrator: en-us\npronunciations:\n{entries}").config
    assert ("Giles", "Jiles") in config.pronunciations


# --- narrate script --spoken --------------------------------------------------------------


def test_script_spoken_shows_the_words_as_they_will_be_said(story, voices):
    written = run("script", story, "--voices", voices)
    spoken = run("script", story, "--voices", voices, "--spoken")
    assert spoken.exit_code == 0, spoken.output
    assert "## A Visit for Jiles." in spoken.output
    assert re.search(r"^ {4,}Jiles walked from Gilesford", spoken.output, re.MULTILINE)
    assert "WILLOW: Doctor Turok Hahn is waiting," in spoken.output
    assert "Then Jiles's tea can wait," in spoken.output
    assert "Giles walked" in written.output and "Jiles" not in written.output
    # Pronunciations change what is said, not who says it.
    assert "GILES: Then Jiles's tea" in spoken.output


def test_script_spoken_jsonl_has_the_spoken_words_and_the_same_spans(story, voices):
    written = run("script", story, "--voices", voices, "--format", "jsonl")
    spoken = run("script", story, "--voices", voices, "--format", "jsonl", "--spoken")
    assert spoken.exit_code == 0, spoken.output
    before = [json.loads(line) for line in written.output.splitlines()]
    after = [json.loads(line) for line in spoken.output.splitlines()]
    assert [(r["start"], r["end"], r["speaker"]) for r in after] == [
        (r["start"], r["end"], r["speaker"]) for r in before
    ]
    texts = [r["text"] for r in after]
    assert "Doctor Turok Hahn is waiting," in texts
    assert "Jiles walked from Gilesford to the library." in texts
    assert not any("Giles " in text or "Dr." in text for text in texts)


def test_the_python_formats_take_spoken_too(story, voices):
    script = narrate.script(story, voices=voices)
    assert script.pronunciations == SAYINGS
    assert "WILLOW: Doctor Turok Hahn is waiting," in list(screenplay(script, spoken=True))
    assert "Dr. Turok-Han is waiting," in [r["text"] for r in records(script)]


# --- render -------------------------------------------------------------------------------


class RecordingEngine:
    """An Engine that keeps the text it is given and answers with a tone: these tests are
    about the words, not the sound."""

    name = "recording"
    version = "1"
    sample_rate = 22050

    def __init__(self) -> None:
        self.heard: list[str] = []

    def voices(self, language=None):
        return []

    def has_voice(self, voice_id: str) -> bool:
        return True

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        self.heard.append(text)
        time = np.arange(int(0.2 * self.sample_rate)) / self.sample_rate
        return (np.sin(2 * np.pi * 220 * time) * 8000).astype(np.int16).tobytes()


def test_the_engine_is_given_the_pronounced_words_in_every_voice(story, voices, tmp_path):
    engine = RecordingEngine()
    result = narrate.render(story, voices=voices, out=tmp_path / "out", engine=engine)
    heard = " | ".join(engine.heard)
    assert "A Visit for Jiles." in heard  # the heading, in the narrator's voice
    assert "Jiles walked from Gilesford to the library." in heard  # narration
    assert "Doctor Turok Hahn is waiting," in heard  # Willow
    assert "Then Jiles's tea can wait," in heard  # Giles
    assert not re.search(r"\bGiles\b|Dr\.|Turok-Han", heard)
    timeline = [timed.spoken for track in result.tracks for timed in track.timeline]
    assert "Doctor Turok Hahn is waiting," in timeline
