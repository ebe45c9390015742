"""The speech engine: text and a voice profile in, 16-bit mono PCM out.

Everything else in narrate talks to the small ``Engine`` interface below, so other engines
(SAPI5 directly, NSSpeech, a neural engine) can plug in: ``get_engine("module:factory")``.
Two implementations live here: ``EspeakEngine``, libespeak-ng called directly and
synchronously through the binding pyttsx3 ships (the default on Linux: no files, threads
or sleeps per utterance), and ``Pyttsx3Engine``, pyttsx3's own loop with the platform's
driver (macOS, Windows, or on request).

Traps this module works around (pyttsx3 2.99 with its espeak driver):

* pyttsx3 binds to whichever ``libespeak-ng.so.1`` the dynamic loader gives it, and
  distributions ship other versions with other voices (Debian 12's 1.51 lacks variants
  that 1.52 has), so the same voices file worked on one machine and failed on the next.
  We load the copy shipped in the ``espeakng-loader`` wheel first, with its own data, so
  every machine speaks with the same synthesizer; the system's is used only on request
  (``espeak-ng-system``) or when the wheel is missing, and :func:`describe` says which.
* The espeak driver synthesizes on espeak's own thread. The first ``runAndWait`` of a process
  returns before that thread is done, so a long first utterance was silently lost. We run
  one empty ``runAndWait`` at start, which brings the driver into the state where later
  calls block until the audio is written, wait for pyttsx3's finished signal as well, and
  speak at most MAX_CHUNK_CHARACTERS at a time, checking that every chunk gave audio.
* espeak applies rate, pitch and volume on that thread too, and ``runAndWait`` cancels
  whatever espeak is still doing: settings were dropped at random and utterances lost. We
  wait until espeak is idle before each ``runAndWait``.
* An unknown voice (or ``+variant``) makes espeak quietly keep the previous voice, so voice
  ids are validated here before pyttsx3 sees them.
* pyttsx3 prints "Audio saved to ..." on stdout for every file; narrate's stdout may be a
  machine-read stream, so that output is swallowed.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import importlib
import io
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
import wave
import weakref
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from narrate.errors import ConfigError, NarrateError
from narrate.model import (
    EMPHASIS_CLOSE,
    EMPHASIS_OPEN,
    FEMALE,
    MALE,
    PITCH_RANGE,
    RATE_RANGE,
    VOLUME_RANGE,
    VoiceProfile,
    balanced,
    plain,
)
from narrate.speech.text import ABBREVIATIONS

#: Longest piece of text handed to the engine at once: long utterances are the risky case.
MAX_CHUNK_CHARACTERS = 200


#: espeak-ng speaks this many times faster than its nominal words-per-minute setting
#: (measured on English prose, silences trimmed); and the lowest setting it accepts.
ESPEAK_RATE_FACTOR = 1.2
ESPEAK_MIN_RATE = 80

#: Engine names ``get_engine`` accepts besides "auto" and "pyttsx3" (the default driver).
DRIVERS = ("espeak", "sapi5", "nsss", "avspeech")

#: How long to wait for the espeak thread to finish one chunk before giving up.
FINISH_TIMEOUT_SECONDS = 60.0

#: How many times the engine may try its first utterance before it is called broken.
WARM_UP_ATTEMPTS = 3

#: Fade length at chunk edges, so joined chunks do not click.
EDGE_FADE_SECONDS = 0.003


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
# Text helpers


def is_speakable(text: str) -> bool:
    """Whether ``text`` has anything to say: a letter, digit or symbol, not just punctuation."""
    return any(unicodedata.category(character)[0] in "LNS" for character in text)


_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+")
# Commas and colons only count before a space, so "1,000" and "10:30" stay whole.
_CLAUSE_END = re.compile(r"[;:,]+[\"'”’»)\]]*\s+|\s*[—–]+\s*")
_SPACE = re.compile(r"\s+")


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Cut ``text`` after every match of ``pattern``; the pieces join back to ``text``."""
    pieces = []
    start = 0
    for match in pattern.finditer(text):
        if match.end() <= start or match.end() == len(text):
            continue
        if pattern is _SENTENCE_END:
            words = text[start : match.start()].split()
            # Not after "Mr.": splitting there would make espeak drop its voice as at a
            # full stop in the middle of a name.
            if (
                match.group().startswith(".")
                and words
                and (words[-1].lower().rstrip(".") in ABBREVIATIONS)
            ):
                continue
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def _pack(pieces: Iterable[str], limit: int) -> list[str]:
    """Join neighbouring pieces while the result stays within ``limit`` characters."""
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1].strip()) + len(piece.rstrip()) <= limit:
            chunks[-1] += piece
        else:
            chunks.append(piece)
    return chunks


