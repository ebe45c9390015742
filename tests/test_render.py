"""End to end: render the bundled story with the real engine, then check the files with
independent readers (miniaudio decodes, mutagen reads tags, ffprobe when installed)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import miniaudio
import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

import narrate
from narrate.speech.assemble import pause_between
from narrate.speech.loudness import integrated_loudness, true_peak
from narrate.speech.text import sentences, speakable

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"
FFPROBE = shutil.which("ffprobe")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = narrate.render(STORY, out=out, voices=ROOT / "voices.yaml")
    return result, out


def decode(path: Path) -> tuple[np.ndarray, int]:
    sound = miniaudio.mp3_read_file_s16(str(path))
    assert sound.nchannels == 1
    return np.asarray(sound.samples, dtype=np.int16), sound.sample_rate


def test_files_follow_the_author_title_chapter_layout(rendered):
    result, out = rendered
    folder = out / "Hester Quayle" / "The Lamp at Gull Point"
    names = sorted(p.name for p in folder.iterdir() if p.suffix == ".mp3")
    assert names == [
        "01 - Chapter 1 - The Falling Glass.mp3",
        "02 - Chapter 2 - The Long Night.mp3",
        "03 - Chapter 3 - The Homecoming.mp3",
    ]
    others = {p.name for p in folder.iterdir()} - set(names)
    companions = {
        f"{Path(name).stem}{suffix}"
        for name in names
        for suffix in (".vtt", ".srt", ".chapters.json")
    }
    assert others == companions | {"feed.xml", "playlist.m3u8", "cover.jpg", "index.html"}
    assert result.folder == folder


def test_every_mp3_decodes_to_its_reported_length(rendered):
    result, _ = rendered
    for track in result.tracks:
        samples, rate = decode(track.path)
        decoded = len(samples) / rate
        info = MP3(track.path).info
        assert abs(decoded - track.duration) < 0.05
        assert abs(info.length - decoded) < 0.05
        assert info.bitrate_mode == BitrateMode.CBR
        assert info.bitrate == 64000
        assert info.channels == 1
        assert np.abs(samples).max() > 1000  # not silence


def test_duration_matches_the_text_at_the_voice_rates(rendered):
    result, _ = rendered
    script = result.script
    for track, chapter in zip(result.tracks, script.book.chapters, strict=True):
        expected = script.pauses.chapter
        previous = None
        for segment in script.chapter_segments(chapter.number):
            text = speakable(segment.text, segment.heading)
            words = len(re.findall(r"[\w']+", text))
            expected += words / script.cast.profile_for(segment.speaker).rate * 60
            expected += pause_between(previous, segment, script.pauses)
            expected += (len(sentences(text)) - 1) * script.pauses.sentence
            previous = segment
        assert 0.85 * expected < track.duration < 1.15 * expected, (track.path.name, expected)


def test_tags_are_id3v23_with_the_book_metadata(rendered):
    result, _ = rendered
    for number, track in enumerate(result.tracks, start=1):
        tags = ID3(track.path)
        assert tags.version == (2, 3, 0)
        assert str(tags["TIT2"]) == track.title
        assert str(tags["TALB"]) == "The Lamp at Gull Point"
        assert str(tags["TPE1"]) == "Hester Quayle"
        assert str(tags["TPE2"]) == "Hester Quayle"
        assert str(tags["TCON"]) == "Audiobook"
        assert str(tags["TRCK"]) == f"{number}/3"
        assert "narrate" in str(tags["TCOM"])
        comments = tags.getall("COMM")
        assert comments and comments[0].text[0].startswith("On the night of a great storm")


def test_chapter_marks_one_per_scene_in_an_ordered_top_level_toc(rendered):
    result, _ = rendered
    scenes_per_chapter = [len(c.scenes) for c in result.script.book.chapters]
    assert scenes_per_chapter == [1, 2, 1]
    for track, scenes in zip(result.tracks, scenes_per_chapter, strict=True):
        tags = ID3(track.path)
        tocs = tags.getall("CTOC")
        assert len(tocs) == 1
        toc = tocs[0]
        assert toc.flags & 0x01 and toc.flags & 0x02  # ordered, top level
        chapters = {c.element_id: c for c in tags.getall("CHAP")}
        assert list(toc.child_element_ids) == sorted(chapters, key=lambda i: int(i[3:]))
        assert len(chapters) == scenes
        times = [(chapters[i].start_time, chapters[i].end_time) for i in toc.child_element_ids]
        assert times[0][0] == 0
        assert all(a[1] == b[0] for a, b in itertools.pairwise(times))
        assert abs(times[-1][1] / 1000 - track.duration) < 0.05
        titles = [str(chapters[i].sub_frames["TIT2"]) for i in toc.child_element_ids]
        assert titles[0] == track.title


@pytest.mark.skipif(FFPROBE is None, reason="ffprobe not installed")
def test_ffprobe_reads_the_same_duration_tags_and_chapters(rendered):
    result, _ = rendered
    track = result.tracks[1]
    probe = json.loads(
        subprocess.run(
            [
                FFPROBE,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_chapters",
                "-show_streams",
                str(track.path),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    stream = probe["streams"][0]
    assert (stream["codec_name"], stream["channels"], stream["sample_rate"]) == ("mp3", 1, "22050")
    assert probe["format"]["tags"]["album"] == "The Lamp at Gull Point"
    assert probe["format"]["tags"]["track"] == "2/3"
    assert [c["tags"]["title"] for c in probe["chapters"]] == [
        "Chapter 2: The Long Night",
        "Chapter 2: The Long Night (scene 2)",
    ]
    # ffprobe counts the encoder delay and padding that gapless players trim (< 0.1 s).
    assert 0 <= float(probe["format"]["duration"]) - track.duration < 0.1


def test_loudness_is_minus_19_lufs_with_true_peak_under_minus_1_5(rendered):
    result, _ = rendered
    for track in result.tracks:
        samples, rate = decode(track.path)
        assert integrated_loudness(samples, rate) == pytest.approx(-19.0, abs=0.5)
        assert true_peak(samples, rate) <= -1.5


def _median_pitch(samples: np.ndarray, rate: int) -> float:
    """Median fundamental frequency of voiced 40 ms frames (autocorrelation)."""
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    signal = samples.astype(np.float64)
    pitches = []
    for start in range(0, len(signal) - frame, hop):
        window = signal[start : start + frame]
        if np.sqrt(np.mean(window**2)) < 500:
            continue
        window = window - window.mean()
        correlation = np.correlate(window, window, "full")[frame - 1 :]
        low, high = int(rate / 400), int(rate / 60)
        lag = int(np.argmax(correlation[low:high])) + low
        if correlation[lag] > 0.4 * correlation[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches)) if pitches else 0.0


def test_dialogue_is_spoken_in_voices_other_than_the_narrators(rendered):
    result, _ = rendered
    cast = result.script.cast
    dialogue = [s for s in result.script.segments if s.is_dialogue]
    assert dialogue
    assert all(cast.profile_for(s.speaker).voice != cast.narrator.voice for s in dialogue)
    # Heard, not just configured: Mara's lines (a female voice) sound higher than the
    # narration around them in the decoded audio.
    track = result.tracks[0]
    samples, rate = decode(track.path)

    def cut(items):
        return np.concatenate(
            [samples[int(t.start_ms * rate / 1000) : int(t.end_ms * rate / 1000)] for t in items]
        )

    mara = [t for t in track.timeline if t.segment.speaker.startswith("Mara")]
    narration = [t for t in track.timeline if not t.segment.is_dialogue]
    assert len(mara) >= 3 and narration
    assert _median_pitch(cut(mara), rate) > 1.4 * _median_pitch(cut(narration), rate)


def test_no_temporary_files_are_left_behind(rendered):
    _, out = rendered
    leftovers = [p for p in out.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []


def test_rendering_again_replaces_files_and_drops_chapters_that_are_gone(tmp_path):
    story = tmp_path / "two.txt"
    story.write_text(
        "Title: Two Rooms\nAuthor: Ada Quill\n\nChapter 1\n\nThe first room was cold.\n\n"
        "Chapter 2\n\nThe second room was warm.\n",
        encoding="utf-8",
    )
    first = narrate.render(story, out=tmp_path / "out")
    assert len(first.tracks) == 2
    story.write_text(
        "Title: Two Rooms\nAuthor: Ada Quill\n\nChapter 1\n\nOnly one room now.\n",
        encoding="utf-8",
    )
    second = narrate.render(story, out=tmp_path / "out")
    files = sorted(p.name for p in second.folder.iterdir())
    assert files == [
        "01 - Chapter 1.chapters.json",
        "01 - Chapter 1.mp3",
        "01 - Chapter 1.srt",
        "01 - Chapter 1.vtt",
        "cover.jpg",
        "feed.xml",
        "index.html",
        "playlist.m3u8",
    ]


def test_a_file_with_nothing_to_read_is_a_usage_error(tmp_path):
    story = tmp_path / "heading.txt"
    story.write_text("Chapter 1\n", encoding="utf-8")
    with pytest.raises(narrate.ConfigError, match="nothing to read"):
        narrate.render(story, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_interrupted_render_leaves_no_partial_mp3(tmp_path, monkeypatch):
    import narrate.output.chapter_files

    story = tmp_path / "two.txt"
    story.write_text("Chapter 1\n\nOne.\n\nChapter 2\n\nTwo.\n", encoding="utf-8")
    real_write_tags = narrate.output.chapter_files.write_tags
    calls = []

    def interrupt_on_second(path, tags):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_write_tags(path, tags)

    monkeypatch.setattr(narrate.output.chapter_files, "write_tags", interrupt_on_second)
    with pytest.raises(KeyboardInterrupt):
        narrate.render(story, out=tmp_path / "out", jobs=1)  # the patch is in this process
    files = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file())
    # The finished chapter and its transcripts; nothing half-written.
    assert files == [
        "01 - Chapter 1.chapters.json",
        "01 - Chapter 1.mp3",
        "01 - Chapter 1.srt",
        "01 - Chapter 1.vtt",
    ]


def test_headings_are_spoken_as_their_titles(tmp_path):
    story = tmp_path / "headings.txt"
    story.write_text("# The Storm\n\nRain fell.\n\nXIV\n\nWind blew.\n", encoding="utf-8")
    result = narrate.render(story, out=tmp_path / "out")
    spoken = [t.spoken for track in result.tracks for t in track.timeline if t.segment.heading]
    assert spoken == ["The Storm.", "14."]


def test_a_bitrate_only_mpeg1_has_keeps_the_timing(tmp_path):
    """192 kbit/s is encoded at 44100 Hz (MPEG-1, 1152-sample frames): the pauses, the
    timeline and the length must come out as at 64 kbit/s. A deterministic plug-in engine,
    so that only the encoding differs."""
    from narrate.speech.engine import get_engine

    story = tmp_path / "story.txt"
    story.write_text(
        'Title: T\nAuthor: A\n\nAnn came in.\n\n"Hello," said Ann. "Is it late?"\n\n'
        '"Not yet," said Bob.\n',
        encoding="utf-8",
    )
    tone = get_engine("tone_engine:ToneEngine")
    low, high = (
        narrate.render(story, out=tmp_path / f"o{rate}", bitrate=rate, engine=tone, use_cache=False)
        for rate in (64, 192)
    )
    (slow,), (fast,) = low.tracks, high.tracks
    samples, rate = decode(fast.path)
    assert rate == 44100 and abs(MP3(fast.path).info.bitrate - 192000) <= 2
    assert len(samples) / rate == pytest.approx(fast.duration, abs=0.03)
    assert fast.duration == pytest.approx(slow.duration, abs=0.06)
    for one, other in zip(slow.timeline, fast.timeline, strict=True):
        assert one.start_ms == pytest.approx(other.start_ms, abs=30)
        assert one.end_ms == pytest.approx(other.end_ms, abs=30)
