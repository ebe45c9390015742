"""A script as people and programs read it: JSON Lines records, a screenplay, a cast table.

Pure: each function takes a :class:`~narrate.model.Script` and yields records or lines;
the command line prints them, and Python users can use them directly. With ``spoken``
they show each segment's words as the engine will say them (``narrate script --spoken``):
made speakable and with the voices file's pronunciations, so a casting can be checked by
reading instead of rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from narrate.model import NARRATOR, Script, Segment, plain, shown
from narrate.speech.text import spoken_text


def records(script: Script, spoken: bool = False) -> Iterator[dict]:
    """One dict per segment, in text order: the ``narrate script --format jsonl`` records.

    ``start``/``end`` are offsets into the input file's text (decoded as UTF-8, no newline
    translation); narration's speaker is ``narrator``. ``text`` is
    ``source[start:end]`` (in Markdown, its words without the markup), or with ``spoken``
    the words the engine is given.
    """
    words = _spoken_words(script) if spoken else None
    origin = script.book.origin
    for segment in script.segments:
        start, end = (segment.start, segment.end)
        if origin is not None:
            start, end = origin.span(start, end)
        record = {
            "chapter": segment.chapter,
            "kind": segment.kind,
            "speaker": segment.speaker if segment.is_dialogue else NARRATOR,
            "voice": script.cast.profile_for(segment.speaker).id,
            "start": start,
            "end": end,
            "text": shown(words(segment)) if words else plain(segment.text),
        }
        if segment.quote is not None:
            record["quote"] = segment.quote
        if segment.reason:
            record["reason"] = segment.reason
        if segment.confidence is not None:
            record["confidence"] = segment.confidence
            if segment.runner_up:
                record["runner_up"] = segment.runner_up
        if not segment.spoken:
            record["spoken"] = False
        yield record


def screenplay(script: Script, explain: bool = False, spoken: bool = False) -> Iterator[str]:
    """The script as a screenplay: ``MARA: …`` for dialogue, narration indented; with
    ``explain``, each quote's first part is followed by why its speaker was chosen; with
    ``spoken``, the words as the engine will say them, and nothing it will not say."""
    book = script.book
    words = _spoken_words(script) if spoken else None
    yield f"{book.title} — {book.author}"
    chapter = None
    explained: set[int | None] = set()
    for segment in script.segments:
        if not segment.spoken:
            continue
        if segment.chapter != chapter:
            chapter = segment.chapter
            yield ""
        text = shown(words(segment)) if words else " ".join(plain(segment.text).split())
        if not text:
            continue
        if segment.heading:
            yield f"## {text.lstrip('#').strip() if not words else text}"
        elif segment.is_dialogue:
            name = segment.speaker.upper() if segment.speaker != NARRATOR else "NARRATOR (I)"
            yield f"{name}: {text}"
            if explain and segment.quote not in explained:
                explained.add(segment.quote)
                why = segment.reason or "no reason recorded"
                yield f"    [#{segment.quote} why: {why}]"
        else:
            yield f"        {text}"
    yield ""
    yield from cast_table(script)


def _spoken_words(script: Script) -> Callable[[Segment], str]:
    """What the engine is given for each segment of ``script`` (see :func:`spoken_text`)."""
    titles = {chapter.number: chapter.title for chapter in script.book.chapters}
    return lambda segment: spoken_text(
        segment, titles.get(segment.chapter, ""), script.pronunciations
    )


def cast_table(script: Script) -> Iterator[str]:
    """The narrator's voice, then each speaker: lines, gender, voice — biggest parts first."""
    yield f"Narrator: {script.cast.narrator.id}"
    if not script.characters:
        return
    width = max(len(c.name) for c in script.characters)
    yield "Speakers:"
    for character in sorted(script.characters, key=lambda c: (-c.lines, c.name)):
        lines = character.lines
        profile = script.cast.profile_for(character.name)
        yield (
            f"  {character.name:<{width}}  {lines:4d} line{'s' * (lines != 1)}  "
            f"{(character.gender or '?'):<7} {profile.id}"
        )


@dataclass(frozen=True)
class Doubt:
    """A quote narrate is unsure of: its id (for ``lines:``), chapter, speaker, how sure,
    the next likeliest speaker, the words, and the narration around them."""

    quote: int
    chapter: int
    speaker: str
    confidence: float
    runner_up: str | None
    text: str
    before: str
    after: str


def doubts(script: Script, count: int = 20) -> list[Doubt]:
    """The ``count`` quotes narrate is least sure of, in the order they come in the book."""
    parts: dict[int, list[Segment]] = {}
    for segment in script.segments:
        if segment.is_dialogue and segment.spoken and segment.quote is not None:
            parts.setdefault(segment.quote, []).append(segment)
    sure = {quote: min(s.confidence or 0.0 for s in found) for quote, found in parts.items()}
    chosen = sorted(sorted(sure, key=lambda quote: (sure[quote], quote))[:count])
    index = {id(segment): number for number, segment in enumerate(script.segments)}
    found = []
    for quote in chosen:
        first, last = parts[quote][0], parts[quote][-1]
        found.append(
            Doubt(
                quote,
                first.chapter,
                first.speaker,
                sure[quote],
                first.runner_up,
                " … ".join(" ".join(plain(s.text).split()) for s in parts[quote]),
                _narration_near(script, index[id(first)], -1),
                _narration_near(script, index[id(last)], +1),
            )
        )
    return found


def review(script: Script, count: int = 20) -> Iterator[str]:
    """The doubtful quotes as people read them, each with the line that fixes it."""
    found = doubts(script, count)
    if not found:
        yield "No quotes to review."
        return
    yield (
        f"The {len(found)} quotes narrate is least sure of"
        " (a wrong one is fixed under lines: in voices.yaml):"
    )
    for doubt in found:
        other = f" (or {doubt.runner_up})" if doubt.runner_up else ""
        yield ""
        yield (
            f"#{doubt.quote}  chapter {doubt.chapter}  {doubt.speaker.upper()}{other}"
            f"  {doubt.confidence:.0%} sure"
        )
        if doubt.before:
            yield f"    …{doubt.before}"
        text = doubt.text if len(doubt.text) <= 240 else doubt.text[:239] + "…"
        yield f"    \u201c{text}\u201d"
        if doubt.after:
            yield f"    {doubt.after}…"
        yield f"    lines: {{{doubt.quote}: {doubt.runner_up or 'WHO'}}}"


#: How much narration around a doubtful quote to show, in characters.
_CONTEXT_CHARACTERS = 100


def _narration_near(script: Script, number: int, step: int) -> str:
    """The narration next to segment ``number`` (before it with step -1, after with +1),
    in its paragraph or the one beside, cut to _CONTEXT_CHARACTERS."""
    position = number + step
    while 0 <= position < len(script.segments):
        segment = script.segments[position]
        if segment.kind != "dialogue" and segment.spoken and not segment.heading:
            text = " ".join(plain(segment.text).split())
            return text[-_CONTEXT_CHARACTERS:] if step < 0 else text[:_CONTEXT_CHARACTERS]
        if segment.is_dialogue and segment.quote != script.segments[number].quote:
            return ""
        position += step
    return ""
