"""The M4B edition: the book as AAC in an MP4 file with chapters and cover, the format
Apple Books and audiobook players (BookPlayer, Smart AudioBook Player) treat as a book.

narrate encodes no AAC itself: this needs an ffmpeg, the system's or the one the
``imageio-ffmpeg`` wheel ships, and says so in one line when there is none. The AAC is
made from the single-file MP3 (see :mod:`narrate.pipeline`), at 96 kbit/s so that the
second encoding adds little to the first; chapters come from an ffmetadata file, the
cover is attached as the file's picture.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from narrate.atomic import renamed_into_place
from narrate.errors import NarrateError
from narrate.model import ChapterMark

AAC_BITRATE = "96k"
MIME = "audio/x-m4b"


def find_ffmpeg() -> str | None:
    """The ffmpeg program: on the PATH, else the imageio-ffmpeg wheel's; None without."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    with contextlib.suppress(Exception):  # not installed, or no binary for this platform
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    return None


def require_ffmpeg() -> str:
    """The ffmpeg program, or a one-line error saying how to get one."""
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        raise NarrateError(
            "M4B needs ffmpeg: install it (e.g. apt install ffmpeg) or `pip install imageio-ffmpeg`"
        )
    return ffmpeg


def metadata(title: str, author: str, marks: Sequence[ChapterMark]) -> str:
    """An ffmetadata file: the book's tags and one chapter per mark (times in ms)."""
    lines = [
        ";FFMETADATA1",
        f"title={_escape(title)}",
        f"album={_escape(title)}",
        f"artist={_escape(author)}",
        f"album_artist={_escape(author)}",
        "genre=Audiobook",
    ]
    for mark in marks:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={mark.start_ms}",
            f"END={mark.end_ms}",
            f"title={_escape(mark.title)}",
        ]
    return "\n".join(lines) + "\n"


def make_m4b(
    source: Path,
    target: Path,
    title: str,
    author: str,
    marks: Sequence[ChapterMark],
    cover: tuple[bytes, str] | None,
) -> None:
    """Encode ``source`` (an MP3) into ``target`` (M4B), written under a temporary name
    and renamed into place."""
    ffmpeg = require_ffmpeg()
    with (
        tempfile.TemporaryDirectory(prefix="narrate-m4b-") as folder,
        renamed_into_place(target) as partial,
    ):
        meta = Path(folder) / "metadata.txt"
        meta.write_text(metadata(title, author, marks), encoding="utf-8")
        command = [ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(source), "-i", str(meta)]
        mapping = ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
        if cover is not None:
            picture = Path(folder) / ("cover.png" if cover[1] == "image/png" else "cover.jpg")
            picture.write_bytes(cover[0])
            command += ["-i", str(picture)]
            mapping += ["-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
        command += mapping
        command += ["-c:a", "aac", "-b:a", AAC_BITRATE, "-ac", "1", "-movflags", "+faststart"]
        command += ["-f", "mp4", str(partial)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise NarrateError(f"{target}: ffmpeg could not make the M4B: {reason}")


def _escape(text: str) -> str:
    # ffmetadata escapes these with a backslash; newlines would end the value.
    for character in ("\\", "=", ";", "#"):
        text = text.replace(character, "\\" + character)
    return " ".join(text.split())
