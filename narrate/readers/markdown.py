"""Markdown, read by a CommonMark parser: headings as chapters, YAML front matter as
metadata, markup never read aloud.

The file is parsed by markdown-it-py (CommonMark, with GitHub's tables and strikethrough,
and the front-matter and footnote plugins of mdit-py-plugins); this module walks its
tokens:

* **Front matter**: a ``---`` block at the top, read as YAML (safely: no tags run code):
  ``title``, ``author``, ``description`` (or ``summary``), ``language`` (or ``lang``),
  ``series``, ``series_part``.
* **Headings**, ATX (``## Title``) and setext (a line underlined with ``===`` or
  ``---``) alike: a single level-1 heading above level-2 ones is the book's title and
  those are its chapters; otherwise every heading is a chapter.
* **Read**: paragraphs, also inside block quotes and lists (an item is a paragraph); the
  text of links; emphasis (``*word*``, ``_word_``) as emphasis, spoken where the engine
  can (:data:`narrate.speech.text.EMPHASIS_OPEN`); strong and struck-through text as plain
  words; backslash escapes and entities as the characters they stand for. A hard line
  break inside a paragraph joins its lines like any other. A thematic break (``***``) is
  a scene break. Footnote texts only with ``keep_notes``, after the story.
* **Never read**: link destinations, images, code spans and code blocks, HTML blocks,
  inline HTML and comments, tables, footnote references.

What is read becomes the plain text :mod:`narrate.readers.text` reads, so chapters,
scenes, notes and dialogue come out as they would from a text file with the same words.
That text is the Book's ``source``; its ``origin`` maps every character back to the
file, so the script's offsets point into the Markdown as written.
"""

from __future__ import annotations

import functools
import html
from dataclasses import replace
from typing import Any

from narrate.errors import ConfigError
from narrate.model import EMPHASIS_CLOSE, EMPHASIS_OPEN, Book, SourceMap
from narrate.readers.text import parse_text, with_metadata

#: Blocks whose whole content is never read, by their opening and closing tokens (code
#: and HTML blocks are single tokens, never read either).
_SKIPPED_BLOCKS = {"table_open": "table_close"}
_NOTES = {"footnote_block_open": "footnote_block_close"}


@functools.cache
def _parser() -> Any:
    """The CommonMark parser with the plugins narrate reads (built once)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    return (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(footnote_plugin)
    )


def parse_markdown(
    source: str,
    name: str = "Untitled",
    *,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
) -> Book:
    """Parse a Markdown story into a Book (see the module notes)."""
    # A byte-order mark would hide the front matter's opening line from the parser.
    skip = 1 if source.startswith("\ufeff") else 0
    tokens = _parser().parse(source[skip:])
    meta = _front_matter(tokens, name)
    title_heading = _title_heading(tokens)
    book_title = title or _text(meta.get("title"))
    if title_heading is not None:
        book_title = book_title or _inline_words(tokens[title_heading + 1])
    reading = _Reading(source, skip)
    _read_blocks(tokens, reading, title_heading, keep_notes)
    text, origin = reading.result()
    book = parse_text(
        text,
        name,
        title=book_title,
        author=author or _text(meta.get("author")),
        keep_notes=keep_notes,
    )
    part = meta.get("series_part")
    return with_metadata(
        replace(book, origin=origin),
        description=_text(meta.get("description") or meta.get("summary")),
        language=_text(meta.get("language") or meta.get("lang")),
        series=_text(meta.get("series")),
        series_part=_text(part) if part is not None else None,
    )


def _front_matter(tokens: list, name: str) -> dict:
    """The YAML front matter's fields, keys in lower case."""
    block = next((token for token in tokens if token.type == "front_matter"), None)
    if block is None:
        return {}
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(block.content)
    except YAMLError as error:
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        raise ConfigError(f"{name}: the front matter is not valid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the front matter must be a mapping (title: ..., author: ...)")
    return {str(key).lower(): value for key, value in data.items()}


