"""EPUB 2 and 3: chapters from the table of contents, metadata and cover from the package.

* **Chapters**: the EPUB 3 navigation document's ``toc``, else the EPUB 2 NCX, entries
  nested or not, in reading order; each entry's document (and the ones after it, up to the
  next entry's) is a chapter titled by the entry. Documents before the first entry, and
  entries named like front or back matter (cover, title page, copyright, contents…), are
  not read. Without a table of contents every document of the spine is a chapter.
* **Metadata**: ``dc:title``, ``dc:creator``, ``dc:language``, ``dc:description``, the
  series from ``calibre:series`` (and ``calibre:series_index``) or EPUB 3's
  ``belongs-to-collection`` (and its ``group-position``), the cover image (EPUB 3's
  ``cover-image`` item, or EPUB 2's ``<meta name="cover">``).
* **Safety**: the package's XML is parsed with defusedxml (no DTDs, no entity expansion:
  a "billion laughs" file is refused); members are read from the archive, never
  extracted; a member or link whose path climbs out of the archive (``../``, absolute) is
  refused; so is an archive that would unpack to more than MAX_UNPACKED bytes or a member
  compressed more than MAX_RATIO to one (a zip bomb). Chapter documents are read with the
  HTML reader's parser, which expands no entities.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException

from narrate.errors import ConfigError
from narrate.model import Book
from narrate.readers.html import ANCHOR, blocks, parse_tree
from narrate.readers.parts import Parts, book_from_parts

MAX_UNPACKED = 512 * 1024 * 1024
MAX_RATIO = 200
_FRONT_OR_BACK = re.compile(
    r"^\s*(?:cover|title\s*page|title|half\s*title|copyright|contents|table\s+of\s+contents|"
    r"toc|dedication|colophon|imprint|about\s+the\s+(?:author|publisher)|also\s+by.*|"
    r"information|front\s*matter|back\s*matter|acknowledge?ments?)\s*$",
    re.IGNORECASE,
)
_NS = {
    "container": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}


def read_epub(
    path: Path,
    *,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
) -> Book:
    """Read an EPUB file into a Book (see the module notes)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ConfigError(f"{path}: not an EPUB (not a zip archive)") from None
    with archive:
        epub = _Epub(archive, path)
        parts = epub.parts()
        book = book_from_parts(parts, path.name, title=title, author=author, keep_notes=keep_notes)
        cover = epub.cover()
    if cover is not None:
        book = replace(book, cover=cover[0], cover_mime=cover[1])
    return book


