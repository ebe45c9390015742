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
    assert [c.title for c in from_text.chapters] == ["Chapter 1: Crossing", "Chapter 2: Landing"]
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
