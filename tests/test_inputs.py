"""Inputs besides plain UTF-8 text: Markdown, standard input, other encodings. The same
story in each form must give the same chapters and speakers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import narrate
from narrate.cli import main
from narrate.readers import read_book

TEXT = """Title: The Ferry
Author: Ada Quill

Chapter 1: Crossing

The ferry left at dawn. Ann stood at the rail with her brother Ben.

"Cold enough for you?" asked Ben.

"Colder than last year," said Ann. "Much colder."

Chapter 2: Landing

The gulls came out to meet them.

"There's Mother," said Ben, pointing.

Chapter 3: Home

Mother took their bags.

"You must be frozen," she said.
"""

MARKDOWN = """---
title: The Ferry
author: Ada Quill
description: Two children cross to the island.
language: en-GB
---

# The Ferry

## Chapter 1: Crossing

The ferry left at *dawn*. Ann stood at the rail with her brother **Ben**.

"Cold enough for you?" asked Ben.

"Colder than [last year](https://example.org)," said Ann. "Much _colder_."

<!-- a note to myself -->

## Chapter 2: Landing

The gulls came out to meet them. ![gulls](gulls.png)

"There's Mother," said Ben, pointing.

## Chapter 3: Home

Mother took their bags.

"You must be frozen," she said.
"""


def script_lines(path) -> list[dict]:
    result = CliRunner().invoke(main, ["script", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def essentials(lines: list[dict]) -> list[tuple]:
    """What is read, by whom, in which chapter: spoken lines but the headings (a heading's
    text is as written: "# Chapter 1" in Markdown; the chapter titles are compared apart)."""
    return [
        (line["chapter"], line["kind"], line["speaker"], line["text"])
        for line in lines
        if line.get("spoken", True) and not line["text"].lstrip("# ").startswith("Chapter")
    ]


def test_the_same_story_as_text_and_markdown_reads_the_same(tmp_path):
    text, markdown = tmp_path / "ferry.txt", tmp_path / "ferry.md"
    text.write_text(TEXT, encoding="utf-8")
    markdown.write_text(MARKDOWN, encoding="utf-8")
    from_text, from_markdown = read_book(text), read_book(markdown)
    assert [c.title for c in from_markdown.chapters] == [c.title for c in from_text.chapters]
    assert [c.title for c in from_text.chapters] == [
        "Chapter 1: Crossing",
        "Chapter 2: Landing",
        "Chapter 3: Home",
    ]
    assert (from_markdown.title, from_markdown.author) == ("The Ferry", "Ada Quill")
    assert from_markdown.description == "Two children cross to the island."
    assert from_markdown.language == "en-GB"
    a, b = essentials(script_lines(text)), essentials(script_lines(markdown))
    assert a == b
    assert tuple(line[2] for line in a if line[1] == "dialogue")[:2] == ("Ben", "Ann")
    assert not any(mark in line[3] for line in b for mark in ("*", "_", "[", "](", "<!--"))


def test_front_matter_tags_never_run(tmp_path):
    story = tmp_path / "evil.md"
    story.write_text(
        "---\ntitle: !!python/object/apply:os.system ['touch pwned']\n---\n\nHello.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["script", str(story)])
    assert result.exit_code == 2
    assert "front matter is not valid YAML" in result.output
    assert not (tmp_path / "pwned").exists()


def test_standard_input_is_read_as_a_file_would_be(tmp_path):
    text = tmp_path / "ferry.txt"
    text.write_text(TEXT, encoding="utf-8")
    piped = subprocess.run(
        [sys.executable, "-m", "narrate.cli", "script", "-", "--format", "jsonl"],
        input=TEXT.encode("utf-8"),
        capture_output=True,
        check=True,
    )
    lines = [json.loads(line) for line in piped.stdout.decode().splitlines() if line.strip()]
    assert essentials(lines) == essentials(script_lines(text))
    markdown = subprocess.run(
        [sys.executable, "-m", "narrate.cli", "script", "-", "--format", "jsonl"],
        input=MARKDOWN.encode("utf-8"),
        capture_output=True,
        check=True,
    )
    from_markdown = [json.loads(line) for line in markdown.stdout.decode().splitlines()]
    assert essentials(from_markdown) == essentials(lines)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_unicode_with_a_byte_order_mark_reads_like_utf8(tmp_path, encoding):
    plain, other = tmp_path / "plain.txt", tmp_path / f"{encoding}.txt"
    plain.write_text(TEXT + "\nÉlise waved — «bonjour».\n", encoding="utf-8")
    data = (TEXT + "\nÉlise waved — «bonjour».\n").encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    other.write_bytes(data)
    assert [s.text for s in narrate.script(other).segments] == [
        s.text for s in narrate.script(plain).segments
    ]
    assert narrate.script(other).warnings == ()


def test_windows_1252_text_is_read_with_a_warning(tmp_path):
    story = tmp_path / "old.txt"
    story.write_bytes(TEXT.replace("Colder", "Colder\u2014much").encode("cp1252"))
    result = CliRunner().invoke(main, ["script", str(story)])
    assert result.exit_code == 0
    assert "much colder" in result.output.lower() or "colder\u2014much" in result.output.lower()
    assert "not UTF-8" in result.output and "Windows-1252" in result.output


# --- HTML and EPUB: fixtures built here, in the structures the sites and EPUB use -------

CHAPTERS = [
    (
        "Chapter 1: Crossing",
        [
            "The ferry left at <em>dawn</em>. Ann stood at the rail with her brother Ben.",
            "&#8220;Cold enough for you?&#8221; asked Ben.",
            "&#8220;Colder than last year,&#8221; said Ann. &#8220;Much colder.&#8221;",
        ],
    ),
    (
        "Chapter 2: Landing",
        [
            "The gulls came out to meet them.",
            "&#8220;There&#8217;s Mother,&#8221; said Ben, pointing.",
        ],
    ),
    (
        "Chapter 3: Home",
        [
            "Mother took their bags.",
            "&#8220;You must be frozen,&#8221; she said.",
        ],
    ),
]
CURLY_TEXT = (
    TEXT.replace('"Cold enough for you?"', "\u201cCold enough for you?\u201d")
    .replace(
        '"Colder than last year," said Ann. "Much colder."',
        "\u201cColder than last year,\u201d said Ann. \u201cMuch colder.\u201d",
    )
    .replace('"There\'s Mother,"', "\u201cThere\u2019s Mother,\u201d")
    .replace('"You must be frozen,"', "\u201cYou must be frozen,\u201d")
)


def paragraphs(texts: list[str]) -> str:
    return "".join(f"<p>{text}</p>\n" for text in texts)


def ao3_html() -> str:
    chapters = "".join(
        f'<div class="meta group"><h2 class="heading">{title}</h2>'
        "<p>Chapter Notes</p>"
        '<blockquote class="userstuff"><p>Thanks, readers!</p></blockquote></div>\n'
        f'<!--chapter content--><div class="userstuff">{paragraphs(texts)}</div>'
        "<!--/chapter content-->\n"
        for title, texts in CHAPTERS
    )
    return f"""<!DOCTYPE html><html><head><meta charset="UTF-8"><title>The Ferry - Ada Quill</title>
