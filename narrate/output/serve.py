"""``narrate serve``: the books in the output folder over HTTP, for podcast apps and
players on the network — to the person holding the printed address, and nothing else.

What podcast apps need:

* **Range requests** (``Range: bytes=a-b`` → ``206 Partial Content``), so players can
  seek and resume;
* **feeds with absolute links**: ``feed.xml`` is written with links relative to itself
  (or under ``--base-url``); served, its relative links become absolute under the
  server's own address, since podcast apps need absolute URLs;
* the right types for narrate's files.

What keeps everyone else out, on a café's Wi-Fi as at home:

* **A secret in every URL** (as Jupyter and Syncthing do): beyond loopback, every path
  starts with a random token (128 bits from :mod:`secrets`); without it, or with a wrong
  one, the answer is 404, the same as for a file that does not exist. The feed's links
  carry it, so apps follow them.
* **Only the books**: files of narrate's published types (:data:`TYPES`) inside a book
  folder (one that holds a feed narrate wrote) under the served folder. Never dotfiles or
  dot-folders (``.chapters``, the lock file, temporary files), never a directory listing
  (the root shows a page of the books instead), never a file a symlink leads to outside
  the folder.
* **Bounded**: the request line and headers are capped, a client has
  :data:`HEAD_SECONDS` to send them and :data:`TIMEOUT_SECONDS` per read or write after
  that, at most :data:`MAX_CONNECTIONS` are served at once (the rest get 503), and only
  GET and HEAD are answered (405 otherwise).
* The feed's links name the address the request came in on (or a host name the user
  allowed), never whatever a ``Host`` header says.
"""

from __future__ import annotations

import contextlib
import hmac
import http.client
import ipaddress
import os
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.etree import ElementTree as ET

from defusedxml import ElementTree as SafeET

from narrate.errors import ConfigError
from narrate.output.bookshelf import books, index_page, is_book_folder
from narrate.output.feed import FEED_NAME, ITUNES, PODCAST

#: What narrate publishes, by extension, with the type it is served as.
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

#: Random bytes in a generated token (128 bits), and the shortest token accepted.
TOKEN_BYTES = 16
MIN_TOKEN_CHARACTERS = 16
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")

#: Longest request line, and longest request head (request line and headers), in bytes.
MAX_REQUEST_LINE = 8 * 1024
MAX_HEAD = 16 * 1024
#: Seconds a client has to send its request's head, and per read or write after that.
HEAD_SECONDS = 10.0
TIMEOUT_SECONDS = 30.0
#: Connections served at once; more are answered 503 and closed.
MAX_CONNECTIONS = 32

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_COPY_CHUNK = 64 * 1024


