"""Tests of speech made chunk by chunk, with a driver written for the test: what the
built-in engines do alike around their driver (checks, chunks, retries, fades)."""

from __future__ import annotations

import threading
from array import array

import pytest
from pyttsx3.voice import Voice

from narrate.errors import ConfigError, NarrateError
from narrate.model import EMPHASIS_CLOSE, EMPHASIS_OPEN, VoiceProfile
from narrate.speech.catalogue import VoiceCatalogue
from narrate.speech.engine import VoiceInfo
from narrate.speech.synthesis import fade_edges, synthesize_in_chunks

#: Every rendered chunk is this many samples at full scale.
SAMPLES = 400


class RecordingEngine:
    """A driver that says every chunk as SAMPLES loud samples, and remembers what it did;
    texts in ``silent`` give no audio, each time or (``once``) the first time only."""

    name = "recording"
    version = "1"
    sample_rate = 10000

    def __init__(self, max_chunk: int = 40, emphasis: bool = False) -> None:
        self.max_chunk = max_chunk
        self.emphasis = emphasis
        self.catalogue = VoiceCatalogue.exact([Voice("alto", "Alto"), Voice("bass", "Bass")])
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.silent: set[str] = set()
        self.once: set[str] = set()

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        return self.catalogue.voices(language)

    def has_voice(self, voice_id: str) -> bool:
        return self.catalogue.has_voice(voice_id)

    def set_voice(self, profile: VoiceProfile, driver_voice: str) -> None:
        assert self.lock.locked()
        self.calls.append(("voice", driver_voice))

    def render(self, text: str) -> bytes:
        assert self.lock.locked()
        self.calls.append(("render", text))
        if text in self.once:
            self.once.discard(text)
            return b""
        if text in self.silent:
            return b""
        return array("h", [20000] * SAMPLES).tobytes()

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        return synthesize_in_chunks(self, text, profile)

    def rendered(self) -> list[str]:
        return [text for call, text in self.calls if call == "render"]


TEXT = "The tide came in. It came in fast, and the boats, all of them, rose with it."


def test_text_is_said_in_chunks_of_at_most_max_chunk_characters() -> None:
    engine = RecordingEngine(max_chunk=40)
    pcm = engine.synthesize(TEXT, VoiceProfile("alto"))
    assert engine.calls[0] == ("voice", "alto")
    chunks = engine.rendered()
    assert chunks == [
        "The tide came in.",
        "It came in fast, and the boats,",
        "all of them, rose with it.",
    ]
    assert all(len(chunk) <= 40 for chunk in chunks)
    assert len(pcm) == 2 * SAMPLES * len(chunks)  # joined without added silence


def test_an_unknown_voice_or_a_number_out_of_range_is_refused_before_the_driver_sees_it() -> None:
    engine = RecordingEngine()
    with pytest.raises(ConfigError) as raised:
        engine.synthesize(TEXT, VoiceProfile("Alto"))
    message = str(raised.value)
    assert message.startswith("unknown voice 'Alto' for speech engine recording")
    assert "did you mean 'alto'?" in message and "run `narrate voices` to list them" in message
    with pytest.raises(
        ConfigError, match="voice profile bass/r175/p120/v1: pitch: 120 is out of range"
    ):
        engine.synthesize(TEXT, VoiceProfile("bass", pitch=120))
    assert engine.calls == []


def test_emphasis_marks_are_dropped_unless_the_engine_speaks_them() -> None:
    text = f"She said {EMPHASIS_OPEN}never again, not ever{EMPHASIS_CLOSE} and left."
    plain_engine = RecordingEngine(max_chunk=200)
    plain_engine.synthesize(text, VoiceProfile("alto"))
    assert plain_engine.rendered() == ["She said never again, not ever and left."]
    # Cut inside the emphasis, each chunk gets its marks paired again.
    marked = RecordingEngine(max_chunk=30, emphasis=True)
    marked.synthesize(text, VoiceProfile("alto"))
    assert marked.rendered() == [
        f"She said {EMPHASIS_OPEN}never again,{EMPHASIS_CLOSE}",
        f"{EMPHASIS_OPEN}not ever{EMPHASIS_CLOSE} and left.",
    ]


def test_chunks_with_nothing_to_say_are_skipped() -> None:
    engine = RecordingEngine(max_chunk=17)
    assert engine.synthesize("... — “” !?", VoiceProfile("alto")) == b""
    assert engine.calls == []  # not even the voice set
    engine.synthesize(f"The tide came in. {'!' * 24} It rose.", VoiceProfile("alto"))
    # The chunk of 17 "!" says nothing; the next has a word.
    assert engine.rendered() == ["The tide came in.", "!!!!!!! It rose."]


def test_a_chunk_that_gives_no_audio_is_tried_once_more_then_named() -> None:
    engine = RecordingEngine(max_chunk=20)
    engine.once.add("It came in fast.")
    pcm = engine.synthesize("The tide came in. It came in fast.", VoiceProfile("alto"))
    assert engine.rendered() == ["The tide came in.", "It came in fast.", "It came in fast."]
    assert len(pcm) == 2 * 2 * SAMPLES
    engine.silent.add("It came in fast.")
    with pytest.raises(NarrateError) as raised:
        engine.synthesize("The tide came in. It came in fast.", VoiceProfile("bass"))
    assert str(raised.value) == (
        "speech engine produced no audio for: 'It came in fast.' (voice bass/r175/p50/v1)"
    )


def test_chunk_edges_are_faded_so_joined_chunks_do_not_click() -> None:
    engine = RecordingEngine(max_chunk=20)
    samples = array(
        "h", engine.synthesize("The tide came in. It came in fast.", VoiceProfile("alto"))
    )
    fade = int(engine.sample_rate * 0.003)
    for start in (0, SAMPLES):  # each chunk rises from silence and falls back to it
        chunk = samples[start : start + SAMPLES]
        assert chunk[0] == 0 and chunk[-1] == 0
        assert list(chunk[:fade]) == sorted(chunk[:fade])
        assert chunk[fade] == 20000 and chunk[-fade - 1] == 20000


def test_fade_edges_of_audio_shorter_than_two_fades() -> None:
    pcm = array("h", [1000] * 6).tobytes()
    assert list(array("h", fade_edges(pcm, 10))) == [0, 333, 666, 666, 333, 0]
    assert fade_edges(b"", 10) == b""
