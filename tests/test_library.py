"""Many books in one command (narrate/library.py, narrate/readers/shelf.py): which files
of a folder are books, a calibre library's metadata, one worker pool for all, a broken
book reported in a line while the others render, a locked one skipped."""

from __future__ import annotations

import os
from pathlib import Path

import miniaudio
import pytest

import narrate.library
from narrate.cli import main
from narrate.output.lock import LOCK_NAME
from narrate.readers.shelf import find_books

ROOMS = (
    "Title: Two Rooms\nAuthor: Ada Quill\n\nChapter 1\n\nRosa filled the kettle.\n\n"
    '"Is it ready?" asked Owen.\n\n"Nearly," said Rosa.\n\nChapter 2\n\n'
    'The rain went on.\n\n"More tea?" said Rosa.\n'
)
LAMP = (
    "Title: The Lamp\nAuthor: Bo Penn\n\nChapter 1\n\nThe glass was falling.\n\n"
    '"Storm tonight," said Tom.\n\n"Then light the lamp," said Mara.\n'
)


def _shelf(folder: Path) -> Path:
    """Two good books (one in a subfolder, as Markdown) and a broken EPUB."""
    books = folder / "books"
    (books / "more").mkdir(parents=True)
    (books / "rooms.txt").write_text(ROOMS, encoding="utf-8")
    (books / "more" / "lamp.md").write_text(LAMP, encoding="utf-8")
    (books / "broken.epub").write_bytes(b"PK\x03\x04 not really a zip")
    return books


