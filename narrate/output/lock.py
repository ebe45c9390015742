"""One render per book at a time: a lock file in the book's folder names the process
that writes it."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from narrate.atomic import remove_quietly
from narrate.errors import EXIT_USAGE, NarrateError

LOCK_NAME = ".narrate.lock"


class BookLocked(NarrateError):
    """Another narrate is rendering this book now."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


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
                raise BookLocked(
                    f"{folder}: another narrate (process {holder}) is rendering this book; "
                    f"wait for it to finish (or remove {lock.name} if it is not running)"
                ) from None
            remove_quietly(lock)  # stale: its process is gone
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