<style>p {{ margin: 0 }}</style><script>alert("not read")</script></head><body>
<div id="preface"><h2 class="toc-heading">Preface</h2>
<p class="message"><b>The Ferry</b><br/>Posted originally on the Archive of Our Own</p>
<div class="meta"><dl class="tags"><dt>Rating:</dt><dd><a>General Audiences</a></dd>
<dt>Character:</dt><dd><a>Ann</a>, <a>Ben</a></dd><dt>Language:</dt><dd>English</dd>
<dt>Series:</dt><dd>Part 2 of <a>Island Days</a></dd></dl>
<h1>The Ferry</h1><div class="byline">by <a rel="author">Ada Quill</a></div>
<p>Summary</p><blockquote class="userstuff"><p>Two children cross to the island.</p></blockquote>
<p>Notes</p><blockquote class="userstuff"><p>My first story!</p></blockquote></div></div>
<div id="chapters" class="userstuff">{chapters}</div>
<div id="afterword"><p>Please leave kudos!</p></div></body></html>"""


def test_an_ao3_download_reads_like_the_text(tmp_path):
    text, page = tmp_path / "ferry.txt", tmp_path / "ferry.html"
    text.write_text(CURLY_TEXT, encoding="utf-8")
    page.write_text(ao3_html(), encoding="utf-8")
    book = read_book(page)
    assert (book.title, book.author) == ("The Ferry", "Ada Quill")
    assert book.description == "Two children cross to the island."
    assert (book.series, book.series_part) == ("Island Days", "2")
    assert [c.title for c in book.chapters] == [t for t, _ in CHAPTERS]
    assert essentials(script_lines(page)) == essentials(script_lines(text))
    words = " ".join(line["text"] for line in script_lines(page))
    for unread in ("Thanks, readers", "My first story", "kudos", "alert", "margin"):
        assert unread not in words


def test_a_fanfiction_net_page_and_a_plain_page(tmp_path):
    texts = CHAPTERS[0][1]
    ffn = tmp_path / "ffn.html"
    ffn.write_text(
        '<html><body><div id="profile_top"><b class="xcontrast_txt">The Ferry</b> By: '
        '<a href="/u/123/Ada-Quill">Ada Quill</a><div class="xcontrast_txt">Two children '
        'cross.</div><span class="xgray">Rated: K - English - [Ann, Ben]</span></div>'
        '<select id="chap_select"><option value="1" selected>1. Crossing</option>'
        '<option value="2">2. Landing</option></select>'
        f'<div id="storytext">{paragraphs(texts)}</div>'
        "</body></html>",
        encoding="utf-8",
    )
    book = read_book(ffn)
    assert (book.title, book.author, book.description) == (
        "The Ferry",
        "Ada Quill",
        "Two children cross.",
    )
    assert [c.title for c in book.chapters] == ["Crossing"]
    speakers = [s.speaker for s in narrate.script(ffn).segments if s.is_dialogue]
    assert speakers == ["Ben", "Ann", "Ann"]
    plain = tmp_path / "plain.html"
    plain.write_text(
        '<html lang="en"><head><title>The Ferry</title><meta name="author" content="Ada Quill">'
        "</head><body><h1>The Ferry</h1>"
        + "".join(f"<h2>{t}</h2>{paragraphs(p)}" for t, p in CHAPTERS)
        + "</body></html>",
        encoding="utf-8",
    )
    book = read_book(plain)
    assert (book.title, book.author) == ("The Ferry", "Ada Quill")
    assert [c.title for c in book.chapters] == [t for t, _ in CHAPTERS]


def make_epub(
    path,
    *,
    version=3,
    cover=None,
    extra=None,
    opf_extra="",
    chapters=CHAPTERS,
    container=None,
    opf_replace=("", ""),
    one_document=False,
):
    """An EPUB 2 or 3 of the chapters, with a title page before them (listed in the table
    of contents, as downloaders make them); ``container`` and ``opf_replace`` spoil it."""
    import zipfile

    documents = []
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            container
            or '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        xhtml = '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{t}</title></head><body>{b}</body></html>'
        archive.writestr(
            "OEBPS/title.xhtml",
            xhtml.format(t="Title", b="<h1>The Ferry</h1><p>by Ada Quill</p><p>Words: 90</p>"),
        )
        documents.append(("title", "title.xhtml", "Title Page"))
        if one_document:
            body = "".join(
                f'<h2 id="ch{number}">{title}</h2>{paragraphs(texts)}'
                for number, (title, texts) in enumerate(chapters, start=1)
            )
            archive.writestr("OEBPS/text/all.xhtml", xhtml.format(t="Story", b=body))
            documents.append(("all", "text/all.xhtml", None))
            anchors = [
                (f"text/all.xhtml#ch{number}", title)
                for number, (title, _) in enumerate(chapters, start=1)
            ]
            chapters = []
        for number, (title, texts) in enumerate(chapters, start=1):
            name = f"text/chapter{number}.xhtml"
            archive.writestr(
                f"OEBPS/{name}", xhtml.format(t=title, b=f"<h2>{title}</h2>{paragraphs(texts)}")
            )
            documents.append((f"c{number}", name, title))
        manifest = "".join(
            f'<item id="{i}" href="{h}" media-type="application/xhtml+xml"/>'
            for i, h, _ in documents
        )
        spine = "".join(f'<itemref idref="{i}"/>' for i, _, _ in documents)
        entries = [(h, t) for _, h, t in documents if t is not None]
        if one_document:
            entries += anchors
        if version == 3:
            nav = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in entries)
            archive.writestr(
                "OEBPS/nav.xhtml",
                '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" '
                'xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>'
                f"{nav}</ol></nav></body></html>",
            )
            manifest += (
                '<item id="nav" href="nav.xhtml" properties="nav"'
                ' media-type="application/xhtml+xml"/>'
            )
            toc_attribute = ""
        else:
            points = "".join(
                f'<navPoint id="p{n}" playOrder="{n}"><navLabel><text>{t}</text></navLabel>'
                f'<content src="{h}"/></navPoint>'
                for n, (h, t) in enumerate(entries, start=1)
            )
            archive.writestr(
                "OEBPS/toc.ncx",
                '<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
                f'version="2005-1"><navMap>{points}</navMap></ncx>',
            )
            manifest += '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
            toc_attribute = ' toc="ncx"'
        if cover is not None:
            archive.writestr("OEBPS/images/cover.jpg", cover)
            properties = ' properties="cover-image"' if version == 3 else ""
            manifest += (
                f'<item id="cover" href="images/cover.jpg" media-type="image/jpeg"{properties}/>'
            )
            if version == 2:
                opf_extra += '<meta name="cover" content="cover"/>'
        package = (
            '<?xml version="1.0"?>'
            f'<package xmlns="http://www.idpf.org/2007/opf" version="{version}.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Ferry</dc:title>'
            "<dc:creator>Ada Quill</dc:creator><dc:language>en</dc:language>"
            "<dc:description>&lt;p&gt;Two children cross to the island.&lt;/p&gt;</dc:description>"
            '<meta name="calibre:series" content="Island Days"/>'
            '<meta name="calibre:series_index" content="2.0"/>'
            f"{opf_extra}</metadata><manifest>{manifest}</manifest>"
            f"<spine{toc_attribute}>{spine}</spine></package>"
        )
        archive.writestr("OEBPS/content.opf", package.replace(*opf_replace))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("version", [2, 3])
def test_an_epub_reads_like_the_text_with_its_metadata(tmp_path, version):
    text = tmp_path / "ferry.txt"
    text.write_text(CURLY_TEXT, encoding="utf-8")
    epub = make_epub(tmp_path / "ferry.epub", version=version)
    book = read_book(epub)
    assert (book.title, book.author, book.language) == ("The Ferry", "Ada Quill", "en")
    assert book.description == "Two children cross to the island."
    assert (book.series, book.series_part) == ("Island Days", "2")
    assert [c.title for c in book.chapters] == [t for t, _ in CHAPTERS]  # no title page
    assert essentials(script_lines(epub)) == essentials(script_lines(text))


def test_an_epubs_title_author_and_cover_reach_the_mp3_tags(tmp_path):
    import io

    from mutagen.id3 import ID3
    from PIL import Image

    jpeg = io.BytesIO()
    Image.new("RGB", (600, 600), (200, 30, 30)).save(jpeg, "JPEG")
    epub = make_epub(tmp_path / "ferry.epub", cover=jpeg.getvalue())
    result = narrate.render(epub, out=tmp_path / "out", engine=get_tone(), use_cache=False)
    tags = ID3(result.tracks[0].path)
    assert tags["TALB"].text == ["The Ferry"] and tags["TPE1"].text == ["Ada Quill"]
    assert tags.getall("APIC")[0].data == jpeg.getvalue()
    assert (result.folder / "cover.jpg").read_bytes() == jpeg.getvalue()


def get_tone():
    from narrate.speech.engine import get_engine

    return get_engine("tone_engine:ToneEngine")


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="&lol3;"/></rootfiles></container>'
)


def test_malicious_epubs_are_refused_with_one_clear_line(tmp_path):
    import zipfile

    entities = make_epub(tmp_path / "entities.epub", container=BILLION_LAUGHS)
    climbing = make_epub(tmp_path / "climb.epub", extra={"../../evil.txt": "x"})
    bomb = make_epub(tmp_path / "bomb.epub")
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OEBPS/huge.xhtml", b"\0" * (64 * 1024 * 1024))
    linked = make_epub(
        tmp_path / "link.epub",
        opf_replace=('href="text/chapter1.xhtml"', 'href="../../../etc/passwd"'),
    )
    expectations = {
        entities: "unsafe XML",
        climbing: "leaves the archive",
        bomb: "zip bomb",
        linked: "leaves the EPUB",
    }
    for epub, message in expectations.items():
        result = CliRunner().invoke(main, ["script", str(epub)])
        assert result.exit_code == 2, (epub.name, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_a_book_in_another_language_is_voiced_in_it(tmp_path):
    story = tmp_path / "phare.md"
    story.write_text(
        "---\ntitle: Le Phare\nauthor: Ada Quill\nlanguage: fr\n---\n\n## Chapitre 1\n\n"
        "Marie regardait la mer.\n\n\u2014 Il fait froid, dit Marie.\n\n"
        "\u2014 Tr\u00e8s froid, r\u00e9pondit Paul.\n",
        encoding="utf-8",
    )
    result = narrate.script(story)
    english = narrate.script(story, language="en")
    assert result.cast.narrator.voice.split("+")[0] == "fr"
    assert result.cast.narrator.voice.split("+")[1:] == english.cast.narrator.voice.split("+")[1:]
    voices = {s.speaker: result.cast.profile_for(s.speaker).voice for s in result.segments}
    assert all(voice.startswith("fr") for voice in voices.values())
    kinds = [(s.kind, s.text) for s in result.segments if s.spoken and not s.heading]
    assert ("narration", "dit Marie.") in kinds and ("dialogue", "Tr\u00e8s froid,") in kinds
    # --lang overrides the book; a voices file's own characters keep their voices.
    voices_file = tmp_path / "voices.yaml"
    voices_file.write_text(
        "narrator: {voice: en-gb-x-rp+m7}\ncharacters:\n  Marie: {voice: en-us+f3}\n",
        encoding="utf-8",
    )
    german = narrate.script(story, language="de", voices=voices_file)
    assert german.book.language == "de"
    assert german.cast.narrator.voice == "de+m7"
    assert german.cast.profile_for("Marie").voice == "en-us+f3"
    unknown = narrate.script(story, language="xx-nowhere")
    assert unknown.cast.narrator.voice == english.cast.narrator.voice


def test_italics_in_html_and_markdown_become_emphasis_never_shown_as_marks(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><h1>Tide</h1><p>\u201cI <em>never</em> said that,\u201d said Ann.</p>"
        "<p>The <i>Gull</i> sailed.</p></body></html>",
        encoding="utf-8",
    )
    markdown = tmp_path / "tide.md"
    markdown.write_text('"I *never* said that," said Ann.\n\nThe _Gull_ sailed.\n', "utf-8")
    for story in (page, markdown):
        lines = script_lines(story)
        assert "I never said that," in [line["text"] for line in lines]
        assert not any("\ue000" in line["text"] or "*" in line["text"] for line in lines)
        spoken = CliRunner().invoke(main, ["script", str(story), "--spoken", "--format", "jsonl"])
        said = [json.loads(line)["text"] for line in spoken.output.splitlines()]
        assert "I *never* said that," in said and "The *Gull* sailed." in said
        assert all("\ue000" not in text for text in said)


@pytest.mark.parametrize("version", [2, 3])
def test_an_epub_with_chapters_at_anchors_in_one_document(tmp_path, version):
    text = tmp_path / "ferry.txt"
    text.write_text(CURLY_TEXT, encoding="utf-8")
    epub = make_epub(tmp_path / "one.epub", version=version, one_document=True)
    assert [c.title for c in read_book(epub).chapters] == [t for t, _ in CHAPTERS]
    assert essentials(script_lines(epub)) == essentials(script_lines(text))
