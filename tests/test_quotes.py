"""Tests of splitting paragraphs into narration and dialogue segments."""

from __future__ import annotations

import pytest

from narrate.dialogue.quotes import DOUBLE, SINGLE, detect_style, segment_book
from narrate.model import DIALOGUE, NARRATION, Book, Segment
from narrate.readers.text import parse_text

LQ, RQ = "\u201c", "\u201d"  # “ ”
LS, RS = "\u2018", "\u2019"  # ‘ ’ (also the apostrophe)


def book_of(*paragraphs: str, newline: str = "\n", **keywords) -> Book:
    text = ("\n\n".join(paragraphs) + "\n").replace("\n", newline)
    return parse_text(text, "story.txt", **keywords)


def segments_of(*paragraphs: str, **keywords) -> tuple[Book, list[Segment]]:
    book = book_of(*paragraphs, **keywords)
    return book, segment_book(book)


def kinds(segments: list[Segment]) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in segments if s.spoken and not s.heading]


def assert_well_formed(book: Book, segments: list[Segment]) -> None:
    """Spans match the text, are in order and do not overlap; dialogue has no marks."""
    previous_end = -1
    for segment in segments:
        assert book.source[segment.start : segment.end] == segment.text
        assert segment.start >= previous_end
        assert segment.end > segment.start
        previous_end = segment.end
        if segment.is_dialogue:
            assert segment.text[0] not in "\"'" + LQ + RQ + LS
            assert segment.text[-1] not in '"' + LQ + RQ


def british(*extra: str) -> list[str]:
    """Enough single-quoted speech for the book to count as single-quote style."""
    lines = [
        f"{LS}Pass the salt,{RS} said Tom.",
        f"{LS}Fine,{RS} said Ann.",
        f"{LS}Good,{RS} said Tom.",
        f"{LS}Right,{RS} said Ann.",
        f"{LS}Yes,{RS} said Tom.",
        f"{LS}No,{RS} said Ann.",
    ]
    return [*lines, *extra]


# --- quote styles ---------------------------------------------------------------------------


def test_straight_double_quotes():
    book, segments = segments_of('"Put the kettle on," said Mira.')
    assert kinds(segments) == [(DIALOGUE, "Put the kettle on,"), (NARRATION, "said Mira.")]
    assert_well_formed(book, segments)


def test_curly_double_quotes():
    book, segments = segments_of(f"Mira looked up. {LQ}Is that the kettle?{RQ}")
    assert kinds(segments) == [(NARRATION, "Mira looked up."), (DIALOGUE, "Is that the kettle?")]
    assert_well_formed(book, segments)


def test_dialogue_in_the_middle_of_narration():
    book, segments = segments_of('He shouted "Run!" and they ran.')
    assert kinds(segments) == [
        (NARRATION, "He shouted"),
        (DIALOGUE, "Run!"),
        (NARRATION, "and they ran."),
    ]
    assert_well_formed(book, segments)


def test_single_british_quotes_are_detected_and_split():
    paragraphs = british()
    assert detect_style("\n\n".join(paragraphs)) == SINGLE
    book, segments = segments_of(*paragraphs)
    assert kinds(segments)[:4] == [
        (DIALOGUE, "Pass the salt,"),
        (NARRATION, "said Tom."),
        (DIALOGUE, "Fine,"),
        (NARRATION, "said Ann."),
    ]
    assert_well_formed(book, segments)


def test_a_few_apostrophes_do_not_make_a_double_quote_book_single():
    text = "\"It's 'round the back,\" said Tom. 'Twas the girls' idea, and Ann's."
    assert detect_style(text) == DOUBLE


