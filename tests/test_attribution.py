"""Speaker attribution (narrate.dialogue.attribution) on short passages written for these
tests: speech verbs, pronouns, beats, vocatives, groups, the first-person narrator; then
place-word surnames, tags after a clause, title vocatives, names said in a quote, the
first-person narrator's own name, and one-off descriptions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from narrate.dialogue import attribution as speakers
from narrate.dialogue.attribution import attribute
from narrate.dialogue.characters import CharacterIndex, find_characters
from narrate.dialogue.quotes import segment_book
from narrate.model import FEMALE, MALE, NARRATION, NARRATOR
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


def line(lines: list[tuple[str, str, str]], opening: str) -> tuple[str, str, str]:
    matches = [entry for entry in lines if entry[0].startswith(opening)]
    assert matches, f"no quote starts with {opening!r}: {[t for t, _, _ in lines]}"
    return matches[0]


def speaker(lines: list[tuple[str, str, str]], opening: str) -> str:
    return line(lines, opening)[1]


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


# --- clauses, titles, names said in a quote, one-off descriptions -----------------------

# 1. Place words that are surnames ("Hall", "Wood", "Hill").

INN = (
    "Mr. Hall kept the inn by the river. Mrs. Hall kept the accounts. In the evenings Hall "
    "smoked on the step, and his wife counted the coins.\n\n"
    '"Trade is slow," said Hall.\n\n'
    '"It always is in March," said Mrs. Hall.\n'
)


def test_a_place_word_written_as_a_name_is_a_surname():
    index, lines = attributed(INN)
    mister = index.resolve("Mr. Hall")
    assert mister is not None
    assert index.resolve("Hall") == mister
    assert index.resolve("Mrs. Hall") not in (None, mister)
    assert speaker(lines, "Trade is slow") == mister
    assert speaker(lines, "It always is") == index.resolve("Mrs. Hall")


def test_a_place_word_the_book_writes_in_lower_case_is_not_a_name():
    text = (
        "The hall was cold. Pip swept the hall, and the hall echoed. Nobody used the hall "
        "now, and Hall was only a name on the old map. Pip sighed.\n\n"
        '"Nobody comes here," said Pip.\n'
    )
    index, _ = attributed(text)
    assert index.resolve("Hall") is None
    assert "Hall" not in index.characters


def test_a_place_word_still_ends_no_longer_name():
    text = (
        "Aunt Bea drove us out to Elmstead Hall on a wet Sunday. Elmstead Hall was cold, and "
        "Bea complained of it the whole afternoon.\n\n"
        '"What a draughty place," said Bea.\n'
    )
    index, lines = attributed(text)
    assert "Elmstead Hall" not in index.characters
    assert index.resolve("Elmstead Hall") is None
    assert speaker(lines, "What a draughty") == "Bea"


# 2. A speech verb after a clause, ending the sentence before the quote.

PARLOUR = (
    "Mrs. Crane, Miss Dunn and Mr. Pell sat in the parlour after dinner. Mrs. Crane wore a "
    "new hat. Miss Dunn sewed. Mr. Pell read his paper.\n\n"
)


def test_a_tag_after_a_relative_clause_names_the_speaker_of_the_next_paragraph():
    # Without the tag, the turn-taking would give the reply to Miss Dunn, just addressed.
    lines = speakers_of(
        PARLOUR + '"That is a handsome hat, Miss Dunn," said Mr. Pell.\n\n'
        "Mrs. Crane, who never refused a compliment, answered at once,\n\n"
        '"It is mine. I lent it to her."\n'
    )
    _, who, why = line(lines, "It is mine")
    assert who == "Mrs. Crane"
    assert why.startswith("explicit")


def test_a_tag_after_an_aside_and_an_action_names_the_speaker_in_the_same_paragraph():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        "Mr. Pell, much offended, put down his paper, and said, "
        '"It is the latest in the village."\n'
    )
    _, who, why = line(lines, "It is the latest")
    assert who == "Mr. Pell"
    assert why.startswith("explicit")


def test_a_tag_after_an_aside_and_an_action_names_the_speaker_of_the_next_paragraph():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        "Mr. Pell, much offended, put down his paper, and said,\n\n"
        '"It is the latest in the village."\n'
    )
    _, who, why = line(lines, "It is the latest")
    assert who == "Mr. Pell"
    assert why.startswith("explicit")


def test_the_period_of_an_honorific_does_not_cut_the_subject_off_its_title():
    text = (
        "Mr. Crane and Mrs. Crane sat at supper with Mr. Pell. Mr. Crane carved; Mrs. Crane "
        "poured. Mr. Crane said little.\n\n"
        '"A fine bird," said Mr. Pell.\n\n'
        "Mr. Crane said nothing to this but Mrs. Crane, who liked praise of her table, "
        "answered warmly,\n\n"
        '"We keep our own hens."\n'
    )
    assert speaker(speakers_of(text), "We keep our own hens") == "Mrs. Crane"


def test_a_name_inside_the_aside_is_not_the_subject():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        "Mr. Pell, much offended by Mrs. Crane, put down his paper, and said, "
        '"It is the latest in the village."\n'
    )
    assert speaker(lines, "It is the latest") == "Mr. Pell"


def test_an_honorific_inside_the_relative_clause_keeps_the_tag():
    lines = speakers_of(
        PARLOUR + '"That is a handsome hat, Miss Dunn," said Mr. Pell.\n\n'
        "Mrs. Crane, who never refused a compliment from Mr. Pell, answered at once,\n\n"
        '"It is mine. I lent it to her."\n'
    )
    assert speaker(lines, "It is mine") == "Mrs. Crane"


# 3. "sir" and "madam" tell the gender of the one spoken to.


def addressee_genders(text: str) -> dict[str, str | None]:
    """The first words of each quote -> the addressee's gender it shows."""
    book = parse_text(text, "test.txt")
    segments = segment_book(book)
    narration = [(s.start, s.text) for s in segments if s.kind == NARRATION and s.spoken]
    dialogue = [s.text for s in segments if s.is_dialogue]
    index = find_characters(narration, book.source, dialogue)
    context = speakers._Context(segments, index)
    found = {}
    for quote in speakers._quotes(context):
        quote.addressees = speakers._vocatives(context, quote)
        found[context.segments[quote.segments[0]].text] = speakers._addressee_gender(context, quote)
    return found


