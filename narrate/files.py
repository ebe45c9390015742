"""Writing files so that they are never seen half written."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

from narrate.errors import EXIT_USAGE, NarrateError


def write_atomically(path: Path, parts: bytes | tuple[bytes, ...], what: str = "the file") -> None:
    """Write ``parts`` to ``path`` via a temporary file in the same folder and a rename, so
    ``path`` holds the old file or the whole new one, never a part (not even on Ctrl-C).
    A write that fails is one NarrateError naming the file and ``what`` it is."""
    path = Path(path)
    if isinstance(parts, bytes):
        parts = (parts,)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # Created with the usual permissions (0666 less the umask), not mkstemp's 0600.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            for part in parts:
                file.write(part)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove_quietly(temporary)
        raise NarrateError(f"{path}: cannot write {what}: {error.strerror or error}") from None
    except BaseException:
        _remove_quietly(temporary)
        raise


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary name beside ``target`` for a file made in steps (written, then tagged):
    renamed onto ``target`` when the block ends, removed if it fails or is interrupted.
    An OSError becomes one NarrateError, and errors name ``target``, not the temporary."""
    partial = target.with_name(f".{target.name}.part")
    try:
        yield partial
        os.replace(partial, target)
    except BaseException as error:
        _remove_quietly(partial)
        if isinstance(error, NarrateError):
            raise NarrateError(
                str(error).replace(str(partial), str(target)), error.exit_code
            ) from None
        if isinstance(error, OSError):
            raise NarrateError(f"{target}: cannot write: {error.strerror or error}") from None
        raise


LOCK_NAME = ".narrate.lock"


@contextlib.contextmanager
def book_lock(folder: Path) -> Iterator[Path]:
    """Hold ``folder``'s lock file while writing into it: a second render of the same book
    is refused with one line naming the first's process. A lock left by a process that no
    longer runs (killed, or a crashed machine) is taken over."""
    lock = folder / LOCK_NAME
    me = f"{os.getpid()} {socket.gethostname()}\n"
    for _ in range(2):
        try:
            descriptor = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is not None:
                raise NarrateError(
                    f"{folder}: another narrate (process {holder}) is rendering this book; "
                    f"wait for it to finish (or remove {lock.name} if it is not running)",
                    EXIT_USAGE,
                ) from None
            _remove_quietly(lock)  # stale: its process is gone
            continue
        except OSError as error:
            raise NarrateError(
                f"{lock}: cannot create the lock: {error.strerror or error}"
            ) from None
        with os.fdopen(descriptor, "w") as file:
            file.write(me)
        break
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            if lock.read_text() == me:
                lock.unlink()


def _lock_holder(lock: Path) -> int | None:
    """The pid holding ``lock`` if that process still runs on this machine, else None."""
    try:
        pid_text, _, host = lock.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None  # unreadable or half-written: treat as stale
    if host and host != socket.gethostname():
        return pid  # another machine's process: cannot tell, so respect it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # it exists, under another user
    return pid


def _remove_quietly(path: Path) -> None:
    """Remove a temporary file; on a read-only or vanished disk, leave the first error be."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
