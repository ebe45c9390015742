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
from dataclasses import replace

from narrate.model import FEMALE, MALE, NEUTRAL, VoiceProfile, VoicesConfig
from narrate.speech.engine import Engine, VoiceInfo, profile_problem
from narrate.speech.piper_engine import (
    DEFAULT_PITCH,
    PiperEngine,
    is_piper_voice,
    piper_version,
)

#: onnxruntime threads per Piper model in this process (0: every core). Worker processes
#: set 1: they already share the cores between them.
_settings = {"threads": 0}


def set_piper_threads(threads: int) -> None:
    _settings["threads"] = threads


class MixedEngine:
    """``base`` for plain voice ids, Piper for ``piper:`` ones."""

    def __init__(self, base: Engine, piper_first: bool = False) -> None:
        self.base = base
        #: Cast with Piper voices (``--engine piper``): see :func:`cast_with_piper`.
        self.piper_first = piper_first
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

    @property
    def origin(self) -> str:
        """Where the chosen engine was loaded from, and Piper's version once it spoke."""
        own = getattr(self.base, "origin", "")
        if self._piper is None or not piper_version():
            return own
        piper = f"Piper voices by piper-tts {piper_version()}"
        return f"{own}; {piper}" if own else piper

    def __getattr__(self, attribute: str):
        # Only called for what this class lacks: the engine's own extras (catalogue, origin).
        if attribute in ("base", "_piper", "_lock", "piper_first"):
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
                    sample_rate=self.base.sample_rate,  # resampled once, model to book
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
        if is_piper_voice(profile.voice):
            return self.piper.synthesize(text, profile)
        return self.base.synthesize(text, profile)

    # --- what the checks and the cache ask ----------------------------------------------

    def identity(self, voice_id: str) -> str | None:
        """What decides how a ``piper:`` voice sounds, for cache keys; None for the chosen
        engine's voices (their engine's name and version say it)."""
        return self.piper.identity(voice_id) if is_piper_voice(voice_id) else None

    def profile_problem(self, profile: VoiceProfile) -> str | None:
        if is_piper_voice(profile.voice):
            return self.piper.profile_problem(profile)
        return profile_problem(self.base, profile)

    def unknown_message(self, voice_id: str) -> str | None:
        """The reason a ``piper:`` voice cannot be used; None for the chosen engine's."""
        return self.piper.unknown_message(voice_id) if is_piper_voice(voice_id) else None

    def expand(self, profile: VoiceProfile) -> list[VoiceProfile]:
        """A pool profile as the voices it stands for: "piper:NAME#*" is one profile for
        each speaker of the model; any other, itself."""
        if not (is_piper_voice(profile.voice) and profile.voice.endswith("#*")):
            return [profile]
        return [replace(profile, voice=voice) for voice in self.piper.speakers(profile.voice)]


def cast_with_piper(config: VoicesConfig, engine: MixedEngine) -> tuple[VoicesConfig, list[str]]:
    """The voices file with Piper voices first (``--engine piper``): the narrator's voice
    becomes the best installed Piper voice (unless it is one already), and every other
    installed Piper voice (speakers of multi-speaker models too) goes to the head of the
    pool its measured pitch says (a man's, a woman's, else neutral). The file's own pool
    voices stay after them, so a cast bigger than the Piper voices still gets distinct
    voices. Returns the config and warnings."""
    voices = engine.piper.voice_ids()
    if not voices:
        return config, [
            "--engine piper: no Piper voices installed, so the voices file's are used;"
            " get one with `narrate voices --download en_US-lessac-medium`"
        ]
    narrator = config.narrator
    if not is_piper_voice(narrator.voice):
        narrator = replace(narrator, voice=voices[0], pitch=DEFAULT_PITCH)
    pooled: dict[str, list[VoiceProfile]] = {FEMALE: [], MALE: [], NEUTRAL: []}
    for voice in voices:
        if voice != narrator.voice:
            gender = engine.piper.gender(voice) or NEUTRAL
            pooled[gender].append(VoiceProfile(voice, rate=narrator.rate))
    pools = {
        gender: (*pooled.get(gender, []), *config.pools.get(gender, ()))
        for gender in {*pooled, *config.pools}
    }
    warnings = []
    if sum(map(len, pooled.values())) < 4:
        warnings.append(
            f"--engine piper: {len(voices)} Piper voice{'s' * (len(voices) != 1)} installed,"
            " so most characters keep the voices file's voices; more with"
            " `narrate voices --download NAME`"
        )
    return replace(config, narrator=narrator, pools=pools), warnings
