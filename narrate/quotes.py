"""Split paragraphs into narration and dialogue, from how English prose marks speech.

Pure: works on the :class:`~narrate.model.Book` and returns
:class:`~narrate.model.Segment` values whose spans point into the source text.

- Double quotes, "straight" or “curly”, are the usual marks; a book that uses single
  quotes for speech (‘British style’ or 'straight') is recognised by counting, and then
  apostrophes (don't, 'em, the girls', goin') are told apart from quote marks.
- An interrupted quote (``"Okay," she said. "Let's go."``) is dialogue, narration,
  dialogue; both parts share one quote id.
- A quotation running over several paragraphs (each paragraph opens with a quote mark,
  only the last one closes) is one quote.
- An unclosed quote ends at its paragraph's end.
- A short quoted phrase inside narration (a title, a scare-quoted word) is not speech.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from narrate.model import DIALOGUE, NARRATION, Book, Paragraph, Segment

DOUBLE = "double"
SINGLE = "single"

_OPEN_DOUBLE = "\u201c\u201e\u00ab"  # “ „ «
_CLOSE_DOUBLE = "\u201d\u00bb"  # ” »
_OPEN_SINGLE = "\u2018"  # ‘
_CLOSE_SINGLE = "\u2019"  # ’ (also the apostrophe)

#: Words that begin with an elided letter: 'em, 'tis, 'cause... (an apostrophe, not a quote).
_ELISIONS = {
    "em",
    "tis",
    "twas",
    "twere",
    "twill",
    "twould",
    "cause",
    "cos",
    "coz",
    "bout",
    "til",
    "till",
    "n",
    "round",
    "im",
    "er",
    "ere",
    "e",
    "ave",
    "is",
    "un",
    "uns",
    "ello",
    "ow",
    "alf",
    "ome",
    "ouse",
    "ard",
    "appen",
    "ad",
    "as",
    "ain",
    "nother",
    "scuse",
    "fraid",
    "course",
    "kay",
    "sup",
    "ya",
    "yer",
    "s",
    "d",
    "ll",
    "re",
    "ve",
    "m",
    "t",
    "o",
}

_SPACE = " \t\r\n\u00a0\ufeff"
_LEFT_CONTEXT = _SPACE + "([{\u2014\u2013-/"
_CLOSING_PUNCT = ".,!?;:\u2026\u2014\u2013-)]}"


@dataclass(frozen=True)
class Quotation:
    """One quoted stretch inside a paragraph: offsets of its inner text in the source.

    ``open_mark``/``close_mark`` are the offsets of the marks (None when absent:
    a continued multi-paragraph quote has no closing mark in its first paragraphs).
    """

    start: int
    end: int
    open_mark: int | None
    close_mark: int | None


def detect_style(text: str) -> str:
    """Whether the text marks speech with double or single quotes."""
    doubles = sum(text.count(c) for c in '"' + _OPEN_DOUBLE + _CLOSE_DOUBLE)
    single_openers = 0
    for match in re.finditer(r"(?:^|(?<=[\s(\u2014\u2013]))['\u2018](?=[A-Za-z])", text):
        word = re.match(r"[A-Za-z]+", text[match.end() :])
        if word and word.group(0).lower() not in _ELISIONS:
            single_openers += 1
    if doubles == 0:
        return SINGLE if single_openers else DOUBLE
    return SINGLE if single_openers > 2 * doubles + 5 else DOUBLE


def find_quotations(text: str, offset: int, style: str) -> list[Quotation]:
    """The quotations in one paragraph's text (``offset`` is the paragraph's start)."""
    if style == SINGLE:
        return _single_quotations(text, offset)
    return _double_quotations(text, offset)


def _double_quotations(text: str, offset: int) -> list[Quotation]:
    quotations: list[Quotation] = []
    open_at: int | None = None
    for index, char in enumerate(text):
        if char not in '"' + _OPEN_DOUBLE + _CLOSE_DOUBLE:
            continue
        if open_at is None:
            if char in _CLOSE_DOUBLE and not _looks_like_opening(text, index):
                continue  # a stray closing mark
            open_at = index
        elif char in _OPEN_DOUBLE:
            # A new opening mark inside a quote: the writer forgot to close the first.
            quotations.append(_quotation(text, offset, open_at, None, index))
            open_at = index
        elif char == '"' and _looks_like_opening(text, index) and _is_empty(text, open_at, index):
            open_at = index
        else:
            quotations.append(_quotation(text, offset, open_at, index, index))
            open_at = None
    if open_at is not None:
        quotations.append(_quotation(text, offset, open_at, None, len(text)))
    return [q for q in quotations if q.end > q.start]


def _looks_like_opening(text: str, index: int) -> bool:
    before = text[index - 1] if index else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    return before in _LEFT_CONTEXT and after not in _SPACE


def _is_empty(text: str, start: int, end: int) -> bool:
    return not text[start + 1 : end].strip(_SPACE)


def _quotation(text: str, offset: int, open_at: int, close_at: int | None, end: int) -> Quotation:
    start = open_at + 1
    while start < end and text[start] in _SPACE:
        start += 1
    stop = end
    while stop > start and text[stop - 1] in _SPACE:
        stop -= 1
    return Quotation(offset + start, offset + stop, offset + open_at, _shift(close_at, offset))


def _shift(index: int | None, offset: int) -> int | None:
    return None if index is None else index + offset


def _single_quotations(text: str, offset: int) -> list[Quotation]:
    openers = [i for i, c in enumerate(text) if c in "'" + _OPEN_SINGLE and _single_opens(text, i)]
    quotations: list[Quotation] = []
    position = 0
    for number, open_at in enumerate(openers):
        if open_at < position:
            continue
        limit = openers[number + 1] if number + 1 < len(openers) else len(text)
        close_at = _single_close(text, open_at, limit)
        if close_at is None and limit < len(text):
            # No closing mark before the next opening: look further (nested apostrophes).
            close_at = _single_close(text, open_at, len(text))
        end = close_at if close_at is not None else len(text)
        quotations.append(_quotation(text, offset, open_at, close_at, end))
        position = end + 1
    return [q for q in quotations if q.end > q.start]


def _single_opens(text: str, index: int) -> bool:
    before = text[index - 1] if index else " "
    if before not in _LEFT_CONTEXT and before not in '"' + _OPEN_DOUBLE:
        return False
    rest = text[index + 1 :]
    if not rest or rest[0] in _SPACE:
        return False
    word = re.match(r"[A-Za-z]+", rest)
    if word and word.group(0).lower() in _ELISIONS and text[index] == "'":
        return False
    return not re.match(r"\d\d?s?\b", rest)  # '90s


def _single_close(text: str, open_at: int, limit: int) -> int | None:
    """The closing mark of a single quote: a mark after punctuation is surest."""
    candidates = []
    for index in range(open_at + 1, limit):
        if text[index] not in "'" + _CLOSE_SINGLE:
            continue
        before = text[index - 1]
        after = text[index + 1] if index + 1 < len(text) else " "
        if before in _SPACE or after.isalnum():
            continue  # an apostrophe inside a word (don't) or an opening
        if before in _CLOSING_PUNCT:
            return index
        candidates.append(index)
    return candidates[-1] if candidates else None


def is_speech(source: str, quotation: Quotation, paragraph: Paragraph) -> bool:
    """False for a short quoted phrase set inside narration: a title, a scare quote."""
    inner = source[quotation.start : quotation.end]
    words = inner.split()
    if len(words) > 3 or not words:
        return bool(words)
    if inner[-1] in ".,!?\u2026\u2014\u2013-;:" or quotation.close_mark is None:
        return True
    opening = quotation.start if quotation.open_mark is None else quotation.open_mark
    before = source[paragraph.start : opening].rstrip(_SPACE)
    if not before or before[-1] in ",:;\u2014\u2013-.!?\"\u201d'\u2019)":
        return True
    # Preceded by a word within the sentence ("the word "love""): a mention, not speech.
    return not before[-1].isalnum()


def segment_book(book: Book) -> list[Segment]:
    """All segments of the book, in text order, with quote ids."""
    source = book.source
    style = detect_style(source)
    segments: list[Segment] = []
    quote_id = 0
    paragraph_index = 0
    chapter_starts = [_chapter_start(chapter) for chapter in book.chapters]
    for note in sorted(book.notes + book.header, key=lambda p: p.start):
        # A note belongs to the chapter it stands in (before the first: the first).
        chapter = max(1, bisect.bisect_right(chapter_starts, note.start))
        segments.append(
            Segment(NARRATION, note.start, note.end, note.text, chapter, 0, -1, spoken=False)
        )
    for chapter in book.chapters:
        if chapter.heading is not None:
            heading = chapter.heading
            segments.append(
                Segment(
                    NARRATION,
                    heading.start,
                    heading.end,
                    heading.text,
                    chapter.number,
                    0,
                    paragraph_index,
                    heading=True,
                )
            )
            paragraph_index += 1
        for scene_index, scene in enumerate(chapter.scenes):
            # The id of a quote left open at a paragraph's end; it may continue in the next
            # paragraph of the scene, never past a scene break.
            open_quote: int | None = None
            for paragraph in scene.paragraphs:
                quotations = [
                    q
                    for q in find_quotations(paragraph.text, paragraph.start, style)
                    if is_speech(source, q, paragraph)
                ]
                continues = (
                    open_quote is not None
                    and quotations
                    and quotations[0].open_mark == paragraph.start
                )
                pieces, quote_id, open_quote = _paragraph_segments(
                    source,
                    paragraph,
                    quotations,
                    chapter.number,
                    scene_index,
                    paragraph_index,
                    quote_id,
                    open_quote if continues else None,
                )
                segments.extend(pieces)
                paragraph_index += 1
    segments.sort(key=lambda s: s.start)
    return segments


def _chapter_start(chapter) -> int:
    if chapter.heading is not None:
        return chapter.heading.start
    paragraphs = chapter.paragraphs
    return paragraphs[0].start if paragraphs else 0


def _paragraph_segments(
    source: str,
    paragraph: Paragraph,
    quotations: list[Quotation],
    chapter: int,
    scene: int,
    paragraph_index: int,
    quote_id: int,
    continued_quote: int | None,
) -> tuple[list[Segment], int, int | None]:
    """Segments of one paragraph; returns them, the next free quote id, and the id of a
    quote left open at the paragraph's end (it may continue in the next paragraph)."""
    segments: list[Segment] = []
    position = paragraph.start
    open_quote: int | None = None
    previous_quote: int | None = None
    for number, quotation in enumerate(quotations):
        _add_narration(
            segments,
            source,
            position,
            quotation.start if quotation.open_mark is None else quotation.open_mark,
            chapter,
            scene,
            paragraph_index,
        )
        if number == 0 and continued_quote is not None:
            this_quote = continued_quote
        elif previous_quote is not None and _is_interruption(
            source, quotations[number - 1], quotation
        ):
            this_quote = previous_quote
        else:
            this_quote = quote_id
            quote_id += 1
        segments.append(
            Segment(
                DIALOGUE,
                quotation.start,
                quotation.end,
                source[quotation.start : quotation.end],
                chapter,
                scene,
                paragraph_index,
                speaker="",
                quote=this_quote,
            )
        )
        previous_quote = this_quote
        if quotation.close_mark is None:
            open_quote = this_quote
            position = paragraph.end
        else:
            position = quotation.close_mark + 1
    _add_narration(segments, source, position, paragraph.end, chapter, scene, paragraph_index)
    return segments, quote_id, open_quote


