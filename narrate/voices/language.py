"""The voices of a book's language: a book not in English is read by that language's
voice, each profile keeping its variant (``en-us+f3`` becomes ``fr+f3``), so the voices
stay as distinct as in English."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from narrate.model import Book, VoiceProfile, VoicesConfig, primary_language


class VoiceCatalogue(Protocol):
    """What this needs of a speech engine: whether it has a voice."""

    def has_voice(self, voice_id: str) -> bool: ...


def in_language(
    book: Book, config: VoicesConfig, engine: VoiceCatalogue, language: str | None = None
) -> tuple[Book, VoicesConfig]:
    """The book in ``language`` (``--lang``; default: its own), and the voices that speak
    it: the narrator's and the pools' voices moved to the language's voice. Characters the
    voices file names keep the voice it gives them. A language the engine has no voice for
    keeps the English ones."""
    if language:
        book = replace(book, language=language)
    code = book.language.replace("_", "-").lower()
    primary = primary_language(code)
    if primary in ("", "en"):
        return book, config
    base = next((voice for voice in (code, primary) if engine.has_voice(voice)), None)
    if base is None:
        return book, config

    def moved(profile: VoiceProfile) -> VoiceProfile:
        current, plus, variant = profile.voice.partition("+")
        if primary_language(current) == primary:
            return profile
        voice = f"{base}+{variant}" if plus else base
        return replace(profile, voice=voice) if engine.has_voice(voice) else profile

    pools = {gender: tuple(moved(p) for p in pool) for gender, pool in config.pools.items()}
    return book, replace(config, narrator=moved(config.narrator), pools=pools)
