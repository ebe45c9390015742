"""The speech engine interface: text and a voice profile in, 16-bit mono PCM out.

Everything else in narrate talks to the small :class:`Engine` interface below, so other
engines (SAPI5 directly, NSSpeech, a neural engine) can plug in:
``get_engine("module:factory")``. Two implementations ship with narrate, each in its own
module: :class:`~narrate.speech.espeak.EspeakEngine`, libespeak-ng called directly and
synchronously (the default on Linux), and :class:`~narrate.speech.pyttsx3_engine.Pyttsx3Engine`,
pyttsx3's own loop with the platform's driver (macOS, Windows, or on request). Both keep
their voices in a :class:`~narrate.speech.catalogue.VoiceCatalogue` and speak through
:func:`~narrate.speech.synthesis.synthesize_in_chunks`.

Here too: :func:`get_engine` (the registry), :func:`describe`, and the checks of voice
profiles with their messages, which work on any engine, plug-ins included.
"""

from __future__ import annotations

import contextlib
import difflib
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from narrate.errors import ConfigError
from narrate.model import VoiceProfile, VoicesConfig
from narrate.plugins import load_plugin
from narrate.speech.text import MAX_CHUNK_CHARACTERS, is_speakable, split_text

# Text chunking lives with the rest of the speech text; these names are imported from here
# by code written before it moved.
from narrate.voices.load import LoadedVoices

__all__ = [
    "DRIVERS",
    "ESPEAK_NAMES",
    "MAX_CHUNK_CHARACTERS",
    "Engine",
    "VoiceInfo",
    "check_profiles",
    "describe",
    "get_engine",
    "is_speakable",
    "profile_problem",
    "split_text",
    "unknown_voice_message",
    "voices_hint",
]


@dataclass(frozen=True)
class VoiceInfo:
    """One voice, or one espeak variant (id ``+name``), that an engine offers."""

    id: str
    name: str
    language: str
    gender: str | None


class Engine(Protocol):
    """What narrate needs from a speech engine.

    An engine may also have an ``origin``: a line saying where its synthesizer was
    loaded from (shown by :func:`describe`)."""

    name: str
    version: str
    sample_rate: int

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        """Base voices (optionally only those whose language starts with ``language``)."""
        ...

    def has_voice(self, voice_id: str) -> bool:
        """Whether ``voice_id`` is a voice this engine will really use (no silent fallback)."""
        ...

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        """16-bit signed little-endian mono PCM at ``sample_rate``; b"" if nothing to say."""
        ...


# ---------------------------------------------------------------------------------------
# The registry

#: Engine names ``get_engine`` accepts besides "auto" and "pyttsx3" (the default driver).
DRIVERS = ("espeak", "sapi5", "nsss", "avspeech")

#: espeak-ng called directly: narrate's own libespeak-ng (the system's when it is not
#: installed), or the system's on request.
ESPEAK_NAMES = ("espeak-ng", "espeak-ng-system")

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(name: str = "auto") -> Engine:
    """The speech engine called ``name``, created once per process.

    "auto" is espeak-ng (called directly) on Linux and pyttsx3's default driver elsewhere;
    "espeak-ng" speaks with narrate's own libespeak-ng (the espeakng-loader wheel's; the
    system's only when that is not installed), "espeak-ng-system" with the system's;
    "pyttsx3" and "pyttsx3-DRIVER" go through pyttsx3; "module:factory" loads a plug-in.
    The engine remembers its name as ``spec``, so worker processes can make their own.
    Raises NarrateError with a one-line message when no engine can be loaded.
    """
    with _engines_lock:
        engine = _engines.get(name)
        if engine is None:
            from narrate.speech.mixed import MixedEngine

            # Piper's "piper:" voices mix with any engine's (see narrate.speech.mixed);
            # "piper" is the platform's engine with Piper's voices cast first.
            piper_first = name == "piper"
            engine = MixedEngine(_create("auto" if piper_first else name), piper_first)
            with contextlib.suppress(AttributeError):
                engine.spec = name  # type: ignore[attr-defined]
            _engines[name] = engine
        return engine


def _create(name: str) -> Engine:
    # The engines are imported here, not at the top: they import this module's interface,
    # and a plug-in that only needs VoiceInfo should not load ctypes bindings or pyttsx3.
    if name == "auto":
        name = "espeak-ng" if sys.platform.startswith("linux") else "pyttsx3"
    if name in ESPEAK_NAMES:
        from narrate.speech.espeak import espeak_engine

        return espeak_engine(system=name == "espeak-ng-system")
    if ":" in name:
        # "package.module:factory", the factory called with no arguments.
        return load_plugin(name, "the speech engine")()
    driver = _driver_for(name)
    from narrate.speech.pyttsx3_engine import Pyttsx3Engine

    return Pyttsx3Engine(driver)


def _driver_for(name: str) -> str:
    """The pyttsx3 driver a "pyttsx3..." engine name means."""
    if name == "pyttsx3":
        if sys.platform.startswith("linux"):
            return "espeak"
        return {"darwin": "nsss", "win32": "sapi5"}.get(sys.platform, "espeak")
    prefix = "pyttsx3-"
    if name.startswith(prefix) and name[len(prefix) :] in DRIVERS:
        return name[len(prefix) :]
    known = ", ".join(["auto", *ESPEAK_NAMES, "pyttsx3", *(prefix + driver for driver in DRIVERS)])
    raise ConfigError(
        f"unknown speech engine {name!r} (known: {known}, or module:factory for a plug-in)"
    )