def _split(text: str, limit: int, level: int) -> list[str]:
    if len(text.strip()) <= limit:
        return [text]
    patterns = (_SENTENCE_END, _CLAUSE_END, _SPACE)
    if level == len(patterns):
        return [text[index : index + limit] for index in range(0, len(text), limit)]
    pieces: list[str] = []
    for piece in _pieces(text, patterns[level]):
        pieces.extend(_split(piece, limit, level + 1))
    return _pack(pieces, limit)


def split_text(text: str, limit: int = MAX_CHUNK_CHARACTERS) -> list[str]:
    """Cut text into chunks of at most ``limit`` characters, stripped and non-empty.

    Cuts fall between sentences where possible, then after ``; : ,`` and dashes, then
    between words; whole words longer than ``limit`` are cut anywhere.
    """
    return [chunk.strip() for chunk in _split(text, limit, 0) if chunk.strip()]


def _fade_edges(pcm: bytes, samples: int) -> bytes:
    """Ramp the first and last ``samples`` samples from and to zero."""
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


# ---------------------------------------------------------------------------------------
# Loading espeak-ng


class _NullStream(io.TextIOBase):
    """A text stream that forgets what is written to it."""

    def write(self, text: str) -> int:
        return len(text)


#: Where a libespeak-ng comes from: narrate's own (the espeakng-loader wheel's library and
#: its voice data, the same on every machine) or the system's (a distribution's package,
#: whose version and voices vary: Debian 12's 1.51 lacks variants 1.52 has).
OWN = "narrate's own"
SYSTEM = "the system's"


@dataclass(frozen=True)
class EspeakLibrary:
    """The libespeak-ng a process speaks with, as the dynamic loader mapped it."""

    version: str
    #: The file the function calls go to; None where the platform cannot say.
    path: str | None
    #: OWN or SYSTEM.
    origin: str

    def describe(self) -> str:
        """E.g. "narrate's own libespeak-ng, from espeakng-loader 0.2.4: /…/libespeak-ng.so.1"."""
        package = ""
        if self.origin == OWN:
            with contextlib.suppress(metadata.PackageNotFoundError):
                package = f", from espeakng-loader {metadata.version('espeakng-loader')}"
        where = f": {self.path}" if self.path else ""
        return f"{self.origin} libespeak-ng{package}{where}"


#: The libespeak-ng this process loaded. A process holds one: pyttsx3's binding is bound
#: to whichever was loaded first.
_loaded_library: EspeakLibrary | None = None


def load_espeak(system: bool = False) -> EspeakLibrary:
    """Load libespeak-ng for pyttsx3's binding, and say which one it is.

    On Linux this is narrate's own (the espeakng-loader wheel, a dependency there) unless
    ``system`` asks for the system's or the wheel is not installed; elsewhere it is
    whatever pyttsx3 finds. Asking for the other one later in the same process is an
    error: a process can hold only one.
    """
    global _loaded_library
    linux = sys.platform.startswith("linux")
    wanted = OWN if linux and not system and _wheel_folder() is not None else SYSTEM
    if _loaded_library is None:
        if linux and wanted == OWN:
            _map_own_library()
        elif linux:
            _map_system_library(system)
        _loaded_library = _bound_library(_binding(), wanted)
    loaded = _loaded_library
    if linux and loaded.origin != wanted:
        raise NarrateError(
            f"this process already speaks with {loaded.describe()} ({loaded.version});"
            f" it cannot load {wanted} as well (use one espeak-ng engine per run)"
        )
    return loaded


