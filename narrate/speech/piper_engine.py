"""Piper: neural voices (VITS models run by onnxruntime), an optional extra.

A Piper voice is a model file ``NAME.onnx`` with its config ``NAME.onnx.json``. A voice
profile names one as ``piper:NAME`` (found in the voice folders), ``piper:/path/NAME.onnx``,
and a speaker of a multi-speaker model as ``piper:NAME#SPEAKER`` (a name from the config's
``speaker_id_map``, or a number). Each model is loaded once per process.

What a profile means here: ``rate`` is words per minute, turned into Piper's
``length_scale`` against the voice's own rate (measured once per voice on a fixed text,
and remembered in the cache folder); ``volume`` scales the samples; ``pitch`` is not
something a Piper voice can do, so a Piper profile with a pitch other than the default
is refused. Piper's own peak normalisation of every sentence is off: narrate's loudness
stage makes every voice equally loud. Speech comes out at :data:`SAMPLE_RATE` whatever
the model's rate, so Piper voices mix with espeak-ng's in one book.

Needs ``pip install 'narrate[piper]'`` (the ``piper-tts`` package); without it, naming a
Piper voice is a one-line error saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from functools import cache, cached_property
from math import gcd
from pathlib import Path

import numpy as np

from narrate.errors import ConfigError, NarrateError
from narrate.model import VoiceProfile, plain
from narrate.speech.engine import VoiceInfo
from narrate.speech.text import is_speakable

#: How a profile names a Piper voice.
PREFIX = "piper:"
#: The rate every Piper voice is delivered at (espeak-ng's, and Piper's medium and high
#: voices'); a 16 kHz "low" voice is resampled.
SAMPLE_RATE = 22050
#: Where voices are looked for, besides the per-user folder: folders separated as PATH is.
VOICE_DIR_VARIABLE = "NARRATE_VOICE_DIR"
#: The text a voice's own speed is measured on (58 words, ordinary prose).
RATE_TEXT = (
    "The evening train was late again, and the platform had filled with people who "
    "pretended not to mind. A woman in a green coat read the same page of her book "
    "three times. Two boys argued about a football match neither of them had seen. "
    "When the lights of the engine finally appeared, everyone stepped forward at once."
)
DEFAULT_PITCH = VoiceProfile("x").pitch
_QUALITY = {"x_low": 0, "low": 1, "medium": 2, "high": 3}

_INSTALL_HINT = "Piper voices need the piper extra: pip install 'narrate[piper]'"


def is_piper_voice(voice_id: str) -> bool:
    return voice_id.startswith(PREFIX)


def default_voice_dir() -> Path:
    """The per-user folder of Piper voices (``narrate voices --download`` fills it)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("narrate", appauthor=False)) / "piper"


def voice_dirs() -> list[Path]:
    """The folders searched for ``piper:NAME``: ``$NARRATE_VOICE_DIR`` (several may be
    given, separated as in PATH), then the per-user folder."""
    named = os.environ.get(VOICE_DIR_VARIABLE, "")
    folders = [Path(part).expanduser() for part in named.split(os.pathsep) if part.strip()]
    return [*folders, default_voice_dir()]


@cache
def piper_version() -> str | None:
    """The installed piper-tts version, or None when the extra is not installed (read once
    per process: the metadata lookup is slow, and it is asked for every sentence)."""
    from importlib import metadata

    try:
        return metadata.version("piper-tts")
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class PiperModel:
    """One model file and what its config says of it."""

    path: Path
    config: dict

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".onnx")

    @property
    def sample_rate(self) -> int:
        return int(self.config.get("audio", {}).get("sample_rate", SAMPLE_RATE))

    @property
    def quality(self) -> str:
        return str(self.config.get("audio", {}).get("quality", ""))

    @property
    def language(self) -> str:
        language = self.config.get("language", {}).get("code") or self.config.get("espeak", {}).get(
            "voice", ""
        )
        return str(language).replace("_", "-")

    @property
    def speakers(self) -> dict[str, int]:
        return dict(self.config.get("speaker_id_map") or {})

    @property
    def speaker_count(self) -> int:
        return int(self.config.get("num_speakers") or 1)

    def speaker_id(self, speaker: str) -> int | None:
        """The model's number for ``speaker`` (a name or a number), or None if unknown."""
        if speaker in self.speakers:
            return self.speakers[speaker]
        if speaker.isdigit() and int(speaker) < self.speaker_count:
            return int(speaker)
        return None

    @cached_property
    def identity(self) -> str:
        """What decides how this model sounds, for cache keys: its name, its size, and a
        hash of its config (a swapped model changes one of them; hashing 60 MB of
        weights for every render would not pay)."""
        config = json.dumps(self.config, sort_keys=True).encode("utf-8")
        digest = hashlib.sha256(config).hexdigest()[:16]
        return f"{self.name} {self.path.stat().st_size} {digest}"


