"""Plain text stories: paragraphs, chapter headings, scene breaks, front matter.

Pure: :func:`parse_text` turns the decoded text into a :class:`~narrate.model.Book`; the
file reading lives in :mod:`narrate.readers`. Every paragraph keeps its span in the text,
so later stages can point back at the exact characters they came from.

What is recognised, from how stories are laid out in plain text:

- paragraphs separated by blank lines, one-line or hard-wrapped (Project Gutenberg);
- chapter headings: ``Chapter 1``, ``CHAPTER IV.``, ``Chapter I: The Bertolini``,
  ``CHAPTER`` with the number on the next line, ``PART ONE``, ``Book I``,
  ``BOOK THE FIRST``, a Roman numeral alone, ``# Title``, ``Prologue``/``Epilogue``; a title
  on the heading's next line, or in a short title-like paragraph right after it;
- scene breaks: ``***``, ``* * *``, ``~~~``, ``---``, ``o0o`` and the like;
- a header of ``Title:``/``Author:`` lines, or a title line followed by ``by NAME``;
- fanfiction front matter (``Summary:``, ``A/N:``, ``Disclaimer:``, spoiler warnings) and
  author's notes after "The End": set aside as notes, the summary kept as the description;
- Project Gutenberg's START/END markers: what lies outside them is not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from narrate.model import Book, Chapter, Paragraph, Scene
from narrate.readers.letters import UPPER

# --- paragraphs ---------------------------------------------------------------------------

#: White space, including the byte-order mark and no-break and zero-width spaces.
_SPACE = " \t\f\v\ufeff\u00a0\u200b\r\n"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_paragraphs(source: str) -> list[Paragraph]:
    """Split text into paragraphs at blank lines; each span trimmed of surrounding space."""
    paragraphs: list[Paragraph] = []
    position = 0
    length = len(source)
    block_start: int | None = None
    block_end = 0
    while position < length:
        newline = _find_line_end(source, position)
        line = source[position:newline]
        if line.strip(_SPACE):
            if block_start is None:
                block_start = position
            block_end = newline
        elif block_start is not None:
            paragraphs.append(_trimmed(source, block_start, block_end))
            block_start = None
        position = _skip_line_break(source, newline)
    if block_start is not None:
        paragraphs.append(_trimmed(source, block_start, block_end))
    return paragraphs


def _find_line_end(source: str, position: int) -> int:
    match = _LINE_BREAK.search(source, position)
    return match.start() if match else len(source)


def _skip_line_break(source: str, position: int) -> int:
    if source.startswith("\r\n", position):
        return position + 2
    return position + 1


def _trimmed(source: str, start: int, end: int) -> Paragraph:
    while start < end and source[start] in _SPACE:
        start += 1
    while end > start and source[end - 1] in _SPACE:
        end -= 1
    return Paragraph(start, end, source[start:end])


def lines_of(paragraph: Paragraph) -> list[str]:
    """The paragraph's lines, each stripped."""
    return [line.strip(_SPACE) for line in _LINE_BREAK.split(paragraph.text)]


def flat(text: str) -> str:
    """The text on one line, runs of white space made single spaces."""
    return " ".join(text.split())


# --- headings -----------------------------------------------------------------------------

_WORD_NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred"
).split()
_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
    "last final"
).split()
_WORD_NUMBER = r"(?:%s)(?:[- ](?:%s))?" % ("|".join(_WORD_NUMBERS), "|".join(_WORD_NUMBERS))
_NUMBER = r"(?:\d+|[IVXLCDM]+|[ivxlcdm]+|%s|(?:the\s+)?(?:%s))" % (
    _WORD_NUMBER,
    "|".join(_ORDINALS),
)
_CHAPTER_WORDS = r"chapter|chap\.|chapitre|letter|stave"
_PART_WORDS = r"part|book|volume|vol\."
_HEADING = re.compile(
    rf"^(?P<word>{_CHAPTER_WORDS}|{_PART_WORDS})(?:\s+(?P<number>{_NUMBER}))?\s*\.?"
    rf"(?:\s*[:.\-\u2013\u2014]\s*(?P<title>\S.*))?$",
    re.IGNORECASE,
)
_NAMED_HEADING = re.compile(
    r"^(?P<word>prologue|epilogue|interlude|preface|introduction|foreword|afterword|"
    r"postscript|coda)\s*\.?(?:\s*[:.\-\u2013\u2014]\s*(?P<title>\S.*))?$",
    re.IGNORECASE,
)
_ROMAN_ALONE = re.compile(r"^(?P<number>[IVXLCDM]+)\.?$")
_NUMBER_ALONE = re.compile(rf"^(?P<number>{_NUMBER})\.?$", re.IGNORECASE)
_MARKDOWN = re.compile(r"^#{1,3}\s+(?P<title>\S.*?)\s*#*$")


