"""Playing a finished MP3 through an audio player the system already has.

narrate writes files and has no audio output of its own; to let ``narrate preview`` be
heard at once it hands the file to the first player found on the PATH. Playing is a
convenience on top of a file that is already written, so it never fails a command: a
missing or failing player only means the user opens the file themselves.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

#: Players looked for, in order, with the options that make each play one file without a
#: window or chatter and then exit.
PLAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ffplay", ("-nodisp", "-autoexit", "-loglevel", "quiet")),
    ("mpv", ("--no-video", "--really-quiet")),
    ("mpg123", ("-q",)),
    ("cvlc", ("--play-and-exit",)),
    ("afplay", ()),  # macOS
)


def find_player() -> list[str] | None:
    """The command (program and options) to play a file with, or None when there is none."""
    for name, options in PLAYERS:
        program = shutil.which(name)
        if program:
            return [program, *options]
    return None


def play(path: str | Path, command: list[str]) -> str | None:
    """Play ``path`` with ``command`` until it ends; None when it played, else why not.

    The path is made absolute so that no player mistakes a name like ``-x.mp3`` for an
    option or ``a:b.mp3`` for a URL. Ctrl-C stops the playback, not the command: the file
    is written, and stopping it early is how one skips to the next voice.
    """
    try:
        completed = subprocess.run(
            [*command, str(Path(path).absolute())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    except KeyboardInterrupt:
        return None
    except (OSError, subprocess.SubprocessError) as error:
        return str(error) or type(error).__name__
    if completed.returncode != 0:
        return f"exit status {completed.returncode}"
    return None
