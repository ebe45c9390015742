"""``narrate serve`` lets in only the holder of the printed address, and shows only the
books: a real server on 127.0.0.1 (and on the machine's own address), probed with real
HTTP requests, raw sockets where a client library would tidy the request up."""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
from click.testing import CliRunner
from http_client import fetch

import narrate
from narrate.cli import main
from narrate.output.serve import make_server, new_token

STORY = (
    "Title: Two Rooms\nAuthor: Ada Quill\n\nChapter 1\n\n"
    '"Tea?" said Rosa. "The kettle has been on for an hour."\n\n'
    'Chapter 2\n\n"Please," said Owen, and sat down by the stove.\n'
)
SECRET = "root:x:0:0 the secret"
TOKEN = new_token()


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Two rendered books, and beside them what must never be served."""
    base = tmp_path_factory.mktemp("serve")
    story = base / "story.txt"
    story.write_text(STORY, encoding="utf-8")
    out = base / "out"
    book = narrate.render(story, out=out).folder
    odd = narrate.render(story, out=out, title='Cats <script>alert("x")</script> & Dogs').folder
    (base / "outside.txt").write_text(SECRET, encoding="utf-8")
    (out / "home-photo.jpg").write_text(SECRET, encoding="utf-8")  # not in a book folder
    (book / "notes.txt").write_text(SECRET, encoding="utf-8")  # not a published type
    (book / ".narrate.lock").write_text(SECRET, encoding="utf-8")
    (book / ".01 - Chapter 1.mp3.part").write_text(SECRET, encoding="utf-8")
    (book / ".chapters").mkdir()
    (book / ".chapters" / "01 - Chapter 1.mp3").write_text(SECRET, encoding="utf-8")
    (book / "passwd.mp3").symlink_to("/etc/passwd")
    (book / "outside.vtt").symlink_to(base / "outside.txt")
    (book / "photo.jpg").symlink_to(out / "home-photo.jpg")  # inside, not a book's
    (book / "elsewhere").symlink_to(base, target_is_directory=True)
    (book / "loop").symlink_to(book / "loop")  # a symlink to itself
    return out, book, odd


@pytest.fixture(scope="module")
def server(library):
    import threading

    out, _, _ = library
    httpd = make_server(
        out, "127.0.0.1", 0, quiet=True, token=TOKEN, allowed_hosts=["mybox.local"], head_seconds=1
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def port_of(server) -> int:
    return server.server_address[1]


def raw(port: int, request: bytes, host: str = "127.0.0.1") -> tuple[int, bytes, bytes]:
    """Send ``request`` as it is; (status, head, body) of the answer."""
    with socket.create_connection((host, port), timeout=20) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head else 0
    return status, head, body


def get(port: int, target: str, headers: str = "") -> tuple[int, bytes, bytes]:
    return raw(port, f"GET {target} HTTP/1.0\r\n{headers}\r\n".encode())


def book_path(out: Path, book: Path) -> str:
    return quote(book.relative_to(out).as_posix())


def test_the_good_path_a_feed_whose_audio_and_transcripts_follow(library, server):
    out, book, _ = library
    base = f"http://127.0.0.1:{port_of(server)}/{TOKEN}/{book_path(out, book)}/"
    status, headers, body = fetch(base + "feed.xml")
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    parsed = feedparser.parse(body)
    assert not parsed.bozo and len(parsed.entries) == 2
    for entry in parsed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.href.startswith(base)
        local = book / enclosure.href[len(base) :].replace("%20", " ")
        status, headers, audio = fetch(enclosure.href, {"Range": "bytes=100-199"})
        assert status == 206 and audio == local.read_bytes()[100:200]
        assert headers["Content-Range"] == f"bytes 100-199/{local.stat().st_size}"
    transcripts = re.findall(rb'<podcast:transcript url="([^"]+)"', body)
    assert transcripts and all(t.decode().startswith(base) for t in transcripts)
    status, headers, text = fetch(transcripts[0].decode())
    assert status == 200 and text.startswith(b"WEBVTT")


@pytest.mark.parametrize(
    "target",
    [
        "/{book}/feed.xml",  # no token
        "/{wrong}/{book}/feed.xml",  # a wrong token of the same length
        "/{prefix}/{book}/feed.xml",  # all but the token's last character
        "/{token}x/{book}/feed.xml",
        "/{token}/../outside.txt",
        "/{token}/{book}/../../../outside.txt",
        "/{token}/%2e%2e/outside.txt",
        "/{token}/%2e%2e%2f%2e%2e%2foutside.txt",
        "/{token}/{book}/..%5c..%5c..%5coutside.txt",
        "/{token}/{book}/%2e%2e%5coutside.txt",
        "/etc/passwd",
        "/{token}//etc/passwd",
        "/{token}/%2fetc%2fpasswd",
        "http://127.0.0.1/{token}/{book}/passwd.mp3",
        "/{token}/{book}/passwd.mp3",  # a symlink to /etc/passwd inside the book
        "/{token}/{book}/outside.vtt",  # a symlink out of the folder
        "/{token}/{book}/elsewhere/outside.txt",  # through a symlinked folder
        "/{token}/{book}/photo.jpg",  # a symlink to a file outside any book
        "/{token}/home-photo.jpg",  # a published type, not in a book folder
        "/{token}/{book}/notes.txt",  # not a published type
        "/{token}/{book}/.narrate.lock",
        "/{token}/{book}/.01%20-%20Chapter%201.mp3.part",
        "/{token}/{book}/.chapters/01%20-%20Chapter%201.mp3",
        "/{token}/{book}/%2echapters/01%20-%20Chapter%201.mp3",
        "/{token}/{book}/",  # a directory: no listing
        "/{token}/{author}/",
        "/{token}/{author}",
        "/{token}/{book}/feed.xml%00.mp3",
        "/{token}/{book}/" + "n" * 300 + ".mp3",  # too long a name for the file system
        "/{token}/{book}/" + "loop/" * 50 + "x.mp3",
    ],
)
def test_a_probe_gets_404_and_learns_nothing(library, server, target):
    out, book, _ = library
    wrong = new_token()
    filled = target.format(
        token=TOKEN,
        wrong=wrong[: len(TOKEN)],
        prefix=TOKEN[:-1],
        book=book_path(out, book),
        author=quote(book.parent.name),
    )
    status, head, body = get(port_of(server), filled)
    assert status == 404, (filled, head)
    assert body == b"Not found\n"
    assert SECRET.encode() not in body and b"root:" not in body


def test_only_get_and_head_are_answered(library, server):
    out, book, _ = library
    target = f"/{TOKEN}/{book_path(out, book)}/feed.xml"
    for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
        status, head, _ = raw(
            port_of(server), f"{method} {target} HTTP/1.0\r\nContent-Length: 4\r\n\r\nabcd".encode()
        )
        assert status == 405, method
        assert b"Allow: GET, HEAD" in head
    status, head, body = raw(port_of(server), f"HEAD {target} HTTP/1.0\r\n\r\n".encode())
    assert status == 200 and body == b"" and b"Content-Length: " in head
    assert (book / "feed.xml").read_bytes().startswith(b"<?xml")  # PUT changed nothing


def test_an_oversized_request_is_refused(server):
    status, _, _ = get(port_of(server), f"/{TOKEN}/", "X-Padding: " + "a" * 20000 + "\r\n")
    assert status == 431
    many = "".join(f"X-{number}: {'b' * 200}\r\n" for number in range(100))
    status, _, _ = get(port_of(server), f"/{TOKEN}/", many)
    assert status == 431
    status, _, _ = get(port_of(server), f"/{TOKEN}/" + "c" * 10000)
    assert status == 414


def test_a_silent_client_is_dropped_while_others_are_served(server):
    port = port_of(server)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as silent:
        assert get(port, f"/{TOKEN}/")[0] == 200  # served while the silent one waits
        # The silent one hears 408 and is closed, long before its own 20 s timeout.
        data = b""
        while chunk := silent.recv(1024):
            data += chunk
        assert data.startswith(b"HTTP/1.0 408")
    assert get(port, f"/{TOKEN}/")[0] == 200


def test_a_client_that_sends_a_byte_now_and_then_is_dropped(server):
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=20) as slow:
        slow.sendall(b"GET /")
        heard = None
        for _ in range(100):  # 20 s of a byte every 0.2 s, if nobody stopped it
            with contextlib.suppress(OSError):
                slow.sendall(b"a")
            readable, _, _ = select.select([slow], [], [], 0.2)
            if readable:
                heard = slow.recv(1024)
                break
        assert heard is not None, "the server kept listening to a trickle"
        assert heard == b"" or heard.startswith(b"HTTP/1.0 408")


def test_200_parallel_requests_are_answered_or_refused_cleanly(library, server):
    out, book, _ = library
    target = f"/{TOKEN}/{book_path(out, book)}/01%20-%20Chapter%201.mp3"
    size = (book / "01 - Chapter 1.mp3").stat().st_size
    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(lambda _: get(port_of(server), target), range(200)))
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert statuses.count(200) >= 32
    assert all(len(body) == size for status, _, body in results if status == 200)
    assert get(port_of(server), target)[0] == 200  # still up


def test_a_forged_host_does_not_get_into_the_feed(library, server):
    out, book, _ = library
    target = f"/{TOKEN}/{book_path(out, book)}/feed.xml"
    status, _, body = get(port_of(server), target, "Host: evil.example\r\n")
    assert status == 200 and b"evil.example" not in body
    assert f"http://127.0.0.1:{port_of(server)}/{TOKEN}/".encode() in body
    status, _, body = get(port_of(server), target, 'Host: x"><a href="http://evil\r\n')
    assert status == 200 and b"evil" not in body
    # A host name the user allowed (--allow-host) is kept.
    status, _, body = get(port_of(server), target, f"Host: mybox.local:{port_of(server)}\r\n")
    assert f"http://mybox.local:{port_of(server)}/{TOKEN}/".encode() in body


def test_the_index_page_lists_the_books_escaped(library, server):
    out, book, odd = library
    status, head, body = get(port_of(server), f"/{TOKEN}/", "Host: evil.example\r\n")
    assert status == 200 and b"Content-Type: text/html" in head
    page = body.decode()
    base = f"http://127.0.0.1:{port_of(server)}/{TOKEN}/"
    assert f'href="{base}{book_path(out, book)}/feed.xml"' in page
    assert f'href="{base}{book_path(out, book)}/index.html"' in page
    assert "Two Rooms" in page and "Ada Quill" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; Dogs" in page
    assert "home-photo" not in page and ".chapters" not in page and "evil" not in page
    assert f"{base}{book_path(out, odd)}/feed.xml" in page
    # Without the token there is no index either.
    assert get(port_of(server), "/")[0] == 404


def test_narrate_serve_prints_a_token_url_that_works_from_the_machines_address(library):
    out, book, _ = library
    process = subprocess.Popen(
        [sys.executable, "-m", "narrate.cli", "serve", str(out), "--port", "0", "-q"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline().strip()
        lines = [process.stdout.readline().strip() for _ in range(4)]
        match = re.match(r"Serving .* at (http://([\d.]+):(\d+)/([A-Za-z0-9_-]{22})/)$", first)
        assert match, first
        base, address, port, token = match.groups()
        feed_lines = [line for line in lines if line.endswith("/feed.xml")]
        assert f"{base}{book_path(out, book)}/feed.xml" in [
            line.split(": ", 1)[1] for line in feed_lines
        ]
        assert any(f"--token {token}" in line for line in lines)
        status, _, body = fetch(f"{base}{book_path(out, book)}/feed.xml")
        assert status == 200
        parsed = feedparser.parse(body)
        (enclosure,) = parsed.entries[0].enclosures
        assert enclosure.href.startswith(f"http://{address}:{port}/{token}/")
        status, _, audio = fetch(enclosure.href, {"Range": "bytes=0-9"})
        assert status == 206 and len(audio) == 10
        # Nothing without the token, from the same address.
        assert raw(int(port), b"GET / HTTP/1.0\r\n\r\n", address)[0] == 404
        path = f"/{book_path(out, book)}/feed.xml"
        assert raw(int(port), f"GET {path} HTTP/1.0\r\n\r\n".encode(), address)[0] == 404
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_given_token_keeps_the_url_and_a_weak_one_is_refused(library):
    out, _, _ = library
    weak = CliRunner().invoke(main, ["serve", str(out), "--token", "abc"])
    assert weak.exit_code == 2 and "--token must be at least 16 characters" in weak.output
    both = CliRunner().invoke(main, ["serve", str(out), "--token", TOKEN, "--no-token"])
    assert both.exit_code == 2 and "contradict" in both.output


def test_on_loopback_there_is_no_token_unless_given(library):
    out, book, _ = library
    import threading

    httpd = make_server(out, "127.0.0.1", 0, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        assert get(port_of(httpd), f"/{book_path(out, book)}/feed.xml")[0] == 200
        assert get(port_of(httpd), f"/{book_path(out, book)}/.narrate.lock")[0] == 404
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert os.path.exists(book / ".narrate.lock")
