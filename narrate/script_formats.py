"""A script as people and programs read it: JSON Lines records, a screenplay, a cast table.

Pure: each function takes a :class:`~narrate.model.Script` and yields records or lines;
the command line prints them, and Python users can use them directly.
"""

from __future__ import annotations

from collections.abc import Iterator

from narrate.model import NARRATOR, Script


def records(script: Script) -> Iterator[dict]:
    """One dict per segment, in text order: the ``narrate script --format jsonl`` records.

    ``start``/``end`` are offsets into the input file's text (decoded as UTF-8, no newline
    translation); narration's speaker is ``narrator``.
    """
    for segment in script.segments:
        record = {
            "chapter": segment.chapter,
            "kind": segment.kind,
            "speaker": segment.speaker if segment.is_dialogue else NARRATOR,
            "voice": script.cast.profile_for(segment.speaker).id,
            "start": segment.start,
            "end": segment.end,
            "text": segment.text,
        }
        if segment.quote is not None:
            record["quote"] = segment.quote
        if segment.reason:
            record["reason"] = segment.reason
        if not segment.spoken:
            record["spoken"] = False
        yield record


def screenplay(script: Script, explain: bool = False) -> Iterator[str]:
    """The script as a screenplay: ``MARA: …`` for dialogue, narration indented; with
    ``explain``, each quote's first part is followed by why its speaker was chosen."""
    book = script.book
    yield f"{book.title} — {book.author}"
    chapter = None
    explained: set[int | None] = set()
    for segment in script.segments:
        if not segment.spoken:
            continue
        if segment.chapter != chapter:
            chapter = segment.chapter
            yield ""
        text = " ".join(segment.text.split())
        if segment.heading:
            yield f"## {text}"
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
