"""A rendered book is ready to listen to anywhere: its podcast feed, transcripts, JSON
chapters and playlist, read back with independent parsers (feedparser, webvtt-py,
mutagen). Real engine, the bundled story."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import feedparser
import pytest
import webvtt
from http_client import fetch
from mutagen.mp3 import MP3

import narrate

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"


def seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return narrate.render(STORY, out=out, voices=ROOT / "voices.yaml")


def test_the_feed_parses_and_lists_every_chapter_in_order(rendered):
    parsed = feedparser.parse(str(rendered.folder / "feed.xml"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "The Lamp at Gull Point"
    assert parsed.feed.author == "Hester Quayle"
    assert parsed.feed.itunes_type == "serial"
    assert [entry.title for entry in parsed.entries] == [t.title for t in rendered.tracks]
    assert [int(entry.itunes_episode) for entry in parsed.entries] == [1, 2, 3]


def test_every_enclosure_is_its_file_with_its_size_and_duration(rendered):
    parsed = feedparser.parse(str(rendered.folder / "feed.xml"))
    for entry, track in zip(parsed.entries, rendered.tracks, strict=True):
        (enclosure,) = entry.enclosures
        path = rendered.folder / re.sub("%20", " ", enclosure.href)
        assert path == track.path
        assert int(enclosure.length) == path.stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert abs(int(entry.itunes_duration) - MP3(path).info.length) <= 1


def test_transcripts_parse_lie_within_the_audio_and_name_the_speakers(rendered):
    voices = set()
    for track in rendered.tracks:
        length = MP3(track.path).info.length
        captions = webvtt.read(str(track.path.with_suffix(".vtt")))
        assert len(captions) == len(track.timeline) > 0
        previous_start = 0.0
        for caption, timed in zip(captions, track.timeline, strict=True):
            start, end = seconds(caption.start), seconds(caption.end)
            assert previous_start <= start < end <= length
            assert (start, end) == pytest.approx((timed.start_ms / 1000, timed.end_ms / 1000))
            previous_start = start
            voice = re.match(r"<v ([^>]+)>", caption.raw_text)
            if voice:
                voices.add(voice.group(1))
                assert timed.segment.speaker == voice.group(1)
        srt = track.path.with_suffix(".srt").read_text(encoding="utf-8")
        assert len(re.findall(r"^\d\d:\d\d:\d\d,\d{3} --> ", srt, re.MULTILINE)) == len(captions)
    assert {"Mara Penhallow", "Tom", "Nell Ashby"} <= voices


def test_json_chapters_mark_the_scenes_within_the_audio(rendered):
    for track in rendered.tracks:
        chapters = json.loads(
            track.path.with_name(track.path.stem + ".chapters.json").read_text(encoding="utf-8")
        )
        assert chapters["version"] == "1.2.0"
        starts = [entry["startTime"] for entry in chapters["chapters"]]
        assert starts[0] == 0 and starts == sorted(starts)
        assert starts[-1] < MP3(track.path).info.length
        assert chapters["chapters"][0]["title"] == track.title


def test_the_playlist_lists_every_file_with_its_length(rendered):
    lines = (rendered.folder / "playlist.m3u8").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = list(zip(lines[1::2], lines[2::2], strict=True))
    assert [name for _, name in entries] == [t.path.name for t in rendered.tracks]
    for (info, _), track in zip(entries, rendered.tracks, strict=True):
        seconds, title = info.removeprefix("#EXTINF:").split(",", 1)
        assert title == track.title
        assert abs(int(seconds) - MP3(track.path).info.length) <= 1


def test_guids_and_dates_stay_across_renders_and_base_url_makes_links_absolute(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(
        'Title: Two Rooms\nAuthor: Ada Quill\n\nChapter 1\n\n"Tea?" said Rosa.\n\n'
        'Chapter 2\n\n"Please," said Owen.\n',
        encoding="utf-8",
    )
    first = narrate.render(story, out=tmp_path / "out")
    before = feedparser.parse(str(first.folder / "feed.xml"))
    story.write_text(story.read_text(encoding="utf-8") + '\n"More?" said Rosa.\n', "utf-8")
    second = narrate.render(story, out=tmp_path / "out", base_url="https://example.org/rooms/")
    after = feedparser.parse(str(second.folder / "feed.xml"))
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert [e.published for e in after.entries] == [e.published for e in before.entries]
    assert (
        after.entries[0].enclosures[0].href == "https://example.org/rooms/01%20-%20Chapter%201.mp3"
    )
    links = {link.href for link in after.entries[1].links}
    assert "https://example.org/rooms/02%20-%20Chapter%202.mp3" in links


@pytest.fixture(scope="module")
def server(rendered):
    import threading

    from narrate.output.serve import make_server

    out = rendered.folder.parent.parent
    httpd = make_server(out, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", out
    httpd.shutdown()
    httpd.server_close()


def test_serve_answers_a_range_request_with_206(rendered, server):
    from urllib.parse import quote

    base, out = server
    track = rendered.tracks[0].path
    url = f"{base}/{quote(track.relative_to(out).as_posix())}"
    data = track.read_bytes()
    status, headers, body = fetch(url, {"Range": "bytes=1000-1999"})
    assert status == 206
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert body == data[1000:2000]
    status, headers, body = fetch(url, {"Range": "bytes=-500"})
    assert status == 206 and body == data[-500:]
    status, headers, body = fetch(url)
    assert status == 200 and body == data and headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Type"] == "audio/mpeg"
    status, headers, _ = fetch(url, {"Range": f"bytes={len(data)}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}"
    assert fetch(f"{base}/../../etc/passwd")[0] == 404


def test_a_served_feed_has_absolute_links_a_podcast_app_can_follow(rendered, server):
    from urllib.parse import quote

    base, out = server
    folder = quote(rendered.folder.relative_to(out).as_posix())
    status, headers, body = fetch(f"{base}/{folder}/feed.xml")
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    for entry, track in zip(parsed.entries, rendered.tracks, strict=True):
        (enclosure,) = entry.enclosures
        assert enclosure.href.startswith(f"{base}/{folder}/")
        status, _, audio = fetch(enclosure.href, {"Range": "bytes=0-99"})
        assert status == 206 and audio == track.path.read_bytes()[:100]
    transcript = re.search(rb'<podcast:transcript url="([^"]+\.vtt)"', body).group(1).decode()
    status, headers, text = fetch(transcript)
    assert (
        status == 200
        and text.startswith(b"WEBVTT")
        and headers["Content-Type"].startswith("text/vtt")
    )


def test_narrate_serve_prints_the_feed_urls(rendered):
    import subprocess
    import sys

    out = rendered.folder.parent.parent
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "narrate.cli",
            "serve",
            str(out),
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first, second = process.stdout.readline(), process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert re.match(r"Serving .* at http://127\.0\.0\.1:\d+/$", first.strip())
    assert second.strip().startswith("Hester Quayle/The Lamp at Gull Point: http://127.0.0.1:")
    assert second.strip().endswith("/Hester%20Quayle/The%20Lamp%20at%20Gull%20Point/feed.xml")


def test_a_generated_cover_is_in_the_folder_the_feed_and_every_file(rendered):
    import io

    from mutagen.id3 import ID3
    from PIL import Image

    cover = rendered.folder / "cover.jpg"
    image = Image.open(io.BytesIO(cover.read_bytes()))
    assert (image.format, image.size) == ("JPEG", (1400, 1400))
    parsed = feedparser.parse(str(rendered.folder / "feed.xml"))
    assert parsed.feed.image.href == "cover.jpg"
    for track in rendered.tracks:
        (picture,) = ID3(track.path).getall("APIC")
        assert picture.data == cover.read_bytes() and picture.mime == "image/jpeg"


def test_a_given_cover_replaces_the_generated_one(tmp_path):
    import io

    from mutagen.id3 import ID3
    from PIL import Image

    story = tmp_path / "story.txt"
    story.write_text('Title: Tide\nAuthor: Ada Quill\n\n"Ahoy," said Ann.\n', encoding="utf-8")
    first = narrate.render(story, out=tmp_path / "out")
    assert (first.folder / "cover.jpg").is_file()
    png = io.BytesIO()
    Image.new("RGB", (1400, 1400), (10, 80, 160)).save(png, "PNG")
    (tmp_path / "art.png").write_bytes(png.getvalue())
    second = narrate.render(story, out=tmp_path / "out", cover=tmp_path / "art.png")
    assert not (second.folder / "cover.jpg").exists()
    assert (second.folder / "cover.png").read_bytes() == png.getvalue()
    assert feedparser.parse(str(second.folder / "feed.xml")).feed.image.href == "cover.png"
    (picture,) = ID3(second.tracks[0].path).getall("APIC")
    assert picture.mime == "image/png" and picture.data == png.getvalue()


def test_webvtt_round_trips_markup_and_speakers():
    from narrate.output.transcripts import Cue, read_webvtt
    from narrate.output.transcripts import webvtt as write_webvtt

    lines = [
        Cue(0, 1500, None, "It said <speak> & then --> went on."),
        Cue(1800, 2400, "Mr. O'Brien <Jr>", "Fish & chips?"),
        Cue(3_723_004, 3_725_000, "Ann", "Late."),
    ]
    text = write_webvtt(lines)
    assert "<speak>" not in text and "<Jr>" not in text
    assert "01:02:03.004 --> 01:02:05.000" in text
    assert read_webvtt(text) == lines
    # An independent reader sees three cues, the escaped text and no stray markup.
    captions = webvtt.from_string(text)
    assert len(captions) == 3
    assert captions[0].text == "It said &lt;speak&gt; &amp; then --&gt; went on."


def test_single_file_is_one_mp3_with_a_chapter_mark_per_chapter(tmp_path):
    import subprocess

    import miniaudio

    from narrate.output.transcripts import read_webvtt

    whole = narrate.render(
        STORY, out=tmp_path / "out", voices=ROOT / "voices.yaml", single_file=True
    )
    (book,) = whole.files
    assert book.path == whole.folder / "The Lamp at Gull Point.mp3"
    assert sorted(p.name for p in whole.folder.glob("*.mp3")) == [book.path.name]
    info = MP3(book.path).info
    decoded = miniaudio.mp3_read_file_s16(str(book.path))
    assert len(decoded.samples) / decoded.sample_rate == pytest.approx(book.duration, abs=0.03)
    assert info.length == pytest.approx(book.duration, abs=0.03)
    assert book.duration == pytest.approx(sum(t.duration for t in whole.tracks), abs=0.2)
    from mutagen.id3 import ID3

    chaps = sorted(ID3(book.path).getall("CHAP"), key=lambda frame: frame.start_time)
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == [t.title for t in whole.tracks]
    if shutil.which("ffprobe"):
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(book.path)],
            capture_output=True,
            text=True,
            check=True,
        )
        chapters = json.loads(probe.stdout)["chapters"]
        assert [c["tags"]["title"] for c in chapters] == [t.title for t in whole.tracks]
    # The transcript is the chapters' own, each shifted to where its chapter starts.
    cues = read_webvtt(book.path.with_suffix(".vtt").read_text(encoding="utf-8"))
    assert len(cues) == sum(len(t.timeline) for t in whole.tracks)
    second = chaps[1].start_time
    first_of_two = whole.tracks[1].timeline[0]
    assert any(
        cue.start_ms == second + first_of_two.start_ms and cue.text.startswith("Chapter 2")
        for cue in cues
    )
    parsed = feedparser.parse(str(whole.folder / "feed.xml"))
    assert [entry.title for entry in parsed.entries] == ["The Lamp at Gull Point"]
    assert int(parsed.entries[0].enclosures[0].length) == book.path.stat().st_size
    # Rendered again as chapters, the single file and its working folder go.
    chapters = narrate.render(STORY, out=tmp_path / "out", voices=ROOT / "voices.yaml")
    assert sorted(p.name for p in chapters.folder.glob("*.mp3")) == [
        t.path.name for t in chapters.tracks
    ]
    assert not (chapters.folder / ".chapters").exists()
    assert chapters.synthesized == 0


needs_ffmpeg = pytest.mark.skipif(
    __import__("shutil").which("ffprobe") is None
    or __import__("narrate.output.m4b").output.m4b.find_ffmpeg() is None,
    reason="ffmpeg and ffprobe are not installed",
)


@pytest.mark.slow
@needs_ffmpeg
def test_m4b_is_aac_with_the_chapters_and_the_cover(tmp_path):
    import subprocess

    result = narrate.render(
        STORY, out=tmp_path / "out", voices=ROOT / "voices.yaml", audio_format="m4b"
    )
    (book,) = result.files
    assert book.path.suffix == ".m4b" and not list(result.folder.glob("*.mp3"))
    probe = json.loads(
        subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_chapters",
                "-show_streams",
                "-show_format",
                "-of",
                "json",
                str(book.path),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    audio = [s for s in probe["streams"] if s["codec_type"] == "audio"]
    assert [s["codec_name"] for s in audio] == ["aac"]
    assert any(s.get("disposition", {}).get("attached_pic") for s in probe["streams"])
    assert [c["tags"]["title"] for c in probe["chapters"]] == [t.title for t in result.tracks]
    assert float(probe["format"]["duration"]) == pytest.approx(book.duration, abs=0.1)
    assert probe["format"]["tags"]["title"] == "The Lamp at Gull Point"
    (entry,) = feedparser.parse(str(result.folder / "feed.xml")).entries
    (enclosure,) = entry.enclosures
    assert enclosure.type == "audio/mp4" and int(enclosure.length) == book.path.stat().st_size


def test_m4b_without_ffmpeg_is_one_clear_error_before_any_work(tmp_path, monkeypatch):
    import narrate.output.m4b

    monkeypatch.setattr(narrate.output.m4b.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(narrate.NarrateError, match=r"^M4B needs ffmpeg: install it"):
        narrate.render(STORY, out=tmp_path / "out", audio_format="m4b")
    assert not (tmp_path / "out").exists()


def test_no_extras_writes_only_the_audio_and_its_transcripts(tmp_path):
    from click.testing import CliRunner

    from narrate.cli import main

    story = tmp_path / "story.txt"
    story.write_text('Title: Tide\nAuthor: Ada Quill\n\n"Ahoy," said Ann.\n', encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["render", str(story), "--out", str(out), "--no-extras", "-q"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "Ada Quill" / "Tide").iterdir())
    assert names == ["01 - Tide.chapters.json", "01 - Tide.mp3", "01 - Tide.srt", "01 - Tide.vtt"]
