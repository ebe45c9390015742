"""Speaker attribution on short passages written for these tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from narrate.dialogue.attribution import attribute
from narrate.dialogue.characters import CharacterIndex, find_characters
from narrate.dialogue.quotes import segment_book
from narrate.model import NARRATION, NARRATOR
from narrate.readers.text import parse_text


def attributed(text: str) -> tuple[CharacterIndex, list[tuple[str, str, str]]]:
    """The character index, and (quote text, speaker, reason) for each dialogue segment."""
    book = parse_text(text, "test.txt")
    segments = segment_book(book)
    narration = [(s.start, s.text) for s in segments if s.kind == NARRATION and s.spoken]
    dialogue = [s.text for s in segments if s.is_dialogue]
    index = find_characters(narration, book.source, dialogue)
    result = attribute(segments, index)
    lines = [(s.text, s.speaker, s.reason) for s in result.segments if s.is_dialogue]
    return index, lines


def speakers_of(text: str) -> list[tuple[str, str, str]]:
    """(quote text, speaker, reason) for each dialogue segment of ``text``."""
    return attributed(text)[1]


def speaker(lines: list[tuple[str, str, str]], opening: str) -> str:
    matches = [who for text, who, _ in lines if text.startswith(opening)]
    assert matches, f"no quote starts with {opening!r}: {[t for t, _, _ in lines]}"
    return matches[0]


HARBOUR = """Mara kept the lamp. Her husband Tom kept the stores. Mara liked the
night watch; Tom liked his breakfast.