def _wheel_folder() -> Path | None:
    """The espeakng-loader package's folder (its library and data), if it is installed."""
    try:
        import espeakng_loader
    except ImportError:
        return None
    return Path(espeakng_loader.__file__).resolve().parent


def _map_own_library() -> None:
    """Load the wheel's libespeak-ng, so that pyttsx3's dlopen by soname gets this one."""
    import espeakng_loader

    library = Path(espeakng_loader.get_library_path())
    # pyttsx3 asks for the soname; a library already loaded under that soname satisfies
    # its dlopen, so load the .so.1 file rather than the .so symlink target name.
    versioned = library.with_name("libespeak-ng.so.1")
    data = library.parent / "espeak-ng-data"
    if not (data / "phontab").is_file():
        # espeak-ng calls exit() when its data is missing, taking narrate down with it.
        raise NarrateError(f"espeak-ng data missing or incomplete: {data}")
    try:
        ctypes.CDLL(str(versioned if versioned.exists() else library), ctypes.RTLD_GLOBAL)
    except OSError as error:
        raise NarrateError(f"cannot load espeak-ng from {library}: {error}") from error
    # The library reads its data from here (it was built for another prefix).
    os.environ["ESPEAK_DATA_PATH"] = str(data)


def _map_system_library(asked: bool) -> None:
    """Load the system's libespeak-ng, with the system's own voice data."""
    inherited = os.environ.get("ESPEAK_DATA_PATH")
    if inherited and Path(inherited).resolve().parent.name == "espeakng_loader":
        # Set by a narrate process that started this one: that data is for the wheel's
        # library, not this one.
        del os.environ["ESPEAK_DATA_PATH"]
    try:
        ctypes.CDLL("libespeak-ng.so.1", ctypes.RTLD_GLOBAL)
    except OSError:
        if asked:
            raise NarrateError(
                "no espeak-ng library on this system: install it (Debian, Ubuntu:"
                " apt install libespeak-ng1) or use narrate's own with --engine espeak-ng"
            ) from None
        raise NarrateError(
            "no espeak-ng library found: `pip install espeakng-loader` (narrate's own,"
            " installed with narrate on Linux) or install the system's (apt install"
            " libespeak-ng1)"
        ) from None


def _binding() -> Any:
    """pyttsx3's ctypes binding of libespeak-ng (bound to the library loaded first)."""
    try:
        from pyttsx3.drivers import _espeak
    except Exception as error:  # the binding raises RuntimeError when it finds no library
        reason = " ".join(str(error).split()) or type(error).__name__
        raise NarrateError(f"cannot load the speech engine espeak-ng: {reason}") from error
    return _espeak


class _SharedObjectInfo(ctypes.Structure):
    _fields_ = (
        ("file_name", ctypes.c_char_p),
        ("base", ctypes.c_void_p),
        ("symbol_name", ctypes.c_char_p),
        ("symbol_address", ctypes.c_void_p),
    )


def _file_of(function: Any) -> str | None:
    """The shared library file that holds ``function`` (dladdr), or None."""
    try:
        dladdr = ctypes.CDLL(None).dladdr
    except (OSError, AttributeError, TypeError):
        return None
    dladdr.argtypes = (ctypes.c_void_p, ctypes.POINTER(_SharedObjectInfo))
    dladdr.restype = ctypes.c_int
    info = _SharedObjectInfo()
    address = ctypes.cast(function, ctypes.c_void_p).value
    if not address or not dladdr(address, ctypes.byref(info)) or not info.file_name:
        return None
    return os.path.realpath(os.fsdecode(info.file_name))


