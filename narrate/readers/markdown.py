"""Markdown: headings as chapters, YAML front matter as metadata, markup never read aloud.

* **Front matter**: a ``---`` block at the top, read as YAML (safely: no tags run code):
  ``title``, ``author``, ``description`` (or ``summary``), ``language`` (or ``lang``),
  ``series``, ``series_part``.
* **Headings**: a single ``#`` heading above ``##`` headings is the book's title and the
  ``##`` headings are its chapters; otherwise every ``#``-``###`` heading is a chapter.
* **Text**: italics (``*word*``, ``_word_``) are kept as emphasis, spoken where the
  engine can (:data:`narrate.spoken.EMPHASIS_OPEN`); bold, inline code, links and
  images, block quotes, list bullets and HTML comments lose their markup, keeping their
  words (an image keeps nothing); a horizontal rule is a scene break.

The Markdown becomes the plain text :mod:`narrate.readers.text` reads, so chapters,
scenes, notes and dialogue come out exactly as they would from a text file with the
same words; offsets in the script refer to that text.
"""

from __future__ import annotations

import re

from narrate.errors import ConfigError
from narrate.model import Book
from narrate.readers.text import parse_text, with_metadata
from narrate.spoken import EMPHASIS_CLOSE, EMPHASIS_OPEN

_FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(?P<yaml>.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S
)
_HEADING = re.compile(r"^(?P<marks>#{1,6})[ \t]+(?P<title>.*?)[ \t]*#*[ \t]*$", re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?:[^)(]|\([^)]*\))*\)")
_CODE = re.compile(r"`+(?P<text>[^`]+?)`+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(?P<text>.+?)(?<=\S)\1", re.S)
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(?P<text>.+?)(?<=\S)\1(?![\w*])", re.S)
_QUOTE_MARK = re.compile(r"^[ \t]{0,3}>[ \t]?", re.M)
_BULLET = re.compile(r"^[ \t]*(?:[-+*]|\d+[.)])[ \t]+(?=\S)", re.M)
_RULE = re.compile(r"^[ \t]*(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$", re.M)


def parse_markdown(
    source: str,
    name: str = "Untitled",
    *,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
) -> Book:
    """Parse a Markdown story into a Book (see the module notes)."""
    meta, body = _front_matter(source, name)
    headings = [(len(m.group("marks")), m) for m in _HEADING.finditer(body)]
    top = [m for level, m in headings if level == 1]
    book_title = title or _text(meta.get("title"))
    if len(top) == 1 and any(level == 2 for level, _ in headings):
        book_title = book_title or _plain(top[0].group("title"))
        body = body[: top[0].start()] + body[top[0].end() :]
    text = _plain_text(body)
    book = parse_text(
        text,
        name,
        title=book_title,
        author=author or _text(meta.get("author")),
        keep_notes=keep_notes,
    )
    part = meta.get("series_part")
    return with_metadata(
        book,
        description=_text(meta.get("description") or meta.get("summary")),
        language=_text(meta.get("language") or meta.get("lang")),
        series=_text(meta.get("series")),
        series_part=_text(part) if part is not None else None,
    )


def _front_matter(source: str, name: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(source)
    if not match:
        return {}, source
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(match.group("yaml"))
    except YAMLError as error:
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        raise ConfigError(f"{name}: the front matter is not valid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the front matter must be a mapping (title: ..., author: ...)")
    return {str(key).lower(): value for key, value in data.items()}, source[match.end() :]


def _plain_text(body: str) -> str:
    """The Markdown's words without its markup; headings become ``# Title`` lines, which
    the text reader takes for chapters, and rules ``* * *``, its scene break."""
    body = _COMMENT.sub("", body)
    body = _HEADING.sub(lambda m: f"# {_plain(m.group('title'))}", body)
    body = _RULE.sub("* * *", body)
    body = _QUOTE_MARK.sub("", body)
    body = _BULLET.sub("", body)
    return _plain(body)


def _plain(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: m.group("text"), text)
    text = _CODE.sub(lambda m: m.group("text"), text)
    text = _STRONG.sub(lambda m: m.group("text"), text)
    text = _EMPHASIS.sub(lambda m: EMPHASIS_OPEN + m.group("text") + EMPHASIS_CLOSE, text)
    return text.replace("\\*", "*").replace("\\_", "_")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return " ".join(str(value).split()) or None