@dataclass(frozen=True)
class Heading:
    """A recognised heading: its kind ("chapter" or "part") and display title."""

    kind: str
    title: str


def parse_heading(paragraph: Paragraph) -> Heading | None:
    """The heading this paragraph is, or None. A heading has at most three short lines."""
    lines = [line for line in lines_of(paragraph) if line]
    if not lines or len(lines) > 3 or any(len(line) > 80 for line in lines):
        return None
    first = _strip_emphasis(lines[0])
    rest = [_strip_emphasis(line) for line in lines[1:]]
    match = _HEADING.match(first)
    if match:
        word = match.group("word")
        number = match.group("number")
        title = match.group("title")
        if number is None and rest and _NUMBER_ALONE.match(rest[0]):
            number = rest.pop(0).rstrip(".")
        if number is None and title is None:
            # "Chapter" alone, or "Part of the..." is prose, not a heading.
            return None
        if title is None and rest:
            title = " ".join(rest)
        elif rest:
            return None
        kind = "part" if re.match(_PART_WORDS, word, re.IGNORECASE) else "chapter"
        label = _display(word)
        if number:
            label += " " + _display_number(number)
        return Heading(kind, _join_title(label, title))
    match = _NAMED_HEADING.match(first)
    if match and (not rest or match.group("title") is None):
        title = match.group("title") or (" ".join(rest) if rest else None)
        return Heading("chapter", _join_title(_display(match.group("word")), title))
    match = _ROMAN_ALONE.match(first)
    if match and len(rest) <= 1:
        title = rest[0] if rest else None
        return Heading("chapter", _join_title(match.group("number"), title))
    match = _MARKDOWN.match(first)
    if match and not rest:
        return Heading("chapter", match.group("title"))
    return None


def _strip_emphasis(line: str) -> str:
    return line.strip("_*= ").strip()


def _display(word: str) -> str:
    word = word.rstrip(".")
    return word[:1].upper() + word[1:].lower()


def _display_number(number: str) -> str:
    if re.fullmatch(r"[IVXLCDMivxlcdm]+", number):
        return number.upper()
    if number.isdigit():
        return number
    return " ".join(part[:1].upper() + part[1:].lower() for part in number.split())


def _join_title(label: str, title: str | None) -> str:
    if not title:
        return label
    return f"{label}: {_display_title(title.strip(' _*'))}"