def _espeak_info(binding: Any) -> tuple[Any, str, Path | None]:
    """espeak_Info of the library the binding calls: the function, the version, and the
    data folder (known once the library is initialised)."""
    info = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p))(
        ("espeak_Info", binding.dll)
    )
    data = ctypes.c_char_p()
    version = (info(ctypes.byref(data)) or b"?").decode(errors="replace")
    return info, version, Path(os.fsdecode(data.value)) if data.value else None


def _espeak_data(binding: Any) -> Path | None:
    """The voice data folder the initialised libespeak-ng reads."""
    return _espeak_info(binding)[2]


def _bound_library(binding: Any, mapped: str) -> EspeakLibrary:
    """Which libespeak-ng pyttsx3's binding calls: its version and file (``mapped``: the
    origin of the one loaded, for a platform that cannot say which file that is)."""
    function, version, _ = _espeak_info(binding)
    path = _file_of(function)
    wheel = _wheel_folder()
    if path is None:
        origin = mapped
    else:
        origin = OWN if wheel is not None and Path(path).parent == wheel else SYSTEM
    return EspeakLibrary(version=version, path=path, origin=origin)


def _espeak_is_playing() -> Callable[[], int] | None:
    """espeak_IsPlaying of the library pyttsx3 loaded: true while espeak's thread works."""
    try:
        from pyttsx3.drivers import _espeak

        return _espeak.IsPlaying
    except (ImportError, AttributeError):
        return None


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
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split(maxsplit=1)
            if len(words) == 2 and words[0] == "name":
                return words[1].strip()
    return path.name


def _espeak_variants(data: Path | None) -> dict[str, VoiceInfo]:
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


def _check_ranges(profile: VoiceProfile) -> str | None:
    """What is out of range in ``profile``, or None."""
    if not RATE_RANGE[0] <= profile.rate <= RATE_RANGE[1]:
        return f"rate {profile.rate} is outside {RATE_RANGE[0]}-{RATE_RANGE[1]} words per minute"
    if not PITCH_RANGE[0] <= profile.pitch <= PITCH_RANGE[1]:
        return f"pitch {profile.pitch} is outside {PITCH_RANGE[0]}-{PITCH_RANGE[1]}"
    if not VOLUME_RANGE[0] <= profile.volume <= VOLUME_RANGE[1]:
        return f"volume {profile.volume:g} is outside {VOLUME_RANGE[0]:g}-{VOLUME_RANGE[1]:g}"
    return None


# ---------------------------------------------------------------------------------------
# The pyttsx3 engine


