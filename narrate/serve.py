"""``narrate serve``: the output folder over HTTP, so a podcast app on the same network
can subscribe to a book.

A plain static file server (Python's ``http.server``) with what podcast apps and players
need on top:

* **Range requests** (``Range: bytes=a-b`` → ``206 Partial Content``), so players can
  seek and resume;
* **feeds with absolute links**: ``feed.xml`` is written with links relative to itself
  (or under ``--base-url``); served, its relative links become absolute under the
  address the app used (the request's ``Host``), since podcast apps need absolute URLs;
* the right types for ``.mp3``, ``.vtt``, ``.srt``, ``.json``, ``.m3u8`` and ``.xml``.

Paths cannot leave the folder (``http.server`` resolves them inside it).
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import socket
from collections.abc import Iterator
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin
from xml.etree import ElementTree as ET

from narrate.feed import FEED_NAME, ITUNES, PODCAST

TYPES = {
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json",
    ".m3u8": "audio/x-mpegurl; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Slice:
    """A file read from ``start`` for ``length`` bytes, for ``shutil.copyfileobj``."""

    def __init__(self, file, start: int, length: int) -> None:
        self.file, self.left = file, length
        file.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data = self.file.read(size)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


class Handler(SimpleHTTPRequestHandler):
    """Static files with byte ranges, and feeds whose links are made absolute."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        **TYPES,
    }

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.name == FEED_NAME and path.is_file():
            return self._feed(path)
        if path.is_file() and "Range" in self.headers:
            return self._range(path)
        head = super().send_head()
        return head

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def _range(self, path: Path):
        size = path.stat().st_size
        match = _RANGE.match(self.headers["Range"].strip())
        if not match or (not match.group(1) and not match.group(2)):
            return super().send_head()  # a form we do not serve: the whole file
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        file = open(path, "rb")  # noqa: SIM115 - closed by http.server after copying
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()
        return _Slice(file, start, end - start + 1)

    def _feed(self, path: Path):
        # The request's path is already in URL form: the feed's folder, as the app asked.
        folder = posixpath.dirname(self.path.split("?", 1)[0]).rstrip("/") + "/"
        folder_url = f"http://{self.headers.get('Host') or _host_port(self)}{folder}"
        try:
            body = absolute_links(path.read_bytes(), folder_url)
        except (OSError, ET.ParseError):
            return super().send_head()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", TYPES[".xml"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _Slice(_Bytes(body), 0, len(body))

    def log_message(self, format: str, *args) -> None:
        if not self.server.quiet:  # type: ignore[attr-defined]
            super().log_message(format, *args)


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def seek(self, position: int) -> None:
        self.position = position

    def read(self, size: int) -> bytes:
        chunk = self.data[self.position : self.position + size]
        self.position += len(chunk)
        return chunk

    def close(self) -> None:
        pass


def absolute_links(feed: bytes, base: str) -> bytes:
    """A feed whose relative ``url``/``href`` links are made absolute under ``base``."""
    ET.register_namespace("itunes", ITUNES)
    ET.register_namespace("podcast", PODCAST)
    root = ET.fromstring(feed)
    for element in root.iter():
        for attribute in ("url", "href"):
            value = element.get(attribute)
            if value and not re.match(r"^[a-z][a-z0-9+.-]*:", value, re.IGNORECASE):
                element.set(attribute, urljoin(base, value))
        if element.tag in ("link", "url") and element.text is not None:
            if not element.text.strip():
                element.text = base
            elif not re.match(r"^[a-z][a-z0-9+.-]*:", element.text, re.IGNORECASE):
                element.text = urljoin(base, element.text)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _host_port(handler: SimpleHTTPRequestHandler) -> str:
    host, port = handler.server.server_address[:2]
    return f"{host}:{port}"


def make_server(folder: Path, host: str, port: int, quiet: bool = False) -> ThreadingHTTPServer:
    """A server for ``folder`` on ``host``:``port`` (port 0: any free one), not started."""
    server = ThreadingHTTPServer((host, port), partial(Handler, directory=str(folder)))
    server.quiet = quiet  # type: ignore[attr-defined]
    return server


def feeds(folder: Path) -> Iterator[Path]:
    """The feeds under ``folder``, as paths relative to it."""
    for path in sorted(folder.rglob(FEED_NAME)):
        yield path.relative_to(folder)


def local_address() -> str:
    """This machine's address on its network, as a phone there would reach it."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        return probe.getsockname()[0]
    return "127.0.0.1"
