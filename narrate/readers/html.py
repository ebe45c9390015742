"""HTML: AO3 and FanFiction.net downloads, and any other page, as a story.

The page is parsed with Python's own ``html.parser`` into a small tree (no network, no
entities beyond HTML's own, scripts and styles dropped), then turned into the plain text
:mod:`narrate.readers.text` reads: block elements become paragraphs, ``h1``-``h3``
chapter headings, ``hr`` scene breaks; italics (``em``, ``i``) are kept as emphasis
(spoken where the engine can), other inline markup keeps its words and loses its tags.

* **AO3** ("Download → HTML"; see ``shared/formats/fanfiction-html.md``): the title
  from the preface's ``h1``, authors from ``div.byline``, the summary as description,
  Series "Part N of …" as series; the chapters from ``div#chapters``, titled by their
  ``h2.heading``. Summaries, notes and the afterword are author's notes: kept out unless
  asked for (``--keep-notes`` reads the chapter notes too).
* **FanFiction.net** (a saved story page): the title, author and summary from
  ``div#profile_top``, the text from ``div#storytext``, the chapter's title from the
  selected option of ``select#chap_select``.
* **Any other page**: the ``title`` element (or the first ``h1``) as title, the body's
  text, its ``h1``-``h3`` headings as chapters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from narrate.model import EMPHASIS_CLOSE, EMPHASIS_OPEN, Book, balanced, plain
from narrate.readers.parts import Parts, book_from_parts

_BLOCKS = frozenset(
    "p div blockquote li ul ol dl dt dd section article header footer aside main nav "
    "table tr td th pre figure figcaption address center body html".split()
)
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
#: Italics: spoken with emphasis where the engine can.
_ITALIC = frozenset({"em", "i", "cite"})
_SKIPPED = frozenset("script style head title noscript template svg math select option".split())
_VOID = frozenset("br hr img meta link input area base col embed param source track wbr".split())


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)  # Element or str

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find(self, tag: str | None = None, id: str | None = None, cls: str | None = None):
        """The first element (itself included) with this tag, id and class."""
        for element in self.iter():
            if (
                (tag is None or element.tag == tag)
                and (id is None or element.attrs.get("id") == id)
                and (cls is None or cls in element.classes)
            ):
                return element
        return None

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag) and (cls is None or cls in element.classes)
        ]

    def text(self) -> str:
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "br":
                parts.append("\n")
            elif child.tag not in _SKIPPED:
                parts.append(child.text())
        return "".join(parts)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {key: value or "" for key, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {key: value or "" for key, value in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_tree(source: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(source)
    builder.close()
    return builder.root


#: What :func:`blocks` puts where an element with one of the ``anchors`` ids begins.
ANCHOR = "\x00anchor:"


def blocks(
    element: Element, heading_level: int = 3, anchors: frozenset[str] = frozenset()
) -> list[str]:
    """The element's text as paragraphs: block elements end a paragraph, headings up to
    ``heading_level`` become ``# Heading`` lines, ``hr`` a scene break; where an element
    whose id is one of ``anchors`` begins, a paragraph ``ANCHOR + id``."""
    paragraphs: list[str] = []
    line: list[str] = []

    def flush() -> None:
        text = balanced(" ".join("".join(line).split()))
        if plain(text).strip():
            paragraphs.append(text)
        line.clear()

    def walk(node: Element) -> None:
        for child in node.children:
            if isinstance(child, str):
                line.append(child)
                continue
            if child.attrs.get("id") in anchors:
                flush()
                paragraphs.append(ANCHOR + child.attrs["id"])
            if child.tag in _SKIPPED:
                continue
            elif child.tag == "br":
                line.append(" ")
            elif child.tag == "hr":
                flush()
                paragraphs.append("* * *")
            elif child.tag in _HEADINGS:
                flush()
                title = " ".join(child.text().split())
                if title:
                    level = int(child.tag[1])
                    paragraphs.append(f"# {title}" if level <= heading_level else title)
            elif child.tag in _BLOCKS:
                flush()
                walk(child)
                flush()
            elif child.tag in _ITALIC:
                line.append(EMPHASIS_OPEN)
                walk(child)
                line.append(EMPHASIS_CLOSE)
            else:
                walk(child)

    walk(element)
    flush()
    return paragraphs


def parse_html(
    source: str,
    name: str = "Untitled",
    *,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
) -> Book:
    """Parse an HTML story page into a Book (see the module notes)."""
    tree = parse_tree(source)
    if tree.find(id="preface") and tree.find(id="chapters"):
        parts = _ao3(tree, keep_notes)
    elif tree.find(id="storytext"):
        parts = _fanfiction_net(tree)
    else:
        parts = _generic(tree)
    return book_from_parts(parts, name, title=title, author=author, keep_notes=keep_notes)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _ao3(tree: Element, keep_notes: bool) -> Parts:
    preface = tree.find(id="preface")
    parts = Parts()
    heading = preface.find("h1")
    parts.title = _clean(heading.text()) if heading else None
    byline = preface.find(cls="byline")
    if byline:
        parts.authors = [_clean(a.text()) for a in byline.find_all("a")] or [
            _clean(byline.text()).removeprefix("by ").strip()
        ]
    labels = _labelled_blockquotes(preface)
    if "Summary" in labels:
        parts.description = " ".join(blocks(labels["Summary"]))
    tags = preface.find("dl", cls="tags")
    if tags:
        terms = tags.find_all("dt")
        values = tags.find_all("dd")
        for term, value in zip(terms, values, strict=False):
            label = _clean(term.text()).rstrip(":")
            if label == "Series":
                match = re.match(r"Part\s+(\d+)\s+of\s+(.+?)(?:,|$)", _clean(value.text()))
                if match:
                    parts.series_part, parts.series = match.group(1), match.group(2).strip()
            elif label == "Language":
                parts.language = {"English": "en"}.get(_clean(value.text()))
    chapters = tree.find(id="chapters")
    current: list[tuple[str | None, list[str]]] = []

    def walk(node: Element) -> None:
        for element in node.children:
            if not isinstance(element, Element):
                continue
            if "meta" in element.classes:
                heading = element.find(cls="heading")
                if heading is not None:
                    current.append((_clean(heading.text()), []))
                    parts.chapters.append(current[-1])
                if keep_notes and current:
                    for label, quote in _labelled_blockquotes(element).items():
                        if "Notes" in label:
                            current[-1][1].extend(blocks(quote))
            elif element.tag == "div" and "userstuff" in element.classes:
                if not current:
                    current.append((None, []))
                    parts.chapters.append(current[-1])
                current[-1][1].extend(blocks(element, heading_level=0))
            elif element.tag == "div":
                walk(element)

    walk(chapters)
    if not parts.chapters:
        parts.chapters.append((None, blocks(chapters, heading_level=0)))
    return parts


def _labelled_blockquotes(element: Element) -> dict[str, Element]:
    """AO3's ``<p>Label</p><blockquote class="userstuff">`` pairs directly inside."""
    found: dict[str, Element] = {}
    label = None
    for child in element.children:
        if not isinstance(child, Element):
            continue
        if child.tag == "p":
            label = _clean(child.text())
        elif child.tag == "blockquote" and label:
            found[label] = child
            label = None
        elif child.tag in ("div",):
            found.update(_labelled_blockquotes(child))
    return found