def test_sir_and_madam_say_whom_a_quote_speaks_to():
    genders = addressee_genders(
        "Ada and Osric waited in the hall of the bank. Ada held the papers.\n\n"
        '"Yes, sir."\n\n'
        '"Thank you, madam."\n\n'
        '"Good morning, ma\'am, and welcome."\n\n'
        '"I shall tell the master."\n\n'
        '"Sign here, Ada."\n\n'
        '"Sign here, sir, Ada."\n'
    )
    assert genders["Yes, sir."] == MALE
    assert genders["Thank you, madam."] == FEMALE
    assert genders["Good morning, ma'am, and welcome."] == FEMALE
    assert genders["I shall tell the master."] is None
    assert genders["Sign here, Ada."] == FEMALE  # a named addressee's own gender
    assert genders["Sign here, sir, Ada."] is None  # the two disagree: no answer


# 4. The first-person narrator's own name is the narrator.

MILL = (
    "I grew up in the mill house at the bottom of the lane. I fed the hens and I swept the "
    "yard, and I read whatever I could find. I had a brother once; he left for the city "
    "when I was twelve, and I missed him. I wrote to him every week. I never knew if he "
    "read what I wrote. I kept the letters he sent back, and I have them still. I think I "
    "was lonely, though I did not know it then. I know it now, and I am not ashamed of it. "
    "I say so plainly. I still walk down that lane most days, and I always stop at the "
    "mill.\n\n"
    "Ruth Marlow lived in the cottage across the stream. Ruth came over most mornings.\n\n"
)


def test_a_quote_calling_the_narrator_by_name_is_not_the_narrators():
    lines = speakers_of(
        MILL + '"Morning, Nell," Ruth said.\n\n"Morning," I said.\n\n'
        '"Any eggs today, Nell?"\n\n"Six," I said.\n\n'
        '"I mended your gate," I said.\n\n'
        '"Did you?" said Ruth. She went to the window and looked out at the gate.\n\n'
        '"Thanks, Nell."\n'
    )
    assert speaker(lines, "Six") == "Nell"  # the narrator is named by what Ruth calls her
    # Turn-taking alone would give the narrator this line (A, B, A), but it speaks to her.
    assert speaker(lines, "Thanks, Nell") == "Ruth Marlow"


# 5. A one-off description is weighed against the scene; an epithet is a name.

FERRY = (
    "Lena and Osric kept the ferry at Dunmore. Lena sold the tickets and Osric steered the "
    "boat across the grey water. Lena liked the work.\n\n"
)