@pytest.mark.parametrize(
    ("speech", "expected"),
    [
        (f"{LS}I don{RS}t want it,{RS} said Ann.", f"I don{RS}t want it,"),
        (f"{LS}Give {RS}em the pepper,{RS} said Ann.", f"Give {RS}em the pepper,"),
        (
            f"{LS}The girls{RS} bikes are outside,{RS} said Ann.",
            f"The girls{RS} bikes are outside,",
        ),
        (f"{LS}It{RS}s four o{RS}clock,{RS} said Ann.", f"It{RS}s four o{RS}clock,"),
        (f"{LS}They play rock {RS}n{RS} roll,{RS} said Ann.", f"They play rock {RS}n{RS} roll,"),
        (f"{LS}Back in the {RS}90s, yes,{RS} said Ann.", f"Back in the {RS}90s, yes,"),
        (f"{LS}I was just sittin{RS} there,{RS} said Ann.", f"I was just sittin{RS} there,"),
        ("'I don't want it,' said Ann.", "I don't want it,"),
        ("'Give 'em the pepper,' said Ann.", "Give 'em the pepper,"),
        ("'The girls' bikes are outside,' said Ann.", "The girls' bikes are outside,"),
        (
            "'They play rock 'n' roll from the '90s,' said Ann.",
            "They play rock 'n' roll from the '90s,",
        ),
    ],
)
def test_apostrophes_are_not_quote_marks_in_a_single_quote_book(speech, expected):
    book, segments = segments_of(*british(speech))
    last = [s for s in segments if s.paragraph == len(british())]
    assert [(s.kind, s.text) for s in last] == [(DIALOGUE, expected), (NARRATION, "said Ann.")]
    assert_well_formed(book, segments)


def test_narration_with_apostrophes_stays_narration_in_a_single_quote_book():
    line = f"Tom{RS}s dog ran {RS}round the girls{RS} house, as it had since the {RS}90s."
    book, segments = segments_of(*british(line))
    last = [s for s in segments if s.paragraph == len(british())]
    assert [(s.kind, s.text) for s in last] == [(NARRATION, line)]
    assert_well_formed(book, segments)


# --- interrupted and continued quotes -------------------------------------------------------


def test_interrupted_quote_shares_one_quote_id():
    book, segments = segments_of(
        '"All right, everyone," Coach Rell cut in. "Listen, because I say this once."'
    )
    assert kinds(segments) == [
        (DIALOGUE, "All right, everyone,"),
        (NARRATION, "Coach Rell cut in."),
        (DIALOGUE, "Listen, because I say this once."),
    ]
    first, _, second = segments
    assert first.quote is not None
    assert first.quote == second.quote
    assert_well_formed(book, segments)


def test_separate_quotes_get_separate_ids():
    book, segments = segments_of('"Hello," said Mira.', '"Hello yourself," said Tom.')
    quotes = [s.quote for s in segments if s.is_dialogue]
    assert len(quotes) == 2
    assert quotes[0] != quotes[1]
    assert None not in quotes
    assert_well_formed(book, segments)


def test_quotes_separated_by_long_narration_are_different_quotes():
    book, segments = segments_of(
        '"Stop." Ann put down her cup and walked slowly to the window, where the rain had '
        'begun to hammer at the old glass. "Who is it?"'
    )
    dialogue = [s for s in segments if s.is_dialogue]
    assert [s.text for s in dialogue] == ["Stop.", "Who is it?"]
    assert dialogue[0].quote != dialogue[1].quote
    assert_well_formed(book, segments)


def test_quotation_over_several_paragraphs_keeps_one_quote_id():
    book, segments = segments_of(
        "Chapter 1",
        '"The first thing you learn about boats is that they leak.',
        '"The second thing is that nobody tells you where.',
        '"The third thing is the bucket," said Old Harl.',
        "Mira laughed.",
    )
    assert kinds(segments) == [
        (DIALOGUE, "The first thing you learn about boats is that they leak."),
        (DIALOGUE, "The second thing is that nobody tells you where."),
        (DIALOGUE, "The third thing is the bucket,"),
        (NARRATION, "said Old Harl."),
        (NARRATION, "Mira laughed."),
    ]
    dialogue = [s for s in segments if s.is_dialogue]
    assert len({s.quote for s in dialogue}) == 1
    assert len({s.paragraph for s in dialogue}) == 3
    assert_well_formed(book, segments)


def test_multi_paragraph_quote_in_a_crlf_file():
    book, segments = segments_of(
        '"First part of a long\nspeech.', '"And the end of it," she said.', newline="\r\n"
    )
    dialogue = [s for s in segments if s.is_dialogue]
    assert [s.text for s in dialogue] == ["First part of a long\r\nspeech.", "And the end of it,"]
    assert dialogue[0].quote == dialogue[1].quote
    assert_well_formed(book, segments)