def _fanfiction_net(tree: Element) -> Parts:
    parts = Parts()
    profile = tree.find(id="profile_top")
    if profile:
        bold = profile.find("b", cls="xcontrast_txt") or profile.find("b")
        parts.title = _clean(bold.text()) if bold else None
        for link in profile.find_all("a"):
            if "/u/" in link.attrs.get("href", ""):
                parts.authors = [_clean(link.text())]
                break
        summary = profile.find("div", cls="xcontrast_txt")
        if summary:
            parts.description = _clean(summary.text())
    heading = None
    chooser = tree.find("select", id="chap_select") or tree.find(id="chap_select")
    if chooser:
        for option in chooser.find_all("option"):
            if "selected" in option.attrs:
                heading = re.sub(r"^\d+\.\s*", "", _clean(option.text()))
    parts.chapters.append((heading, blocks(tree.find(id="storytext"), heading_level=0)))
    return parts


def _generic(tree: Element) -> Parts:
    parts = Parts()
    title = tree.find("title")
    heading = tree.find("h1")
    parts.title = _clean(title.text()) if title and _clean(title.text()) else None
    if parts.title is None and heading:
        parts.title = _clean(heading.text())
    for meta in tree.find_all("meta"):
        if meta.attrs.get("name", "").lower() == "author":
            parts.authors = [_clean(meta.attrs.get("content", ""))]
        elif meta.attrs.get("name", "").lower() == "description":
            parts.description = _clean(meta.attrs.get("content", "")) or None
    html = tree.find("html")
    if html and html.attrs.get("lang"):
        parts.language = html.attrs["lang"]
    body = tree.find("body") or tree
    paragraphs = blocks(body)
    # A first h1 that is the page's title is the book's title, not a chapter.
    if paragraphs and parts.title and paragraphs[0] == f"# {parts.title}":
        paragraphs = paragraphs[1:]
    parts.chapters.append((None, paragraphs))
    return parts
