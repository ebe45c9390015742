"""The Markdown reader: CommonMark as markdown-it-py parses it, read as the writer meant,
with offsets that point into the file as written.

``data/the-lamp-at-gull-point.pandoc.md`` is the bundled story exported by Pandoc 2.17
(from an HTML copy with ``h2`` chapters and an ``hr``: ``pandoc -s -f html -t markdown
--markdown-headings=setext`` with the title, author and summary as metadata): setext
headings, YAML front matter, hard-wrapped paragraphs and every quote mark and
apostrophe escaped (``\\"``, ``\\'``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.cli import main
from narrate.model import EMPHASIS_CLOSE, EMPHASIS_OPEN
from narrate.readers import read_book
from narrate.readers.markdown import parse_markdown

ROOT = Path(__file__).resolve().parent.parent
PANDOC = Path(__file__).parent / "data" / "the-lamp-at-gull-point.pandoc.md"
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"

# The example of issue 15, as a writer would have it.
EXAMPLE = """\
My Story
========

Chapter One
-----------

"Hello," said Anna. Here is some *emphasis* and a [link](http://x.y).

```
# not a heading
"not a quote," said Code.
```

Chapter Two
-----------

\\*Not emphasis\\* and 3 * 4 * 5 is math. "Bye," said Bob.
"""


def records(path: Path, *options: str) -> list[dict]:
    result = CliRunner().invoke(main, ["script", str(path), "--format", "jsonl", *options])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def file_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def write(tmp_path: Path, text: str, name: str = "story.md") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_the_example_reads_as_its_writer_meant(tmp_path):
    path = write(tmp_path, EXAMPLE)
    book = read_book(path)
    assert book.title == "My Story"
    assert [chapter.title for chapter in book.chapters] == ["Chapter One", "Chapter Two"]
    lines = records(path)
    speakers = [(r["speaker"], r["text"]) for r in lines if r["kind"] == "dialogue"]
    assert speakers == [("Anna", "Hello,"), ("Bob", "Bye,")]
    everything = " ".join(r["text"] for r in lines)
    assert "not a heading" not in everything and "not a quote" not in everything
    assert "Code" not in everything and "http" not in everything and "x.y" not in everything
    assert "*Not emphasis* and 3 * 4 * 5 is math." in everything
    assert "\\" not in everything
    assert "Here is some emphasis and a link." in everything
    spoken = " ".join(r["text"] for r in records(path, "--spoken"))
    assert "*Not emphasis*" in spoken and "\\" not in spoken and "Chapter One" in spoken


def test_offsets_point_into_the_file_as_written(tmp_path):
    path = write(tmp_path, EXAMPLE)
    source = file_text(path)
    lines = records(path)
    hello = next(r for r in lines if r["text"] == "Hello,")
    assert source[hello["start"] : hello["end"]] == "Hello,"
    narration = next(r for r in lines if r["text"].startswith("said Anna"))
    assert source[narration["start"] : narration["end"]] == (
        "said Anna. Here is some *emphasis* and a [link](http://x.y)."
    )
    escaped = next(r for r in lines if "Not emphasis" in r["text"])
    assert "Not emphasis\\* and 3 * 4 * 5 is math." in source[escaped["start"] : escaped["end"]]


def test_a_pandoc_export_reads_as_the_text_it_came_from():
    def essentials(lines):
        return [
            (r["chapter"], r["kind"], r["speaker"], " ".join(r["text"].lstrip("# ").split()))
            for r in lines
            if r.get("spoken", True)
        ]

    from_text, from_pandoc = records(STORY), records(PANDOC)
    assert essentials(from_pandoc) == essentials(from_text)
    book = read_book(PANDOC)
    assert (book.title, book.author) == ("The Lamp at Gull Point", "Hester Quayle")
    assert book.description.startswith("On the night of a great storm")
    assert [c.title for c in book.chapters] == [c.title for c in read_book(STORY).chapters]
    assert len(book.chapters[1].scenes) == 2  # its horizontal rule is a scene break
    # Every segment's span in the file is its text as written: escapes and line breaks
    # aside, the same characters.
    source = file_text(PANDOC)
    for record in from_pandoc:
        if record["text"].startswith("# "):
            continue
        written = source[record["start"] : record["end"]].replace("\\", "")
        assert " ".join(written.split()) == " ".join(record["text"].split()), record


def test_what_is_never_read(tmp_path):
    path = write(
        tmp_path,
        """\
# A Chapter

Text with `code span`, ![an image](pictures/cat.png "Cat"), an <abbr>HTML</abbr> tag,
a <!-- comment --> and a note.[^1] See <https://example.org/page> and ~~struck~~ words.

    indented code is not read

<div class="aside">
An HTML block is not read.
</div>

| table | cell |
|-------|------|
| not   | read |

[^1]: The footnote's text.
""",
    )
    text = " ".join(r["text"] for r in records(path))
    for absent in (
        "code span",
        "image",
        "cat.png",
        "Cat",
        "comment",
        "example.org",
        "indented",
        "HTML block",
        "table",
        "cell",
        "footnote",
        "[^1]",
        "<",
    ):
        assert absent not in text, absent
    assert "an HTML tag" in text and "struck words" in text and "and a note." in text
    with_notes = " ".join(r["text"] for r in records(path, "--keep-notes"))
    assert "The footnote's text." in with_notes


def test_quotes_lists_breaks_and_emphasis(tmp_path):
    path = write(
        tmp_path,
        """\
# One

> "Come in," said Ann.
> She held the door.

- "Thanks," said Ben.
- He sat down.

A line that ends in a hard break\\
goes on here, and **strong** words are _plain_ words.

* * *

After the break.
""",
    )
    book = read_book(path)
    (chapter,) = book.chapters
    assert len(chapter.scenes) == 2
    texts = [p.text for p in chapter.scenes[0].paragraphs]
    assert texts[0] == '"Come in," said Ann.\nShe held the door.'
    assert texts[1:3] == ['"Thanks," said Ben.', "He sat down."]
    assert texts[3] == (
        "A line that ends in a hard break\ngoes on here, and strong words are "
        f"{EMPHASIS_OPEN}plain{EMPHASIS_CLOSE} words."
    )
    speakers = [(r["speaker"], r["text"]) for r in records(path) if r["kind"] == "dialogue"]
    assert speakers == [("Ann", "Come in,"), ("Ben", "Thanks,")]


def test_atx_and_setext_headings_count_alike_for_the_title(tmp_path):
    atx = "# Book\n\n## Part one\n\nText.\n\n## Part two\n\nMore.\n"
    setext = "Book\n====\n\nPart one\n--------\n\nText.\n\nPart two\n--------\n\nMore.\n"
    for text in (atx, setext):
        book = read_book(write(tmp_path, text))
        assert book.title == "Book"
        assert [c.title for c in book.chapters] == ["Part one", "Part two"]
    # Two top headings: both chapters, the title from elsewhere.
    book = read_book(write(tmp_path, "# One\n\nText.\n\n# Two\n\nMore.\n", "two.md"))
    assert [c.title for c in book.chapters] == ["One", "Two"]


def test_entities_line_endings_and_a_byte_order_mark(tmp_path):
    text = (
        "\ufeff---\r\ntitle: Tide\r\n---\r\n\r\n"
        "&#8220;Rough &amp; cold,&#8221; said Ann.\r\nThe sea rose.\r\n"
    )
    path = write(tmp_path, text)
    book = read_book(path)
    assert book.title == "Tide"
    lines = records(path)
    quote = next(r for r in lines if r["kind"] == "dialogue")
    assert (quote["speaker"], quote["text"]) == ("Ann", "Rough & cold,")
    source = file_text(path)
    assert source[quote["start"] : quote["end"]].startswith("Rough &amp")
    narration = next(r for r in lines if r["text"].startswith("said Ann"))
    assert source[narration["start"] : narration["end"]] == "said Ann.\r\nThe sea rose."


def test_no_regular_expressions_parse_markdown_any_more():
    reader = (ROOT / "narrate" / "readers" / "markdown.py").read_text(encoding="utf-8")
    assert "import re\n" not in reader and "re.compile" not in reader


BLOCKS = st.sampled_from(
    [
        '"Hi," said *Ann*.',
        "A [link](http://a.b/c) and `code` and ![img](x.png).",
        "Words with \\* stars \\_ and &amp; things.",
        "## A heading",
        "Setext heading\n---",
        "> A quote\n> goes on.",
        "- one\n- two",
        "```\ncode block\n```",
        "<div>\nblock\n</div>",
        "***",
        "Plain **strong** text\\\nbroken.",
        "| a | b |\n|---|---|\n| c | d |",
        '"Well," Ben said, "then."',
    ]
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BLOCKS, min_size=1, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_any_mix_of_blocks_reads_with_spans_inside_the_file(blocks, newline):
    source = ("\n\n".join(blocks) + "\n").replace("\n", newline)
    book = parse_markdown(source, "mix.md")
    assert book.origin is not None
    for chapter in book.chapters:
        for paragraph in chapter.paragraphs:
            start, end = book.origin.span(paragraph.start, paragraph.end)
            assert 0 <= start <= end <= len(source)
            written = source[start:end]
            for word in re.findall(r"[A-Za-z]{2,}", paragraph.text):
                assert word in written, (word, written)
    read = " ".join(p.text for c in book.chapters for p in c.paragraphs)
    for never in ("http", "png", "code block", "block\n", "| c |"):
        assert never not in read


@pytest.mark.parametrize("name", ["story.md", "story.markdown"])
def test_markdown_is_known_by_its_suffix(tmp_path, name):
    path = write(tmp_path, "# One\n\n*Hi*, said Ann.\n", name)
    assert read_book(path).chapters[0].paragraphs[0].text.startswith(EMPHASIS_OPEN)