# A sentence end with more narration after it (the period of "Mr." is no sentence end).
_SENTENCE_THEN_MORE = re.compile(
    r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\b[A-Z])[.!?]\s+\S"
)


def _is_interruption(source: str, first: Quotation, second: Quotation) -> bool:
    """``"Okay, girls," Buffy interrupted. "I think..."``: the narration between two quotes
    of one paragraph is a short speech tag, and the first quote did not end a sentence
    with nothing between them."""
    if first.close_mark is None or second.open_mark is None:
        return False
    between = source[first.close_mark + 1 : second.open_mark].strip(_SPACE)
    if not between:
        return False
    # A tag is short; a long stretch of narration between two quotes usually starts a
    # new utterance, often by someone else. So does a new sentence of narration: in
    # '"Fact!" said the gentleman. And "Fact!" repeated Gradgrind.' the "And" opens it.
    if _SENTENCE_THEN_MORE.search(between):
        return False
    # A finished sentence, then narration that leads into the next quote: '"I should not
    # be the worse." To which Louisa answered, "I don't know that."'
    said = source[first.open_mark + 1 : first.close_mark].rstrip(_SPACE)
    if said[-1:] in ".!?" and between[:1].isupper() and between[-1:] in ",:":
        return False
    return len(between.split()) <= 12


def _add_narration(
    segments: list[Segment],
    source: str,
    start: int,
    end: int,
    chapter: int,
    scene: int,
    paragraph_index: int,
) -> None:
    strip = _SPACE + "\"'\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"
    while start < end and source[start] in strip:
        start += 1
    while end > start and source[end - 1] in strip:
        end -= 1
    if end <= start or not any(c.isalnum() for c in source[start:end]):
        return
    segments.append(
        Segment(NARRATION, start, end, source[start:end], chapter, scene, paragraph_index)
    )