def test_a_one_off_description_is_the_woman_taking_her_turn():
    lines = speakers_of(
        FERRY + '"The fog is coming in," said Lena.\n\n"Mind the step," said Osric.\n\n'
        '"I always do," returned the tall woman, and she laughed at him.\n'
    )
    assert speaker(lines, "I always do") == "Lena"


def test_a_one_off_description_is_the_woman_acting_in_the_paragraph():
    lines = speakers_of(
        FERRY + '"Mind the step," said Osric.\n\n'
        'Lena jumped down onto the jetty. "I always do," returned the tall woman.\n'
    )
    assert speaker(lines, "I always do") == "Lena"


def test_a_one_off_description_in_a_short_exchange_is_the_one_named_woman():
    lines = speakers_of(
        FERRY + '"Mind the step," said Osric.\n\n'
        '"I always do," returned the tall woman, and she laughed at him.\n'
    )
    assert speaker(lines, "I always do") == "Lena"


def test_a_description_the_narration_uses_often_is_the_speakers_name():
    stranger = (
        "The stranger came aboard at dusk. The stranger wore a grey coat. Nobody knew the "
        "stranger. Lena watched the stranger. Osric frowned at the stranger. The stranger "
        "sat alone. The stranger looked at the water. At last the stranger stood up.\n\n"
    )
    lines = speakers_of(
        FERRY + stranger + '"We are nearly across," said Lena.\n\n'
        'Osric threw the rope to the jetty. "Is this Dunmore?" asked the stranger.\n'
    )
    _, who, why = line(lines, "Is this Dunmore")
    assert who == "the stranger"
    assert why.startswith("explicit (description)")


# Tags that lead into a quote from before it.


def test_a_tag_closing_the_paragraph_before_names_the_speaker():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        "After a long silence, Mr. Pell coolly observed,\n\n"
        '"The weather will turn before Sunday."\n'
    )
    _, who, why = line(lines, "The weather will turn")
    assert (who, why.split(":")[0]) == ("Mr. Pell", "explicit (name)")


def test_a_tag_after_when_names_the_speaker():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        "Miss Dunn was folding her napkin, when Mr. Pell called out,\n\n"
        '"Who has taken my spectacles?"\n'
    )
    assert speaker(lines, "Who has taken my spectacles") == "Mr. Pell"


def test_the_subject_nearest_the_speech_verb_speaks():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        "Mr. Pell said nothing to this; but Miss Dunn, folding her napkin, asked:\n\n"
        '"Is there more tea?"\n'
    )
    assert speaker(lines, "Is there more tea") == "Miss Dunn"


def test_someone_else_before_the_verb_is_not_the_subject():
    """'Mr. Pell sat quietly as Mrs. Crane answered,': the verb is Mrs. Crane's."""
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old," said Miss Dunn.\n\n'
        "Mr. Pell sat quietly as Mrs. Crane answered,\n\n"
        '"It was the only one in the shop."\n'
    )
    assert speaker(lines, "It was the only one") == "Mrs. Crane"


def test_who_after_a_name_makes_that_name_the_speaker():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        "She was answered by Miss Dunn, who, looking up from her cup, cried out,\n\n"
        '"But the news in it is new to me!"\n'
    )
    assert speaker(lines, "But the news in it") == "Miss Dunn"


def test_a_tag_may_run_straight_into_the_quote():
    lines = speakers_of(
        PARLOUR + '"Your paper is a week old, Miss Dunn," said Mrs. Crane.\n\n'
        'Mr. Pell put down the paper, saying "Then I shall read it again."\n'
    )
    assert speaker(lines, "Then I shall read it again") == "Mr. Pell"


def test_a_new_sentence_of_narration_between_two_quotes_starts_a_new_quote():
    lines = speakers_of(
        PARLOUR + '"Toast!" said Mrs. Crane. And "Toast!" repeated Mr. Pell, '
        "holding out his plate.\n"
    )
    toasts = [who for text, who, _ in lines if text.startswith("Toast")]
    assert toasts == ["Mrs. Crane", "Mr. Pell"]


def test_an_interrupted_quote_with_an_honorific_in_its_tag_stays_one_quote():
    lines = speakers_of(
        PARLOUR + '"Toast," said Mr. Pell, "is all I ask."\n\n'
        '"You shall have it," said Mrs. Crane.\n'
    )
    assert speaker(lines, "is all I ask") == "Mr. Pell"


