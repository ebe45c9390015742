"""espeak-ng, called directly: loading libespeak-ng, and the engine that speaks with it.

Trap worked around here: pyttsx3's binding (``pyttsx3.drivers._espeak``) binds to whichever
``libespeak-ng.so.1`` the dynamic loader gives it, and distributions ship other versions
with other voices (Debian 12's 1.51 lacks variants that 1.52 has), so the same voices file
worked on one machine and failed on the next. :func:`load_espeak` loads the copy shipped
in the ``espeakng-loader`` wheel first, with its own data, so every machine speaks with the
same synthesizer; the system's is used only on request (``espeak-ng-system``) or when the
wheel is missing, and :class:`EspeakLibrary` says which. Both :class:`EspeakEngine` and
pyttsx3's espeak driver (:mod:`narrate.speech.pyttsx3_engine`) speak through it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from narrate.errors import NarrateError
from narrate.model import EMPHASIS_CLOSE, EMPHASIS_OPEN, VoiceProfile
from narrate.speech.catalogue import VoiceCatalogue
from narrate.speech.synthesis import synthesize_in_chunks

# ---------------------------------------------------------------------------------------
# Loading libespeak-ng

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
    # its dlopen, so load the .so.1 file rather than the .so symlink target name. Loaded
    # locally, not RTLD_GLOBAL: its symbols must not stand in for those of the espeak-ng
    # built into Piper's phonemizer (a crash, measured, when they did).
    versioned = library.with_name("libespeak-ng.so.1")
    data = library.parent / "espeak-ng-data"
    if not (data / "phontab").is_file():
        # espeak-ng calls exit() when its data is missing, taking narrate down with it.
        raise NarrateError(f"espeak-ng data missing or incomplete: {data}")
    try:
        ctypes.CDLL(str(versioned if versioned.exists() else library))
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
        ctypes.CDLL("libespeak-ng.so.1")
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


# ---------------------------------------------------------------------------------------
# Its voices and its rate, for both engines that speak with it

#: espeak-ng speaks this many times faster than its nominal words-per-minute setting
#: (measured on English prose, silences trimmed); and the lowest setting it accepts.
ESPEAK_RATE_FACTOR = 1.2
ESPEAK_MIN_RATE = 80


def espeak_catalogue(raw_voices: list[Any]) -> VoiceCatalogue:
    """The catalogue of espeak-ng's voices ``raw_voices`` (pyttsx3 ``Voice`` objects) with the
    variants of the voice data the loaded, initialised libespeak-ng reads."""
    return VoiceCatalogue.espeak(raw_voices, _espeak_data(_binding()))


def espeak_rate(words_per_minute: int) -> int:
    """espeak-ng's rate setting that gives ``words_per_minute`` of real speech.

    espeak-ng's rate is nominal: measured on English prose with its pauses trimmed,
    espeak-ng 1.52 speaks 1.17-1.28 times faster than asked (1.2 at 100-200). Dividing
    by 1.2 makes ``rate`` in the voices file the words per minute a listener hears.
    """
    return max(ESPEAK_MIN_RATE, round(words_per_minute / ESPEAK_RATE_FACTOR))


# ---------------------------------------------------------------------------------------
# The engine


class EspeakEngine:
    """espeak-ng called directly, through the libespeak-ng binding that ships with pyttsx3.

    pyttsx3's own loop goes through a WAV file per utterance, sleeps 10 ms in every
    ``runAndWait`` and races espeak's thread (see :mod:`narrate.speech.pyttsx3_engine`); at
    narrate's scale (tens of thousands of sentences a novel) that was most of the synthesis
    time. Here espeak runs synchronously: ``espeak_Synth`` returns when the speech is done,
    handing the samples to a callback on the calling thread, with no files, threads or
    sleeps. Voices, ids and variants are exactly those of the pyttsx3 espeak driver.

    espeak-ng keeps internal state between utterances (a pitch-flutter phase among others),
    so the same text can come out a few samples different depending on what the process
    said before; a fresh process saying the same things in the same order gives the same
    bytes. Only one espeak engine can live in a process (:func:`espeak_engine`): do not
    mix this one with ``pyttsx3-espeak`` in one process.
    """

    #: No file-size trap here: whole paragraphs are one utterance, so their intonation
    #: runs on across commas as it should.
    max_chunk = 4000
    #: Emphasis is spoken, through SSML's <emphasis>.
    emphasis = True
    #: Milliseconds of audio per callback: fewer calls into Python.
    _BUFFER_MS = 500

    def __init__(self, system: bool = False) -> None:
        #: narrate's own libespeak-ng unless ``system`` (or the wheel is missing).
        self.library = load_espeak(system)
        self.origin = self.library.describe()
        # The name says which: the two sound different, so they never share cached speech.
        self.name = "espeak-ng" if self.library.origin == OWN else "espeak-ng-system"
        self._api = api = _binding()
        rate = api.Initialize(api.AUDIO_OUTPUT_SYNCHRONOUS, self._BUFFER_MS, None, 0)
        if rate <= 0:
            raise NarrateError(f"cannot start the speech engine {self.name}")
        self._buffers: list[bytes] = []
        api.SetSynthCallback(self._collect)
        self.lock = threading.Lock()
        self._applied: dict[object, object] = {}
        self.version = f"espeak-ng {self.library.version}"
        self.catalogue = espeak_catalogue(self._raw_voices())
        # The Engine interface's voice calls are the catalogue's own.
        self.voices = self.catalogue.voices
        self.has_voice = self.catalogue.has_voice
        self.sample_rate = rate
        if not self.render("Ready."):
            raise NarrateError(f"speech engine {self.name} produced no audio when starting")

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        """Speak ``text`` in ``profile`` (see :func:`synthesize_in_chunks`)."""
        return synthesize_in_chunks(self, text, profile)

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        """espeak's callback: keep the samples it hands over."""
        if wav and count > 0:
            self._buffers.append(ctypes.string_at(wav, count * 2))
        return 0  # go on

    def _raw_voices(self) -> list[Any]:
        """espeak's voice list, as the pyttsx3 espeak driver gives it."""
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

    def set_voice(self, profile: VoiceProfile, driver_voice: str) -> None:
        """Set the voice and the numbers that differ from the last ones set."""
        api = self._api
        if self._applied.get("voice") != driver_voice:
            if api.SetVoiceByName(driver_voice.encode("utf-8")) != api.EE_OK:
                self._applied.clear()
                raise NarrateError(f"speech engine rejected voice {profile.id}")
            # A new voice brings its own rate and pitch: set everything again.
            self._applied = {"voice": driver_voice}
        wanted = {
            api.RATE: espeak_rate(profile.rate),
            api.PITCH: profile.pitch,
            api.VOLUME: int(round(profile.volume * 100)),
        }
        for parameter, value in wanted.items():
            if self._applied.get(parameter) != value:
                api.SetParameter(parameter, value, 0)
                self._applied[parameter] = value

    def render(self, text: str) -> bytes:
        """One utterance, synthesized on this thread; b"" when espeak gave no audio."""
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


#: This process's espeak-ng engine: a process holds one libespeak-ng, whose settings and
#: callback one engine owns, whichever name asked for it.
_espeak_engine: EspeakEngine | None = None


def espeak_engine(system: bool) -> EspeakEngine:
    """This process's espeak-ng engine, made on first use: with narrate's own
    libespeak-ng, or the system's if ``system``. Raises NarrateError when the process
    already holds the other library."""
    global _espeak_engine
    load_espeak(system)  # refuses the other library once one is loaded
    if _espeak_engine is None:
        _espeak_engine = EspeakEngine(system)
    return _espeak_engine
