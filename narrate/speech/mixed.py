"""Voices of several engines in one book: the engine a render talks to.

:func:`narrate.speech.engine.get_engine` hands out a :class:`MixedEngine`: the chosen
engine (espeak-ng, pyttsx3, a plug-in) speaks the plain voice ids, and Piper speaks the
``piper:`` ones (see :mod:`narrate.speech.piper_engine`), so one voices file can give the
narrator a neural voice and a minor character an espeak-ng one. Piper is loaded only
when a ``piper:`` voice is first named, so a book without one never imports it.

Everything else reads through to the chosen engine (its name, version, catalogue, where
it was loaded from): cache keys of its voices are what they were without Piper.
"""

from __future__ import annotations

import threading

import numpy as np

from narrate.model import VoiceProfile
from narrate.speech.engine import Engine, VoiceInfo
from narrate.speech.piper_engine import PiperEngine, is_piper_voice, piper_version

#: onnxruntime threads per Piper model in this process (0: every core). Worker processes
#: set 1: they already share the cores between them.
_settings = {"threads": 0}


def set_piper_threads(threads: int) -> None:
    _settings["threads"] = threads


class MixedEngine:
    """``base`` for plain voice ids, Piper for ``piper:`` ones."""

    def __init__(self, base: Engine) -> None:
        self.base = base
        self._piper: PiperEngine | None = None
        self._lock = threading.Lock()

    # The chosen engine's identity, read through.
    @property
    def name(self) -> str:
        return self.base.name

    @property
    def version(self) -> str:
        return self.base.version

    @property
    def sample_rate(self) -> int:
        return self.base.sample_rate

    def __getattr__(self, attribute: str):
        # Only called for what this class lacks: the engine's own extras (catalogue, origin).
        if attribute in ("base", "_piper", "_lock"):
            raise AttributeError(attribute)
        return getattr(self.base, attribute)

    @property
    def piper(self) -> PiperEngine:
        with self._lock:
            if self._piper is None:
                from narrate.speech.cache import default_cache_dir

                self._piper = PiperEngine(
                    threads=_settings["threads"],
                    rates_file=default_cache_dir() / "piper-rates.json",
                )
            return self._piper

    # --- the Engine interface -----------------------------------------------------------

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        own = self.base.voices(language)
        return own + self.piper.voices(language) if piper_version() else own

    def has_voice(self, voice_id: str) -> bool:
        if is_piper_voice(voice_id):
            return self.piper.has_voice(voice_id)
        return self.base.has_voice(voice_id)

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        if not is_piper_voice(profile.voice):
            return self.base.synthesize(text, profile)
        pcm = self.piper.synthesize(text, profile)
        if self.piper.sample_rate == self.sample_rate or not pcm:
            return pcm
        from narrate.speech.piper_engine import _resample, _to_pcm16

        audio = np.frombuffer(pcm, "<i2").astype(np.float32) / 32767
        return _to_pcm16(_resample(audio, self.piper.sample_rate, self.sample_rate))

    # --- what the checks and the cache ask ----------------------------------------------

    def identity(self, voice_id: str) -> str:
        """What decides how ``voice_id`` sounds, for cache keys."""
        if is_piper_voice(voice_id):
            return self.piper.identity(voice_id)
        return f"{self.base.name} {getattr(self.base, 'version', '')}".strip()

    def profile_problem(self, profile: VoiceProfile) -> str | None:
        if is_piper_voice(profile.voice):
            return self.piper.profile_problem(profile)
        return profile.out_of_range()

    def unknown_message(self, voice_id: str) -> str | None:
        """The reason a ``piper:`` voice cannot be used; None for the chosen engine's."""
        return self.piper.unknown_message(voice_id) if is_piper_voice(voice_id) else None