def _title_heading(tokens: list) -> int | None:
    """The index of the ``heading_open`` that is the book's title: the only level-1
    heading, when there are level-2 ones."""
    levels = [
        (index, token.tag) for index, token in enumerate(tokens) if token.type == "heading_open"
    ]
    top = [index for index, tag in levels if tag == "h1"]
    if len(top) == 1 and any(tag == "h2" for _, tag in levels):
        return top[0]
    return None


def _inline_words(inline: Any) -> str:
    """The words of an inline token, markup and code left out (a heading's title)."""
    words = []
    skipping = 0
    for child in inline.children or ():
        if child.type == "link_open" and child.markup == "autolink":
            skipping += 1
        elif child.type == "link_close" and child.markup == "autolink":
            skipping -= 1
        elif child.type == "text" and not skipping:
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
    return " ".join("".join(words).split())


def _read_blocks(tokens: list, reading: _Reading, title_heading: int | None, keep_notes: bool):
    """Walk the block tokens: what is read goes into ``reading`` as paragraphs."""
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        closing = _SKIPPED_BLOCKS.get(kind) or (None if keep_notes else _NOTES.get(kind))
        if closing:
            while index < len(tokens) and tokens[index].type != closing:
                index += 1
        elif kind == "heading_open":
            inline = tokens[index + 1]
            if index != title_heading and _inline_words(inline):
                reading.block(token, inline, heading=True)
            index += 2  # the inline and the closing token
        elif kind == "paragraph_open":
            reading.block(token, tokens[index + 1])
            index += 2
        elif kind == "hr":
            reading.scene_break(token)
        # Leaves never read (code, HTML) and containers (quotes, lists, footnotes) that
        # only hold paragraphs: nothing to do.
        index += 1