def _display_title(title: str) -> str:
    """ALL-CAPS titles in title case; others as written."""
    letters = [c for c in title if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        small = {"a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "by", "for"}
        words = title.lower().split()
        return " ".join(
            w if i and w in small else w[:1].upper() + w[1:] for i, w in enumerate(words)
        )
    return title


def _looks_like_title(paragraph: Paragraph) -> bool:
    """A short title-like line after a bare heading ("Down the Rabbit-Hole")."""
    lines = [line for line in lines_of(paragraph) if line]
    if len(lines) != 1:
        return False
    line = lines[0].strip("_* ")
    if not line or len(line) > 70 or len(line.split()) > 10:
        return False
    if re.search(r"[\"\u201c\u201d]", line) or line[-1] in ",;:":
        return False
    letters = [c for c in line if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return True
    if lines[0].startswith("_") and lines[0].endswith("_"):
        return True
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", line)]
    small = {"a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "by", "for", "with"}
    capitalised = [w for w in words if w[0].isupper() or w.lower() in small]
    return bool(words) and len(capitalised) == len(words) and line[-1] not in ".!?"


# --- scene breaks, notes, metadata --------------------------------------------------------

_SCENE_BREAK = re.compile(
    r"^(?:(?:[*~\-_=#+\u2022\u00b7\u2014\u2013]\s*){3,}|(?:[oO0xX]\s*){3,}|"
    r"(?:<>\s*){2,}|\u2042|\u2234|\u00a7)$"
)


def is_scene_break(paragraph: Paragraph) -> bool:
    """``***``, ``* * *``, ``~~~``, ``---``, ``o0o``, ``xXx`` and similar, alone."""
    text = flat(paragraph.text)
    if not _SCENE_BREAK.match(text):
        return False
    # "ooo" or "xxx" alone could be a word-like sound; breaks mix symbols or 0/O.
    if re.fullmatch(r"[oOxX\s]+", text):
        return bool(re.search(r"[OX]", text)) and bool(re.search(r"[ox]", text))
    return True


_LABEL = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z/' ]{0,30}?)\s*:\s*(?P<value>.*)$", re.S)
_METADATA_LABELS = {
    "title": "title",
    "author": "author",
    "authors": "author",
    "by": "author",
    "series": "series",
    "language": "language",
}
_SUMMARY_LABELS = {"summary", "description", "blurb"}
_NOTE_LABELS = {
    "a/n",
    "an",
    "author's note",
    "authors note",
    "author's notes",
    "author note",
    "note",
    "notes",
    "disclaimer",
    "warning",
    "warnings",
    "spoiler",
    "spoilers",
    "rating",
    "rated",
    "pairing",
    "pairings",
    "category",
    "categories",
    "genre",
    "genres",
    "characters",
    "fandom",
    "fandoms",
    "words",
    "word count",
    "chapters",
    "status",
    "beta",
    "beta'd by",
    "dedication",
    "timeline",
    "feedback",
    "archive",
    "archiving",
    "setting",
    "content warning",
    "content warnings",
    "tags",
    "relationship",
    "relationships",
    "published",
    "updated",
    "completed",
    "chapter notes",
    "chapter summary",
    "end notes",
}
_NOTE_PHRASES = re.compile(
    r"\bspoilers?\b|\bplease (?:read and )?review\b|\br\s*&\s*r\b|\bread and review\b|"
    r"\bdon'?t own\b|\bdo not own\b|\bbelong(?:s)? to\b.*\b(?:not me|creator|owner)|"
    r"\bno copyright infringement\b|\bthanks? (?:you )?(?:for|to) (?:all )?(?:the )?"
    r"(?:reviews|reading|kind words)",
    re.IGNORECASE,
)
_END_MARKER = re.compile(r"^(?:the\s+end|fin|finis|end|the end\?)\s*[.!]*$", re.IGNORECASE)
_GUTENBERG_START = re.compile(r"\*\*\*\s*START OF (?:THE|THIS) PROJECT GUTENBERG", re.I)
_GUTENBERG_END = re.compile(r"\*\*\*\s*END OF (?:THE|THIS) PROJECT GUTENBERG", re.I)
# "by Jane Austen", "BY H. G. WELLS": every word of the name capitalised (or a particle).
_NAME_WORD = rf"[{UPPER}][\w.'\u2019-]*"
_BY_LINE = re.compile(
    rf"^(?i:by)\s+(?P<author>{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|de|van|von|der|den|la|le|du|"
    rf"da|di|of|and|&)){{0,6}})$"
)


def _label(paragraph: Paragraph) -> tuple[str, str] | None:
    match = _LABEL.match(paragraph.text)
    if not match:
        return None
    return match.group("label").strip().lower(), flat(match.group("value"))


_AUTHORS_NOTE = re.compile(r"^\s*\(?\s*(?:a/n|author'?s note)\b", re.IGNORECASE)


def is_note(paragraph: Paragraph) -> bool:
    """An author's note, disclaimer, warning or request for reviews."""
    label = _label(paragraph)
    if label and label[0] in _NOTE_LABELS:
        return True
    if _AUTHORS_NOTE.match(paragraph.text):
        return True
    text = flat(paragraph.text)
    return len(text) < 400 and bool(_NOTE_PHRASES.search(text)) and '"' not in text


@dataclass
class _Header:
    title: str | None = None
    author: str | None = None
    description: str = ""
    series: str | None = None
    series_part: str | None = None
    language: str | None = None


def _read_label_lines(paragraph: Paragraph, header: _Header) -> bool:
    """Consume a paragraph of ``Label: value`` metadata lines; True when it was one."""
    lines = [line for line in lines_of(paragraph) if line]
    found: list[tuple[str, str]] = []
    for line in lines:
        match = _LABEL.match(line)
        if not match:
            if found and found[-1][0] in _SUMMARY_LABELS:
                # A summary continues on the next lines.
                found[-1] = (found[-1][0], found[-1][1] + " " + line)
                continue
            return False
        label = match.group("label").strip().lower()
        if label not in _METADATA_LABELS.keys() | _SUMMARY_LABELS | _NOTE_LABELS:
            return False
        found.append((label, match.group("value").strip()))
    if not any(label in _METADATA_LABELS for label, _ in found):
        return False
    for label, value in found:
        if label in _NOTE_LABELS:
            continue  # "Rating: T" in a header block: not read, nothing to keep
        if label in _SUMMARY_LABELS:
            header.description = flat(value)
            continue
        key = _METADATA_LABELS[label]
        if key == "series":
            header.series, header.series_part = _parse_series(value)
        elif value:
            setattr(header, key, flat(value))
    return True


def _parse_series(value: str) -> tuple[str | None, str | None]:
    value = flat(value)
    match = re.match(r"^part\s+(\S+)\s+of\s+(?:the\s+)?(.+)$", value, re.IGNORECASE)
    if match:
        return match.group(2).strip(), match.group(1)
    match = re.match(r"^(.+?)(?:,\s*|\s+)(?:part|book|#|no\.?)\s*(\S+)$", value, re.IGNORECASE)
    if match:
        return match.group(1).strip(), match.group(2)
    return (value or None), None


# --- the parser ---------------------------------------------------------------------------


def with_metadata(
    book: Book,
    *,
    description: str | None = None,
    language: str | None = None,
    series: str | None = None,
    series_part: str | None = None,
) -> Book:
    """``book`` with the metadata a format's own fields give (front matter, a page's or
    a package's): only the fields that have a value replace the text reader's."""
    given = {
        "description": description,
        "language": language,
        "series": series,
        "series_part": series_part,
    }
    changes = {key: value for key, value in given.items() if value}
    return replace(book, **changes) if changes else book


def parse_text(
    source: str,
    name: str = "Untitled",
    *,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
) -> Book:
    """Parse a story's text into a Book. ``name`` (the file name) is the fallback title."""
    paragraphs, skipped = _within_gutenberg_markers(split_paragraphs(source))
    header = _Header()
    body_start = _read_front_matter(paragraphs, header)
    front = paragraphs[:body_start]
    body, contents = _without_table_of_contents(paragraphs[body_start:])
    body, end_notes = _split_end_notes(body)
    front_notes = [p for p in front if is_note(p) or _is_summary(p)]
    # Header lines (Title:, Author:, a title and by-line) are never read.
    header_lines = [p for p in front if p not in front_notes] + skipped + contents
    if keep_notes:
        lead = front_notes
        body = body + end_notes
        notes = []
    else:
        lead = []
        notes = front_notes + [p for p in body if _is_inline_note(p)] + end_notes
        body = [p for p in body if not _is_inline_note(p)]
    book_title = title or header.title or _title_from_name(name)
    chapters = _chapters(body, book_title, source, lead)
    return Book(
        title=book_title,
        author=author or header.author or "Unknown Author",
        chapters=tuple(chapters),
        source=source,
        description=header.description,
        language=header.language or "en",
        notes=tuple(sorted(set(notes), key=lambda p: p.start)),
        header=tuple(sorted(set(header_lines), key=lambda p: p.start)),
        series=header.series,
        series_part=header.series_part,
    )


def _within_gutenberg_markers(
    paragraphs: list[Paragraph],
) -> tuple[list[Paragraph], list[Paragraph]]:
    start = next((i for i, p in enumerate(paragraphs) if _GUTENBERG_START.search(p.text)), None)
    end = next((i for i, p in enumerate(paragraphs) if _GUTENBERG_END.search(p.text)), None)
    first = start + 1 if start is not None else 0
    last = end if end is not None and end >= first else len(paragraphs)
    return paragraphs[first:last], paragraphs[:first] + paragraphs[last:]


_CONTENTS = re.compile(r"^(?:table\s+of\s+)?contents\.?$", re.IGNORECASE)


def _without_table_of_contents(
    body: list[Paragraph],
) -> tuple[list[Paragraph], list[Paragraph]]:
    """A "Contents" line and the list of headings under it are not read aloud."""
    for index, paragraph in enumerate(body[:60]):
        if not _CONTENTS.match(flat(paragraph.text)):
            continue
        end = index + 1
        while end < len(body) and _is_contents_entry(body[end]):
            end += 1
        # The last heading before the prose is the first chapter's own heading.
        if end < len(body) and end - 1 > index and parse_heading(body[end - 1]) is not None:
            end -= 1
        return body[:index] + body[end:], body[index:end]
    return body, []


def _is_contents_entry(paragraph: Paragraph) -> bool:
    """A paragraph of the table of contents: headings, one per line."""
    lines = [line for line in lines_of(paragraph) if line]
    return bool(lines) and all(
        parse_heading(Paragraph(0, len(line), re.sub(r"[\s.]+\d+$", "", line))) is not None
        for line in lines
    )


def _is_summary(paragraph: Paragraph) -> bool:
    label = _label(paragraph)
    return bool(label and label[0] in _SUMMARY_LABELS)


def _is_inline_note(paragraph: Paragraph) -> bool:
    """A/N paragraphs anywhere in the story (fanfiction puts them between chapters)."""
    return bool(_AUTHORS_NOTE.match(paragraph.text))


def _read_front_matter(paragraphs: list[Paragraph], header: _Header) -> int:
    """Read title, author and notes from the top; return where the story begins."""
    index = 0
    limit = min(len(paragraphs), 40)
    while index < limit:
        paragraph = paragraphs[index]
        text = flat(paragraph.text)
        if _read_label_lines(paragraph, header):
            index += 1
            continue
        if _is_summary(paragraph):
            header.description = _label(paragraph)[1]  # type: ignore[index]
            index += 1
            continue
        if is_note(paragraph):
            index += 1
            continue
        by_line = _BY_LINE.match(text)
        if by_line and header.author is None and header.title is not None:
            header.author = by_line.group("author").strip()
            index += 1
            continue
        lines = [line for line in lines_of(paragraph) if line]
        if (
            header.title is None
            and len(lines) == 2
            and _BY_LINE.match(lines[1])
            and parse_heading(Paragraph(0, len(lines[0]), lines[0])) is None
            and _looks_like_title(Paragraph(0, len(lines[0]), lines[0]))
        ):
            header.title = _display_title(lines[0].strip("_* "))
            header.author = header.author or _BY_LINE.match(lines[1]).group("author").strip()
            index += 1
            continue
        next_text = flat(paragraphs[index + 1].text) if index + 1 < len(paragraphs) else ""
        if (
            header.title is None
            and parse_heading(paragraph) is None
            and _looks_like_title(paragraph)
            and _BY_LINE.match(next_text)
        ):
            header.title = _display_title(text.strip("_* "))
            index += 1
            continue
        break
    return index


def _split_end_notes(body: list[Paragraph]) -> tuple[list[Paragraph], list[Paragraph]]:
    """Notes after a final "The End" marker are not part of the story."""
    for index in range(len(body) - 1, max(-1, len(body) - 12), -1):
        if _END_MARKER.match(flat(body[index].text)):
            tail = body[index + 1 :]
            if all(is_note(p) or len(flat(p.text)) < 600 for p in tail):
                return body[: index + 1], tail
            break
    return body, []


def _title_from_name(name: str) -> str:
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name)
    words = re.sub(r"[_]+|(?<=[a-z])-(?=[a-z])", " ", stem).split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or "Untitled"


def _chapters(
    body: list[Paragraph], book_title: str, source: str, lead: list[Paragraph]
) -> list[Chapter]:
    """Split the body at headings, and each chapter's paragraphs at scene breaks.

    ``lead`` (front matter read aloud with --keep-notes) opens the first chapter.
    """
    sections: list[tuple[Heading | None, Paragraph | None, list[Paragraph]]] = []
    current: tuple[Heading | None, Paragraph | None, list[Paragraph]] = (None, None, [])
    index = 0
    while index < len(body):
        paragraph = body[index]
        heading = parse_heading(paragraph)
        if heading is not None:
            sections.append(current)
            heading_paragraph = paragraph
            # A bare "CHAPTER I." followed by a title-like line: the line is the title.
            if (
                ":" not in heading.title
                and index + 1 < len(body)
                and parse_heading(body[index + 1]) is None
                and not is_scene_break(body[index + 1])
                and _looks_like_title(body[index + 1])
            ):
                title_paragraph = body[index + 1]
                heading = Heading(
                    heading.kind, _join_title(heading.title, flat(title_paragraph.text))
                )
                heading_paragraph = Paragraph(
                    paragraph.start,
                    title_paragraph.end,
                    source[paragraph.start : title_paragraph.end],
                )
                index += 1
            current = (heading, heading_paragraph, [])
        else:
            current[2].append(paragraph)
        index += 1
    sections.append(current)
    sections = _merge_empty_sections(sections, source)
    if lead:
        heading, heading_paragraph, paragraphs = sections[0] if sections else (None, None, [])
        sections[:1] = [(heading, heading_paragraph, lead + paragraphs)]
    chapters: list[Chapter] = []
    for heading, heading_paragraph, paragraphs in sections:
        if heading is not None:
            title = heading.title
        else:
            # Text before the first heading, or a book without headings.
            title = "Opening" if len(sections) > 1 else book_title
        chapters.append(
            Chapter(
                number=len(chapters) + 1,
                title=title,
                scenes=_scenes(paragraphs),
                heading=heading_paragraph,
            )
        )
    if not chapters:
        chapters.append(Chapter(1, book_title, (Scene(()),)))
    return chapters


def _merge_empty_sections(
    sections: list[tuple[Heading | None, Paragraph | None, list[Paragraph]]],
    source: str,
) -> list[tuple[Heading | None, Paragraph | None, list[Paragraph]]]:
    """A part heading directly followed by a chapter heading titles that chapter;
    a heading with nothing under it before the next (a table of contents) is dropped."""
    merged: list[tuple[Heading | None, Paragraph | None, list[Paragraph]]] = []
    pending_part: tuple[Heading, Paragraph | None] | None = None
    for heading, heading_paragraph, paragraphs in sections:
        if heading is None and not paragraphs:
            continue
        if heading is not None and not paragraphs:
            if heading.kind == "part":
                pending_part = (heading, heading_paragraph)
            continue
        if pending_part is not None and heading is not None:
            part, part_paragraph = pending_part
            heading = Heading(heading.kind, f"{part.title}, {heading.title}")
            if part_paragraph is not None and heading_paragraph is not None:
                heading_paragraph = Paragraph(
                    part_paragraph.start,
                    heading_paragraph.end,
                    source[part_paragraph.start : heading_paragraph.end],
                )
        pending_part = None
        merged.append((heading, heading_paragraph, paragraphs))
    return merged


def _scenes(paragraphs: list[Paragraph]) -> tuple[Scene, ...]:
    scenes: list[list[Paragraph]] = [[]]
    for paragraph in paragraphs:
        if is_scene_break(paragraph):
            if scenes[-1]:
                scenes.append([])
            continue
        scenes[-1].append(paragraph)
    if len(scenes) > 1 and not scenes[-1]:
        scenes.pop()
    return tuple(Scene(tuple(scene)) for scene in scenes)
