"""The read-along page in a real browser: headless Chromium (Debian's package), driven by
Playwright. It loads from a local server and from the disk, the audio plays, and the
highlighted line follows the audio's time."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import webvtt

import narrate

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return narrate.render(STORY, out=out, voices=ROOT / "voices.yaml"), out


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(book):
    from narrate.output.serve import make_server

    result, out = book
    httpd = make_server(out, "127.0.0.1", 0, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    folder = quote(result.folder.relative_to(out).as_posix())
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{folder}/index.html"
    httpd.shutdown()
    httpd.server_close()


def current(page) -> int:
    return page.evaluate(
        "() => { const c = document.querySelector('.cue.current');"
        " return c ? Number(c.dataset.index) : -1; }"
    )


def test_the_page_plays_from_a_server_and_the_highlight_follows_the_audio(book, browser, served):
    result, _ = book
    captions = webvtt.read(str(result.tracks[0].path.with_suffix(".vtt")))
    page = browser.new_page()
    page.goto(served)
    assert page.locator(".cue").count() == len(captions)
    # It plays: the audio's time moves on by itself.
    page.evaluate("() => { const a = document.getElementById('audio'); a.muted = true; a.play(); }")
    page.wait_for_function(
        "() => document.getElementById('audio').currentTime > 0.5", timeout=15000
    )
    assert not page.evaluate("() => document.getElementById('audio').paused")
    # Jump into line 5: it is the one highlighted.
    start = result.tracks[0].timeline[5].start_ms / 1000
    page.evaluate(f"() => {{ document.getElementById('audio').currentTime = {start + 0.05}; }}")
    page.wait_for_function("() => document.querySelector('.cue.current')", timeout=10000)
    page.wait_for_function(
        "() => Number(document.querySelector('.cue.current').dataset.index) === 5", timeout=10000
    )
    # Just before line 5 ends, playing on: the highlight moves to line 6 by itself.
    end = result.tracks[0].timeline[5].end_ms / 1000
    page.evaluate(f"() => {{ document.getElementById('audio').currentTime = {end - 0.3}; }}")
    page.wait_for_function(
        "() => Number(document.querySelector('.cue.current')?.dataset.index) === 6", timeout=15000
    )
    speaker = result.tracks[0].timeline[6].segment.speaker
    label = page.locator(".cue.current .speaker")
    if speaker != "narrator":
        assert label.text_content() == speaker
    assert page.evaluate("() => document.getElementById('audio').currentTime") > end - 0.3
    page.close()


def test_the_page_works_opened_from_the_disk(book, browser):
    result, _ = book
    page = browser.new_page()
    page.goto((result.folder / "index.html").as_uri())
    cues = page.locator(".cue")
    assert cues.count() == len(result.tracks[0].timeline)
    speakers = set(page.locator(".cue .speaker").all_text_contents())
    assert {"Mara Penhallow", "Tom"} <= speakers
    assert page.locator("nav button").all_text_contents() == [t.title for t in result.tracks]
    page.locator("nav button").nth(2).click()
    assert page.locator(".cue").count() == len(result.tracks[2].timeline)
    assert page.evaluate("() => document.getElementById('audio').src").endswith(
        quote(result.tracks[2].path.name)
    )
    page.close()