class Pyttsx3Engine:
    """Speech through pyttsx3: espeak-ng on Linux, the platform driver elsewhere.

    Only the espeak path is tested; on macOS and Windows the same generic calls are made
    (voices from pyttsx3, ``save_to_file``), with exact voice ids and no variants.
    """

    #: Longest text spoken as one utterance (see MAX_CHUNK_CHARACTERS).
    max_chunk = MAX_CHUNK_CHARACTERS
    #: Whether emphasis marks (:data:`narrate.speech.text.EMPHASIS_OPEN`) are spoken as
    #: emphasis; pyttsx3's drivers take plain text, so they are dropped.
    emphasis = False

    def __init__(self, driver: str) -> None:
        self.driver = driver
        self.name = f"pyttsx3-{driver}"
        self._espeak = driver == "espeak"
        #: The libespeak-ng behind the espeak driver (narrate's own, else the system's).
        self.library = load_espeak() if self._espeak else None
        self.origin = self.library.describe() if self.library else ""
        try:
            import pyttsx3

            with contextlib.redirect_stdout(_NullStream()):
                self._tts: Any = pyttsx3.init(driver)
        except Exception as error:  # pyttsx3 fails with ImportError, RuntimeError, OSError...
            reason = " ".join(str(error).split()) or type(error).__name__
            raise NarrateError(f"cannot load the speech engine {self.name}: {reason}") from error

        self._is_playing = _espeak_is_playing() if self._espeak else None
        self._finished = threading.Event()
        self._errors: list[BaseException] = []
        self._tts.connect("finished-utterance", self._on_finished)
        self._tts.connect("error", self._on_error)
        # The first runAndWait of a process does not wait for espeak's thread when commands
        # were queued before it; an empty one here makes every later call wait properly.
        self._tts.runAndWait()

        self._lock = threading.Lock()
        self._applied: dict[str, object] = {}
        self._directory = tempfile.mkdtemp(prefix="narrate-engine-", dir=_temporary_root())
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._directory, True)

        library_version = metadata.version("pyttsx3")
        if self.library:
            self.version = f"pyttsx3 {library_version} / espeak-ng {self.library.version}"
        else:
            system = f"{platform.system()} {platform.release()}"
            self.version = f"pyttsx3 {library_version} / {driver} ({system})"
        self._base_voices, self._lookup = self._read_voices()
        self._variants = _espeak_variants(_espeak_data(_binding())) if self.library else {}

        # The sample rate is whatever the driver writes; the warm-up also loads the voice
        # data, so a broken engine fails here with a clear message rather than mid-book.
        self.sample_rate = 0
        # Under load (several processes starting espeak at once) the very first utterance
        # is now and then lost; a broken engine loses every one.
        if not any(self._render("Ready.") for _ in range(WARM_UP_ATTEMPTS)):
            raise NarrateError(f"speech engine {self.name} produced no audio when starting")

    # -- pyttsx3 callbacks (called on espeak's thread)

    def _on_finished(self, **_: object) -> None:
        self._finished.set()

    def _on_error(self, exception: BaseException | None = None, **_: object) -> None:
        if exception is not None:
            self._errors.append(exception)

    # -- voices

    def _raw_voices(self) -> list[Any]:
        return list(self._tts.getProperty("voices") or [])

    def _read_voices(self) -> tuple[list[VoiceInfo], dict[str, str]]:
        """Base voices as shown to users, and a map from accepted id to the driver's id."""
        raw = self._raw_voices()
        if not self._espeak:
            infos = [
                VoiceInfo(
                    id=voice.id,
                    name=voice.name or voice.id,
                    language=_first_language(voice),
                    gender=_gender(voice),
                )
                for voice in raw
            ]
            return infos, {voice.id: voice.id for voice in raw}
        # espeak ids look like "gmw/en-us"; users write "en-us" (unique within espeak's
        # list) or the language code ("en-gb" is the voice file "gmw/en").
        short_counts: dict[str, int] = {}
        for voice in raw:
            short = voice.id.rsplit("/", 1)[-1]
            short_counts[short] = short_counts.get(short, 0) + 1
        infos = []
        lookup: dict[str, str] = {}
        for voice in raw:
            short = voice.id.rsplit("/", 1)[-1]
            shown = short if short_counts[short] == 1 else voice.id
            infos.append(
                VoiceInfo(
                    id=shown,
                    name=voice.name or shown,
                    language=_first_language(voice),
                    gender=_gender(voice),
                )
            )
            lookup[voice.id.lower()] = voice.id
            lookup.setdefault(shown.lower(), voice.id)
        for voice, info in zip(raw, infos, strict=True):
            if info.language:
                lookup.setdefault(info.language.lower(), voice.id)
        return infos, lookup

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        """Base voices whose language starts with ``language``, then every variant."""
        prefix = (language or "").lower()
        base = [
            voice
            for voice in self._base_voices
            if not prefix
            or voice.language.lower() == prefix
            or voice.language.lower().startswith(prefix + "-")
        ]
        return base + list(self._variants.values())

    def _driver_voice(self, voice_id: str) -> str | None:
        """The id to hand to the driver for ``voice_id``, or None if it is not a voice."""
        if not self._espeak:
            return voice_id if voice_id in self._lookup else None
        base, plus, variant = voice_id.partition("+")
        driver_id = self._lookup.get(base.lower())
        if driver_id is None:
            return None
        if not plus:
            return driver_id
        # espeak ignores an unknown variant without a word, so only real file names pass.
        return f"{driver_id}+{variant}" if variant in self._variants else None

    def has_voice(self, voice_id: str) -> bool:
        """Whether ``voice_id`` names a voice, optionally ``+variant`` (espeak).

        espeak accepts its voice ids ("gmw/en-us"), the short form ("en-us") and the language
        code ("en-gb"), in any case; a variant must match a file name in ``voices/!v``
        exactly ("en-us+f3", "en-us+Annie").
        """
        return self._driver_voice(voice_id) is not None

    # -- synthesis

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        """Speak ``text`` in ``profile``: 16-bit little-endian mono PCM at ``sample_rate``.

        Long text is spoken in chunks of at most MAX_CHUNK_CHARACTERS, joined without added
        silence. Raises ConfigError for an unknown voice or out-of-range numbers, and
        NarrateError when the engine gives no audio for speakable text.
        """
        driver_voice = self._driver_voice(profile.voice)
        if driver_voice is None:
            raise ConfigError(_unknown_voice_message(self, profile.voice))
        problem = _check_ranges(profile)
        if problem:
            raise ConfigError(f"voice profile {profile.id}: {problem}")
        if not self.emphasis:
            text = plain(text)
        chunks = [
            balanced(chunk)
            for chunk in split_text(text, self.max_chunk)
            if is_speakable(plain(chunk))
        ]
        if not chunks:
            return b""
        fade = max(1, int(self.sample_rate * EDGE_FADE_SECONDS))
        parts = []
        with self._lock:
            self._apply(profile, driver_voice)
            for chunk in chunks:
                # One retry: the failures seen were timing races, not properties of the text.
                pcm = self._render(chunk) or self._render(chunk)
                if not pcm:
                    raise NarrateError(
                        f"speech engine produced no audio for: '{chunk[:60]}' (voice {profile.id})"
                    )
                parts.append(_fade_edges(pcm, fade))
        return b"".join(parts)

    def _driver_rate(self, words_per_minute: int) -> int:
        """The driver's rate setting that gives ``words_per_minute`` of real speech.

        espeak-ng's rate is nominal: measured on English prose with its pauses trimmed,
        espeak-ng 1.52 speaks 1.17-1.28 times faster than asked (1.2 at 100-200). Dividing
        by 1.2 makes ``rate`` in the voices file the words per minute a listener hears.
        """
        if not self._espeak:
            return words_per_minute
        return max(ESPEAK_MIN_RATE, round(words_per_minute / ESPEAK_RATE_FACTOR))

    def _apply(self, profile: VoiceProfile, driver_voice: str) -> None:
        """Set the driver's properties that differ from the last ones set."""
        wanted: dict[str, object] = {
            "voice": driver_voice,
            "rate": self._driver_rate(profile.rate),
            "pitch": profile.pitch,
            "volume": profile.volume,
        }
        if not self._espeak:
            del wanted["pitch"]  # not every platform driver has it; espeak does
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

    def _render(self, text: str) -> bytes:
        """One utterance through save_to_file; b"" when the engine wrote no audio."""
        path = os.path.join(self._directory, "utterance.wav")
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        self._finished.clear()
        with contextlib.redirect_stdout(_NullStream()):
            self._tts.save_to_file(text, path)
            self._wait_until_idle()
            self._tts.runAndWait()
            # espeak writes the file on its own thread; the empty runAndWait at start makes
            # runAndWait wait for it, and this covers the case where it still does not.
            if self._espeak and not self._finished.wait(FINISH_TIMEOUT_SECONDS):
                raise NarrateError(
                    f"speech engine did not finish within {FINISH_TIMEOUT_SECONDS:g} s"
                    f" for: '{text[:60]}'"
                )
        try:
            return self._read_wav(path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    def _wait_until_idle(self) -> None:
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
                    f"speech engine {self.name} stayed busy for {FINISH_TIMEOUT_SECONDS:g} s"
                )
            time.sleep(0.0002)

    def _read_wav(self, path: str) -> bytes:
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


