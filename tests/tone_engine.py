"""A deterministic stand-in speech engine, for tests about the pipeline around the engine
(worker processes, resuming, cache), where espeak-ng's call-to-call variation would hide
what is tested. Loaded like any plug-in engine: ``get_engine("tone_engine:ToneEngine")``.

Each word becomes a short harmonic tone whose pitch follows the voice id and the profile's
pitch, and whose length follows the word's length and the profile's rate: the same text
in the same profile always gives the same bytes, and different voices sound different.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

import numpy as np

from narrate.model import VoiceProfile
from narrate.speech.engine import VoiceInfo, is_speakable

_VOICE_ID = re.compile(r"^[a-z]{2,3}(-[a-z0-9]+)*(\+[A-Za-z0-9_-]+)?$")


class ToneEngine:
    name = "tone"
    version = "1"
    sample_rate = 22050

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        return [VoiceInfo("en-us", "Tone (US)", "en-us", None)]

    def has_voice(self, voice_id: str) -> bool:
        return bool(_VOICE_ID.match(voice_id))

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        if not is_speakable(text):
            return b""
        seed = int(hashlib.sha256(profile.voice.encode()).hexdigest()[:4], 16)
        base = 90 + seed % 120 + profile.pitch
        rate = self.sample_rate
        pieces = []
        for word in text.split():
            length = int(rate * (0.05 + 0.03 * len(word)) * 175 / profile.rate)
            time = np.arange(length) / rate
            tone = sum(np.sin(2 * np.pi * base * k * time) / k for k in (1, 2, 3))
            envelope = np.minimum(
                1, np.minimum(np.arange(length), length - np.arange(length)) / 200
            )
            pieces.append(0.25 * profile.volume * tone * envelope)
            pieces.append(np.zeros(int(rate * 0.04)))
        audio = np.concatenate(pieces)
        return np.round(audio * 32767).astype("<i2").tobytes()


class FaultyEngine(ToneEngine):
    """The tone engine, failing as engines do: on a text with "kaboom" it raises every
    time, on one with "hiccup" only the first time, for one with "hush" it gives nothing,
    and on one with "stall" it hangs for 3 s (with "stallonce", only the first time)."""

    name = "faulty-tone"
    calls: ClassVar[dict[str, int]] = {}

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        from narrate.errors import NarrateError

        if "kaboom" in text:
            raise NarrateError(f"speech engine gave up on: {text[:40]!r}")
        if "hiccup" in text:
            FaultyEngine.calls[text] = FaultyEngine.calls.get(text, 0) + 1
            if FaultyEngine.calls[text] == 1:
                raise NarrateError("speech engine hiccup")
        if "hush" in text:
            return b""
        if "stall" in text:
            FaultyEngine.calls[text] = FaultyEngine.calls.get(text, 0) + 1
            if "stallonce" not in text or FaultyEngine.calls[text] == 1:
                import time

                time.sleep(3)
        return super().synthesize(text, profile)
