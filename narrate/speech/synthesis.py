"""Speech made chunk by chunk: what the built-in engines do alike around their driver.

Each engine brings two calls (set a voice, render one utterance) and its
:class:`~narrate.speech.catalogue.VoiceCatalogue`; :func:`synthesize_in_chunks` does the
rest the same way for both: it refuses what the driver would quietly get wrong (an unknown
voice, numbers out of range), cuts the text into chunks the engine can say at once, and
checks that every chunk gave audio, since a driver that loses an utterance says nothing.
"""

from __future__ import annotations

import sys
import threading
from array import array
from typing import Protocol

from narrate.errors import ConfigError, NarrateError
from narrate.model import VoiceProfile, balanced, plain
from narrate.speech.catalogue import VoiceCatalogue
from narrate.speech.engine import Engine, unknown_voice_message
from narrate.speech.text import is_speakable, split_text

#: Fade length at chunk edges, so joined chunks do not click.
EDGE_FADE_SECONDS = 0.003


class ChunkedEngine(Engine, Protocol):
    """An engine that speaks through :func:`synthesize_in_chunks`."""

    #: Longest text spoken as one utterance.
    max_chunk: int
    #: Whether emphasis marks (:data:`narrate.model.EMPHASIS_OPEN`) are spoken as
    #: emphasis; if not they are dropped.
    emphasis: bool
    catalogue: VoiceCatalogue
    #: Held while a profile is set and its chunks rendered: one utterance at a time.
    lock: threading.Lock

    def set_voice(self, profile: VoiceProfile, driver_voice: str) -> None:
        """Set the driver's voice (its own id) and the profile's numbers."""
        ...

    def render(self, text: str) -> bytes:
        """One utterance's PCM; b"" when the driver gave no audio."""
        ...


def synthesize_in_chunks(engine: ChunkedEngine, text: str, profile: VoiceProfile) -> bytes:
    """Speak ``text`` in ``profile``: 16-bit little-endian mono PCM at ``sample_rate``.

    Long text is spoken in chunks of at most ``engine.max_chunk`` characters, joined
    without added silence. Raises ConfigError for an unknown voice or out-of-range numbers,
    and NarrateError when the engine gives no audio for speakable text.
    """
    driver_voice = engine.catalogue.driver_voice(profile.voice)
    if driver_voice is None:
        raise ConfigError(unknown_voice_message(engine, profile.voice))
    problem = profile.out_of_range()
    if problem:
        raise ConfigError(f"voice profile {profile.id}: {problem}")
    if not engine.emphasis:
        text = plain(text)
    chunks = [
        balanced(chunk)
        for chunk in split_text(text, engine.max_chunk)
        if is_speakable(plain(chunk))
    ]
    if not chunks:
        return b""
    fade = max(1, int(engine.sample_rate * EDGE_FADE_SECONDS))
    parts = []
    with engine.lock:
        engine.set_voice(profile, driver_voice)
        for chunk in chunks:
            # One retry: the failures seen were timing races, not properties of the text.
            pcm = engine.render(chunk) or engine.render(chunk)
            if not pcm:
                raise NarrateError(
                    f"speech engine produced no audio for: '{chunk[:60]}' (voice {profile.id})"
                )
            parts.append(fade_edges(pcm, fade))
    return b"".join(parts)


def fade_edges(pcm: bytes, samples: int) -> bytes:
    """Ramp the first and last ``samples`` samples of 16-bit little-endian PCM from and to
    zero."""
    audio = array("h", pcm)
    if sys.byteorder != "little":
        audio.byteswap()
    samples = min(samples, len(audio) // 2)
    for index in range(samples):
        audio[index] = audio[index] * index // samples
        audio[-1 - index] = audio[-1 - index] * index // samples
    if sys.byteorder != "little":
        audio.byteswap()
    return audio.tobytes()