def parse_voice(voice_id: str) -> tuple[str, str | None]:
    """ "piper:NAME#SPEAKER" -> ("NAME", "SPEAKER"); the speaker may be absent."""
    name, _, speaker = voice_id.removeprefix(PREFIX).partition("#")
    return name.strip(), (speaker.strip() or None)


def find_model(name: str, folders: list[Path] | None = None) -> PiperModel | None:
    """The model a voice name means: a path to a ``.onnx`` file, or ``NAME.onnx`` in one
    of the voice folders (searched in order, their subfolders too); None if not found or
    its config is missing or unreadable."""
    candidates: list[Path] = []
    if name.endswith(".onnx") or os.sep in name or "/" in name:
        candidates.append(Path(name).expanduser())
    else:
        for folder in folders if folders is not None else voice_dirs():
            candidates.append(folder / f"{name}.onnx")
            if folder.is_dir():
                candidates.extend(sorted(folder.glob(f"**/{name}.onnx")))
    for path in candidates:
        config_path = path.with_name(path.name + ".json")
        if path.is_file() and config_path.is_file():
            try:
                return PiperModel(path, json.loads(config_path.read_text("utf-8")))
            except (OSError, ValueError):
                continue
    return None


def _without_config(name: str) -> Path | None:
    """The model file a voice name means when its config is missing or unreadable."""
    paths = [Path(name).expanduser()] if name.endswith(".onnx") else []
    paths += [folder / f"{name}.onnx" for folder in voice_dirs()]
    return next((path for path in paths if path.is_file()), None)


def installed_models(folders: list[Path] | None = None) -> list[PiperModel]:
    """Every model in the voice folders (the first of each name wins)."""
    found: dict[str, PiperModel] = {}
    for folder in folders if folders is not None else voice_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("**/*.onnx")):
            name = path.name.removesuffix(".onnx")
            if name not in found:
                model = find_model(str(path))
                if model is not None:
                    found[name] = model
    return list(found.values())


