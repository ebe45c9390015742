"""Speech through pyttsx3's own loop and drivers: the platform's voices on macOS and
Windows, or espeak-ng on request (``pyttsx3-espeak``).

Traps worked around here (pyttsx3 2.99 with its espeak driver):

* The espeak driver synthesizes on espeak's own thread. The first ``runAndWait`` of a
  process returns before that thread is done, so a long first utterance was silently lost.
  We run one empty ``runAndWait`` at start, which brings the driver into the state where
  later calls block until the audio is written, wait for pyttsx3's finished signal as well,
  and speak at most MAX_CHUNK_CHARACTERS at a time, checking that every chunk gave audio.
* espeak applies rate, pitch and volume on that thread too, and ``runAndWait`` cancels
  whatever espeak is still doing: settings were dropped at random and utterances lost. We
  wait until espeak is idle before each ``runAndWait``.
* pyttsx3 prints "Audio saved to ..." on stdout for every file; narrate's stdout may be a
  machine-read stream, so that output is swallowed.

What differs between espeak and the platform drivers (the library, the voice ids, the
rate, pitch, the waits) is one of two small objects, :class:`_EspeakSupport` and
:class:`_PlatformSupport`, chosen once when the engine is made.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import shutil
import tempfile
import threading
import time
import wave
import weakref
from collections.abc import Callable
from importlib import metadata
from typing import Any

from narrate.errors import NarrateError
from narrate.model import VoiceProfile
from narrate.speech.catalogue import VoiceCatalogue
from narrate.speech.espeak import EspeakLibrary, espeak_catalogue, espeak_rate, load_espeak
from narrate.speech.synthesis import synthesize_in_chunks
from narrate.speech.text import MAX_CHUNK_CHARACTERS

#: How long to wait for the espeak thread to finish one chunk before giving up.
FINISH_TIMEOUT_SECONDS = 60.0

#: How many times the engine may try its first utterance before it is called broken.
WARM_UP_ATTEMPTS = 3


class Pyttsx3Engine:
    """Speech through pyttsx3: espeak-ng on Linux, the platform driver elsewhere.

    Only the espeak path is tested; on macOS and Windows the same generic calls are made
    (voices from pyttsx3, ``save_to_file``), with exact voice ids and no variants.
    """

    #: Longest text spoken as one utterance (see MAX_CHUNK_CHARACTERS).
    max_chunk = MAX_CHUNK_CHARACTERS
    #: Whether emphasis marks (:data:`narrate.model.EMPHASIS_OPEN`) are spoken as
    #: emphasis; pyttsx3's drivers take plain text, so they are dropped.
    emphasis = False

    def __init__(self, driver: str) -> None:
        self.driver = driver
        self.name = f"pyttsx3-{driver}"
        # Before pyttsx3 starts: its espeak driver binds to the libespeak-ng loaded first.
        self._support = (
            _EspeakSupport(self.name) if driver == "espeak" else _PlatformSupport(driver)
        )
        #: The libespeak-ng behind the espeak driver (narrate's own, else the system's).
        self.library = self._support.library
        self.origin = self.library.describe() if self.library else ""
        try:
            import pyttsx3

            with contextlib.redirect_stdout(_NullStream()):
                self._tts: Any = pyttsx3.init(driver)
        except Exception as error:  # pyttsx3 fails with ImportError, RuntimeError, OSError...
            reason = " ".join(str(error).split()) or type(error).__name__
            raise NarrateError(f"cannot load the speech engine {self.name}: {reason}") from error

        self._finished = threading.Event()
        self._errors: list[BaseException] = []
        self._tts.connect("finished-utterance", self._on_finished)
        self._tts.connect("error", self._on_error)
        # The first runAndWait of a process does not wait for espeak's thread when commands
        # were queued before it; an empty one here makes every later call wait properly.
        self._tts.runAndWait()

        self.lock = threading.Lock()
        self._applied: dict[str, object] = {}
        self._directory = tempfile.mkdtemp(prefix="narrate-engine-", dir=_temporary_root())
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._directory, True)

        self.version = f"pyttsx3 {metadata.version('pyttsx3')} / {self._support.describe()}"
        self.catalogue = self._support.catalogue(list(self._tts.getProperty("voices") or []))
        # The Engine interface's voice calls are the catalogue's own.
        self.voices = self.catalogue.voices
        self.has_voice = self.catalogue.has_voice

        # The sample rate is whatever the driver writes; the warm-up also loads the voice
        # data, so a broken engine fails here with a clear message rather than mid-book.
        self.sample_rate = 0
        # Under load (several processes starting espeak at once) the very first utterance
        # is now and then lost; a broken engine loses every one.
        if not any(self.render("Ready.") for _ in range(WARM_UP_ATTEMPTS)):
            raise NarrateError(f"speech engine {self.name} produced no audio when starting")

    # -- pyttsx3 callbacks (called on espeak's thread)

    def _on_finished(self, **_: object) -> None:
        self._finished.set()

    def _on_error(self, exception: BaseException | None = None, **_: object) -> None:
        if exception is not None:
            self._errors.append(exception)

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        """Speak ``text`` in ``profile`` (see :func:`synthesize_in_chunks`)."""
        return synthesize_in_chunks(self, text, profile)

    # -- the calls synthesize_in_chunks makes

    def set_voice(self, profile: VoiceProfile, driver_voice: str) -> None:
        """Set the driver's properties that differ from the last ones set."""
        wanted = self._support.settings(profile, driver_voice)
        self._errors.clear()
        for key, value in wanted.items():
            if self._applied.get(key) != value:
                self._tts.setProperty(key, value)
                self._applied[key] = value
        if self._errors:
            # pyttsx3 swallows driver errors into its "error" event; surface them here.
            self._applied.clear()
            reason = " ".join(str(self._errors[0]).split())
            raise NarrateError(f"speech engine rejected voice {profile.id}: {reason}")

    def render(self, text: str) -> bytes:
        """One utterance through save_to_file; b"" when the engine wrote no audio."""
        path = os.path.join(self._directory, "utterance.wav")
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        self._finished.clear()
        with contextlib.redirect_stdout(_NullStream()):
            self._tts.save_to_file(text, path)
            self._support.wait_until_idle()
            self._tts.runAndWait()
            self._support.wait_until_finished(self._finished, text)
        try:
            return self._read_wav(path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    def _read_wav(self, path: str) -> bytes:
        """The samples of the WAV file the driver wrote; b"" when it wrote none."""
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            return b""
        try:
            with wave.open(path, "rb") as reader:
                channels, width, rate = (
                    reader.getnchannels(),
                    reader.getsampwidth(),
                    reader.getframerate(),
                )
                frames = reader.readframes(reader.getnframes())
        except (wave.Error, EOFError) as error:
            raise NarrateError(
                f"cannot read the audio of speech engine {self.name}: {error}"
            ) from error
        if self.sample_rate == 0:
            self.sample_rate = rate
        if (channels, width, rate) != (1, 2, self.sample_rate):
            raise NarrateError(
                f"speech engine {self.name} wrote {channels} channel(s), {8 * width}-bit,"
                f" {rate} Hz; expected mono 16-bit {self.sample_rate} Hz"
            )
        return frames


class _EspeakSupport:
    """pyttsx3's espeak driver, on narrate's own libespeak-ng: espeak's voice forms and
    variants, its rate factor, and waits for the thread it speaks on."""

    def __init__(self, engine_name: str) -> None:
        self._engine_name = engine_name
        self.library = load_espeak()
        self._is_playing = _espeak_is_playing()

    def describe(self) -> str:
        """The synthesizer behind pyttsx3, for the engine's version."""
        return f"espeak-ng {self.library.version}"

    def catalogue(self, raw_voices: list[Any]) -> VoiceCatalogue:
        """espeak's voices and the variants of the data the library reads."""
        return espeak_catalogue(raw_voices)

    def settings(self, profile: VoiceProfile, driver_voice: str) -> dict[str, object]:
        """pyttsx3's properties for ``profile``, in the order they are set."""
        return {
            "voice": driver_voice,
            "rate": espeak_rate(profile.rate),
            "pitch": profile.pitch,
            "volume": profile.volume,
        }

    def wait_until_idle(self) -> None:
        """Wait until espeak's thread has carried out every command given to it.

        espeak queues rate, pitch and volume changes for its thread, and pyttsx3's
        runAndWait cancels whatever espeak is still busy with: without this wait, new
        settings were dropped at random and the next utterance was sometimes cut to nothing.
        """
        if self._is_playing is None:
            return
        deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
        while self._is_playing():
            if time.monotonic() > deadline:
                raise NarrateError(
                    f"speech engine {self._engine_name} stayed busy for"
                    f" {FINISH_TIMEOUT_SECONDS:g} s"
                )
            time.sleep(0.0002)

    def wait_until_finished(self, finished: threading.Event, text: str) -> None:
        """Wait for pyttsx3's finished signal after ``runAndWait``.

        espeak writes the file on its own thread; the empty runAndWait at start makes
        runAndWait wait for it, and this covers the case where it still does not.
        """
        if not finished.wait(FINISH_TIMEOUT_SECONDS):
            raise NarrateError(
                f"speech engine did not finish within {FINISH_TIMEOUT_SECONDS:g} s"
                f" for: '{text[:60]}'"
            )


class _PlatformSupport:
    """A platform driver of pyttsx3 (sapi5, nsss, avspeech): voice ids exactly as it gives
    them, the rate as asked, no pitch (not every platform driver has it), and no waits
    beyond pyttsx3's own."""

    library: EspeakLibrary | None = None

    def __init__(self, driver: str) -> None:
        self._driver = driver

    def describe(self) -> str:
        """The driver and the system, for the engine's version."""
        return f"{self._driver} ({platform.system()} {platform.release()})"

    def catalogue(self, raw_voices: list[Any]) -> VoiceCatalogue:
        """The driver's voices, by their exact ids."""
        return VoiceCatalogue.exact(raw_voices)

    def settings(self, profile: VoiceProfile, driver_voice: str) -> dict[str, object]:
        """pyttsx3's properties for ``profile``, in the order they are set."""
        return {"voice": driver_voice, "rate": profile.rate, "volume": profile.volume}

    def wait_until_idle(self) -> None:
        """Nothing to wait for: pyttsx3's runAndWait does."""

    def wait_until_finished(self, finished: threading.Event, text: str) -> None:
        """Nothing to wait for: pyttsx3's runAndWait does."""


def _espeak_is_playing() -> Callable[[], int] | None:
    """espeak_IsPlaying of the library pyttsx3 loaded: true while espeak's thread works."""
    try:
        from pyttsx3.drivers import _espeak

        return _espeak.IsPlaying
    except (ImportError, AttributeError):
        return None


def _temporary_root() -> str | None:
    """/dev/shm when usable (memory, so no disk writes per chunk), else the default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


class _NullStream(io.TextIOBase):
    """A text stream that forgets what is written to it."""

    def write(self, text: str) -> int:
        return len(text)
