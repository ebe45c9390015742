"""Writing files so that they are never seen half written: under a temporary name in the
same folder, renamed into place when whole."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from narrate.errors import NarrateError


@contextlib.contextmanager
def renamed_into_place(target: Path) -> Iterator[Path]:
    """A temporary name beside ``target`` to write to: renamed onto ``target`` when the
    block ends, removed if the block fails or is interrupted (Ctrl-C too). Errors pass
    through as they are, for the caller to word.

    The name is a dotfile, so listings and the server pass it by, and fresh each time
    (".name.3f9a0c1e.part"), so two writers of one file never share it.
    """
    target = Path(target)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        remove_quietly(temporary)
        raise


def write_atomically(path: Path, parts: bytes | tuple[bytes, ...], what: str = "the file") -> None:
    """Write ``parts`` to ``path`` via a temporary file in the same folder and a rename, so
    ``path`` holds the old file or the whole new one, never a part (not even on Ctrl-C).
    A write that fails is one NarrateError naming the file and ``what`` it is."""
    path = Path(path)
    if isinstance(parts, bytes):
        parts = (parts,)
    try:
        with renamed_into_place(path) as temporary:
            # Created with the usual permissions (0666 less the umask), not mkstemp's 0600.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(descriptor, "wb") as file:
                for part in parts:
                    file.write(part)
                file.flush()
                os.fsync(file.fileno())
    except OSError as error:
        raise NarrateError(f"{path}: cannot write {what}: {error.strerror or error}") from None


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary name beside ``target`` for a file made in steps (written, then tagged):
    renamed onto ``target`` when the block ends, removed if it fails or is interrupted.
    An OSError becomes one NarrateError, and errors name ``target``, not the temporary."""
    try:
        with renamed_into_place(target) as partial:
            try:
                yield partial
            except NarrateError as error:
                raise NarrateError(
                    str(error).replace(str(partial), str(target)), error.exit_code
                ) from None
    except OSError as error:
        raise NarrateError(f"{target}: cannot write: {error.strerror or error}") from None


def remove_quietly(path: Path) -> None:
    """Remove a temporary file; on a read-only or vanished disk, leave the first error be."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