# ---------------------------------------------------------------------------------------
# Describing an engine, and checking profiles against it


def describe(engine: Engine) -> str:
    """Which synthesizer this is, for summaries and bug reports: name, version, and (for
    engines that know it, through an ``origin`` attribute) where it was loaded from."""
    origin = getattr(engine, "origin", "")
    return f"{engine.name} ({engine.version}" + (f"; {origin})" if origin else ")")


def voices_hint(engine: Engine) -> str:
    """How to list this engine's voices: "run `narrate voices` to list them"."""
    spec = getattr(engine, "spec", "auto")
    option = "" if spec == "auto" else f" --engine {spec}"
    return f"run `narrate voices{option}` to list them"


def check_profiles(engine: Engine, profiles: Iterable[tuple[str, VoiceProfile]]) -> None:
    """Raise ConfigError for the first profile whose voice or numbers the engine cannot use.

    Each item is (where, profile), ``where`` being something like
    "voices.yaml:12 characters.Spike.voice"; the message starts with it.
    """
    for where, profile in profiles:
        if not engine.has_voice(profile.voice):
            raise ConfigError(f"{where}: {unknown_voice_message(engine, profile.voice)}")
        problem = profile_problem(engine, profile)
        if problem:
            raise ConfigError(f"{where}: {problem}")


def fit_voices(loaded: LoadedVoices, engine: Engine) -> VoicesConfig:
    """The voices file as ``engine`` can speak it.

    A voice named for the narrator or a character must be the engine's: ConfigError
    otherwise. A pool voice the engine does not have (an older espeak-ng, a pool written
    for another engine) is left out of its pool, with one warning naming them all: pools
    are offers, and the casting makes do with the rest.
    """
    config = loaded.config
    locations = {id(profile): where for where, profile in loaded.profile_locations}
    expand = getattr(engine, "expand", None)
    if expand is not None:
        # "piper:NAME#*" in a pool stands for every speaker of that model.
        pools_in_full = {}
        for gender, pool in config.pools.items():
            voices = []
            for profile in pool:
                for voice in expand(profile):
                    locations.setdefault(id(voice), locations.get(id(profile), ""))
                    voices.append(voice)
            pools_in_full[gender] = tuple(voices)
        config = replace(config, pools=pools_in_full)
    if getattr(engine, "piper_first", False):
        from narrate.speech.mixed import cast_with_piper

        config, notes = cast_with_piper(config, engine)  # type: ignore[arg-type]
        config = replace(config, warnings=(*config.warnings, *notes))
    pools: dict[str, tuple[VoiceProfile, ...]] = {}
    missing: dict[str, list[str]] = {}
    for gender, pool in config.pools.items():
        kept = []
        for profile in pool:
            if engine.has_voice(profile.voice):
                kept.append(profile)
                continue
            # "voices.yaml:54: pools.neutral[2].voice" -> "voices.yaml:54"
            where = locations.get(id(profile), "the built-in pools").rsplit(": ", 1)[0]
            missing.setdefault(profile.voice, []).append(where)
        pools[gender] = tuple(kept)
    pooled = {id(profile) for pool in loaded.config.pools.values() for profile in pool}
    check_profiles(
        engine, [(where, p) for where, p in loaded.profile_locations if id(p) not in pooled]
    )
    if not missing:
        return config
    left_out = "; ".join(f"{voice} ({', '.join(where)})" for voice, where in missing.items())
    warning = (
        f"speech engine {engine.name} does not have {len(missing)} pool"
        f" voice{'s' * (len(missing) != 1)}, left out of the pools: {left_out};"
        f" {voices_hint(engine)}"
    )
    return replace(config, pools=pools, warnings=(*config.warnings, warning))


def profile_problem(engine: Engine, profile: VoiceProfile) -> str | None:
    """What in ``profile`` the engine cannot do: numbers out of range, or (for an engine
    with a ``profile_problem`` method, as Piper's has) what its voices lack."""
    own = getattr(engine, "profile_problem", None)
    return own(profile) if own is not None else profile.out_of_range()


def unknown_voice_message(engine: Engine, voice_id: str) -> str:
    """'unknown voice ...' with a close match when there is one and a hint to list voices.

    It asks only the Engine interface (``voices``, ``has_voice``), so it reads the same
    for every engine, plug-ins included; an engine with an ``unknown_message`` method
    (Piper's: the voice is not downloaded, the extra not installed) may say more."""
    own = getattr(engine, "unknown_message", None)
    special = own(voice_id) if own is not None else None
    if special:
        return special
    suggestion = _suggestion(engine, voice_id)
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    return (
        f"unknown voice {voice_id!r} for speech engine {engine.name}{hint}; {voices_hint(engine)}"
    )


def _suggestion(engine: Engine, voice_id: str) -> str | None:
    """A known voice id close to the unknown ``voice_id``, for the error message."""
    base, plus, variant = voice_id.partition("+")
    offered = [voice.id for voice in engine.voices()]
    bases = [name for name in offered if not name.startswith("+")]
    variants = [name[1:] for name in offered if name.startswith("+")]
    if plus and engine.has_voice(base):
        same_but_case = [name for name in variants if name.lower() == variant.lower()]
        close = same_but_case or difflib.get_close_matches(variant, variants, n=1)
        return f"{base}+{close[0]}" if close else None
    close = difflib.get_close_matches(base.lower(), bases, n=1)
    return f"{close[0]}{plus}{variant}" if close else None
