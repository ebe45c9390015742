"""What a page or an EPUB says, before it is a Book: its metadata and its chapters as
(heading, paragraphs), shared by the HTML and EPUB readers, which hand it to the text
reader through :func:`book_from_parts`."""

from __future__ import annotations

from dataclasses import dataclass, field

from narrate.model import Book
from narrate.readers.text import parse_text, with_metadata


@dataclass
class Parts:
    """What a page or an EPUB says: metadata, and chapters as (heading, paragraphs)."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    description: str | None = None
    series: str | None = None
    series_part: str | None = None
    language: str | None = None
    chapters: list[tuple[str | None, list[str]]] = field(default_factory=list)


def book_from_parts(
    parts: Parts,
    name: str,
    *,
    title: str | None,
    author: str | None,
    keep_notes: bool,
) -> Book:
    """The Book of a page's (or an EPUB's) parts, through the text reader."""
    lines = []
    for heading, paragraphs in parts.chapters:
        if heading:
            lines.append(f"# {heading}")
        lines.extend(paragraphs)
    text = "\n\n".join(lines) + "\n"
    book = parse_text(
        text,
        name,
        title=title or parts.title,
        author=author or (" & ".join(parts.authors) if parts.authors else None),
        keep_notes=keep_notes,
    )
    return with_metadata(
        book,
        description=parts.description,
        language=parts.language,
        series=parts.series,
        series_part=parts.series_part,
    )
