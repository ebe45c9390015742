"""The user's fixes to the attribution, from the voices file. Pure.

``lines:`` names the speaker of single quotes, found by the id ``narrate script --explain``
shows (``#12``) or by their opening words; ``merge:`` says all lines of one speaker are
another's ("First-Dru" is "The First"), or the narrator's. Applied after attribution and
before casting, so the voices follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from narrate.model import NARRATOR, Segment, VoicesConfig


def apply_fixes(
    segments: Sequence[Segment], config: VoicesConfig, narrator: str | None = None
) -> tuple[list[Segment], list[str]]:
    """The segments with the voices file's fixes applied, and a warning for each fix that
    matched no quote (a voices file may serve several books)."""
    result = list(segments)
    warnings: list[str] = []
    speaker_of = _resolver(result, config, narrator)
    if config.merge:
        merged = {name.lower() for name in config.merge}
        used: set[str] = set()
        for number, segment in enumerate(result):
            if segment.is_dialogue and segment.speaker.lower() in merged:
                used.add(segment.speaker.lower())
                target = speaker_of(segment.speaker)
                result[number] = replace(
                    segment,
                    speaker=target,
                    reason=f"voices file: merge {segment.speaker} into {target}",
                )
        for name in config.merge:
            if name.lower() not in used:
                warnings.append(f"{config.source}: merge: {name!r} speaks no line here")
    if config.lines:
        quotes = _quotes(result)
        for fix in config.lines:
            matches = [q for q, text in quotes.items() if _matches(fix.quote, q, text)]
            if not matches:
                warnings.append(f"{fix.where}: lines: {fix.quote!r} matches no quote")
                continue
            if len(matches) > 1:
                warnings.append(
                    f"{fix.where}: lines: {fix.quote!r} matches {len(matches)} quotes "
                    f"(#{', #'.join(map(str, matches))}); all are given to {fix.speaker}"
                )
            for number, segment in enumerate(result):
                if segment.is_dialogue and segment.quote in matches:
                    result[number] = replace(
                        segment,
                        speaker=speaker_of(fix.speaker),
                        reason=f"voices file: lines ({fix.where})",
                    )
    return result, warnings


def _resolver(
    segments: Sequence[Segment], config: VoicesConfig, narrator: str | None
) -> Callable[[str], str]:
    """Who a name in a fix stands for. Merges are followed to the end of a chain
    (Tom: Jake, Jake: Ann gives Tom's lines to Ann; a line given to Tom is Ann's too), a
    cycle stops where it would repeat, and a name in another case is the speaker the
    attribution found ("jake" is Jake), so one person never becomes two voices."""
    merge = {name.lower(): target for name, target in config.merge.items()}
    found = {s.speaker.lower(): s.speaker for s in segments if s.is_dialogue}

    def speaker_of(name: str) -> str:
        seen = {name.lower()}
        while name.lower() in merge and merge[name.lower()].lower() not in seen:
            name = merge[name.lower()]
            seen.add(name.lower())
        if name.lower() == NARRATOR:
            return _speaker(name, narrator)
        return found.get(name.lower(), name)

    return speaker_of


def _speaker(name: str, narrator: str | None) -> str:
    """ "narrator" is the narrator: a first-person narrator by name, else the voice."""
    if name.lower() == NARRATOR:
        return narrator or NARRATOR
    return name


def _quotes(segments: Sequence[Segment]) -> dict[int, str]:
    """Quote id -> its whole text, its parts joined."""
    texts: dict[int, list[str]] = {}
    for segment in segments:
        if segment.is_dialogue and segment.quote is not None:
            texts.setdefault(segment.quote, []).append(segment.text)
    return {quote: _plain(" ".join(parts)) for quote, parts in texts.items()}


def _matches(key: int | str, quote: int, text: str) -> bool:
    """By id, or by opening words: whole words, so "Yes" is not "Yesterday…"."""
    if isinstance(key, int):
        return key == quote
    opening = _plain(key)
    return bool(opening) and (text == opening or text.startswith(opening + " "))


def _plain(text: str) -> str:
    """Words only, lower case: how opening words are compared."""
    return " ".join(re.findall(r"[\w']+", text.lower().replace("\u2019", "'")))
