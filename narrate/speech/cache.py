"""The speech cache: each sentence's finished speech, encoded, stored by what made it.

A sentence's audio depends only on the words spoken, the voice profile, the engine (name
and version) with its sample rate, and how it is made loud and encoded; the key is a hash
of exactly those (and of the sentence pause, for texts of several sentences). So after a
casting tweak only the sentences whose voice or words changed are synthesized and encoded
again, chapters are joined from the cached pieces (:mod:`narrate.speech.assemble`), and an
interrupted render picks up where it stopped. Entries are MP3 pieces
(:class:`narrate.speech.mp3.Piece`) with a small header, written under a temporary name and
renamed into place, in a per-user cache folder (``platformdirs``) unless ``--cache-dir``
says otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from narrate.atomic import renamed_into_place
from narrate.errors import ConfigError
from narrate.model import VoiceProfile
from narrate.speech.mp3 import Piece

#: Changes whenever what a cached entry holds changes (trimming, normalisation…).
FORMAT_VERSION = 3
_SUFFIX = ".piece"
#: An entry: this header (magic, samples, frames, rate, samples per frame), then the frames.
_HEADER = struct.Struct("<4sIIII")
_MAGIC = b"NRP3"


#: An environment variable that moves the default cache folder (tests, shared machines).
CACHE_ENV = "NARRATE_CACHE_DIR"


def default_cache_dir() -> Path:
    """$NARRATE_CACHE_DIR, else the per-user cache folder: ~/.cache/narrate on Linux, and
    the like elsewhere."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(platformdirs.user_cache_dir("narrate", appauthor=False))


def speech_key(
    text: str,
    profile: VoiceProfile,
    sentence_pause: float,
    engine: str,
    rate: int,
    encoding: str = "",
) -> str:
    """The cache key of one text's speech; ``encoding`` says how it is made loud and
    encoded."""
    what = {
        "encoding": encoding,
        "format": FORMAT_VERSION,
        "text": text,
        "voice": profile.id,
        "sentence_pause": round(sentence_pause, 4),
        "engine": engine,
        "rate": rate,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass
class SpeechCache:
    """Segment speech on disk. ``hits`` and ``misses`` count lookups, for progress and
    tests; a cache with no folder (``--no-cache``) stores nothing."""

    folder: Path | None
    hits: int = 0
    misses: int = 0
    _checked: bool = field(default=False, repr=False)

    def get(self, key: str) -> Piece | None:
        if self.folder is None:
            self.misses += 1
            return None
        try:
            data = self._path(key).read_bytes()
            magic, samples, frames, rate, per_frame = _HEADER.unpack_from(data)
        except (OSError, struct.error):
            self.misses += 1
            return None
        if magic != _MAGIC:
            self.misses += 1
            return None
        self.hits += 1
        return Piece(data[_HEADER.size :], frames, samples, rate, per_frame)

    def has(self, key: str) -> bool:
        return self.folder is not None and self._path(key).is_file()

    def put(self, key: str, piece: Piece) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        header = _HEADER.pack(
            _MAGIC, piece.samples, piece.frames, piece.rate, piece.samples_per_frame
        )
        # A full or read-only cache only costs speed: the render goes on.
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            with renamed_into_place(path) as partial:
                partial.write_bytes(header + piece.data)

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / "speech" / key[:2] / f"{key}{_SUFFIX}"


def open_cache(folder: str | Path | None, enabled: bool = True) -> SpeechCache:
    """The cache at ``folder`` (default: the per-user one), or a cache that keeps nothing."""
    if not enabled:
        return SpeechCache(None)
    path = Path(folder) if folder is not None else default_cache_dir()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: the cache folder is a file")
    return SpeechCache(path)


@dataclass(frozen=True)
class CacheInfo:
    folder: Path
    entries: int
    size: int


def cache_info(folder: str | Path | None = None) -> CacheInfo:
    """How many sentences the cache holds and how many bytes they take."""
    path = Path(folder) if folder is not None else default_cache_dir()
    entries = size = 0
    speech = path / "speech"
    if speech.is_dir():
        for item in speech.glob(f"*/*{_SUFFIX}"):
            entries += 1
            size += item.stat().st_size
    return CacheInfo(path, entries, size)


def clear_cache(folder: str | Path | None = None) -> CacheInfo:
    """Remove every cached sentence; returns what there was."""
    info = cache_info(folder)
    speech = info.folder / "speech"
    if speech.is_dir():
        for item in speech.glob("*/*"):
            with contextlib.suppress(OSError):
                item.unlink()
        for shard in speech.iterdir():
            with contextlib.suppress(OSError):
                shard.rmdir()
    return info
