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
from dataclasses import dataclass, replace

from narrate.model import DIALOGUE, NARRATION, Book, Paragraph, Segment, primary_language

DOUBLE = "double"
SINGLE = "single"

_OPEN_DOUBLE = "\u201c\u201e\u00ab\u300c\u300e"  # “ „ « 「 『
_CLOSE_DOUBLE = "\u201d\u00bb\u300d\u300f"  # ” » 」 』
#: Languages whose books open with „ and close with “ (which opens in English), and use
#: »guillemets« pointing inwards: German, Czech, Slovak, Slovene, Croatian, Danish.
_INWARD_LANGUAGES = frozenset({"de", "cs", "sk", "sl", "hr", "da"})
_INWARD_OPEN = "\u201e\u00bb\u300c\u300e"  # „ » 「 『
_INWARD_CLOSE = "\u201c\u00ab\u300d\u300f"  # “ « 」 』


def double_marks(language: str = "en") -> tuple[str, str]:
    """The opening and closing double quote marks of a book's language (besides ")."""
    if primary_language(language) in _INWARD_LANGUAGES:
        return _INWARD_OPEN, _INWARD_CLOSE
    return _OPEN_DOUBLE, _CLOSE_DOUBLE


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

_SPACE = " \t\r\n\u00a0\u202f\ufeff"
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


def find_quotations(text: str, offset: int, style: str, language: str = "en") -> list[Quotation]:
    """The quotations in one paragraph's text (``offset`` is the paragraph's start), with
    the quote marks of the book's ``language``."""
    if style == SINGLE:
        return _single_quotations(text, offset)
    return _double_quotations(text, offset, *double_marks(language))


def _double_quotations(
    text: str, offset: int, opening: str = _OPEN_DOUBLE, closing: str = _CLOSE_DOUBLE
) -> list[Quotation]:
    quotations: list[Quotation] = []
    open_at: int | None = None
    for index, char in enumerate(text):
        if char not in '"' + opening + closing:
            continue
        if open_at is None:
            if char in closing and not _looks_like_opening(text, index):
                continue  # a stray closing mark
            open_at = index
        elif char in opening:
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


_DASHES = "\u2014\u2015\u2013"  # — ― –
_DASH_LINE = re.compile(r"^[ \t]*[\u2014\u2015\u2013]")
_INCISE_START = re.compile(r"\s[\u2014\u2015\u2013]")
_INCISE_END = re.compile(r"[\u2014\u2015\u2013]")
_LEADING_PUNCTUATION = ".,;:" + _SPACE


#: Speech verbs (past and present, third person) of languages whose books mark speech
#: with dashes, for telling an incise ("— Il fait froid, dit-elle.") from the speech.
FOREIGN_SPEECH_VERBS = frozenset(
    """
    dit dis disait demanda demande répondit répond répondait cria crie s'écria murmura
    murmure ajouta ajoute reprit reprend lança lance souffla chuchota chuchote fit fait
    poursuivit continua expliqua déclara rétorqua soupira hurla protesta interrompit
    dijo dice decía preguntó pregunta respondió responde contestó gritó grita exclamó
    murmuró susurró añadió agregó repuso replicó continuó explicó suspiró insistió
    sagte sagt fragte fragt antwortete antwortet rief ruft flüsterte murmelte meinte
    erwiderte entgegnete fügte fuhr seufzte schrie erklärte
    disse dice chiese chiede rispose risponde gridò mormorò sussurrò aggiunse continuò
    esclamò replicò spiegò sospirò
    disse perguntou respondeu gritou murmurou acrescentou exclamou
    """.split()
)
_INCISE_PRONOUNS = (
    r"(?:il|elle|ils|elles|on|je|tu|nous|vous|ella|él|ellos|ellas|er|sie|es|ich|lui|lei)"
)
_VERB_WORD = "|".join(sorted((re.escape(v) for v in FOREIGN_SPEECH_VERBS), key=len, reverse=True))
#: ", dit-elle," / ", répondit Paul." / ", sagte er," inside a dash-led line.
_INCISE = re.compile(
    rf",\s+(?:{_VERB_WORD})(?:-t)?(?:-{_INCISE_PRONOUNS}\b|\s+[^\W\d_][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*)"
    r"[^,.!?…;]*(?P<end>[,.!?…;]|$)",
    re.IGNORECASE,
)


