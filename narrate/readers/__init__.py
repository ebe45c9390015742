"""Readers: turn an input file into a :class:`~narrate.model.Book`.

Each format has its own module; :func:`read_book` picks one by the file's name. The
readers are the only stage that touches the input file.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from narrate.errors import ConfigError, NarrateError
from narrate.model import Book
from narrate.readers.epub import read_epub
from narrate.readers.html import parse_html
from narrate.readers.markdown import parse_markdown
from narrate.readers.text import parse_text

#: File suffixes read as Markdown; everything else is plain text.
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
#: The input name that means standard input.
STDIN = "-"


def read_book(
    path: str | Path,
    *,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
) -> Book:
    """Read a story into a Book, by its suffix: EPUB, HTML, Markdown, else plain text;
    ``-`` reads standard input (plain text, or Markdown when it starts with front matter,
    or HTML when it starts with a tag)."""
    warning = None
    if str(path) == STDIN:
        data, name, suffix = _read_stdin(), "stdin", None
    else:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".epub":
            book = read_epub(path, title=title, author=author, keep_notes=keep_notes)
            return _checked(book, path)
        data, name = read_bytes(path), path.name
    source, warning = decode(data, str(path))
    if suffix is None:
        start = source.lstrip("\ufeff \t\r\n")
        suffix = ".md" if start.startswith("---") else ".html" if start.startswith("<") else ""
    if not source.strip(" \t\r\n\ufeff"):
        raise ConfigError(f"{path}: the file is empty")
    if suffix in MARKDOWN_SUFFIXES:
        parse = parse_markdown
    elif suffix in HTML_SUFFIXES:
        parse = parse_html
    else:
        parse = parse_text
    book = parse(source, name, title=title, author=author, keep_notes=keep_notes)
    book = _checked(book, path)
    return replace(book, warnings=(warning,)) if warning else book


def _checked(book: Book, path) -> Book:
    if not any(chapter.paragraphs for chapter in book.chapters):
        raise ConfigError(
            f"{path}: nothing to read: no story text besides headings, a header or notes"
        )
    return book


def read_source(path: Path) -> str:
    """A file's text, decoded as :func:`decode` does."""
    return decode(read_bytes(path), str(path))[0]


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a story file") from None
    except OSError as error:
        raise NarrateError(f"{path}: cannot read: {error.strerror or error}") from None


def _read_stdin() -> bytes:
    if sys.stdin is None or sys.stdin.isatty():
        raise ConfigError("-: nothing on standard input (pipe a story in, or give a file)")
    return sys.stdin.buffer.read()


def decode(data: bytes, name: str) -> tuple[str, str | None]:
    """Text from bytes, with no newline translation (spans index into it), and a warning
    when the encoding had to be guessed.

    UTF-16 and UTF-32 with a byte order mark, UTF-8 with or without one; text that is not
    UTF-8 is read as Windows-1252 (the usual other encoding of English text files, and a
    superset of Latin-1's printable characters), with a warning. Data with NUL bytes and
    no UTF-16/32 mark is refused as binary.
    """
    for mark, encoding in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(mark):
            try:
                return data.decode(encoding), None
            except UnicodeDecodeError:
                raise ConfigError(f"{name}: not valid {encoding.upper()} text") from None
    if b"\x00" in data[:4096]:
        raise ConfigError(f"{name}: not a text file (binary data); narrate reads plain text")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        warning = (
            f"{name}: not UTF-8 (byte {error.start}); read as Windows-1252 (Latin-1); "
            "save the file as UTF-8 if letters come out wrong"
        )
        return data.decode("cp1252", errors="replace"), warning