class EspeakEngine(Pyttsx3Engine):
    """espeak-ng called directly, through the libespeak-ng binding that ships with pyttsx3.

    pyttsx3's own loop goes through a WAV file per utterance, sleeps 10 ms in every
    ``runAndWait`` and races espeak's thread (see the module notes); at narrate's scale
    (tens of thousands of sentences a novel) that was most of the synthesis time. Here
    espeak runs synchronously: ``espeak_Synth`` returns when the speech is done, handing the
    samples to a callback on the calling thread, with no files, threads or sleeps. Voices,
    ids and variants are exactly those of the pyttsx3 espeak driver.

    espeak-ng keeps internal state between utterances (a pitch-flutter phase among others),
    so the same text can come out a few samples different depending on what the process
    said before; a fresh process saying the same things in the same order gives the same
    bytes. Only one espeak engine can live in a process: do not mix this one with
    ``pyttsx3-espeak`` in one process.
    """

    #: No file-size trap here: whole paragraphs are one utterance, so their intonation
    #: runs on across commas as it should.
    max_chunk = 4000
    #: Emphasis is spoken, through SSML's <emphasis>.
    emphasis = True
    #: Milliseconds of audio per callback: fewer calls into Python.
    _BUFFER_MS = 500

    def __init__(self, system: bool = False) -> None:
        self.driver = "espeak"
        self._espeak = True
        #: narrate's own libespeak-ng unless ``system`` (or the wheel is missing).
        self.library = load_espeak(system)
        self.origin = self.library.describe()
        # The name says which: the two sound different, so they never share cached speech.
        self.name = "espeak-ng" if self.library.origin == OWN else "espeak-ng-system"
        self._api = _espeak = _binding()
        rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, self._BUFFER_MS, None, 0)
        if rate <= 0:
            raise NarrateError(f"cannot start the speech engine {self.name}")
        self._buffers: list[bytes] = []
        _espeak.SetSynthCallback(self._collect)
        self._lock = threading.Lock()
        self._applied: dict[str, object] = {}
        self.version = f"espeak-ng {self.library.version}"
        self._base_voices, self._lookup = self._read_voices()
        self._variants = _espeak_variants(_espeak_data(_espeak))
        self.sample_rate = rate
        if not self._render("Ready."):
            raise NarrateError(f"speech engine {self.name} produced no audio when starting")

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if wav and count > 0:
            self._buffers.append(ctypes.string_at(wav, count * 2))
        return 0  # go on

    def _raw_voices(self) -> list[Any]:
        from pyttsx3.voice import Voice

        genders = (None, "Male", "Female")
        voices = []
        for voice in self._api.ListVoices(None):
            languages = voice.languages[1:].decode("utf-8", "ignore") if voice.languages else ""
            voices.append(
                Voice(
                    id=voice.identifier.decode("utf-8").lower(),
                    name=voice.name.decode("utf-8"),
                    languages=[languages] if languages else [],
                    gender=genders[voice.gender] if voice.gender < 3 else None,
                )
            )
        return voices

    def _apply(self, profile: VoiceProfile, driver_voice: str) -> None:
        api = self._api
        if self._applied.get("voice") != driver_voice:
            if api.SetVoiceByName(driver_voice.encode("utf-8")) != api.EE_OK:
                self._applied.clear()
                raise NarrateError(f"speech engine rejected voice {profile.id}")
            # A new voice brings its own rate and pitch: set everything again.
            self._applied = {"voice": driver_voice}
        wanted = {
            api.RATE: self._driver_rate(profile.rate),
            api.PITCH: profile.pitch,
            api.VOLUME: int(round(profile.volume * 100)),
        }
        for parameter, value in wanted.items():
            if self._applied.get(parameter) != value:
                api.SetParameter(parameter, value, 0)
                self._applied[parameter] = value

    def _render(self, text: str) -> bytes:
        flags = self._api.CHARS_UTF8
        if EMPHASIS_OPEN in text:
            # SSML, so that the emphasis is spoken; everything else is escaped text.
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            escaped = escaped.replace(EMPHASIS_OPEN, "<emphasis>")
            escaped = escaped.replace(EMPHASIS_CLOSE, "</emphasis>")
            text = f"<speak>{escaped}</speak>"
            flags |= self._api.SSML
        data = text.encode("utf-8") + b"\0"
        self._buffers = []
        api = self._api
        status = api.cSynth(data, len(data), 0, api.POS_CHARACTER, 0, flags, None, None)
        if status != api.EE_OK:
            raise NarrateError(
                f"speech engine {self.name} failed (status {status}) on: '{text[:60]}'"
            )
        pcm = b"".join(self._buffers)
        self._buffers = []
        return pcm


