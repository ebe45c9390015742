"""Where the files go: ``OUT/<Author>/<Title>/NN - <Chapter title>.mp3``.

The layout Audiobookshelf reads (author folder, book folder, numbered tracks), with names
made safe on every file system: no characters Windows, macOS or Linux refuse, no trailing
dots or spaces, no reserved device names, and short enough for deep folders.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from narrate.errors import ConfigError

#: The output folder when none is given.
DEFAULT_OUT = "out"

#: Longest name in UTF-8 bytes: file systems allow 255, the track number and ".mp3" and a
#: temporary-file prefix need some of that.
_MAX_NAME_BYTES = 180
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{n}" for n in range(1, 10)),
    *(f"lpt{n}" for n in range(1, 10)),
}


def safe_name(name: str, fallback: str = "Untitled") -> str:
    """A file or folder name that every common file system accepts."""
    name = unicodedata.normalize("NFC", name)
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    name = name.replace(":", " -").replace("/", "-").replace("\\", "-")
    name = re.sub(r'[<>"|?*]', "", name)
    name = " ".join(name.split()).strip(" .")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        name = name.encode("utf-8")[:_MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(" .")
    if not name:
        return fallback
    stem, dot, rest = name.partition(".")
    if stem.strip().lower() in _RESERVED:
        # Windows treats "nul.txt" as the device NUL: change the part before the dot.
        name = f"{stem}_{dot}{rest}"
    return name


def book_folder(out: Path, author: str, title: str) -> Path:
    """``OUT/<Author>/<Title>``."""
    return out / safe_name(author, "Unknown Author") / safe_name(title)


def track_name(number: int, total: int, title: str) -> str:
    """``01 - Chapter 1 - The Storm.mp3`` (three digits from 100 chapters on)."""
    width = max(2, len(str(total)))
    return f"{number:0{width}d} - {safe_name(title, f'Chapter {number}')}.mp3"


TRACK_PATTERN = re.compile(r"^\d{2,} - .+\.mp3$")


def make_folder(folder: Path) -> Path:
    """``folder``, created with its parents if need be; ConfigError (one line) if it
    cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"{folder}: cannot create the folder: {error.strerror or error}"
        ) from None
    return folder