def test_unclosed_quote_ends_at_the_paragraph_end():
    book, segments = segments_of(
        '"You never listen to me, and you never will',
        "The door slammed behind her.",
        '"Wait," he said.',
    )
    assert kinds(segments) == [
        (DIALOGUE, "You never listen to me, and you never will"),
        (NARRATION, "The door slammed behind her."),
        (DIALOGUE, "Wait,"),
        (NARRATION, "he said."),
    ]
    dialogue = [s for s in segments if s.is_dialogue]
    assert dialogue[0].quote != dialogue[1].quote
    assert_well_formed(book, segments)


# --- not speech -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        'He had read "Moby Dick" twice and still called every fish a "whale" out of habit.',
        f"The sign on the shop said {LQ}Closed{RQ} and that was that.",
        'They called the old dog a "genius" when it found the keys.',
    ],
)
def test_scare_quotes_and_titles_inside_narration_are_not_dialogue(line):
    book, segments = segments_of(line)
    assert kinds(segments) == [(NARRATION, line)]
    assert_well_formed(book, segments)


def test_nested_single_quotes_inside_double_quoted_speech_stay_in_the_speech():
    book, segments = segments_of("She said, \"He called it 'the beast' every day.\"")
    assert kinds(segments) == [
        (NARRATION, "She said,"),
        (DIALOGUE, "He called it 'the beast' every day."),
    ]
    assert_well_formed(book, segments)


# --- segments as a whole --------------------------------------------------------------------


def test_segments_cover_a_chapter_in_order_without_overlap():
    book, segments = segments_of(
        "Chapter 1",
        f"{LQ}Put the kettle on,{RQ} said Mira. {LQ}We have guests.{RQ}",
        "She waited by the window.",
        "* * *",
        f'"Who is it?" asked Tom. It was {LQ}nobody{RQ}, she told him.',
        "Chapter 2",
        "Morning came.",
    )
    assert_well_formed(book, segments)
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert {s.chapter for s in segments} == {1, 2}
    scenes = {s.scene for s in segments if s.chapter == 1 and not s.heading}
    assert scenes == {0, 1}
    paragraph_numbers = [s.paragraph for s in segments]
    assert paragraph_numbers == sorted(paragraph_numbers)
    narrated = [s for s in segments if s.kind == NARRATION]
    assert all(s.quote is None for s in narrated)


def test_headings_are_narration_segments_marked_heading():
    book, segments = segments_of("PART ONE", "Chapter 1", '"Hi," said Bo.', "Chapter 2", "Bye.")
    headings = [s for s in segments if s.heading]
    assert [s.text for s in headings] == ["PART ONE\n\nChapter 1", "Chapter 2"]
    assert all(s.kind == NARRATION and s.spoken for s in headings)
    assert [s.chapter for s in headings] == [1, 2]
    assert_well_formed(book, segments)


def test_notes_are_unspoken_segments():
    book, segments = segments_of(
        "Disclaimer: Not mine, sadly.",
        "Chapter 1",
        '"Hi," said Bo.',
        "The End",
        "A/N: Please review!",
    )
    unspoken = [s for s in segments if not s.spoken]
    assert [s.text for s in unspoken] == ["Disclaimer: Not mine, sadly.", "A/N: Please review!"]
    assert all(s.kind == NARRATION for s in unspoken)
    spoken = [s.text for s in segments if s.spoken]
    assert spoken == ["Chapter 1", "Hi,", "said Bo.", "The End"]
    assert_well_formed(book, segments)


def test_kept_notes_are_spoken():
    book, segments = segments_of(
        "Disclaimer: Not mine, sadly.", "Chapter 1", "Bo waved.", keep_notes=True
    )
    assert all(s.spoken for s in segments)
    assert "Disclaimer: Not mine, sadly." in [s.text for s in segments]
    assert_well_formed(book, segments)


def test_spans_hold_with_a_bom_and_crlf():
    text = '\ufeffChapter 1\r\n\r\n"Put the kettle on," said Mira.\r\n\r\n"Now," she added.\r\n'
    book = parse_text(text, "x.txt")
    segments = segment_book(book)
    assert_well_formed(book, segments)
    dialogue = [s for s in segments if s.is_dialogue]
    for segment in dialogue:
        assert book.source[segment.start - 1] == '"'
        assert book.source[segment.end] == '"'


def test_a_quote_left_open_does_not_continue_past_a_scene_break():
    text = (
        'Chapter 1\n\n"The glass is falling," said Tom. "And the boats are out\n\n'
        '* * *\n\n"Hello," said Mara.\n'
    )
    book = parse_text(text, "x.txt")
    dialogue = [s for s in segment_book(book) if s.is_dialogue]
    assert [s.text for s in dialogue] == [
        "The glass is falling,",
        "And the boats are out",
        "Hello,",
    ]
    assert dialogue[0].quote == dialogue[1].quote != dialogue[2].quote


