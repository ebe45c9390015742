"""The editions of a book: its chapter files, one MP3, or one M4B.

``chapters`` publishes the chapter files themselves. ``single`` joins them, frame by
frame, into ``<Title>.mp3`` with a chapter mark per chapter; ``m4b`` makes
``<Title>.m4b`` from that MP3 with ffmpeg. A one-file edition keeps its chapter files in
the hidden folder ``.chapters`` of the book's folder, so the next render remakes only what
changed; rendering another edition removes what the last one left.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

from narrate.atomic import replacing, write_atomically
from narrate.errors import ConfigError
from narrate.model import Book, ChapterMark
from narrate.output.chapter_files import Track, duration, remove_stale_tracks
from narrate.output.layout import make_folder, safe_name
from narrate.output.m4b import make_m4b, require_ffmpeg
from narrate.output.publish import (
    COMPANIONS,
    companion,
    has_companions,
    read_cues,
    read_marks,
    remove_companions,
    write_companions,
)
from narrate.output.tags import TrackTags, read_made_from, write_tags
from narrate.speech.mp3 import join_mp3

CHAPTERS, SINGLE, M4B = "chapters", "single", "m4b"
EDITIONS = (CHAPTERS, SINGLE, M4B)

#: Where a one-file edition keeps its chapter files, inside the book's folder.
CHAPTER_FILES = ".chapters"


def chosen_edition(
    edition: str | None = None, single_file: bool = False, audio_format: str = "mp3"
) -> str:
    """The edition asked for: ``edition``, or as the older keywords say it
    (``single_file=True``; ``audio_format="m4b"``). An M4B needs ffmpeg: its absence is
    one line now, before any work."""
    if audio_format not in ("mp3", "m4b"):
        raise ConfigError(f"unknown audio format {audio_format!r} (mp3 or m4b)")
    if edition is None:
        edition = M4B if audio_format == "m4b" else SINGLE if single_file else CHAPTERS
    if edition not in EDITIONS:
        raise ConfigError(f"unknown edition {edition!r} ({', '.join(EDITIONS)})")
    if edition == M4B:
        require_ffmpeg()
    return edition


def chapters_folder(book_folder: Path, edition: str) -> Path:
    """Where the chapter files of ``edition`` go: the book's folder, or ``.chapters``."""
    if edition == CHAPTERS:
        return book_folder
    return make_folder(book_folder / CHAPTER_FILES)


def write_edition(
    edition: str,
    book_folder: Path,
    tracks: tuple[Track, ...],
    tags: TrackTags,
    book: Book,
    cover: tuple[bytes, str] | None,
    bitrate: int,
    rate: int,
) -> tuple[Track, ...]:
    """Publish ``edition`` of the book whose chapter files are ``tracks`` (MP3s at
    ``rate`` and ``bitrate``), and remove what other editions left: the files to listen to."""
    work = chapters_folder(book_folder, edition)
    remove_stale_tracks(work, {track.path.name for track in tracks})
    name = safe_name(book.title, "Book")
    book_file, m4b_file = book_folder / f"{name}.mp3", book_folder / f"{name}.m4b"
    if edition == M4B:
        # The single MP3 stays with the chapter files; the M4B is made from it.
        whole = single_file(work / book_file.name, tracks, tags, bitrate, rate)
        published: tuple[Track, ...] = (m4b(whole, m4b_file, book, cover),)
    elif edition == SINGLE:
        published = (single_file(book_file, tracks, tags, bitrate, rate),)
    else:
        published = tracks
    _remove_other_editions(edition, book_folder, published, (book_file, m4b_file))
    return published


def single_file(
    target: Path, tracks: tuple[Track, ...], tags: TrackTags, bitrate: int, rate: int
) -> Track:
    """The chapter files joined into one MP3 with a chapter mark per chapter, its
    transcripts the chapters' shifted to their place; kept when made from the same
    chapters."""
    made_from = hashlib.sha256(
        "\n".join(
            [*(str(read_made_from(t.path)) for t in tracks), repr(replace(tags, cover=None))]
        ).encode()
    ).hexdigest()
    title = tags.album
    if read_made_from(target) == made_from and has_companions(target):
        return Track(target, title, duration(target))
    with replacing(target) as partial:
        info, starts = join_mp3(partial, [t.path for t in tracks], rate, bitrate)
        ends = [*starts[1:], info.duration]
        marks = tuple(
            ChapterMark(t.title, round(start * 1000), round(end * 1000))
            for t, start, end in zip(tracks, starts, ends, strict=True)
        )
        write_tags(partial, replace(tags, title=title, marks=marks, made_from=made_from))
    lines = [
        replace(
            cue,
            start_ms=cue.start_ms + round(start * 1000),
            end_ms=cue.end_ms + round(start * 1000),
        )
        for track, start in zip(tracks, starts, strict=True)
        for cue in read_cues(track.path)
    ]
    write_companions(target, lines, marks)
    return Track(target, title, info.duration)


def m4b(whole: Track, target: Path, book: Book, cover: tuple[bytes, str] | None) -> Track:
    """The M4B edition of the single MP3 ``whole``, remade only when that changed; its
    transcripts and chapters are the MP3's."""
    made_from = str(read_made_from(whole.path))
    stamp = whole.path.with_name(f"{target.name}.made-from")
    current = stamp.read_text(encoding="utf-8") if stamp.is_file() else None
    if not (target.is_file() and current == made_from and has_companions(target)):
        marks = read_marks(whole.path, whole.duration)
        make_m4b(whole.path, target, book.title, book.author, marks, cover)
        for suffix in COMPANIONS:
            write_atomically(companion(target, suffix), companion(whole.path, suffix).read_bytes())
        write_atomically(stamp, made_from.encode("utf-8"))
    return Track(target, book.title, whole.duration)


def remove_leftovers(book_folder: Path) -> None:
    """Temporary files of a render that was killed (its partial MP3s, transcripts and
    the like): with the book's lock held, nothing else is writing them."""
    for place in (book_folder, book_folder / CHAPTER_FILES):
        if not place.is_dir():
            continue
        for path in place.iterdir():
            if path.name.startswith(".") and path.name.endswith((".part", ".tmp")):
                with contextlib.suppress(OSError):
                    path.unlink()


def _remove_other_editions(
    edition: str, book_folder: Path, published: tuple[Track, ...], one_files: tuple[Path, ...]
) -> None:
    """What other editions of this book left in its folder."""
    if edition != CHAPTERS:
        remove_stale_tracks(book_folder, set())
    for other in one_files:
        if other not in [track.path for track in published] and other.is_file():
            other.unlink()
            remove_companions(other)
    if edition == CHAPTERS:
        shutil.rmtree(book_folder / CHAPTER_FILES, ignore_errors=True)
