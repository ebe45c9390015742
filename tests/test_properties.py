"""Property-based tests (hypothesis) of the pure stages from text to script, on random
text: whatever the text, reading and attributing it never raises, the segments cover it
in order without overlapping, their spans are valid, and every dialogue segment has a
speaker."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from narrate.errors import NarrateError  # noqa: E402
from narrate.pipeline import make_script  # noqa: E402
from narrate.readers.markdown import parse_markdown  # noqa: E402
from narrate.readers.text import parse_text  # noqa: E402
from narrate.voices.load import default_voices_path, parse_voices  # noqa: E402

pytestmark = pytest.mark.slow

CONFIG = parse_voices(default_voices_path().read_text(encoding="utf-8"), "voices.yaml").config

#: Pieces of prose and its marks, mixed at random: quotes of every kind, dashes, headings,
#: scene breaks, names and speech verbs, emphasis, markup-like text, other scripts.
PIECES = [
    '"',
    "\u201c",
    "\u201d",
    "\u2018",
    "\u2019",
    "'",
    "\u00ab ",
    " \u00bb",
    "\u201e",
    "\u300c",
    "\u300d",
    "\u2014 ",
    "\u2014",
    "--",
    "\n",
    "\n\n",
    "\n\nChapter 2\n\n",
    "\n\n* * *\n\n",
    "# Title\n\n",
    " said Ann",
    " asked Ben",
    "Mr. Darcy",
    " she said.",
    " he replied,",
    "_very_",
    "*so*",
    "<speak>",
    "&amp;",
    "[[pause]]",
    " ",
    ". ",
    ", ",
    "? ",
    "! ",
    "\u2026",
    "Hello",
    "no",
    "the sea",
    "\u00c9lise",
    "\u05e9\u05dc\u05d5\u05dd",
    "\U0001f600",
    "\t",
    "\u00a0",
    "Title: X\n",
    "Author: Y\n",
    "A/N: note\n",
    "\ufeff",
    "\r\n",
    "dit-elle",
]
texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=60).map("".join)


def check(script) -> None:
    source = script.book.source
    # Every word of every paragraph is in some segment: nothing is silently dropped.
    covered = bytearray(len(source))
    for segment in script.segments:
        covered[segment.start : segment.end] = b"\1" * (segment.end - segment.start)
    for chapter in script.book.chapters:
        for paragraph in chapter.paragraphs:
            for index in range(paragraph.start, paragraph.end):
                if source[index].isalnum():
                    assert covered[index], (source[paragraph.start : paragraph.end], index)
    previous_end = 0
    for segment in sorted(script.segments, key=lambda s: s.start):
        assert 0 <= segment.start < segment.end <= len(source)
        assert segment.start >= previous_end  # in order, no overlap
        previous_end = segment.end
        if not segment.heading:
            assert source[segment.start : segment.end] == segment.text
        if segment.is_dialogue:
            assert segment.speaker


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_reads_into_a_well_formed_script(text):
    try:
        book = parse_text(text, "random.txt")
    except NarrateError:
        return  # a clear refusal is allowed; an exception of another kind is not
    check(make_script(book, CONFIG))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(["en", "fr", "de", "es", "ja"]))
def test_any_markdown_in_any_language_reads_into_a_well_formed_script(text, language):
    from dataclasses import replace

    try:
        book = replace(parse_markdown(text, "random.md"), language=language)
    except NarrateError:
        return
    check(make_script(book, CONFIG))