class _Reading:
    """The text the text reader is given, built block by block, and for each of its
    characters the position in the file it stands for.

    Inline tokens carry no positions, only their block's lines; each character read is
    found in those lines from where the last one was, markup and link destinations
    stepped over, so it maps to the character as written.
    """

    def __init__(self, source: str, skip: int) -> None:
        self.source = source
        self.line_starts = _line_starts(source, skip)
        self.parts: list[str] = []
        self.length = 0
        #: (text position, file position, length) runs, as SourceMap keeps them.
        self.runs: list[list[int]] = []
        self.cursor = 0
        self.end = 0
        #: Inside an autolink (``<https://…>``), whose text is its address: not read.
        self.autolink = False

    # -- blocks

    def block(self, opening: Any, inline: Any, heading: bool = False) -> None:
        """A paragraph, or a heading as the text reader knows one: ``# Title``."""
        self._enter(opening)
        self._separate()
        if heading:
            self._emit("# ", self.cursor)
        for child in inline.children or ():
            self._inline(child)

    def scene_break(self, token: Any) -> None:
        self._enter(token)
        self._separate()
        self._emit("* * *", self.cursor)

    def result(self) -> tuple[str, SourceMap]:
        self._emit("\n", len(self.source))
        return "".join(self.parts), SourceMap(tuple(tuple(run) for run in self.runs))

    # -- inline tokens

    def _inline(self, child: Any) -> None:
        kind = child.type
        if kind == "text":
            if self.autolink:
                self._step_over(child.content)
            else:
                self._read(child.content)
        elif kind in ("softbreak", "hardbreak"):
            self._read("\n")
        elif kind in ("em_open", "em_close"):
            mark = EMPHASIS_OPEN if kind == "em_open" else EMPHASIS_CLOSE
            self._emit(mark, self._find(child.markup))
            self._step_over(child.markup)
        elif kind in ("strong_open", "strong_close", "s_open", "s_close"):
            self._step_over(child.markup)
        elif kind == "link_open":
            self.autolink = child.markup == "autolink"
            self._step_over("<" if self.autolink else "[")
        elif kind == "link_close":
            if self.autolink:
                self._step_over(">")
                self.autolink = False
            else:
                self._past_destination()
        elif kind == "image":
            self._step_over("![")
            self._past_destination()
        elif kind == "code_inline":
            self._step_over(child.markup)
            self._step_over(child.markup)
        elif kind == "html_inline":
            self._step_over(child.content)
        elif kind == "footnote_ref":
            self._step_over("[^")
            self._step_over("]")

    def _read(self, text: str) -> None:
        """Characters that are read: each maps to where it is written next in the block,
        as itself or as an entity (``&amp;``, ``&#8220;``)."""
        if self.source.startswith(text, self.cursor) and self.cursor + len(text) <= self.end:
            # Written as it is read, the usual case: one run.
            self._emit(text, self.cursor, written=True)
            self.cursor += len(text)
            return
        for character in text:
            position = self.source.find(character, self.cursor, self.end)
            entity = self._entity(character, position)
            if entity is not None:
                self._emit(character, entity[0])
                self.cursor = entity[1]
            elif position >= 0:
                self._emit(character, position)
                self.cursor = position + 1
            else:  # not found: keep the place
                self._emit(character, min(self.cursor, max(self.end - 1, 0)))

    def _entity(self, character: str, before: int) -> tuple[int, int] | None:
        """The span of an entity for ``character`` ahead of ``before`` (or anywhere ahead
        when ``before`` is -1), if the next ``&`` starts one."""
        start = self.source.find("&", self.cursor, self.end)
        if start < 0 or (before >= 0 and start > before):
            return None
        close = self.source.find(";", start, min(start + 12, self.end))
        if close < 0 or html.unescape(self.source[start : close + 1]) != character:
            return None
        return start, close + 1

    def _find(self, text: str) -> int:
        position = self.source.find(text, self.cursor, self.end)
        return position if position >= 0 else min(self.cursor, max(self.end - 1, 0))

    def _step_over(self, text: str) -> None:
        """Move past the next ``text`` in the block (markup that is not read)."""
        if text:
            position = self.source.find(text, self.cursor, self.end)
            if position >= 0:
                self.cursor = position + len(text)

    def _past_destination(self) -> None:
        """Move past a link's or image's end: ``](url "title")``, ``][label]`` or ``]``."""
        close = self.source.find("]", self.cursor, self.end)
        if close < 0:
            return
        position = close + 1
        following = self.source[position : position + 1]
        if following == "(":
            depth = 0
            while position < self.end:
                character = self.source[position]
                if character == "\\":
                    position += 2
                    continue
                depth += {"(": 1, ")": -1}.get(character, 0)
                position += 1
                if depth == 0:
                    break
        elif following == "[":
            label_end = self.source.find("]", position, self.end)
            position = label_end + 1 if label_end >= 0 else position
        self.cursor = position

    # -- the text and its origin

    def _enter(self, token: Any) -> None:
        """Start reading the lines of a block token."""
        if token.map is None:  # a token without lines: go on where the last one ended
            return
        first, last = token.map
        self.cursor = self.line_starts[first]
        self.end = self.line_starts[min(last, len(self.line_starts) - 1)]

    def _separate(self) -> None:
        if self.parts:
            self._emit("\n\n", self.cursor)

    def _emit(self, text: str, position: int, written: bool = False) -> None:
        """Add ``text``: ``written`` there as it is, character for character, from
        ``position`` in the file; else every character of it stands for ``position``."""
        last = self.runs[-1] if self.runs else None
        if last and last[0] + last[2] == self.length and last[1] + last[2] == position:
            last[2] += len(text) if written else 1
        else:
            self.runs.append([self.length, position, len(text) if written else 1])
        self.parts.append(text)
        self.length += len(text)


def _line_starts(source: str, skip: int) -> list[int]:
    """Where each line of ``source[skip:]`` starts, as markdown-it counts lines (``\\n``,
    ``\\r\\n`` or ``\\r`` ends one), and the end of the text last."""
    starts = [skip]
    position = skip
    while True:
        line_feed = source.find("\n", position)
        carriage = source.find("\r", position, line_feed if line_feed >= 0 else len(source))
        if carriage >= 0:  # "\r" alone, or the "\r" of "\r\n"
            position = carriage + (2 if source.startswith("\r\n", carriage) else 1)
        elif line_feed >= 0:
            position = line_feed + 1
        else:
            break
        starts.append(position)
    if starts[-1] != len(source):
        starts.append(len(source))
    return starts


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return " ".join(str(value).split()) or None