def test_a_folder_of_three_books_one_broken(tmp_path, runner) -> None:
    books, out = _shelf(tmp_path), tmp_path / "out"
    command = ["render", str(books), "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    first = runner.invoke(main, command)
    assert first.exit_code == 1, first.output
    errors = [line for line in first.output.splitlines() if line.startswith("narrate: error")]
    assert len(errors) == 1 and "broken.epub" in errors[0] and "not an EPUB" in errors[0]
    assert "Traceback" not in first.output
    made = sorted(out.rglob("*.mp3"), key=lambda path: (path.parent.name, path.name))
    assert [p.parent.name for p in made] == ["The Lamp", "Two Rooms", "Two Rooms"]
    for mp3 in made:
        assert miniaudio.decode_file(str(mp3)).duration > 1
    assert "3 books, 1 failed" in first.output
    # Again: nothing to make; the broken book is still reported.
    again = runner.invoke(main, command)
    assert again.exit_code == 1
    rows = [line for line in again.output.splitlines() if line.endswith("up to date")]
    assert len(rows) == 2 and all(" 0 " in row for row in rows)


def test_all_books_made_exits_0_and_a_locked_book_is_skipped_with_a_note(tmp_path, runner) -> None:
    books, out = _shelf(tmp_path), tmp_path / "out"
    (books / "broken.epub").unlink()
    locked = out / "Bo Penn" / "The Lamp"
    locked.mkdir(parents=True)
    (locked / LOCK_NAME).write_text(f"{os.getpid()} {os.uname().nodename}\n")
    result = runner.invoke(main, ["render", str(books), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "narrate: note:" in result.output and "is rendering this book" in result.output
    assert not list(locked.glob("*.mp3")) and list((out / "Ada Quill").rglob("*.mp3"))


def test_one_pool_of_workers_makes_every_book(tmp_path, monkeypatch) -> None:
    from narrate.speech.engine import get_engine

    started = []
    real = narrate.library.local_pool

    def counted(jobs):
        started.append(jobs)
        return real(jobs)

    monkeypatch.setattr(narrate.library, "local_pool", counted)
    books = _shelf(tmp_path)
    (books / "broken.epub").unlink()
    result = narrate.library.render_library(
        [books],
        out=tmp_path / "out",
        cache_dir=tmp_path / "c",
        engine=get_engine("tone_engine:ToneEngine"),
        jobs=2,
    )
    assert started == [2]
    assert [book.status for book in result.books] == ["made", "made"]
    assert all(book.result.synthesized > 0 for book in result.books)


def test_options_for_one_book_are_refused_for_many(tmp_path, runner) -> None:
    books = _shelf(tmp_path)
    result = runner.invoke(main, ["render", str(books), "--title", "X"])
    assert result.exit_code == 2
    assert "--title is for one book, not many" in result.output


def test_a_folder_without_books_is_one_line(tmp_path, runner) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(main, ["render", str(tmp_path / "empty"), str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "no books in" in result.output and len(result.output.strip().splitlines()) == 1


def test_what_in_a_folder_is_a_book(tmp_path) -> None:
    root = tmp_path / "library"
    (root / ".hidden").mkdir(parents=True)
    (root / ".hidden" / "secret.txt").write_text("x")
    (root / ".draft.txt").write_text("x")
    (root / "README.md").write_text("x")
    (root / "LICENSE.txt").write_text("x")
    (root / "notes.pdf").write_text("x")
    (root / "story.txt").write_text("x")
    (root / "story.epub").write_text("x")  # the same book: EPUB is the better format
    (root / "other.html").write_text("x")
    audiobook = root / "out" / "Someone" / "Done"
    audiobook.mkdir(parents=True)
    (audiobook / "01 - One.mp3").write_bytes(b"")
    (audiobook / "index.html").write_text("x")  # narrate's own read-along page
    from narrate.output.bookshelf import write_bookshelf

    write_bookshelf(root / "out")  # narrate's list of the books: not a book either
    found = [source.path.relative_to(root).as_posix() for source in find_books([root])]
    assert found == ["other.html", "story.epub"]
    # A file named directly is taken whatever it is called.
    assert next(s.path.name for s in find_books([root / "README.md", root])) == "README.md"


def test_a_calibre_library_gives_title_author_series_and_cover(tmp_path) -> None:
    book = tmp_path / "calibre" / "Ada Quill" / "Two Rooms (12)"
    book.mkdir(parents=True)
    (book / "Two Rooms - Ada Quill.txt").write_text("Rosa filled the kettle.\n")
    (book / "Two Rooms - Ada Quill.html").write_text("<p>Rosa filled the kettle.</p>")
    (book / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    (book / "metadata.opf").write_text(
        '<?xml version="1.0"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="2.0">\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        "<dc:title>Two Rooms</dc:title><dc:creator>Ada Quill</dc:creator>\n"
        '<meta name="calibre:series" content="Quiet Houses"/>\n'
        '<meta name="calibre:series_index" content="2.0"/>\n'
        "</metadata></package>\n"
    )
    (source,) = find_books([tmp_path / "calibre"])
    assert source.path.suffix == ".html"  # one book: the better of its formats
    assert (source.title, source.author) == ("Two Rooms", "Ada Quill")
    assert (source.series, source.series_part) == ("Quiet Houses", "2")
    assert source.cover == book / "cover.jpg"


def test_out_index_html_lists_every_book_escaped(tmp_path, runner) -> None:
    books, out = _shelf(tmp_path), tmp_path / "out"
    (books / "broken.epub").unlink()
    (books / "odd.txt").write_text(
        'Title: <script>alert(1)</script> & Co\nAuthor: Ann\n\n"Hi," said Ann.\n',
        encoding="utf-8",
    )
    result = runner.invoke(main, ["render", str(books), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<li>") == 3 and "feed.xml" in page and "cover.jpg" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    for link in ("Ada%20Quill/Two%20Rooms/feed.xml", "Bo%20Penn/The%20Lamp/index.html"):
        assert link in page
        assert (out / link.replace("%20", " ")).is_file()
    # A page of the user's own there is never overwritten.
    (out / "index.html").write_text("mine", encoding="utf-8")
    runner.invoke(main, ["render", str(books / "rooms.txt"), "--out", str(out)])
    assert (out / "index.html").read_text(encoding="utf-8") == "mine"


def test_cast_over_a_series_writes_one_voices_file(tmp_path, runner) -> None:
    books = _shelf(tmp_path)
    (books / "broken.epub").unlink()
    voices = tmp_path / "voices.yaml"
    first = runner.invoke(main, ["cast", str(books), "--voices", str(voices)])
    assert first.exit_code == 0, first.output
    written = voices.read_text(encoding="utf-8")
    for name in ("Rosa", "Owen", "Tom", "Mara"):  # both books' characters
        assert f"  {name}:" in written
    again = runner.invoke(main, ["cast", str(books), "--voices", str(voices)])
    assert again.exit_code == 0 and voices.read_text(encoding="utf-8") == written
    assert again.output.count("no new characters") == 2
    script = runner.invoke(main, ["script", str(books), "--voices", str(voices)])
    assert script.exit_code == 0
    assert script.output.count("=== ") == 2 and "Tom" in script.output and "Rosa" in script.output
    lines = runner.invoke(main, ["script", str(books), "--format", "jsonl"])
    assert lines.exit_code == 0 and lines.output.count('"Mara"') >= 1


@pytest.mark.slow
def test_ctrl_c_stops_a_library_render_and_its_one_pool(tmp_path) -> None:
    """A real SIGINT while the shared pool speaks the first of two books: the render ends
    (exit 130) and every worker with it, and no book has a partial MP3."""
    import signal
    import subprocess
    import sys
    import time

    from test_workers import running_in_group

    books = tmp_path / "books"
    books.mkdir()
    lamp = Path(__file__).resolve().parent.parent / "examples" / "the-lamp-at-gull-point.txt"
    (books / "a-lamp.txt").write_text(lamp.read_text(encoding="utf-8"), encoding="utf-8")
    (books / "b-rooms.txt").write_text(ROOMS, encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-m", "narrate.cli", "render", str(books), "-j", "2",
         "--out", str(out), "--cache-dir", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(cache.rglob("*.piece")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the render ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=30)
    assert process.returncode == 130
    assert error.strip().splitlines()[-1] == "narrate: error: interrupted"
    deadline = time.monotonic() + 30
    while running_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert running_in_group(process.pid) == []
    assert not list(out.rglob("*.mp3")) and not list(out.rglob("*.part"))


def test_an_engine_fault_in_one_book_leaves_the_others_made(tmp_path) -> None:
    """The shared pool's workers speak with a plug-in engine that gives up on "kaboom":
    that book fails with the engine's one line, the books before and after it are made."""
    from narrate.speech.engine import get_engine

    books = tmp_path / "books"
    books.mkdir()
    (books / "a.txt").write_text(ROOMS, encoding="utf-8")
    (books / "b.txt").write_text(
        ROOMS.replace("Two Rooms", "Bang").replace("Nearly", "Kaboom, kaboom"), encoding="utf-8"
    )
    (books / "c.txt").write_text(LAMP, encoding="utf-8")
    result = narrate.library.render_library(
        [books],
        out=tmp_path / "out",
        cache_dir=tmp_path / "c",
        engine=get_engine("tone_engine:FaultyEngine"),
        jobs=2,
    )
    statuses = [(book.source.path.name, book.status) for book in result.books]
    assert statuses == [("a.txt", "made"), ("b.txt", "failed"), ("c.txt", "made")]
    (failed,) = result.failed
    assert "gave up on" in failed.reason and "\n" not in failed.reason
    assert not list((tmp_path / "out" / "Ada Quill" / "Bang").glob("*.mp3"))