def new_token() -> str:
    """A fresh secret for the URLs: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def check_token(token: str) -> str:
    """``token`` if it can be the secret in the URLs, else ConfigError."""
    if not _TOKEN.match(token) or len(token) < MIN_TOKEN_CHARACTERS:
        raise ConfigError(
            f"--token must be at least {MIN_TOKEN_CHARACTERS} characters of A-Z, a-z, 0-9,"
            f" '-' and '_' (e.g. {new_token()})"
        )
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine (127.0.0.1, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def choose_token(host: str, token: str | None, no_token: bool) -> str | None:
    """The token for a server on ``host``: the one given, none when asked for none, else a
    new one, except on loopback, where only this machine can connect anyway."""
    if token is not None and no_token:
        raise ConfigError("--token and --no-token contradict each other: give one")
    if token is not None:
        return check_token(token)
    if no_token or is_loopback(host):
        return None
    return new_token()


# ---------------------------------------------------------------------------------------
# What may be served


def _is_published_name(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in TYPES


def _is_clean_segment(segment: str) -> bool:
    """A path segment that names one entry: no dot-names (``..`` among them), separators,
    drive letters or NULs."""
    return bool(segment) and not segment.startswith(".") and not set(segment) & set("/\\:\0")


def published_file(root: Path, segments: Iterable[str]) -> Path | None:
    """The file the decoded URL path ``segments`` name under ``root`` (a resolved folder),
    if it is one narrate published there; else None.

    Its real path (symlinks resolved) must lie inside ``root``, in a book folder, with no
    dot-name on the way and a published type."""
    segments = list(segments)
    if not segments or not all(_is_clean_segment(s) for s in segments):
        return None
    try:
        real = Path(os.path.realpath(root.joinpath(*segments)))
        inside = real.relative_to(root).parts
        if not inside or any(part.startswith(".") for part in inside):
            return None
        if not _is_published_name(real.name) or not real.is_file():
            return None
    except ValueError:
        return None  # a symlink that leads out of the folder
    except OSError:
        return None  # a name too long for the file system, and the like
    return real if is_book_folder(real.parent) else None


def feeds(folder: Path) -> Iterator[Path]:
    """The feeds of the books under ``folder``, as paths relative to it."""
    root = Path(os.path.realpath(folder))
    for book in books(root):
        yield Path(book.path) / FEED_NAME


# ---------------------------------------------------------------------------------------
# Feeds and the index page


def absolute_links(feed: bytes, base: str) -> bytes:
    """A feed whose relative ``url``/``href`` links are made absolute under ``base``."""
    ET.register_namespace("itunes", ITUNES)
    ET.register_namespace("podcast", PODCAST)
    root = SafeET.fromstring(feed)
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


# ---------------------------------------------------------------------------------------
# The server


class _Head:
    """Reads one request's head (request line and headers) straight from the socket: at
    most ``limit`` bytes, all within ``seconds``, however slowly the client sends them."""

    def __init__(self, connection: socket.socket, limit: int, seconds: float) -> None:
        self.connection, self.left = connection, limit
        self.deadline = time.monotonic() + seconds
        self.buffer = b""

    def readline(self, size: int = -1) -> bytes:
        size = self.left + 1 if size < 0 else min(size, self.left + 1)
        while b"\n" not in self.buffer and len(self.buffer) < size:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the request's head took too long")
            self.connection.settimeout(remaining)
            chunk = self.connection.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        end = self.buffer.find(b"\n") + 1 or len(self.buffer)
        end = min(end, size)
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        self.left -= len(line)
        if self.left < 0:
            raise http.client.LineTooLong("request head")
        return line


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD of the books' files (byte ranges, feeds with absolute links) and the
    index page; 404 for everything else, without saying why."""

    server: Server
    server_version = "narrate"
    sys_version = ""  # no Python version in the Server header

    def handle_one_request(self) -> None:
        self.close_connection = True  # one request per connection
        head = _Head(self.connection, MAX_HEAD, self.server.head_seconds)
        try:
            self.raw_requestline = head.readline(MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                return
            self.rfile = head  # type: ignore[assignment] - parse_request reads the headers
            if not self.parse_request():
                return
            self.connection.settimeout(TIMEOUT_SECONDS)
            if self.command not in ("GET", "HEAD"):
                self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
                self.send_header("Allow", "GET, HEAD")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.answer(head_only=self.command == "HEAD")
            self.wfile.flush()
        except TimeoutError:
            self.log_error("dropped a client that sent too slowly")
            with contextlib.suppress(OSError):
                self.connection.sendall(
                    b"HTTP/1.0 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"
                )
        except (ConnectionError, OSError):
            pass  # the client went away

    def answer(self, head_only: bool) -> None:
        target = urlsplit(self.path)
        if not self.path.startswith("/") or target.netloc:
            self.not_found()
            return
        segments = [unquote(segment, errors="replace") for segment in target.path.split("/")[1:]]
        token = self.server.token
        if token is not None:
            given = segments.pop(0) if segments else ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                self.not_found()
                return
        if segments in ([], [""]):
            self.send_bytes(
                index_page(books(self.server.root), self.base()), TYPES[".html"], head_only
            )
            return
        path = published_file(self.server.root, segments)
        if path is None:
            self.not_found()
        elif path.name == FEED_NAME:
            folder = self.base() + "/".join(quote(s) for s in segments[:-1]) + "/"
            body = path.read_bytes()
            with contextlib.suppress(Exception):  # a broken feed is served as it is
                body = absolute_links(body, folder)
            self.send_bytes(body, TYPES[".xml"], head_only)
        else:
            self.send_file(path, head_only)

    def base(self) -> str:
        """The server's URL as this client reaches it, with the token, ending in "/"."""
        token = self.server.token
        return f"http://{self.origin()}/" + (f"{token}/" if token else "")

    def origin(self) -> str:
        """host:port for links: the request's Host when it names an allowed host, else the
        address this connection came in on — never an arbitrary Host header."""
        host = self.headers.get("Host", "")
        name = re.sub(r":\d+$", "", host).strip("[]").lower()
        if name and name in self.server.allowed_hosts and re.match(r"^[\w.:\[\]-]+$", host):
            return host
        address, port = self.connection.getsockname()[:2]
        return netloc(address, port)

    def not_found(self) -> None:
        self.send_bytes(b"Not found\n", "text/plain; charset=utf-8", False, HTTPStatus.NOT_FOUND)

    def send_bytes(
        self, body: bytes, mime: str, head_only: bool, status: HTTPStatus = HTTPStatus.OK
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def send_file(self, path: Path, head_only: bool) -> None:
        """The file, or the byte range asked for (206; 416 when it cannot be had)."""
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            start, end = 0, size - 1
            status = HTTPStatus.OK
            wanted = _byte_range(self.headers.get("Range", ""), size)
            if wanted == "unsatisfiable":
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if wanted is not None:
                start, end = wanted
                status = HTTPStatus.PARTIAL_CONTENT
            self.send_response(status)
            self.send_header("Content-Type", TYPES[path.suffix.lower()])
            self.send_header("Content-Length", str(end - start + 1))
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            mtime = os.fstat(file.fileno()).st_mtime
            self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
            self.end_headers()
            if head_only:
                return
            file.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = file.read(min(_COPY_CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


def _byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) of a ``Range: bytes=a-b`` header; "unsatisfiable"; or None for the
    whole file (no header, or a form not served, such as several ranges)."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


def netloc(address: str, port: int) -> str:
    """``host:port`` for a URL: IPv6 in brackets, IPv4 through a dual-stack socket bare."""
    if address.startswith("::ffff:") and "." in address:
        address = address.removeprefix("::ffff:")  # IPv4 through a dual-stack socket
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once (503 past that)."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        folder: Path,
        address: tuple[str, int],
        token: str | None = None,
        allowed_hosts: Iterable[str] = (),
        quiet: bool = False,
        max_connections: int = MAX_CONNECTIONS,
        head_seconds: float = HEAD_SECONDS,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.root = Path(os.path.realpath(folder))
        self.token = token
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self.quiet = quiet
        self.head_seconds = head_seconds
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(
                b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
        self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        if not self.quiet:  # one line, not a traceback
            print(f"narrate serve: a request from {client_address[0]} failed", file=sys.stderr)


def make_server(
    folder: Path,
    host: str,
    port: int,
    quiet: bool = False,
    token: str | None = None,
    allowed_hosts: Iterable[str] = (),
    max_connections: int = MAX_CONNECTIONS,
    head_seconds: float = HEAD_SECONDS,
) -> Server:
    """A server of the books under ``folder`` on ``host``:``port`` (port 0: any free
    one), not started. With ``token``, every URL starts with it; ``allowed_hosts`` are
    host names the feeds' links may carry when a request names them; a client has
    ``head_seconds`` to send its request."""
    return Server(
        Path(folder),
        (host, port),
        token=token,
        allowed_hosts=allowed_hosts,
        quiet=quiet,
        max_connections=max_connections,
        head_seconds=head_seconds,
    )


def local_address() -> str:
    """This machine's address on its network, as a phone there would reach it."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        return probe.getsockname()[0]
    return "127.0.0.1"