class PiperEngine:
    """The Engine interface over Piper voices (ids ``piper:...``)."""

    name = "piper"
    sample_rate = SAMPLE_RATE
    #: Emphasis marks are dropped: a VITS voice has no way to be told.
    emphasis = False

    def __init__(
        self, threads: int = 0, rates_file: Path | None = None, sample_rate: int = SAMPLE_RATE
    ) -> None:
        #: The rate speech comes out at, whatever the model's (the book's engine's).
        self.sample_rate = sample_rate
        self.version = piper_version() or "not installed"
        self.origin = "piper-tts, voices from " + ", ".join(map(str, voice_dirs()))
        #: onnxruntime threads per model (0: its own choice, every core).
        self.threads = threads
        self._rates_file = rates_file
        self._loaded: dict[Path, object] = {}
        self._models: dict[tuple, tuple[PiperModel, tuple | None]] = {}
        self._rates: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    # --- the Engine interface -----------------------------------------------------------

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        listed = []
        for model in installed_models():
            if language and not model.language.lower().startswith(language.lower()):
                continue
            description = f"{model.name} ({model.quality}, {model.sample_rate} Hz"
            if model.speaker_count > 1:
                description += f", {model.speaker_count} speakers: {PREFIX}{model.name}#N"
            listed.append(
                VoiceInfo(f"{PREFIX}{model.name}", description + ")", model.language, None)
            )
        return listed

    def has_voice(self, voice_id: str) -> bool:
        return self._model_and_speaker(voice_id) is not None

    def identity(self, voice_id: str) -> str:
        """The cache identity of a voice: piper-tts's version, the model's, the speaker."""
        found = self._model_and_speaker(voice_id)
        if found is None:
            return f"piper {self.version} {voice_id}"
        model, speaker = found
        return f"piper {self.version} {model.identity} #{speaker}"

    def profile_problem(self, profile: VoiceProfile) -> str | None:
        """What in a profile a Piper voice cannot do, or None. The voice is also tried
        (loaded, and its own rate measured, which is kept): a corrupt model or a config
        that does not fit it is found here, before any work, not in the middle of a
        render."""
        problem = _settings_problem(profile)
        if problem:
            return problem
        found = self._model_and_speaker(profile.voice)
        if found is not None:
            try:
                self._measure(*found)
            except NarrateError as error:
                return str(error)
            finally:
                # Let the model go: worker processes load their own, and a process that
                # speaks loads it again (a few tenths of a second against 300 MB or more).
                with self._lock:
                    self._loaded.pop(found[0].path, None)
        return None

    def synthesize(self, text: str, profile: VoiceProfile) -> bytes:
        found = self._model_and_speaker(profile.voice)
        if found is None:
            raise ConfigError(self.unknown_message(profile.voice))
        problem = _settings_problem(profile)
        if problem:
            raise ConfigError(f"voice profile {profile.id}: {problem}")
        text = plain(text)
        if not is_speakable(text):
            return b""
        model, speaker = found
        scale = self._measure(model, speaker)["wpm"] / profile.rate
        audio = self._speak(model, speaker, text, scale, profile.volume)
        return _to_pcm16(_resample(audio, model.sample_rate, self.sample_rate))

    def speakers(self, voice_id: str, limit: int | None = None) -> list[str]:
        """ "piper:NAME#*" -> a voice id for each speaker of the model (at most ``limit``);
        any other id as it is."""
        name, speaker = parse_voice(voice_id)
        if speaker != "*":
            return [voice_id]
        model = self._find(name)
        if model is None:
            return [voice_id]  # reported as unknown where it is checked
        names = sorted(model.speakers, key=model.speakers.__getitem__) or [
            str(number) for number in range(model.speaker_count)
        ]
        return [f"{PREFIX}{name}#{speaker}" for speaker in names[:limit]]

    def voice_ids(self, per_model: int = 40) -> list[str]:
        """Every installed voice, the single-speaker models first, then up to
        ``per_model`` speakers of each multi-speaker one; better quality first."""
        models = sorted(
            installed_models(),
            key=lambda m: (m.speaker_count > 1, -_QUALITY.get(m.quality, 0), m.name),
        )
        ids: list[str] = []
        for model in models:
            whole = f"{PREFIX}{model.name}"
            ids += self.speakers(whole + "#*", per_model) if model.speaker_count > 1 else [whole]
        return ids

    # --- helpers --------------------------------------------------------------------------

    def unknown_message(self, voice_id: str) -> str:
        name, speaker = parse_voice(voice_id)
        if piper_version() is None:
            return f"voice {voice_id!r}: {_INSTALL_HINT}"
        model = find_model(name)
        if model is None:
            broken = _without_config(name)
            if broken is not None:
                return f"Piper voice {broken}: its config {broken.name}.json is missing or not JSON"
            folders = ", ".join(map(str, voice_dirs()))
            return (
                f"no Piper voice {name!r} (looked in {folders}); get one with "
                f"`narrate voices --download {name}` or give the .onnx file's path"
            )
        known = ", ".join(list(model.speakers)[:5]) or f"0 to {model.speaker_count - 1}"
        return f"Piper voice {name!r} has no speaker {speaker!r} (it has {known}, ...)"

    def _model_and_speaker(self, voice_id: str) -> tuple[PiperModel, int] | None:
        if not is_piper_voice(voice_id) or piper_version() is None:
            return None
        name, speaker = parse_voice(voice_id)
        model = self._find(name)
        if model is None:
            return None
        if speaker is None:
            return model, 0
        number = model.speaker_id(speaker)
        return None if number is None else (model, number)

    def _find(self, name: str) -> PiperModel | None:
        """``find_model``, remembered: every sentence's cache key asks for its voice's
        model, and searching the folders and reading the config each time cost more than
        the rest of a cached render. A remembered model is used while its two files are
        the same size and age (a swapped model is found again)."""
        key = (name, tuple(voice_dirs()))
        known = self._models.get(key)
        if known is not None and known[1] is not None and known[1] == _files_signature(known[0]):
            return known[0]
        model = find_model(name)
        if model is not None:
            self._models[key] = (model, _files_signature(model))
        return model

    def _voice(self, model: PiperModel):
        """The loaded model: once per process (a model is 60 MB or more)."""
        with self._lock:
            voice = self._loaded.get(model.path)
            if voice is None:
                voice = self._loaded[model.path] = _load(model, self.threads)
            return voice

    def _speak(
        self, model: PiperModel, speaker: int, text: str, length_scale: float, volume: float
    ) -> np.ndarray:
        chunks = self._sentences(model, speaker, text, length_scale, volume)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    def _sentences(
        self, model: PiperModel, speaker: int, text: str, length_scale: float, volume: float
    ) -> list[np.ndarray]:
        """Piper's audio of each sentence of ``text``."""
        from piper import SynthesisConfig

        inference = model.config.get("inference", {})
        settings = SynthesisConfig(
            speaker_id=speaker if model.speaker_count > 1 else None,
            length_scale=length_scale * float(inference.get("length_scale", 1.0)),
            noise_scale=inference.get("noise_scale"),
            noise_w_scale=inference.get("noise_w"),
            normalize_audio=False,
            volume=volume,
        )
        voice = self._voice(model)
        try:
            return [chunk.audio_float_array for chunk in voice.synthesize(text, settings)]
        except Exception as error:  # onnxruntime's and Piper's own exception types
            raise NarrateError(
                f"Piper voice {model.path} does not speak with its config"
                f" {model.path.name}.json ({type(error).__name__}: {error})".splitlines()[0]
            ) from error

    def measured(self, voice_id: str) -> dict[str, float]:
        """A voice's own words per minute and median pitch in Hz (see :meth:`_measure`)."""
        found = self._model_and_speaker(voice_id)
        if found is None:
            raise ConfigError(self.unknown_message(voice_id))
        return self._measure(*found)

    def gender(self, voice_id: str) -> str | None:
        """ "male" or "female" as the voice's measured pitch says, None in between: a model's
        config says nothing of it (a multi-speaker model holds both)."""
        pitch = self.measured(voice_id)["pitch"]
        if pitch < LOW_VOICE_HZ:
            return "male"
        return "female" if pitch > HIGH_VOICE_HZ else None

    def _measure(self, model: PiperModel, speaker: int) -> dict[str, float]:
        """The voice's own words per minute at its config's length scale, and its median
        pitch: measured once on :data:`RATE_TEXT` (each sentence from its first sound to
        its last, as narrate trims every sentence), and kept in the rates file."""
        key = f"{model.identity} #{speaker}"
        if key in self._rates:
            return self._rates[key]
        stored = self._read_rates()
        if key not in stored:
            sentences = self._sentences(model, speaker, RATE_TEXT, 1.0, 1.0)
            seconds = sum(_sounding_seconds(audio, model.sample_rate) for audio in sentences)
            if seconds <= 0:
                raise NarrateError(f"Piper voice {model.name} said nothing")
            stored[key] = {
                "wpm": round(float(len(RATE_TEXT.split()) * 60 / seconds), 1),
                "pitch": round(_median_pitch(np.concatenate(sentences), model.sample_rate), 1),
            }
            self._write_rates(stored)
        self._rates[key] = stored[key]
        return stored[key]

    def _read_rates(self) -> dict[str, dict[str, float]]:
        if self._rates_file is None or not self._rates_file.is_file():
            return {}
        try:
            stored = json.loads(self._rates_file.read_text())
            return {
                key: {"wpm": float(value["wpm"]), "pitch": float(value["pitch"])}
                for key, value in stored.items()
            }
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            return {}

    def _write_rates(self, rates: dict[str, dict[str, float]]) -> None:
        if self._rates_file is None:
            return
        try:
            self._rates_file.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self._rates_file.parent, suffix=".tmp", delete=False
            ) as handle:
                json.dump(rates, handle, indent=1, sort_keys=True)
            os.replace(handle.name, self._rates_file)
        except OSError:
            pass  # measured again next time: a cost, not an error


