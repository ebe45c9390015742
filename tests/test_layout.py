"""Tests of output file and folder names."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrate.output.layout import TRACK_PATTERN, book_folder, safe_name, track_name


def test_safe_name_removes_characters_file_systems_refuse():
    name = safe_name('a/b\\c:d*e?f"g<h>i|j')
    for bad in '/\\:*?"<>|':
        assert bad not in name
    assert name == "a-b-c -defghij"


def test_safe_name_removes_control_characters():
    assert safe_name("x\x00y\x1fz\x7f\n") == "xyz"
    assert safe_name("Line one\tLine two") == "Line oneLine two"


def test_safe_name_trims_trailing_dots_and_spaces():
    assert safe_name("The End...  ") == "The End"
    assert safe_name("  spaced   out  ") == "spaced out"


@pytest.mark.parametrize("name", ["...", "", "   ", "???", "\x00"])
def test_safe_name_uses_the_fallback_when_nothing_is_left(name):
    assert safe_name(name) == "Untitled"
    assert safe_name(name, "Chapter 3") == "Chapter 3"


RESERVED = {"con", "prn", "aux", "nul", "com1", "com3", "lpt1", "lpt9"}


def windows_stem(name: str) -> str:
    """What Windows compares with device names: the part before the first dot, trimmed."""
    return name.split(".")[0].rstrip(" ").lower()


@pytest.mark.parametrize("name", ["CON", "con", "NUL", "PRN", "LPT1", "com3", "Aux"])
def test_safe_name_avoids_reserved_device_names(name):
    safe = safe_name(name)
    assert windows_stem(safe) not in RESERVED
    assert safe.lower().startswith(name.lower())


@pytest.mark.parametrize("name", ["nul.txt", "Aux.mp3"])
def test_safe_name_avoids_reserved_device_names_with_an_extension(name):
    assert windows_stem(safe_name(name)) not in RESERVED


def test_safe_name_leaves_names_that_only_start_like_device_names():
    assert safe_name("Con Man") == "Con Man"
    assert safe_name("COM10") == "COM10"
    assert safe_name("Nullarbor") == "Nullarbor"


def test_safe_name_keeps_non_ascii_letters_and_normalises():
    assert safe_name("Café Noël — Ünïcode") == "Café Noël — Ünïcode"
    assert safe_name("Тихий Дон") == "Тихий Дон"
    assert safe_name("e\u0301t\u00e9") == "\u00e9t\u00e9"  # NFC


def test_safe_name_caps_the_length():
    name = safe_name("word " * 100)
    assert len(name.encode("utf-8")) <= 180
    assert name == name.strip(" .")
    assert name.startswith("word word")


def test_track_name_zero_pads():
    assert track_name(1, 9, "Chapter 1: The Storm") == "01 - Chapter 1 - The Storm.mp3"
    assert track_name(12, 40, "Chapter 12") == "12 - Chapter 12.mp3"
    assert track_name(7, 100, "Seven") == "007 - Seven.mp3"
    assert track_name(100, 120, "The Last") == "100 - The Last.mp3"
    assert track_name(3, 3, "") == "03 - Chapter 3.mp3"
    for name in ("01 - A.mp3", track_name(7, 100, "Seven"), track_name(5, 1000, "x")):
        assert TRACK_PATTERN.match(name)


def test_track_names_sort_in_chapter_order():
    names = [track_name(n, 120, f"Chapter {n}") for n in range(1, 121)]
    assert sorted(names) == names


def test_book_folder_is_author_then_title(tmp_path: Path):
    folder = book_folder(tmp_path, "Jo: Pell", "Lanterns?")
    assert folder == tmp_path / "Jo - Pell" / "Lanterns"
    assert book_folder(tmp_path, "", "") == tmp_path / "Unknown Author" / "Untitled"


def test_hostile_titles_make_files_that_can_be_created(tmp_path: Path):
    for title in ['Who? What: "Why" <now> | a/b\\c *', "CON", "...", "Part\x00One"]:
        path = tmp_path / track_name(1, 10, title)
        path.write_bytes(b"")
        assert path.parent == tmp_path
        assert path.exists()


def test_long_non_ascii_titles_make_files_that_can_be_created(tmp_path: Path):
    name = track_name(1, 10, "\u5b57" * 200)
    assert len(name.encode("utf-8")) <= 255
    path = tmp_path / name
    path.write_bytes(b"")
    assert path.exists()