class _Epub:
    def __init__(self, archive: zipfile.ZipFile, path: Path) -> None:
        self.archive, self.path = archive, path
        total = 0
        for info in archive.infolist():
            _check_member_name(info.filename, path)
            total += info.file_size
            big = info.compress_size and info.file_size > 10 * 1024 * 1024
            if big and info.file_size / info.compress_size > MAX_RATIO:
                raise ConfigError(
                    f"{path}: refused: {info.filename} unpacks {MAX_RATIO}x or more (a zip bomb?)"
                )
        if total > MAX_UNPACKED:
            raise ConfigError(
                f"{path}: refused: it would unpack to {total // 2**20} MB (a zip bomb?)"
            )
        container = self.xml("META-INF/container.xml")
        rootfile = container.find(".//container:rootfile", _NS)
        if rootfile is None or not rootfile.get("full-path"):
            raise ConfigError(f"{path}: not an EPUB: META-INF/container.xml names no package")
        self.opf_path = self.resolve("", rootfile.get("full-path"))
        self.opf = self.xml(self.opf_path)
        self.base = posixpath.dirname(self.opf_path)
        self.manifest = {
            item.get("id"): item for item in self.opf.iterfind(".//opf:manifest/opf:item", _NS)
        }
        self.spine = [
            self.href(self.manifest[ref.get("idref")])
            for ref in self.opf.iterfind(".//opf:spine/opf:itemref", _NS)
            if ref.get("idref") in self.manifest and ref.get("linear", "yes") != "no"
        ]

    # -- reading members

    def read(self, name: str) -> bytes:
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise ConfigError(f"{self.path}: the EPUB lacks {name}") from None
        with self.archive.open(info) as member:
            data = member.read(info.file_size + 1)
        if len(data) > info.file_size:
            raise ConfigError(f"{self.path}: refused: {name} is larger than it says")
        return data

    def xml(self, name: str):
        try:
            return SafeXML.fromstring(self.read(name))
        except DefusedXmlException:
            raise ConfigError(
                f"{self.path}: refused: {name} declares entities or a DTD (unsafe XML)"
            ) from None
        except SafeXML.ParseError as error:
            raise ConfigError(f"{self.path}: {name} is not well-formed XML: {error}") from None

    def resolve(self, base: str, href: str) -> str:
        """A link's path inside the archive, refusing one that climbs out of it."""
        target = unquote(href.split("#", 1)[0])
        joined = posixpath.normpath(posixpath.join(base, target)) if target else base
        if joined.startswith(("../", "/")) or joined == ".." or target.startswith("/"):
            raise ConfigError(f"{self.path}: refused: the link {href!r} leaves the EPUB")
        return joined

    def target(self, base: str, href: str) -> str:
        """A link's document inside the archive, with its ``#fragment`` if it has one."""
        fragment = href.split("#", 1)[1] if "#" in href else ""
        document = self.resolve(base, href)
        return f"{document}#{fragment}" if fragment else document

    def href(self, item) -> str:
        return self.resolve(self.base, item.get("href", ""))

    # -- metadata

    def parts(self) -> Parts:
        parts = Parts()
        metadata = self.opf.find("opf:metadata", _NS)
        if metadata is None:
            metadata = self.opf
        parts.title = _text(metadata.find("dc:title", _NS))
        parts.authors = [_text(c) for c in metadata.iterfind("dc:creator", _NS) if _text(c)]
        parts.language = _text(metadata.find("dc:language", _NS))
        description = _text(metadata.find("dc:description", _NS))
        if description:
            parts.description = " ".join(" ".join(blocks(parse_tree(description))).split())
        for meta in metadata.iterfind("opf:meta", _NS):
            name, content = meta.get("name"), meta.get("content")
            if name == "calibre:series" and content:
                parts.series = content.strip()
            elif name == "calibre:series_index" and content:
                parts.series_part = content.strip().removesuffix(".0")
            elif meta.get("property") == "belongs-to-collection" and _text(meta):
                parts.series = _text(meta)
                for refine in metadata.iterfind("opf:meta", _NS):
                    if (
                        refine.get("refines") == f"#{meta.get('id')}"
                        and refine.get("property") == "group-position"
                    ):
                        parts.series_part = _text(refine)
        parts.chapters = self.chapters()
        return parts

    def cover(self) -> tuple[bytes, str] | None:
        item = next(
            (i for i in self.manifest.values() if "cover-image" in i.get("properties", "").split()),
            None,
        )
        if item is None:
            for meta in self.opf.iterfind(".//opf:metadata/opf:meta", _NS):
                if meta.get("name") == "cover" and meta.get("content") in self.manifest:
                    item = self.manifest[meta.get("content")]
        if item is None or item.get("media-type") not in ("image/jpeg", "image/png"):
            return None
        try:
            return self.read(self.href(item)), item.get("media-type")
        except ConfigError:
            return None

    # -- chapters

    def toc(self) -> list[tuple[str, str]]:
        """(label, document#fragment) of each table of contents entry, in order."""
        nav = next(
            (i for i in self.manifest.values() if "nav" in i.get("properties", "").split()),
            None,
        )
        if nav is not None:
            path = self.href(nav)
            tree = parse_tree(self.read(path).decode("utf-8", errors="replace"))
            navs = tree.find_all("nav")
            chosen = next((n for n in navs if "toc" in n.attrs.get("epub:type", "")), None)
            chosen = chosen or (navs[0] if navs else None)
            if chosen is not None:
                entries = [
                    (
                        " ".join(a.text().split()),
                        self.resolve(posixpath.dirname(path), a.attrs["href"]),
                    )
                    for a in chosen.find_all("a")
                    if a.attrs.get("href")
                ]
                if entries:
                    return entries
        spine = self.opf.find(".//opf:spine", _NS)
        ncx_id = spine.get("toc") if spine is not None else None
        if ncx_id in self.manifest:
            path = self.href(self.manifest[ncx_id])
            ncx = self.xml(path)
            entries = []
            for point in ncx.iter(f"{{{_NS['ncx']}}}navPoint"):
                label = point.find("ncx:navLabel/ncx:text", _NS)
                content = point.find("ncx:content", _NS)
                if content is not None and content.get("src"):
                    entries.append(
                        (
                            _text(label) or "",
                            self.resolve(posixpath.dirname(path), content.get("src")),
                        )
                    )
            return entries
        return []

    def chapters(self) -> list[tuple[str | None, list[str]]]:
        entries = self.toc()
        starts: dict[str, str] = {}  # document -> label of its first entry without anchor
        anchors: dict[str, dict[str, str]] = {}  # document -> {anchor id: label}
        first_entry: dict[str, str] = {}
        for label, target in entries:
            document, _, fragment = target.partition("#")
            first_entry.setdefault(document, label)
            if fragment:
                anchors.setdefault(document, {}).setdefault(fragment, label)
            else:
                starts.setdefault(document, label)
        chapters: list[tuple[str | None, list[str]]] = []
        reading = not first_entry  # without a table of contents, everything

        def begin(label: str | None) -> None:
            nonlocal reading
            reading = label is None or not _FRONT_OR_BACK.match(label)
            if reading:
                chapters.append((label, []))

        for document in self.spine:
            marks = anchors.get(document, {})
            if document in starts:
                begin(starts[document])
            elif not first_entry:
                begin(None)
            elif document in first_entry and not marks:
                begin(first_entry[document])
            for paragraph in self.document_text(document, frozenset(marks)):
                if paragraph.startswith(ANCHOR):
                    begin(marks[paragraph[len(ANCHOR) :]])
                    continue
                if not reading or not chapters:
                    continue
                label, lines = chapters[-1]
                if label is None and not lines and paragraph.startswith("# "):
                    chapters[-1] = (paragraph[2:], lines)
                    continue
                lines.append(paragraph)
        return [(label, _without_title(lines, label)) for label, lines in chapters if lines]

    def document_text(self, document: str, anchors: frozenset[str] = frozenset()) -> list[str]:
        tree = parse_tree(self.read(document).decode("utf-8", errors="replace"))
        body = tree.find("body") or tree
        return blocks(body, heading_level=6, anchors=anchors)


def _without_title(paragraphs: list[str], title: str | None) -> list[str]:
    """A chapter's paragraphs without the headings that repeat its title at its top, and
    with its other headings as plain lines (the table of contents names the chapters)."""
    result = []
    leading = True
    for paragraph in paragraphs:
        if paragraph.startswith("# "):
            text = paragraph[2:]
            if leading and title and _same(text, title, partial=True):
                continue
            paragraph = text
        leading = leading and paragraph.startswith("# ")
        result.append(paragraph)
    return result


def _same(text: str, title: str, partial: bool = False) -> bool:
    a = re.sub(r"\W+", " ", text).strip().lower()
    b = re.sub(r"\W+", " ", title).strip().lower()
    return a == b or (partial and bool(a) and (a in b or b in a))


def _text(element) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _check_member_name(name: str, path: Path) -> None:
    normal = posixpath.normpath(name.replace("\\", "/"))
    if (
        name.startswith(("/", "\\"))
        or normal == ".."
        or normal.startswith("../")
        or re.match(r"^[A-Za-z]:", name)
    ):
        raise ConfigError(f"{path}: refused: the member {name!r} leaves the archive")
