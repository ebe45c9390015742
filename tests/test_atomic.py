"""Tests of the one way narrate writes a file: under a temporary name, renamed into place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from narrate import atomic
from narrate.atomic import renamed_into_place, replacing, write_atomically
from narrate.errors import EXIT_USAGE, ConfigError, NarrateError


def test_the_temporary_is_a_fresh_dotfile_beside_the_target_renamed_into_place(tmp_path: Path):
    target = tmp_path / "book.mp3"
    with renamed_into_place(target) as first, renamed_into_place(target) as second:
        assert first.parent == tmp_path and first.name.startswith(".book.mp3.")
        assert first != second  # two writers of one file never share a temporary
        first.write_bytes(b"one")
        second.write_bytes(b"two")
        assert not target.exists()
    assert target.read_bytes() == b"one"  # the outer block ended last
    assert sorted(path.name for path in tmp_path.iterdir()) == ["book.mp3"]


@pytest.mark.parametrize("failure", [ValueError("broken"), KeyboardInterrupt()])
def test_a_block_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path, failure):
    target = tmp_path / "book.mp3"
    target.write_bytes(b"old")
    with pytest.raises(type(failure)) as raised, renamed_into_place(target) as temporary:
        temporary.write_bytes(b"half")
        raise failure
    assert raised.value is failure  # passed on as it was, not wrapped
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["book.mp3"]


def test_a_failed_rename_leaves_no_temporary(tmp_path: Path, monkeypatch):
    target = tmp_path / "book.mp3"

    def full_disk(*arguments: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full_disk)
    with (
        pytest.raises(OSError, match="No space left on device"),
        renamed_into_place(target) as temporary,
    ):
        temporary.write_bytes(b"whole")
    assert list(tmp_path.iterdir()) == []


def test_replacing_names_the_target_not_the_temporary(tmp_path: Path):
    target = tmp_path / "book.mp3"
    with pytest.raises(NarrateError) as raised, replacing(target) as partial:
        raise ConfigError(f"{partial}: not an MP3")
    assert str(raised.value) == f"{target}: not an MP3"
    assert raised.value.exit_code == EXIT_USAGE
    assert list(tmp_path.iterdir()) == []


def test_replacing_turns_an_os_error_into_one_narrate_error(tmp_path: Path):
    target = tmp_path / "book.mp3"
    with pytest.raises(NarrateError) as raised, replacing(target) as partial:
        partial.write_bytes(b"audio")
        raise OSError(28, "No space left on device")
    assert str(raised.value) == f"{target}: cannot write: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_write_atomically_says_what_it_could_not_write(tmp_path: Path):
    target = tmp_path / "missing folder" / "feed.xml"
    with pytest.raises(NarrateError) as raised:
        write_atomically(target, b"<rss/>", "the feed")
    assert str(raised.value) == f"{target}: cannot write the feed: No such file or directory"


def test_write_atomically_writes_every_part_with_ordinary_permissions(tmp_path: Path):
    target = tmp_path / "feed.xml"
    write_atomically(target, (b"<rss>", b"</rss>"))
    assert target.read_bytes() == b"<rss></rss>"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
