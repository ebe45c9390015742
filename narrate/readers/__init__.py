"""Readers: turn an input file into a :class:`~narrate.model.Book`.

Each format has its own module; :func:`read_book` picks one by the file's name. The
readers are the only stage that touches the input file.
"""

from __future__ import annotations

from pathlib import Path

from narrate.errors import ConfigError, NarrateError
from narrate.model import Book
from narrate.readers.text import parse_text


def read_book(
    path: str | Path,
    *,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
) -> Book:
    """Read a story file into a Book. Plain text (UTF-8, with or without a BOM)."""
    path = Path(path)
    source = read_source(path)
    if not source.strip(" \t\r\n\ufeff"):
        raise ConfigError(f"{path}: the file is empty")
    book = parse_text(source, path.name, title=title, author=author, keep_notes=keep_notes)
    if not any(chapter.paragraphs for chapter in book.chapters):
        raise ConfigError(
            f"{path}: nothing to read: no story text besides headings, a header or notes"
        )
    return book


def read_source(path: Path) -> str:
    """The file's text decoded as UTF-8 with no newline translation (spans index into it).

    A file that is not UTF-8 is read as Windows-1252, the usual other encoding of English
    text files, so offsets then index into that decoding.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a story file") from None
    except OSError as error:
        raise NarrateError(f"{path}: cannot read: {error.strerror or error}") from None
    if b"\x00" in data[:4096]:
        raise ConfigError(f"{path}: not a text file (binary data); narrate reads plain text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