def test_a_short_story_in_single_quotes_is_read_british_style():
    text = "‘The glass is falling,’ said Tom.\n\n‘How far?’ asked Mara.\n\n‘Far,’ said Tom.\n"
    book = parse_text(text, "x.txt")
    dialogue = [s.text for s in segment_book(book) if s.is_dialogue]
    assert dialogue == ["The glass is falling,", "How far?", "Far,"]


def test_an_authors_note_between_chapters_belongs_to_the_chapter_before():
    text = (
        "Chapter 1\n\nThe first room.\n\nA/N: next chapter soon!\n\n"
        "Chapter 2\n\nThe second room.\n\nChapter 3\n\nThe third room.\n"
    )
    book = parse_text(text, "x.txt")
    notes = [s for s in segment_book(book) if not s.spoken]
    assert [(s.text, s.chapter) for s in notes] == [("A/N: next chapter soon!", 1)]


# --- other languages' marks ------------------------------------------------------------


def spoken(book: Book) -> list[tuple[str, str]]:
    return kinds(segment_book(book))


def in_language(language: str, *paragraphs: str) -> Book:
    from dataclasses import replace

    return replace(book_of(*paragraphs), language=language)


def test_german_quotes_open_low_and_close_high():
    book = in_language(
        "de", "\u201eHallo\u201c, sagte er. \u201eWie geht\u2019s?\u201c", "Sie nickte."
    )
    assert spoken(book) == [
        (DIALOGUE, "Hallo"),
        (NARRATION, ", sagte er."),
        (DIALOGUE, "Wie geht\u2019s?"),
        (NARRATION, "Sie nickte."),
    ]
    inward = in_language("de", "\u00bbKomm\u00ab, rief sie.")
    assert [text for kind, text in spoken(inward) if kind == DIALOGUE] == ["Komm"]


def test_the_same_marks_in_an_english_book_keep_their_english_meaning():
    book = book_of("\u201cHello,\u201d she said. \u201cCome in.\u201d")
    assert [text for kind, text in spoken(book) if kind == DIALOGUE] == ["Hello,", "Come in."]


def test_cjk_brackets_mark_speech():
    book = in_language(
        "ja",
        "\u300c\u3053\u3093\u306b\u3061\u306f\u300d\u3068\u5f7c\u5973\u306f\u8a00\u3063\u305f\u3002",
    )
    assert [text for kind, text in spoken(book) if kind == DIALOGUE] == [
        "\u3053\u3093\u306b\u3061\u306f"
    ]


def test_french_dash_lines_with_incises():
    book = in_language(
        "fr",
        "Marie regardait la mer.",
        "\u2014 Viens, dit-elle, il est tard.",
        "\u2014 Non, r\u00e9pondit Paul. Pas encore.",
        "Elle dit\u202f: \u00ab\u202fRentrons.\u202f\u00bb",
    )
    assert spoken(book) == [
        (NARRATION, "Marie regardait la mer."),
        (DIALOGUE, "Viens,"),
        (NARRATION, "dit-elle,"),
        (DIALOGUE, "il est tard."),
        (DIALOGUE, "Non,"),
        (NARRATION, "r\u00e9pondit Paul."),
        (DIALOGUE, "Pas encore."),
        (NARRATION, "Elle dit\u202f:"),
        (DIALOGUE, "Rentrons."),
    ]


def test_spanish_dash_lines_set_off_the_narration_with_dashes():
    book = in_language(
        "es", "\u2014Hola \u2014dijo ella\u2014. \u00bfC\u00f3mo est\u00e1s?", "\u2014Bien."
    )
    assert spoken(book) == [
        (DIALOGUE, "Hola"),
        (NARRATION, "dijo ella"),
        (DIALOGUE, "\u00bfC\u00f3mo est\u00e1s?"),
        (DIALOGUE, "Bien."),
    ]


def test_an_english_book_with_a_dash_led_paragraph_is_not_read_as_dash_dialogue():
    book = book_of("\u201cWait,\u201d she said.", "\u2014and then the lights went out.", "He ran.")
    assert all(kind == NARRATION for kind, text in spoken(book) if "lights" in text)
