"""The voices an engine offers, and which of the ids people write name one of them.

Both built-in engines keep one :class:`VoiceCatalogue`. An unknown voice (or ``+variant``)
makes espeak quietly keep the previous voice, and a voices file that worked on one machine
then reads a book in the wrong voices on the next; so every id is looked up here before a
driver sees it, and an id that is not here is refused rather than passed on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from narrate.model import FEMALE, MALE
from narrate.speech.engine import VoiceInfo


class VoiceCatalogue:
    """An engine's voices as shown to users, the ids it accepts, and the driver's id for each.

    Made by :meth:`exact` (a platform driver's voices: ids exactly as the driver gives them)
    or :meth:`espeak` (espeak-ng's voices, in the forms people write, and its variants).
    """

    def __init__(
        self,
        voices: list[VoiceInfo],
        driver_ids: dict[str, str],
        variants: dict[str, VoiceInfo],
        espeak_forms: bool,
    ) -> None:
        #: Base voices as shown to users.
        self.base_voices = voices
        #: Accepted id (lower case for espeak) -> the id the driver takes.
        self._driver_ids = driver_ids
        #: espeak's variants, keyed by file name (case matters).
        self.variants = variants
        #: Whether ids take espeak's forms: any case, short or full, a language code, and
        #: a ``+variant``; else only exactly as the driver gives them.
        self.espeak_forms = espeak_forms

    @classmethod
    def exact(cls, raw_voices: Iterable[Any]) -> VoiceCatalogue:
        """The voices of a platform driver (pyttsx3 ``Voice`` objects), accepted only by
        their exact ids, with no variants."""
        raw = list(raw_voices)
        voices = [
            VoiceInfo(
                id=voice.id,
                name=voice.name or voice.id,
                language=_first_language(voice),
                gender=_gender(voice),
            )
            for voice in raw
        ]
        return cls(voices, {voice.id: voice.id for voice in raw}, {}, espeak_forms=False)

    @classmethod
    def espeak(cls, raw_voices: Iterable[Any], data: Path | None) -> VoiceCatalogue:
        """espeak-ng's voices (pyttsx3 ``Voice`` objects, ids like "gmw/en-us") and the
        variants in the data folder ``data`` (``voices/!v``; none when it is None)."""
        raw = list(raw_voices)
        # espeak ids look like "gmw/en-us"; users write "en-us" (unique within espeak's
        # list) or the language code ("en-gb" is the voice file "gmw/en").
        short_counts: dict[str, int] = {}
        for voice in raw:
            short = voice.id.rsplit("/", 1)[-1]
            short_counts[short] = short_counts.get(short, 0) + 1
        voices = []
        driver_ids: dict[str, str] = {}
        for voice in raw:
            short = voice.id.rsplit("/", 1)[-1]
            shown = short if short_counts[short] == 1 else voice.id
            voices.append(
                VoiceInfo(
                    id=shown,
                    name=voice.name or shown,
                    language=_first_language(voice),
                    gender=_gender(voice),
                )
            )
            driver_ids[voice.id.lower()] = voice.id
            driver_ids.setdefault(shown.lower(), voice.id)
        # Language codes last: a voice's own id wins over another voice's language.
        for voice, info in zip(raw, voices, strict=True):
            if info.language:
                driver_ids.setdefault(info.language.lower(), voice.id)
        return cls(voices, driver_ids, espeak_variants(data), espeak_forms=True)

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        """Base voices whose language starts with ``language``, then every variant."""
        prefix = (language or "").lower()
        base = [
            voice
            for voice in self.base_voices
            if not prefix
            or voice.language.lower() == prefix
            or voice.language.lower().startswith(prefix + "-")
        ]
        return base + list(self.variants.values())

    def driver_voice(self, voice_id: str) -> str | None:
        """The id to hand to the driver for ``voice_id``, or None if it is not a voice."""
        if not self.espeak_forms:
            return voice_id if voice_id in self._driver_ids else None
        base, plus, variant = voice_id.partition("+")
        driver_id = self._driver_ids.get(base.lower())
        if driver_id is None:
            return None
        if not plus:
            return driver_id
        # espeak ignores an unknown variant without a word, so only real file names pass.
        return f"{driver_id}+{variant}" if variant in self.variants else None

    def has_voice(self, voice_id: str) -> bool:
        """Whether ``voice_id`` names a voice, optionally ``+variant`` (espeak).

        espeak accepts its voice ids ("gmw/en-us"), the short form ("en-us") and the language
        code ("en-gb"), in any case; a variant must match a file name in ``voices/!v``
        exactly ("en-us+f3", "en-us+Annie").
        """
        return self.driver_voice(voice_id) is not None


def espeak_variants(data: Path | None) -> dict[str, VoiceInfo]:
    """The variants in espeak-ng-data/voices/!v, keyed by file name (case matters)."""
    folder = data / "voices" / "!v" if data else None
    if folder is None or not folder.is_dir():
        return {}
    return {
        path.name: VoiceInfo(
            id=f"+{path.name}",
            name=_variant_name(path),
            language="",
            gender=_variant_gender(path),
        )
        for path in sorted(folder.iterdir(), key=lambda item: item.name.lower())
        if path.is_file()
    }


def _variant_gender(path: Path) -> str | None:
    """The gender an espeak variant file declares ("gender female 70"), if any."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "gender":
                gender = words[1].lower()
                return gender if gender in (FEMALE, MALE) else None
    return None


def _variant_name(path: Path) -> str:
    """The name an espeak variant file declares ("name Annie"), else its file name."""
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split(maxsplit=1)
            if len(words) == 2 and words[0] == "name":
                return words[1].strip()
    return path.name


def _first_language(voice: Any) -> str:
    """A driver voice's first language, as text ("en-us"), or ""."""
    languages = getattr(voice, "languages", None) or []
    language = languages[0] if languages else ""
    return language.decode(errors="replace") if isinstance(language, bytes) else str(language)


def _gender(voice: Any) -> str | None:
    """A driver voice's gender as narrate writes it ("female", "male"), or None."""
    gender = str(getattr(voice, "gender", None) or "").lower()
    return gender if gender in (FEMALE, MALE) else None