#: Median speaking pitch below which a voice counts as a man's, above which a woman's
#: (adult speaking voices: men about 85-155 Hz, women about 165-255 Hz).
LOW_VOICE_HZ = 160.0
HIGH_VOICE_HZ = 170.0


def _median_pitch(audio: np.ndarray, rate: int) -> float:
    """Median fundamental frequency (Hz) of the voiced frames, by autocorrelation."""
    size = 1024
    lowest_lag, highest_lag = rate // 400, rate // 60
    pitches = []
    for start in range(0, audio.size - size, size // 2):
        frame = audio[start : start + size].astype(np.float64)
        if np.sqrt(np.mean(frame**2)) < 0.03:
            continue
        frame = frame - frame.mean()
        correlation = np.correlate(frame, frame, "full")[size - 1 :]
        lag = lowest_lag + int(np.argmax(correlation[lowest_lag:highest_lag]))
        if correlation[lag] > 0.3 * correlation[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches)) if pitches else 0.0


def _settings_problem(profile: VoiceProfile) -> str | None:
    """A profile's number a Piper voice cannot take: a pitch, or one out of range."""
    if profile.pitch != DEFAULT_PITCH:
        return (
            f"pitch: Piper voices have no pitch setting (voice {profile.voice}); "
            "remove the key or choose another voice"
        )
    return profile.out_of_range()


