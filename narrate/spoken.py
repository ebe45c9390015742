"""What the speech engine is given to read: a segment's text made speakable.

Pure. The script keeps the text as written; this module makes the words the engine says:
lines joined, typographic emphasis (``_word_``, ``*word*``) dropped, Gutenberg's ``--``
dashes made pauses, Roman chapter numbers made numbers, shouted ALL-CAPS words made plain
words so the engine does not spell them out; and it splits text into sentences so the
assembler can put a pause after each.
"""

from __future__ import annotations

import re

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
    """The words to say for a piece of text as written."""
    text = " ".join(text.split())
    text = re.sub(r"(?<!\w)[_*]+(?=\w)|(?<=[\w.,!?])[_*]+(?!\w)", "", text)
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
    return [p for p in pieces if p]