# Pronoun tags inside an exchange.


def test_he_said_in_an_exchange_is_the_man_taking_part_not_one_named_in_passing():
    lines = speakers_of(
        "Ann Reed and Tom Hale walked along the quay. Ann spoke first.\n\n"
        '"Will the boat come today?" asked Ann.\n\n'
        '"It will," said Tom.\n\n'
        '"Are you sure?" said Ann.\n\n'
        "She pointed to the house of Mr. Webb, the harbour master, whose flag was down.\n\n"
        '"Quite sure," said he.\n'
    )
    assert speaker(lines, "Quite sure") == "Tom Hale"


def test_turned_to_me_says_the_narrator_is_spoken_to():
    _, lines = attributed(
        "I walked with Ann to the quay. I was tired and I said little. I had slept badly "
        "and I wanted my breakfast. I thought of the inn and I thought of coffee. I knew "
        "Ann would talk. I let her. I looked at the boats. I counted them. I lost count. "
        "I began again. I did not mind. I had time. I had nothing else to do today. I "
        "was glad of the air. I said so.\n\n"
        '"Morning, Nell," Ann said.\n\n'
        '"Morning," I said.\n\n'
        "Ann turned to me.\n\n"
        '"Will you come to the fair?"\n'
    )
    assert speaker(lines, "Will you come to the fair") == "Ann"


def test_narration_leading_into_a_second_quote_makes_it_a_new_quote():
    lines = speakers_of(
        PARLOUR + 'Miss Dunn looked up. "I have finished the hem." To which Mrs. Crane '
        'answered, "Then start on the cuffs."\n'
    )
    assert speaker(lines, "I have finished the hem") == "Miss Dunn"
    assert speaker(lines, "Then start on the cuffs") == "Mrs. Crane"


def test_miss_with_a_given_name_is_the_woman_of_that_name():
    index, _ = attributed(
        "Louisa Grey sat by the window. Louisa was reading. The maid came in and Miss "
        "Louisa looked up. Louisa smiled at her.\n\n"
        '"Will you take tea, Miss Louisa?" asked the maid.\n'
    )
    assert index.resolve("Miss Louisa") == index.resolve("Louisa") is not None


PDNC = Path(__file__).resolve().parent.parent.parent / "shared" / "pdnc"


@pytest.mark.slow
@pytest.mark.skipif(not (PDNC / "score.py").exists(), reason="../shared/pdnc not present")
def test_the_confidence_says_how_often_narrate_is_right_on_annotated_novels():
    """On the fourteen PDNC dev novels: the least sure tenth of the quotes holds at least
    three times the error rate of the rest, and in every band of confidence holding many
    quotes, the share right is within ten points of the confidence."""
    import importlib.util

    from narrate.pipeline import make_script
    from narrate.readers import read_book
    from narrate.voices.load import default_voices_path, load_voices

    spec = importlib.util.spec_from_file_location("pdnc_score", PDNC / "score.py")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    config = load_voices(default_voices_path()).config
    judged = []
    for folder in score.novel_dirs(PDNC / "dev"):
        script = make_script(read_book(folder / "novel_text.txt"), config)
        index = score.SegmentIndex(
            [(s.start, s.end, s) for s in script.segments if s.is_dialogue and s.confidence]
        )
        matcher = score.NameMatcher(score.load_characters(folder))
        for quote in score.load_quotes(folder):
            cover = {}
            for start, end in quote["spans"]:
                for a, b, segment in index.overlapping(start, end):
                    cover[segment] = cover.get(segment, 0) + min(end, b) - max(start, a)
            if cover:
                segment = max(cover, key=cover.get)
                right = bool(matcher.candidates(segment.speaker) & matcher.gold(quote["speaker"]))
                judged.append((segment.confidence, right))
    judged.sort()
    tenth = len(judged) // 10
    least = 1 - sum(right for _, right in judged[:tenth]) / tenth
    rest = 1 - sum(right for _, right in judged[tenth:]) / (len(judged) - tenth)
    assert least >= 3 * rest, (least, rest)
    for low in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        band = [(sure, right) for sure, right in judged if low <= sure < low + 0.1]
        if len(band) >= 500:
            mean = sum(sure for sure, _ in band) / len(band)
            share = sum(right for _, right in band) / len(band)
            assert abs(mean - share) <= 0.1, (low, mean, share)