def _files_signature(model: PiperModel) -> tuple | None:
    """The size and modification time of a model's two files (None if one is gone)."""
    try:
        files = (model.path.stat(), model.path.with_name(model.path.name + ".json").stat())
    except OSError:
        return None
    return tuple((status.st_size, status.st_mtime_ns) for status in files)


def _load(model: PiperModel, threads: int):
    """A PiperVoice with its own onnxruntime session: ``threads`` intra-op threads (1 in a
    worker process, where the processes already share the cores)."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    # onnxruntime's own log goes to stderr; narrate reports the failure itself, in a line.
    onnxruntime.set_default_logger_severity(4)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(
            str(model.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own exception types
        raise NarrateError(f"Piper voice {model.path}: not a model onnxruntime can load") from (
            error
        )
    return PiperVoice(session=session, config=PiperConfig.from_dict(model.config))


def _sounding_seconds(audio: np.ndarray, rate: int) -> float:
    """Seconds from the first sound to the last (the level narrate trims sentences at)."""
    loud = np.flatnonzero(np.abs(audio) > 0.0032)
    return 0.0 if loud.size == 0 else (loud[-1] - loud[0]) / rate


def _resample(audio: np.ndarray, rate: int, wanted: int) -> np.ndarray:
    if rate == wanted or audio.size == 0:
        return audio
    from scipy.signal import resample_poly

    common = gcd(rate, wanted)
    return resample_poly(audio, wanted // common, rate // common).astype(np.float32)


def _to_pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


# --- fetching voices ----------------------------------------------------------------------

#: Piper's voice names: language_REGION-name-quality.
VOICE_NAME = re.compile(r"^[a-z]{2,3}_[A-Z]{2}-[A-Za-z0-9_]+-(?:x_low|low|medium|high)$")


def download(name: str, folder: Path | None = None) -> PiperModel:
    """Fetch a voice with Piper's own downloader into ``folder`` (the per-user voice
    folder by default): into a temporary folder beside it first, moved into place only
    when both files arrived, so a failed download leaves nothing behind."""
    if piper_version() is None:
        raise ConfigError(_INSTALL_HINT)
    if not VOICE_NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a Piper voice name (language_REGION-name-quality, "
            "e.g. en_US-lessac-medium)"
        )
    from piper.download_voices import download_voice

    folder = folder or default_voice_dir()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    try:
        try:
            download_voice(name, staging)
        except OSError as error:  # URLError is an OSError
            reason = getattr(error, "reason", None) or error
            raise NarrateError(
                f"could not download Piper voice {name!r}: {reason}", exit_code=1
            ) from None
        for suffix in (".onnx.json", ".onnx"):  # the model last: it marks the voice whole
            os.replace(staging / f"{name}{suffix}", folder / f"{name}{suffix}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    model = find_model(name, [folder])
    if model is None:
        raise NarrateError(f"downloaded Piper voice {name!r} is not readable", exit_code=1)
    return model
