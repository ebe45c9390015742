"""The page of every book in an output folder: ``out/index.html``, and the root page of
``narrate serve``. Each book with its cover, its feed (to paste into a podcast app) and
its read-along page. Written static and escaped: titles come from books, which anyone
may have written."""

from __future__ import annotations

import contextlib
import html
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from defusedxml import ElementTree as SafeET

from narrate.atomic import write_atomically
from narrate.output.feed import FEED_NAME, ITUNES
from narrate.readers.shelf import PAGE_MARK  # narrate rewrites only a page it wrote

#: The page's name in the output folder.
PAGE_NAME = "index.html"
#: What a feed narrate wrote says of itself.
_NARRATE_FEED = b"<generator>narrate</generator>"


def is_book_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a book narrate published: a feed narrate wrote."""
    feed = folder / FEED_NAME
    try:
        with open(feed, "rb") as file:
            return _NARRATE_FEED in file.read(4096)
    except OSError:
        return False


@dataclass(frozen=True)
class Book:
    """A book folder under the served one, as the index page lists it."""

    path: str  # relative to the served folder, with "/" ("" for the folder itself)
    title: str
    author: str
    has_page: bool
    has_cover: bool = False


def books(root: Path) -> list[Book]:
    """The book folders under ``root``, skipping dot-folders and not following symlinks."""
    found = []
    for folder, folders, _files in os.walk(root):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        here = Path(folder)
        if not is_book_folder(here):
            continue
        title, author = _feed_title(here / FEED_NAME)
        relative = "" if here == root else here.relative_to(root).as_posix()
        found.append(
            Book(
                relative,
                title or here.name,
                author,
                (here / "index.html").is_file(),
                (here / "cover.jpg").is_file(),
            )
        )
    return found


def _feed_title(feed: Path) -> tuple[str, str]:
    """The channel's title and author, or empty strings."""
    with contextlib.suppress(Exception):  # a broken feed only loses its title
        channel = SafeET.fromstring(feed.read_bytes()).find("channel")
        if channel is not None:
            return (
                channel.findtext("title", "").strip(),
                channel.findtext(f"{{{ITUNES}}}author", "").strip(),
            )
    return "", ""


def index_page(listed: list[Book], base: str) -> bytes:
    """The page of the books: each with its cover, its feed's address (to paste into a
    podcast app) and its read-along page. ``base`` is the server's URL with the token,
    ending in "/", or "" for links relative to the output folder."""
    items = []
    for book in listed:
        folder = base + (quote(book.path) + "/" if book.path else "")
        feed = folder + quote(FEED_NAME)
        by = f" — {html.escape(book.author)}" if book.author else ""
        page = (
            f' · <a href="{html.escape(folder)}index.html">read along</a>' if book.has_page else ""
        )
        cover = (
            f'<img src="{html.escape(folder)}cover.jpg" alt="" width="96" height="96"> '
            if book.has_cover
            else ""
        )
        items.append(
            f"<li>{cover}<strong>{html.escape(book.title)}</strong>{by}<br>"
            f'feed: <a href="{html.escape(feed)}">{html.escape(feed)}</a>{page}</li>'
        )
    body = "\n".join(items) or "<li>No books yet: render one into this folder.</li>"
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"{PAGE_MARK.decode()}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>narrate</title></head>\n<body><h1>Books</h1>\n"
        "<p>Paste a feed's address into a podcast app to subscribe.</p>\n"
        f"<ul>\n{body}\n</ul>\n</body></html>\n"
    )
    return page.encode("utf-8")


def write_bookshelf(out: Path) -> Path | None:
    """Write ``out/index.html``: every book under ``out``, its links relative. A page
    there that narrate did not write is left alone (None)."""
    page = out / PAGE_NAME
    with contextlib.suppress(OSError):
        if page.exists() and PAGE_MARK not in page.read_bytes()[:2048]:
            return None
    write_atomically(page, index_page(books(Path(os.path.realpath(out))), ""), "the book list")
    return page
