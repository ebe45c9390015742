"""Tests of the plain-text reader: paragraphs, headings, scenes, front matter, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrate.errors import EXIT_USAGE, ConfigError
from narrate.model import Book, Paragraph
from narrate.readers import read_book
from narrate.readers.text import is_scene_break, parse_heading, parse_text, split_paragraphs

BODY = "The kettle sang on the stove while Mira counted the spoons twice over."
OTHER = "Outside, the gulls argued about a crust of bread until the rain sent them off."


def story(*blocks: str, newline: str = "\n") -> str:
    """Blocks joined by blank lines, with the given line ending."""
    text = "\n\n".join(blocks) + "\n"
    return text.replace("\n", newline)


def titles(book: Book) -> list[str]:
    return [chapter.title for chapter in book.chapters]


def texts(paragraphs: tuple[Paragraph, ...] | list[Paragraph]) -> list[str]:
    return [p.text for p in paragraphs]


def all_paragraphs(book: Book) -> list[Paragraph]:
    found = [p for chapter in book.chapters for p in chapter.paragraphs]
    found += [chapter.heading for chapter in book.chapters if chapter.heading is not None]
    found += list(book.notes)
    return found


def assert_spans(book: Book) -> None:
    paragraphs = all_paragraphs(book)
    assert paragraphs
    for paragraph in paragraphs:
        assert book.source[paragraph.start : paragraph.end] == paragraph.text


# --- chapter headings ---------------------------------------------------------------------


def test_numbered_chapters_split_the_text_and_keep_their_paragraphs():
    book = parse_text(story("Chapter 1", BODY, "Chapter 2", OTHER), "tale.txt")
    assert titles(book) == ["Chapter 1", "Chapter 2"]
    assert [c.number for c in book.chapters] == [1, 2]
    assert texts(book.chapters[0].paragraphs) == [BODY]
    assert texts(book.chapters[1].paragraphs) == [OTHER]
    assert book.chapters[0].heading is not None
    assert book.chapters[0].heading.text == "Chapter 1"


@pytest.mark.parametrize(
    ("heading", "title"),
    [
        ("CHAPTER IV.", "Chapter IV"),
        ("Chapter I: The Bertolini", "Chapter I: The Bertolini"),
        ("CHAPTER IV. THE OLD MILL", "Chapter IV: The Old Mill"),
        ("Book I", "Book I"),
        ("XIV", "XIV"),
        ("# The Lantern Road", "The Lantern Road"),
        ("Prologue", "Prologue"),
    ],
)
def test_heading_forms_become_chapter_titles(heading, title):
    book = parse_text(story(heading, BODY), "tale.txt")
    assert titles(book) == [title]
    assert book.chapters[0].heading is not None
    assert book.chapters[0].heading.text == heading
    assert texts(book.chapters[0].paragraphs) == [BODY]


def test_chapter_word_with_the_number_on_the_next_line():
    book = parse_text(story("CHAPTER\n12", BODY), "tale.txt")
    assert titles(book) == ["Chapter 12"]
    assert book.chapters[0].heading.text == "CHAPTER\n12"
    assert texts(book.chapters[0].paragraphs) == [BODY]


def test_part_heading_directly_before_a_chapter_heading_is_merged_into_its_title():
    book = parse_text(story("PART ONE", "Chapter 1", BODY, "Chapter 2", OTHER), "tale.txt")
    assert titles(book) == ["Part One, Chapter 1", "Chapter 2"]
    heading = book.chapters[0].heading
    assert heading.text == "PART ONE\n\nChapter 1"
    assert book.source[heading.start : heading.end] == heading.text


def test_bare_heading_followed_by_a_short_title_line_takes_it_as_title():
    book = parse_text(story("CHAPTER III", "The Lantern Road", BODY), "tale.txt")
    assert titles(book) == ["Chapter III: The Lantern Road"]
    assert texts(book.chapters[0].paragraphs) == [BODY]
    assert book.chapters[0].heading.text == "CHAPTER III\n\nThe Lantern Road"


def test_a_first_sentence_after_a_bare_heading_is_not_taken_as_its_title():
    book = parse_text(story("Chapter 1", "Mira ran home.", BODY), "tale.txt")
    assert titles(book) == ["Chapter 1"]
    assert texts(book.chapters[0].paragraphs) == ["Mira ran home.", BODY]


@pytest.mark.parametrize(
    "prose",
    [
        "Chapter",
        "Part of the problem was the weather, which had not improved in a week.",
        "I went to the shop and bought a loaf of bread.",
    ],
)
def test_prose_that_starts_like_a_heading_is_not_one(prose):
    assert parse_heading(Paragraph(0, len(prose), prose)) is None


def test_text_before_the_first_heading_is_an_opening_chapter():
    book = parse_text(story(BODY, "Chapter 1", OTHER), "tale.txt")
    assert titles(book) == ["Opening", "Chapter 1"]
    assert texts(book.chapters[0].paragraphs) == [BODY]


# --- no headings, titles and authors ------------------------------------------------------


def test_no_heading_gives_one_chapter_titled_from_the_file_name():
    book = parse_text(story(BODY, OTHER), "the_lantern-road.txt")
    assert book.title == "The Lantern Road"
    assert book.author == "Unknown Author"
    assert titles(book) == ["The Lantern Road"]
    assert book.chapters[0].heading is None
    assert texts(book.chapters[0].paragraphs) == [BODY, OTHER]


def test_title_and_author_lines_set_the_metadata_and_are_not_read():
    book = parse_text(story("Title: Kettles and Gulls\nAuthor: Jo Pell", BODY), "x.txt")
    assert book.title == "Kettles and Gulls"
    assert book.author == "Jo Pell"
    assert titles(book) == ["Kettles and Gulls"]
    assert texts(book.chapters[0].paragraphs) == [BODY]


def test_by_line_under_a_title_line_gives_title_and_author():
    book = parse_text(story("The Lantern Road", "by Jo Pell", BODY), "x.txt")
    assert book.title == "The Lantern Road"
    assert book.author == "Jo Pell"
    assert texts(book.chapters[0].paragraphs) == [BODY]


def test_all_caps_title_and_by_line_are_recognised():
    book = parse_text(story("THE LANTERN ROAD", "BY JO PELL", BODY), "x.txt")
    assert book.title == "The Lantern Road"
    assert book.author.lower() == "jo pell"
    assert texts(book.chapters[0].paragraphs) == [BODY]


def test_by_line_directly_under_the_title_line_in_one_block():
    book = parse_text(story("The Lantern Road\nby Jo Pell", BODY), "x.txt")
    assert book.title == "The Lantern Road"
    assert book.author == "Jo Pell"
    assert texts(book.chapters[0].paragraphs) == [BODY]


def test_title_and_author_keywords_override_the_header():
    text = story("Title: Kettles\nAuthor: Jo Pell", BODY)
    book = parse_text(text, "x.txt", title="Gulls", author="Ray Ann")
    assert (book.title, book.author) == ("Gulls", "Ray Ann")
    assert titles(book) == ["Gulls"]
    plain = parse_text(story(BODY), "some_file.txt", title="Given Title")
    assert plain.title == "Given Title"
    assert plain.author == "Unknown Author"


def test_read_book_passes_title_and_author_overrides(tmp_path: Path):
    path = tmp_path / "tale.txt"
    path.write_text(story("Title: Kettles\nAuthor: Jo Pell", BODY), encoding="utf-8")
    book = read_book(path, title="Gulls", author="Ray Ann")
    assert (book.title, book.author) == ("Gulls", "Ray Ann")


# --- spans, encodings, line endings -------------------------------------------------------


def test_bom_stays_in_source_and_spans_index_the_file_text(tmp_path: Path):
    path = tmp_path / "bom.txt"
    text = "\ufeff" + story("Chapter 1", BODY, "\u201cHello,\u201d she said.", "Chapter 2", OTHER)
    path.write_bytes(text.encode("utf-8"))
    book = read_book(path)
    with open(path, encoding="utf-8", newline="") as handle:
        expected = handle.read()
    assert book.source == expected
    assert book.source.startswith("\ufeff")
    assert titles(book) == ["Chapter 1", "Chapter 2"]
    assert book.chapters[0].heading.text == "Chapter 1"
    assert_spans(book)


def test_crlf_file_keeps_offsets_and_recognises_everything(tmp_path: Path):
    path = tmp_path / "crlf.txt"
    text = "\ufeff" + story(
        "Title: Kettles\nAuthor: Jo Pell",
        "CHAPTER\n12",
        "A paragraph that was\nhard wrapped over\nthree lines.",
        "* * *",
        OTHER,
        newline="\r\n",
    )
    path.write_bytes(text.encode("utf-8"))
    book = read_book(path)
    with open(path, encoding="utf-8", newline="") as handle:
        assert book.source == handle.read()
    assert "\r\n" in book.source
    assert (book.title, book.author) == ("Kettles", "Jo Pell")
    assert titles(book) == ["Chapter 12"]
    scenes = book.chapters[0].scenes
    assert [texts(s.paragraphs) for s in scenes] == [
        ["A paragraph that was\r\nhard wrapped over\r\nthree lines."],
        [OTHER],
    ]
    assert_spans(book)


def test_old_mac_line_endings_split_paragraphs():
    book = parse_text(story("Chapter 1", BODY, "~~~", OTHER, newline="\r"), "mac.txt")
    assert titles(book) == ["Chapter 1"]
    assert [texts(s.paragraphs) for s in book.chapters[0].scenes] == [[BODY], [OTHER]]
    assert_spans(book)


def test_non_utf8_file_is_read_as_windows_1252(tmp_path: Path):
    path = tmp_path / "old.txt"
    path.write_bytes("Chapter 1\n\n\u201cCaf\u00e9?\u201d she asked.\n".encode("cp1252"))
    book = read_book(path)
    assert texts(book.chapters[0].paragraphs) == ["\u201cCaf\u00e9?\u201d she asked."]
    assert_spans(book)


def test_hard_wrapped_paragraph_is_one_paragraph_and_one_line_paragraphs_are_many():
    wrapped = (
        "It was a long walk to the harbour, and the\n"
        "road turned twice before it reached the\n"
        "water, where the boats waited in a row."
    )
    source = story(wrapped, "Short one.", "Another short one.")
    paragraphs = split_paragraphs(source)
    assert texts(paragraphs) == [wrapped, "Short one.", "Another short one."]
    for paragraph in paragraphs:
        assert source[paragraph.start : paragraph.end] == paragraph.text


def test_blank_lines_with_spaces_separate_paragraphs_and_spans_are_trimmed():
    source = "  First line here.  \n \t \n\tSecond line.\n\n\n"
    paragraphs = split_paragraphs(source)
    assert texts(paragraphs) == ["First line here.", "Second line."]
    assert [source[p.start : p.end] for p in paragraphs] == texts(paragraphs)


# --- scene breaks ---------------------------------------------------------------------------


@pytest.mark.parametrize("mark", ["***", "* * *", "~~~", "---", "o0o", "xXx"])
def test_scene_break_marks_split_scenes(mark):
    book = parse_text(story("Chapter 1", BODY, mark, OTHER), "x.txt")
    scenes = book.chapters[0].scenes
    assert [texts(s.paragraphs) for s in scenes] == [[BODY], [OTHER]]
    assert mark not in texts(book.chapters[0].paragraphs)


def test_ooo_alone_is_not_a_scene_break():
    assert not is_scene_break(Paragraph(0, 3, "ooo"))
    assert is_scene_break(Paragraph(0, 3, "o0o"))


def test_doubled_or_leading_scene_breaks_make_no_empty_scenes():
    book = parse_text(story("Chapter 1", "***", BODY, "***", "***", OTHER), "x.txt")
    scenes = book.chapters[0].scenes
    assert [texts(s.paragraphs) for s in scenes] == [[BODY], [OTHER]]


# --- front matter, notes, endings ------------------------------------------------------------

FRONT = (
    "The Lantern Road",
    "by Jo Pell",
    "Summary: Mira finds a lantern that will not go out.",
    "Disclaimer: The characters are mine, the lantern is borrowed.",
    "A/N: Thanks to my beta for the patience.",
    "Spoilers for the whole of season two.",
)


def test_fanfiction_front_matter_goes_to_notes_and_description():
    book = parse_text(story(*FRONT, "Chapter 1", BODY, "Chapter 2", OTHER), "x.txt")
    assert book.title == "The Lantern Road"
    assert book.author == "Jo Pell"
    assert book.description == "Mira finds a lantern that will not go out."
    assert texts(book.notes) == list(FRONT[2:])
    assert titles(book) == ["Chapter 1", "Chapter 2"]
    read = [p.text for chapter in book.chapters for p in chapter.paragraphs]
    assert read == [BODY, OTHER]
    assert_spans(book)


def test_keep_notes_keeps_the_front_matter_in_the_chapters():
    book = parse_text(story(*FRONT, "Chapter 1", BODY), "x.txt", keep_notes=True)
    assert book.notes == ()
    read = [p.text for chapter in book.chapters for p in chapter.paragraphs]
    for note in FRONT[2:]:
        assert note in read
    assert read[-1] == BODY
    assert book.description == "Mira finds a lantern that will not go out."


def test_the_end_stays_and_a_note_after_it_goes_to_notes():
    text = story("Chapter 1", BODY, "The End", "A/N: Hope you liked it, more soon.")
    book = parse_text(text, "x.txt")
    assert texts(book.chapters[-1].paragraphs) == [BODY, "The End"]
    assert texts(book.notes) == ["A/N: Hope you liked it, more soon."]
    kept = parse_text(text, "x.txt", keep_notes=True)
    assert texts(kept.chapters[-1].paragraphs) == [
        BODY,
        "The End",
        "A/N: Hope you liked it, more soon.",
    ]
    assert kept.notes == ()


def test_author_note_between_chapters_goes_to_notes():
    text = story("Chapter 1", BODY, "A/N: Sorry this took so long!", "Chapter 2", OTHER)
    book = parse_text(text, "x.txt")
    assert texts(book.notes) == ["A/N: Sorry this took so long!"]
    assert texts(book.chapters[0].paragraphs) == [BODY]


def test_dialogue_mentioning_ownership_is_story_not_a_note():
    line = "\u201cI don\u2019t own a boat,\u201d said Mira."
    book = parse_text(story("Chapter 1", line), "x.txt")
    assert texts(book.chapters[0].paragraphs) == [line]
    assert book.notes == ()


def test_table_of_contents_makes_no_empty_chapters():
    text = story(
        "Chapter 1",
        "Chapter 2",
        "Chapter 3",
        "Chapter 1",
        BODY,
        "Chapter 2",
        OTHER,
        "Chapter 3",
        BODY,
    )
    book = parse_text(text, "x.txt")
    assert titles(book) == ["Chapter 1", "Chapter 2", "Chapter 3"]
    assert all(chapter.paragraphs for chapter in book.chapters)
    assert [c.number for c in book.chapters] == [1, 2, 3]


def test_contents_label_above_a_table_of_contents_is_not_a_chapter():
    text = story("Contents", "Chapter 1", "Chapter 2", "Chapter 1", BODY, "Chapter 2", OTHER)
    book = parse_text(text, "x.txt")
    assert titles(book) == ["Chapter 1", "Chapter 2"]


def test_gutenberg_markers_limit_what_is_read():
    text = story(
        "The Project Gutenberg eBook of Lanterns",
        "*** START OF THE PROJECT GUTENBERG EBOOK LANTERNS ***",
        "Chapter 1",
        BODY,
        "*** END OF THE PROJECT GUTENBERG EBOOK LANTERNS ***",
        "License text that nobody should hear read aloud.",
    )
    book = parse_text(text, "x.txt")
    assert titles(book) == ["Chapter 1"]
    assert texts(book.chapters[0].paragraphs) == [BODY]
    assert "License text that nobody should hear read aloud." in texts(book.header)


# --- read_book errors -------------------------------------------------------------------------


def assert_one_line_error(error: ConfigError, path: Path) -> None:
    message = str(error)
    assert error.exit_code == EXIT_USAGE == 2
    assert "\n" not in message
    assert str(path) in message


def test_missing_file_is_a_config_error(tmp_path: Path):
    path = tmp_path / "nowhere.txt"
    with pytest.raises(ConfigError) as caught:
        read_book(path)
    assert_one_line_error(caught.value, path)


def test_directory_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        read_book(tmp_path)
    assert_one_line_error(caught.value, tmp_path)
    assert "directory" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"  \r\n\n\t\n", b"\xef\xbb\xbf\n\n"])
def test_empty_file_is_a_config_error(tmp_path: Path, content: bytes):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_book(path)
    assert_one_line_error(caught.value, path)
    assert "empty" in str(caught.value)


def test_binary_file_is_a_config_error(tmp_path: Path):
    path = tmp_path / "picture.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    with pytest.raises(ConfigError) as caught:
        read_book(path)
    assert_one_line_error(caught.value, path)
    assert "binary" in str(caught.value)


def test_a_first_paragraph_starting_with_by_is_story_text():
    book = parse_text(story("By nightfall the storm was over.", BODY), "x.txt")
    assert book.author == "Unknown Author"
    assert texts(book.chapters[0].paragraphs) == ["By nightfall the storm was over.", BODY]


def test_a_header_block_mixing_metadata_and_fanfiction_labels():
    header = "Title: The Storm\nAuthor: Jo Bell\nRating: T\nPairing: Mara/Tom"
    book = parse_text(story(header, BODY), "x.txt")
    assert (book.title, book.author) == ("The Storm", "Jo Bell")
    assert texts(book.chapters[0].paragraphs) == [BODY]
    assert texts(book.header) == [header]


def test_keep_notes_reads_front_notes_in_the_first_chapter_without_renumbering():
    text = story("Title: Kettles", "A/N: thanks, everyone!", "Chapter 1", BODY, "Chapter 2", OTHER)
    plain = parse_text(text, "x.txt")
    kept = parse_text(text, "x.txt", keep_notes=True)
    assert titles(plain) == titles(kept) == ["Chapter 1", "Chapter 2"]
    assert texts(kept.chapters[0].paragraphs) == ["A/N: thanks, everyone!", BODY]
