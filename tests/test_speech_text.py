"""Tests of what the engine is given to say: speakable text, sentences and chunks."""

from __future__ import annotations

import pytest

from narrate.speech.text import (
    MAX_CHUNK_CHARACTERS,
    is_speakable,
    roman_to_int,
    sentences,
    speakable,
    split_text,
)

DASH = "\u2014"
PROSE = (
    "It was late in the afternoon when the rain finally stopped, and the street outside the "
    "old bookshop filled with people who had been waiting under awnings and in doorways. "
    "Martha watched them from behind the counter and wondered how many of them would come in."
)


def test_speakable_joins_wrapped_lines_and_collapses_space():
    assert speakable("The rain\nfell  hard\r\non the\troof.") == "The rain fell hard on the roof."


def test_speakable_turns_emphasis_marks_into_emphasis_but_not_underscores_inside_words():
    from narrate.model import plain, shown

    said = speakable("She was _very_ sure, *quite* sure.")
    assert shown(said) == "She was *very* sure, *quite* sure."
    assert plain(said) == "She was very sure, quite sure."  # never a mark read aloud
    assert shown(speakable("_Really?_ he said.")) == "*Really?* he said."
    assert speakable("a snake_case_name stays") == "a snake_case_name stays"
    assert speakable("a lone * star and _ bar") == "a lone * star and _ bar"


def test_emphasis_cut_by_a_sentence_break_is_closed_and_reopened():
    from narrate.model import shown
    from narrate.speech.text import sentences

    pieces = sentences(speakable("_I will not. I cannot._ She left."))
    assert [shown(piece) for piece in pieces] == ["*I will not.*", "*I cannot.* She left."]


@pytest.mark.parametrize(
    "text", ["He stopped--then ran.", "He stopped -- then ran.", "He stopped---then ran."]
)
def test_speakable_turns_double_hyphens_into_a_dash_pause(text):
    assert speakable(text) == f"He stopped {DASH} then ran."


def test_speakable_trims_a_trailing_dash():
    assert speakable("I thought--") == "I thought"


@pytest.mark.parametrize(
    ("heading", "said"),
    [
        ("Chapter IV", "Chapter 4."),
        ("Chapter I: The Bertolini", "Chapter 1: The Bertolini."),
        ("Part II", "Part 2."),
        ("Book xii", "Book 12."),
        ("Chapter 12", "Chapter 12."),
        ("Prologue", "Prologue."),
        ("Chapter 3: Why?", "Chapter 3: Why?"),
    ],
)
def test_speakable_headings_say_numbers_and_end_with_a_stop(heading, said):
    assert speakable(heading, heading=True) == said


def test_roman_numbers_outside_headings_are_left_alone():
    assert speakable("Chapter IV") == "Chapter IV"
    assert speakable("King Louis XIV was there.") == "King Louis XIV was there."


def test_speakable_lowercases_long_all_caps_words_only():
    assert speakable("NOBODY MOVED until the BELL rang.") == "nobody moved until the bell rang."
    assert speakable("DON'T move.") == "don't move."
    # Short capitals are likely acronyms and are kept.
    assert speakable("The FBI said OK.") == "The FBI said OK."


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("I", 1), ("iv", 4), ("IX", 9), ("XL", 40), ("XIV", 14), ("MCMXCIV", 1994), ("MMXXV", 2025)],
)
def test_roman_to_int(numeral, value):
    assert roman_to_int(numeral) == value


@pytest.mark.parametrize("text", ["", "ABC", "I V", "12"])
def test_roman_to_int_rejects_non_numerals(text):
    assert roman_to_int(text) is None


@pytest.mark.parametrize("text", ["VX", "IIX", "IC", "DIM"])
def test_roman_to_int_rejects_malformed_numerals(text):
    assert roman_to_int(text) is None


def test_sentences_split_at_stops_questions_and_exclamations():
    assert sentences("It rained. Was it cold? Very! We went home.") == [
        "It rained.",
        "Was it cold?",
        "Very!",
        "We went home.",
    ]


def test_sentences_do_not_split_after_titles_or_initials():
    assert sentences("Mr. Smith met Mrs. Park and Dr. Lee. They talked.") == [
        "Mr. Smith met Mrs. Park and Dr. Lee.",
        "They talked.",
    ]
    assert sentences("J. R. Tolkien wrote it. Really.") == ["J. R. Tolkien wrote it.", "Really."]


def test_sentences_need_a_capital_after_the_stop():
    assert sentences("He said wait... and then nothing.") == ["He said wait... and then nothing."]
    assert sentences("Wait... What?") == ["Wait...", "What?"]


def test_sentences_of_empty_text():
    assert sentences("") == []
    assert sentences("   ") == []


def test_sentences_split_after_contractions_and_possessives():
    assert sentences("I really can't. She left.") == ["I really can't.", "She left."]
    assert sentences("The coat was Tom's. He took it.") == ["The coat was Tom's.", "He took it."]


def test_sentences_keep_closing_quotes_and_brackets():
    assert sentences('She read it: "Go on." He did.') == ['She read it: "Go on."', "He did."]
    assert sentences("(He left.) Then she sat.") == ["(He left.)", "Then she sat."]


def test_a_sentence_without_end_is_made_in_bounded_pieces():
    from narrate.speech.assemble import PART_CHARACTERS, parts

    endless = " ".join(["the sea was grey, and cold"] * 2000)  # 53,000 characters, no stop
    pieces = parts(endless)
    assert all(len(piece) <= PART_CHARACTERS for piece in pieces)
    assert " ".join(pieces).split() == endless.split()


def test_split_text_prefers_sentence_then_clause_boundaries() -> None:
    text = PROSE + " " + "and then, " * 40 + "the end."
    chunks = split_text(text)
    assert all(len(chunk) <= MAX_CHUNK_CHARACTERS for chunk in chunks)
    assert " ".join(chunks).split() == text.split()
    assert chunks[0].endswith("doorways.")
    assert all(chunk.endswith((".", ",")) for chunk in chunks)
    assert split_text("Mr. Smith said no. " * 20)[0].startswith("Mr. Smith said no.")
    assert not any(chunk == "Mr." for chunk in split_text("Mr. Smith said no. " * 20))
    unbroken = "x" * 450
    assert [len(chunk) for chunk in split_text(unbroken)] == [200, 200, 50]


def test_is_speakable() -> None:
    assert is_speakable("Hi")
    assert is_speakable("42")
    assert is_speakable("$")
    assert not is_speakable("... — “” !?")
