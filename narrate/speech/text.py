"""What the speech engine is given to read: a segment's text made speakable, and cut.

Pure. The script keeps the text as written; this module makes the words the engine says:
lines joined, typographic emphasis (``_word_``, ``*word*``) dropped, Gutenberg's ``--``
dashes made pauses, Roman chapter numbers made numbers, shouted ALL-CAPS words made plain
words so the engine does not spell them out, names said as the voices file's
``pronunciations`` say. :func:`spoken_text` is the one place a segment becomes speech, so
the audio and ``narrate script --spoken`` always agree.

It also cuts text: :func:`sentences` for the assembler, which puts a pause after each, and
:func:`split_text` for engines, which speak at most so many characters at once. The two
find sentence ends by different rules (see :func:`split_text`); both decide what is
spoken and the speech cache's keys, so neither may change without re-making every book.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from narrate.model import (
    EMPHASIS_CLOSE,
    EMPHASIS_OPEN,
    Pronunciations,
    Segment,
    balanced,
)

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_HEADING_NUMBER = re.compile(
    r"\b(Chapter|Part|Book|Volume|Vol\.|Letter|Stave)\s+([IVXLCDM]+)\b", re.IGNORECASE
)
#: Words after which a period does not end a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr st mt sr jr prof capt col gen lt sgt rev hon messrs mme mlle no vol fig etc
    vs ave
    """.split()
)
# sentences()' sentence end: . ! ? or … (and closing quotes) before a space and a capital or
# digit, so "wait... and then" stays one sentence (split_text's rule is looser).
_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?\u2026])(?P<closing>['\"\u2019\u201d)\]]*)\s+(?=['\"\u2018\u201c(\[]?[A-Z0-9])"
)
_ROMAN = re.compile(r"^M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$")


def roman_to_int(numeral: str) -> int | None:
    """The value of a Roman numeral, or None when it is not a well-formed one."""
    numeral = numeral.upper()
    if not numeral or not _ROMAN.match(numeral):
        return None
    total = 0
    for index, char in enumerate(numeral):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[numeral[index + 1]] if index + 1 < len(numeral) else 0
        total += -value if value < following else value
    return total if total > 0 else None


def speakable(text: str, heading: bool = False) -> str:
    """The words to say for a piece of text as written; ``_word_`` and ``*word*`` become
    emphasis."""
    text = " ".join(text.split())
    text = re.sub(r"(?<!\w)[_*]+(?=[\w\ue000])", EMPHASIS_OPEN, text)
    text = re.sub(r"(?<=[\w.,!?\ue001])[_*]+(?!\w)", EMPHASIS_CLOSE, text)
    text = balanced(text)
    # Emphasis around nothing but spaces or punctuation says nothing.
    text = re.sub(f"{EMPHASIS_OPEN}([^\\w{EMPHASIS_CLOSE}]*){EMPHASIS_CLOSE}", r"\1", text)
    text = re.sub(r"\s*--+\s*", " \u2014 ", text)
    text = re.sub(r"\s*\u2014\s*", " \u2014 ", text).strip()
    if heading:
        text = _HEADING_NUMBER.sub(_heading_number, text)
        # A Roman numeral alone as a heading ("IV", "XII: The Storm") is a number.
        text = re.sub(
            r"^([IVXLCDM]+)(?=$|[.:])",
            lambda m: str(roman_to_int(m.group(1)) or m.group(1)),
            text,
        )
        if not re.search(r"[.!?:]$", text):
            text += "."
    text = re.sub(r"\b[A-Z][A-Z']{3,}\b", lambda m: m.group(0).lower(), text)
    return text.strip(" \u2014")


def _heading_number(match: re.Match) -> str:
    value = roman_to_int(match.group(2))
    word = match.group(1)
    return f"{word} {value}" if value else match.group(0)


def pronounce(text: str, pronunciations: Pronunciations) -> str:
    """``text`` with each word of ``pronunciations`` replaced by how to say it.

    The engine guesses at names it has never seen; the voices file tells it. Whole words
    only (Giles in "Giles's", not in "Gilesford"), case as written, all in one pass so a
    replacement is never itself replaced; where two words overlap the longer wins
    ("Turok-Han" before "Turok").
    """
    # A blank word would match the empty string everywhere.
    ordered = tuple(sorted((p for p in pronunciations if p[0].strip()), key=lambda p: -len(p[0])))
    if not ordered:
        return text
    pattern = _pronunciation_pattern(tuple(word for word, _ in ordered))
    return pattern.sub(lambda match: ordered[match.lastindex - 1][1], text)


@functools.lru_cache(maxsize=16)
def _pronunciation_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One group per word, in order, so the group that matched names the word; "whole word"
    means not next to a word character, which also works for words like "Dr." and spaces
    match any run of white space, as in a wrapped line."""
    groups = ("(" + r"\s+".join(map(re.escape, word.split())) + ")" for word in words)
    return re.compile(r"(?<!\w)(?:" + "|".join(groups) + r")(?!\w)")


def spoken_text(segment: Segment, chapter_title: str, pronunciations: Pronunciations = ()) -> str:
    r"""The words the engine is given for a segment.

    A heading is read as its chapter's parsed title ("Chapter 4: The Storm"), not as
    written ("CHAPTER IV.\nTHE STORM", "# The Storm").
    """
    written = chapter_title if segment.heading else segment.text
    return pronounce(speakable(written, segment.heading), pronunciations)


def sentences(text: str) -> list[str]:
    """Split speakable text into sentences, not after abbreviations like "Mr."."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        end = match.start() + len(match.group("closing"))
        last_word = re.search(r"([\w'\u2019]+)\.$", text[start : match.start()])
        if last_word:
            word = last_word.group(1)
            if word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper()):
                continue  # "Mr. Darcy", "J. Smith"
        pieces.append(text[start:end].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [balanced(p) for p in pieces if p]


def is_speakable(text: str) -> bool:
    """Whether ``text`` has anything to say: a letter, digit or symbol, not just punctuation."""
    return any(unicodedata.category(character)[0] in "LNS" for character in text)


#: Longest piece of text an engine is handed at once unless it says otherwise: long
#: utterances are the risky case (see :mod:`narrate.speech.pyttsx3_engine`).
MAX_CHUNK_CHARACTERS = 200

# split_text's sentence end: any run of . ! ? … (and closing quotes) before a space, whatever
# follows. Unlike sentences(), which wants a capital or digit next: a chunk may end at
# "wait... and", since it only has to be a place where a pause does no harm.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+")
# Commas and colons only count before a space, so "1,000" and "10:30" stay whole.
_CLAUSE_END = re.compile(r"[;:,]+[\"'”’»)\]]*\s+|\s*[—–]+\s*")
_SPACE = re.compile(r"\s+")


def split_text(text: str, limit: int = MAX_CHUNK_CHARACTERS) -> list[str]:
    """Cut text into chunks of at most ``limit`` characters, stripped and non-empty.

    Cuts fall between sentences where possible, then after ``; : ,`` and dashes, then
    between words; whole words longer than ``limit`` are cut anywhere.
    """
    return [chunk.strip() for chunk in _split(text, limit, 0) if chunk.strip()]


def _split(text: str, limit: int, level: int) -> list[str]:
    """``text`` cut at the boundaries of ``level`` and finer ones, packed up to ``limit``."""
    if len(text.strip()) <= limit:
        return [text]
    patterns = (_SENTENCE_END, _CLAUSE_END, _SPACE)
    if level == len(patterns):
        return [text[index : index + limit] for index in range(0, len(text), limit)]
    pieces: list[str] = []
    for piece in _pieces(text, patterns[level]):
        pieces.extend(_split(piece, limit, level + 1))
    return _pack(pieces, limit)


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Cut ``text`` after every match of ``pattern``; the pieces join back to ``text``."""
    pieces = []
    start = 0
    for match in pattern.finditer(text):
        if match.end() <= start or match.end() == len(text):
            continue
        if pattern is _SENTENCE_END:
            words = text[start : match.start()].split()
            # Not after "Mr.": splitting there would make espeak drop its voice as at a
            # full stop in the middle of a name.
            if (
                match.group().startswith(".")
                and words
                and (words[-1].lower().rstrip(".") in ABBREVIATIONS)
            ):
                continue
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def _pack(pieces: Iterable[str], limit: int) -> list[str]:
    """Join neighbouring pieces while the result stays within ``limit`` characters."""
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1].strip()) + len(piece.rstrip()) <= limit:
            chunks[-1] += piece
        else:
            chunks.append(piece)
    return chunks