def _temporary_root() -> str | None:
    """/dev/shm when usable (memory, so no disk writes per chunk), else the default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _first_language(voice: Any) -> str:
    languages = getattr(voice, "languages", None) or []
    language = languages[0] if languages else ""
    return language.decode(errors="replace") if isinstance(language, bytes) else str(language)


def _gender(voice: Any) -> str | None:
    gender = str(getattr(voice, "gender", None) or "").lower()
    return gender if gender in (FEMALE, MALE) else None


# ---------------------------------------------------------------------------------------
# Public functions

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


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


def _plugin(spec: str) -> Engine:
    """A plug-in engine: "package.module:factory", the factory called with no arguments."""
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"cannot load the speech engine {spec!r}: {error}") from None
    return factory()


#: espeak-ng called directly: narrate's own libespeak-ng (the system's when it is not
#: installed), or the system's on request.
ESPEAK_NAMES = ("espeak-ng", "espeak-ng-system")

#: This process's espeak-ng engine: a process holds one libespeak-ng, whose settings and
#: callback one engine owns, whichever name asked for it.
_espeak_engine: EspeakEngine | None = None


def _espeak(system: bool) -> EspeakEngine:
    global _espeak_engine
    load_espeak(system)  # refuses the other library once one is loaded
    if _espeak_engine is None:
        _espeak_engine = EspeakEngine(system)
    return _espeak_engine


def _create(name: str) -> Engine:
    if name == "auto":
        name = "espeak-ng" if sys.platform.startswith("linux") else "pyttsx3"
    if name in ESPEAK_NAMES:
        return _espeak(system=name == "espeak-ng-system")
    if ":" in name:
        return _plugin(name)
    return Pyttsx3Engine(_driver_for(name))


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
            engine = _create(name)
            with contextlib.suppress(AttributeError):
                engine.spec = name  # type: ignore[attr-defined]
            _engines[name] = engine
        return engine


def describe(engine: Engine) -> str:
    """Which synthesizer this is, for summaries and bug reports: name, version, and (for
    engines that know it, through an ``origin`` attribute) where it was loaded from."""
    origin = getattr(engine, "origin", "")
    return f"{engine.name} ({engine.version}" + (f"; {origin})" if origin else ")")


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


def _unknown_voice_message(engine: Engine, voice_id: str) -> str:
    """'unknown voice ...' with a close match when there is one and a hint to list voices."""
    suggestion = _suggestion(engine, voice_id)
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    return (
        f"unknown voice {voice_id!r} for speech engine {engine.name}{hint}; {voices_hint(engine)}"
    )


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
            raise ConfigError(f"{where}: {_unknown_voice_message(engine, profile.voice)}")
        problem = _check_ranges(profile)
        if problem:
            raise ConfigError(f"{where}: {problem}")
