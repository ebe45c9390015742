"""The books in the paths a user gives: files as they are, folders searched.

A folder is searched, subfolders too, for the formats narrate reads. What is left out:

- hidden files and folders (a name starting with "."), and ``__pycache__``-like folders
  (a name starting with "_");
- a folder that holds MP3s: an audiobook, narrate's output or another's, not a source
  (so ``narrate render .`` never reads its own ``out/``);
- narrate's own list of books (``out/index.html``);
- files whose name says they are about the folder, not a story: README, LICENSE,
  LICENCE, CHANGELOG, CONTRIBUTING, NOTICE, AUTHORS, COPYING (any suffix, any case);
- of the files that share a name in one folder ("story.epub", "story.txt"), all but the
  best format: EPUB, then HTML, Markdown, plain text.

A calibre library keeps each book in its own folder with a ``metadata.opf``: there only
the best format is taken, and the OPF's title, author, series and cover are used when the
book's file does not carry its own (a plain-text or HTML export; an EPUB has them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as SafeTree

#: What narrate reads, best first: when one book is there in several formats, the first.
BOOK_SUFFIXES = (".epub", ".html", ".htm", ".xhtml", ".md", ".markdown", ".txt")
#: Names (without suffix, any case) of files about a folder rather than stories.
NOT_BOOKS = {
    "readme",
    "license",
    "licence",
    "changelog",
    "contributing",
    "notice",
    "authors",
    "copying",
}
CALIBRE_METADATA = "metadata.opf"
#: What narrate's own list of books (``out/index.html``) says of itself, near its top.
PAGE_MARK = b'<meta name="generator" content="narrate">'

_DC = "{http://purl.org/dc/elements/1.1/}"
_OPF = "{http://www.idpf.org/2007/opf}"


@dataclass(frozen=True)
class BookSource:
    """A book to read, and what its library says of it when its file may not."""

    path: Path
    title: str | None = None
    author: str | None = None
    series: str | None = None
    series_part: str | None = None
    cover: Path | None = None


def find_books(paths: Sequence[str | Path]) -> list[BookSource]:
    """The books in ``paths``, in the order given (a folder's in name order), each once.
    A file named directly is taken whatever its name; "-" is standard input."""
    found: list[BookSource] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if str(given) == "-" or not path.is_dir():
            sources = [BookSource(path)]
        else:
            sources = list(_search(path))
        for source in sources:
            key = source.path.resolve() if str(source.path) != "-" else source.path
            if key not in seen:
                seen.add(key)
                found.append(source)
    return found


def _search(folder: Path) -> Iterable[BookSource]:
    entries = sorted(folder.iterdir(), key=lambda p: p.name.lower())
    if any(entry.suffix.lower() == ".mp3" for entry in entries):
        return  # an audiobook's folder
    files = [entry for entry in entries if entry.is_file() and _is_book(entry)]
    opf = folder / CALIBRE_METADATA
    if opf.is_file() and files:
        best = min(files, key=lambda entry: BOOK_SUFFIXES.index(entry.suffix.lower()))
        yield _with_calibre_metadata(best, opf)
    else:
        by_name: dict[str, Path] = {}
        for entry in files:
            kept = by_name.get(entry.stem)
            if kept is None or _rank(entry) < _rank(kept):
                by_name[entry.stem] = entry
        for entry in files:
            if by_name.get(entry.stem) == entry:
                yield BookSource(entry)
    for entry in entries:
        if entry.is_dir() and not entry.name.startswith((".", "_")):
            yield from _search(entry)


def _is_book(path: Path) -> bool:
    return (
        path.suffix.lower() in BOOK_SUFFIXES
        and not path.name.startswith(".")
        and path.stem.lower() not in NOT_BOOKS
        and not _written_by_narrate(path)
    )


def _written_by_narrate(path: Path) -> bool:
    """A page narrate wrote (the list of books in its output folder), not a story."""
    if path.suffix.lower() not in (".html", ".htm"):
        return False
    try:
        with open(path, "rb") as file:
            return PAGE_MARK in file.read(2048)
    except OSError:
        return False


def _rank(path: Path) -> int:
    return BOOK_SUFFIXES.index(path.suffix.lower())


def _with_calibre_metadata(book: Path, opf: Path) -> BookSource:
    """The book with its calibre OPF's title, author, series and cover; an EPUB keeps
    its own title and author (calibre writes the same into it)."""
    try:
        root = SafeTree.parse(opf).getroot()
    except (SafeTree.ParseError, OSError, ValueError):
        return BookSource(book)
    metadata = root.find(f"{_OPF}metadata")
    if metadata is None:
        return BookSource(book)

    def text(tag: str) -> str | None:
        element = metadata.find(f"{_DC}{tag}")
        value = (element.text or "").strip() if element is not None else ""
        return value or None

    meta = {
        element.get("name"): element.get("content")
        for element in metadata.iter(f"{_OPF}meta")
        if element.get("name")
    }
    part = meta.get("calibre:series_index")
    if part and part.endswith(".0"):
        part = part[:-2]
    cover = opf.parent / "cover.jpg"
    own_metadata = book.suffix.lower() == ".epub"
    return BookSource(
        book,
        title=None if own_metadata else text("title"),
        author=None if own_metadata else text("creator"),
        series=meta.get("calibre:series") or None,
        series_part=part or None,
        cover=cover if cover.is_file() and not own_metadata else None,
    )