def uses_dash_dialogue(book: Book, paragraphs: list[Paragraph]) -> bool:
    """Whether the book marks speech with a dash opening the line (``— Bonjour.``), as
    French, Spanish, Italian, Russian and other books do: a book not in English, or one
    with more dash-led paragraphs (at least five) than quotation marks."""
    dashed = sum(1 for paragraph in paragraphs if _DASH_LINE.match(paragraph.text))
    if dashed == 0:
        return False
    if primary_language(book.language) != "en":
        return True
    marks = sum(book.source.count(c) for c in '"' + _OPEN_DOUBLE + _CLOSE_DOUBLE)
    return dashed >= 5 and dashed > marks


def dash_quotations(text: str, offset: int) -> list[Quotation]:
    """The speech of a line opened by a dash: from the dash to the end of the paragraph,
    except narration set off by a dash after a space up to the next dash (``—Hola
    —dijo ella—. ¿Cómo estás?``: "Hola", then "¿Cómo estás?")."""
    first = _DASH_LINE.match(text)
    if first is None:
        return []
    quotations = []
    open_at, position = first.end() - 1, first.end()
    while True:
        incise = _INCISE_START.search(text, position)
        close_at = incise.start() + 1 if incise else None
        quotation = _quotation(text, offset, open_at, close_at, close_at or len(text))
        start = quotation.start - offset
        while start < len(text) and text[start] in _LEADING_PUNCTUATION:
            start += 1
        if start + offset < quotation.end:
            quotations.extend(_without_incises(text, offset, start, quotation))
        if incise is None:
            break
        closing = _INCISE_END.search(text, incise.end())
        if closing is None or not re.search(r"\w", text[closing.end() :]):
            break
        open_at, position = closing.start(), closing.end()
    return quotations


def _without_incises(text: str, offset: int, start: int, quotation: Quotation) -> list:
    """A dash-led quotation's speech around its incises: "Il fait froid" before ", dit-elle,"
    and "viens" after it are speech, the incise narration."""
    pieces = []
    end = quotation.end - offset
    position = start
    resumed = False  # after an incise, speech has no opening mark of its own
    for match in _INCISE.finditer(text, start, end):
        # The comma ends the speech before the incise; its own end mark stays with it.
        speech_end = match.start() + 1
        if text[position:speech_end].strip(_LEADING_PUNCTUATION):
            # Closed at the comma, so the incise after it is narration.
            pieces.append(
                replace(
                    quotation,
                    start=position + offset,
                    end=speech_end + offset,
                    open_mark=None if resumed else quotation.open_mark,
                    close_mark=speech_end - 1 + offset,
                )
            )
        position, resumed = match.end(), True
        while position < end and text[position] in _LEADING_PUNCTUATION:
            position += 1
    if position < end and text[position:end].strip(_LEADING_PUNCTUATION + "\u2014\u2013"):
        opening = None if resumed else quotation.open_mark
        pieces.append(
            replace(quotation, start=position + offset, end=quotation.end, open_mark=opening)
        )
    return pieces


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
    dash_dialogue = uses_dash_dialogue(book, [p for c in book.chapters for p in c.paragraphs])
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
                dashed = dash_dialogue and dash_quotations(paragraph.text, paragraph.start)
                quotations = dashed or [
                    q
                    for q in find_quotations(paragraph.text, paragraph.start, style, book.language)
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
            # Unclosed: it runs to the paragraph's end, or to a new opening mark, after
            # which the text is narration if no quotation of speech follows.
            position = quotation.end
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