"""


def test_speech_verb_after_the_quote_names_the_speaker():
    lines = speakers_of(HARBOUR + '"The tide is turning," said Mara.\n\n"So it is," Tom replied.\n')
    assert speaker(lines, "The tide") == "Mara"
    assert speaker(lines, "So it is") == "Tom"


def test_speech_verb_before_the_quote_names_the_speaker():
    lines = speakers_of(HARBOUR + 'Tom said, "Light the lamp early."\n')
    assert speaker(lines, "Light the lamp") == "Tom"


def test_explicit_attribution_says_why():
    lines = speakers_of(HARBOUR + '"Tea?" asked Tom.\n')
    assert lines[0][2].startswith("explicit")


def test_pronoun_tag_resolves_to_the_last_person_of_that_gender():
    text = HARBOUR + (
        "Tom went down to the boat. Mara stayed by the window and watched the rain.\n\n"
        '"He will be soaked," she said.\n'
    )
    assert speaker(speakers_of(text), "He will be soaked") == "Mara"


def test_action_beat_gives_the_speaker():
    text = HARBOUR + 'Tom set down the lantern. "We wait."\n\nMara frowned. "For how long?"\n'
    lines = speakers_of(text)
    assert speaker(lines, "We wait") == "Tom"
    assert speaker(lines, "For how long") == "Mara"


def test_vocative_names_the_listener_not_the_speaker():
    text = HARBOUR + (
        'Tom carried the oil up the stairs and filled the lamp.\n\n"Thank you, Tom."\n\n'
        '"Any time," Tom said.\n'
    )
    lines = speakers_of(text)
    assert speaker(lines, "Thank you, Tom") == "Mara"


def test_interrupted_quote_keeps_one_speaker():
    text = HARBOUR + '"Sit down," Mara said. "You look frozen."\n'
    lines = speakers_of(text)
    assert [who for _, who, _ in lines] == ["Mara", "Mara"]


def test_turn_taking_alternates_untagged_lines():
    text = HARBOUR + (
        '"The glass is falling," Tom said.\n\n'
        '"How far?" asked Mara.\n\n'
        '"Further than last winter."\n\n'
        '"Then we light early."\n\n'
        '"It is barely four."\n\n'
        '"I know what time it is."\n'
    )
    lines = speakers_of(text)
    assert [who for _, who, _ in lines] == ["Tom", "Mara", "Tom", "Mara", "Tom", "Mara"]
    assert lines[2][2].startswith("turns")


def test_a_group_can_speak():
    text = HARBOUR + (
        "The fishermen waited on the quay with ropes.\n\n"
        '"Welcome home!" the fishermen shouted together.\n\n'
        '"Is there room by the fire?" one of the girls asked.\n'
    )
    lines = speakers_of(text)
    assert speaker(lines, "Welcome home") == "the fishermen"
    assert speaker(lines, "Is there room") == "the girls"


def test_heard_someone_laugh_makes_them_the_speaker():
    text = (
        "Anna and Ben sat on the wall. Anna watched the boats; Ben watched the gulls.\n\n"
        'Anna heard Ben laugh. "You missed it again."\n'
    )
    assert speaker(speakers_of(text), "You missed it") == "Ben"


def test_first_person_narrator_speaks_in_the_narrators_name():
    text = (
        "I had lived by the sea all my life, and I knew my neighbours well. I knew their "
        "boats and I knew their dogs. I walked every morning; I swam every evening. I told "
        "my friend Jonah everything, and I trusted him. I liked him, and I think he liked "
        "me. I was younger then. I was braver, and I was a fool. I thought so, at least. "
        "I still think so now. I sometimes wonder what I would change.\n\n"
        "Jonah knocked at the door.\n\n"
        '"Come in," I said.\n'
    )
    assert speaker(speakers_of(text), "Come in") == NARRATOR


def test_every_dialogue_segment_gets_a_speaker():
    text = HARBOUR + '"Who is there?"\n\n"Only the wind."\n'
    lines = speakers_of(text)
    assert len(lines) == 2
    assert {who for _, who, _ in lines} <= {"Mara", "Tom"}
    assert lines[0][1] != lines[1][1]


def test_names_with_accents_are_whole_names():
    text = (
        "Chloé walked in. Chloé sat down by Björn. Björn nodded.\n\n"
        '"Hi," said Chloé.\n\n"Hello," said Björn.\n'
    )
    lines = speakers_of(text)
    assert [who for _, who, _ in lines] == ["Chloé", "Björn"]


def test_attribution_does_not_depend_on_hash_seeds(tmp_path):
    story = tmp_path / "vocatives.txt"
    story.write_text(
        HARBOUR.replace("Mara liked", "Nell liked the dogs. Mara liked")
        + '"Listen, Tom, Nell, we need to talk," said Mara.\n\n"About what?"\n\n'
        '"The lamp."\n\n"What about it?"\n',
        encoding="utf-8",
    )
    outputs = set()
    for seed in ("1", "2", "3", "4", "5"):
        result = subprocess.run(
            [sys.executable, "-m", "narrate.cli", "script", "--format", "jsonl", str(story)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


FIRST_PERSON_START = (
    "I had lived by the sea all my life. I knew my neighbours and I knew their boats. I "
    "walked every morning and I swam every evening. I told my friends everything and I "
    "trusted them. I was younger then and I was braver. I thought so, at least, and I "
    "still think so. I wonder what I would change. I do not know. I never did know, and I "
    "never asked. My mother said I was a dreamer; my father said I was lazy.\n\n"
    "Ruth Abernathy came in from the rain. Ruth shook out her coat.\n\n"
)


def test_a_first_person_narrator_is_named_by_what_the_others_call_them():
    text = FIRST_PERSON_START + (
        '"Hello, Sam," Ruth said.\n\n"Hello," I said.\n\n"You look tired, Sam."\n\n'
        '"I am," I said.\n\n"Sit down, Sam," said Ruth.\n\n"Thanks," I said.\n'
    )
    lines = speakers_of(text)
    assert speaker(lines, "Hello,") == "Ruth Abernathy"
    assert speaker(lines, "I am") == "Sam"
    assert "narrator" in next(r for _, who, r in lines if who == "Sam")


def test_a_title_in_a_tag_names_the_one_who_bears_it():
    text = (
        "Count Orlov sat by the window. Count Orlov was old and the countess was young.\n\n"
        '"It is late," said the count.\n'
    )
    assert speaker(speakers_of(text), "It is late") == "Count Orlov"


def test_his_wife_is_mrs_of_his_surname():
    text = (
        "Mr. Pell read his paper. Mrs. Pell sewed. Mr. Pell coughed, and Mrs. Pell looked "
        "up.\n\n"
        '"You are catching a cold," said his wife.\n'
    )
    assert speaker(speakers_of(text), "You are catching") == "Mrs. Pell"


def test_names_written_after_the_are_named_with_it():
    text = (
        "The Hatter poured the tea. Then the Hatter spilled it, and the Hatter laughed, and "
        "the Dormouse slept.\n\n"
        '"More tea?" said the Hatter.\n'
    )
    assert speaker(speakers_of(text), "More tea") == "the Hatter"


def test_vocatives_without_a_comma_name_the_listener():
    text = HARBOUR + ('Tom came in from the rain.\n\n"Goodnight Tom."\n\n"Goodnight," Tom said.\n')
    assert speaker(speakers_of(text), "Goodnight Tom") == "Mara"


def test_someone_listening_in_is_not_in_the_exchange():
    text = (
        "Ann sat on the stairs and listened. Below, Ben and Carl argued about the boat. "
        "Ben wanted to sell it; Carl did not. Ann stayed very still.\n\n"
        '"We sell it," said Ben.\n\n"We keep it," said Carl.\n\n"It leaks."\n\n'
        '"Then we mend it."\n'
    )
    lines = speakers_of(text)
    assert speaker(lines, "It leaks") == "Ben"
    assert speaker(lines, "Then we mend") == "Carl"


def test_two_women_talking_with_pronoun_tags():
    text = (
        "Jane and Mary sat by the fire. Jane was knitting; Mary was reading.\n\n"
        '"Is it snowing?" asked Jane.\n\n"Not yet," said Mary.\n\n"It will," she said.\n\n'
        '"How do you know?"\n\n"I can smell it."\n'
    )
    lines = speakers_of(text)
    assert [who for _, who, _ in lines] == ["Jane", "Mary", "Jane", "Mary", "Jane"]


def test_the_bundled_story_is_attributed_as_its_author_intended():
    root = Path(__file__).resolve().parent.parent / "examples"
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in (root / "expected-speakers.md").read_text("utf-8").splitlines()
        if re.match(r"^\|\s*\d+\s*\|", line)
    ]
    expected = [row[4] for row in rows]
    lines = speakers_of((root / "the-lamp-at-gull-point.txt").read_text("utf-8"))
    assert len(lines) == len(expected)
    wrong = [
        (text, who, want)
        for (text, who, _), want in zip(lines, expected, strict=True)
        if who.split()[0].lower() != want.split()[0].lower()
        and not (want.startswith("the ") and who == want)
    ]
    assert wrong == []
