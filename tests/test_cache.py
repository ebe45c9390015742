"""The speech cache and up-to-date chapters: a casting tweak re-synthesizes only the
speaker it touches, an unchanged book is not re-encoded, and an interrupted render
resumes to the same files. Real engine; a small story written for the tests."""

from __future__ import annotations

from pathlib import Path

import miniaudio
import numpy as np
import pytest
from click.testing import CliRunner

import narrate
from narrate.cli import main
from narrate.model import NARRATOR, VoiceProfile
from narrate.speech import assemble
from narrate.speech.assemble import parts, segment_key
from narrate.speech.cache import SpeechCache, cache_info, clear_cache, speech_key
from narrate.speech.engine import get_engine
from narrate.speech.mp3 import Piece
from narrate.speech.text import spoken_text

STORY = """Title: Two Rooms
Author: Ada Quill

Chapter 1

Rosa filled the kettle. Owen sat by the window.

"Is it ready?" asked Owen.

"Nearly," said Rosa.

Chapter 2

The rain went on all afternoon.

"More tea?" said Rosa.

"Please," said Owen.

"Here you are," said Rosa.
"""


@pytest.fixture
def story(tmp_path):
    path = tmp_path / "rooms.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


def voices(tmp_path: Path, rosa: str = "en-us+f3") -> Path:
    path = tmp_path / "voices.yaml"
    path.write_text(
        "narrator: {voice: en-us+m3}\n"
        "characters:\n"
        f"  Rosa: {{voice: {rosa}}}\n"
        "  Owen: {voice: en-gb-x-rp+m7}\n",
        encoding="utf-8",
    )
    return path


def render(story: Path, tmp_path: Path, **options):
    if "voices" not in options:
        options["voices"] = voices(tmp_path)
    options.setdefault("cache_dir", tmp_path / "cache")
    return narrate.render(story, out=tmp_path / "out", **options)


def pieces(result, speaker: str, cache_dir: Path) -> list[bytes]:
    """The MP3 pieces a render's segments of ``speaker`` were joined from, as the cache
    holds them."""
    engine, cache = get_engine(), SpeechCache(cache_dir)
    found = []
    for segment in result.script.segments:
        if segment.speaker != speaker or segment.heading or not segment.spoken:
            continue
        profile = result.script.cast.profile_for(segment.speaker)
        for part in parts(spoken_text(segment, "", result.script.pronunciations)):
            piece = cache.get(segment_key(part, profile, result.script.pauses, engine))
            assert piece is not None
            found.append(piece.data)
    assert found
    return found


def samples(path: Path) -> np.ndarray:
    return np.asarray(miniaudio.mp3_read_file_s16(str(path)).samples, dtype=np.int16)


def test_a_changed_voice_resynthesizes_only_that_speakers_segments(story, tmp_path):
    first = render(story, tmp_path)
    assert first.synthesized > 0
    rosa_lines = sum(1 for s in first.script.segments if s.speaker == "Rosa")
    old_files = [track.path.read_bytes() for track in first.tracks]
    second = render(story, tmp_path, voices=voices(tmp_path, rosa="en-us+f5"))
    assert second.synthesized == rosa_lines == 3
    assert second.reused == first.synthesized + first.reused - rosa_lines
    assert second.kept == ()  # Rosa speaks in both chapters
    # The chapters are joined from the cached pieces: everyone else's speech is in the new
    # files byte for byte, Rosa's old speech is gone.
    new_files = b"".join(track.path.read_bytes() for track in second.tracks)
    for speaker in ("Owen", NARRATOR):
        for piece in pieces(first, speaker, tmp_path / "cache"):
            assert piece in new_files and any(piece in old for old in old_files)
    for piece in pieces(first, "Rosa", tmp_path / "cache"):
        assert piece not in new_files


def test_an_unchanged_book_keeps_its_files(story, tmp_path):
    first = render(story, tmp_path)
    stamps = {t.path: t.path.stat().st_mtime_ns for t in first.tracks}
    again = render(story, tmp_path)
    assert again.synthesized == 0 and set(again.kept) == set(stamps)
    assert {t.path: t.path.stat().st_mtime_ns for t in again.tracks} == stamps
    assert [round(t.duration, 1) for t in again.tracks] == [
        round(t.duration, 1) for t in first.tracks
    ]


def test_a_changed_pause_rejoins_without_making_speech(story, tmp_path):
    first = render(story, tmp_path)
    path = voices(tmp_path)
    path.write_text(path.read_text() + "pauses: {paragraph: 1.2}\n", encoding="utf-8")
    again = render(story, tmp_path, voices=path)
    assert again.synthesized == 0 and again.kept == ()
    joined = b"".join(track.path.read_bytes() for track in again.tracks)
    assert all(piece in joined for piece in pieces(first, "Rosa", tmp_path / "cache"))
    # Chapter 1 has two paragraph changes after its first paragraph, 0.6 s longer each.
    longer = again.tracks[0].duration - first.tracks[0].duration
    assert longer == pytest.approx(2 * 0.6, abs=0.06)


def test_the_cache_gives_back_the_same_audio(story, tmp_path):
    """espeak's output for one text varies by a few samples from call to call; cached
    speech makes a render repeatable to the sample."""
    first = render(story, tmp_path)
    second = narrate.render(
        story, out=tmp_path / "again", voices=voices(tmp_path), cache_dir=tmp_path / "cache"
    )
    assert second.synthesized == 0
    for one, other in zip(first.tracks, second.tracks, strict=True):
        assert np.array_equal(samples(one.path), samples(other.path))


def test_an_interrupted_render_resumes_where_it_stopped(story, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = assemble.make_piece

    def stop_in_chapter_two(text, *args):
        if text == "More tea?" and not calls["n"]:  # after chapter 2's first segments
            calls["n"] += 1
            raise KeyboardInterrupt
        return real(text, *args)

    monkeypatch.setattr(assemble, "make_piece", stop_in_chapter_two)
    with pytest.raises(KeyboardInterrupt):
        render(story, tmp_path, jobs=1)  # the patch is in this process
    monkeypatch.setattr(assemble, "make_piece", real)
    out = tmp_path / "out" / "Ada Quill" / "Two Rooms"
    # Chapter 1 and its transcripts; nothing of chapter 2, no partial file.
    assert sorted(p.name for p in out.iterdir()) == [
        "01 - Chapter 1.chapters.json",
        "01 - Chapter 1.mp3",
        "01 - Chapter 1.srt",
        "01 - Chapter 1.vtt",
    ]
    chapter_one = (out / "01 - Chapter 1.mp3").read_bytes()
    resumed = render(story, tmp_path)
    assert [p.name for p in resumed.kept] == ["01 - Chapter 1.mp3"]
    assert (out / "01 - Chapter 1.mp3").read_bytes() == chapter_one
    assert resumed.reused >= 1  # chapter 2's first segment was cached before the stop
    whole = narrate.render(story, out=tmp_path / "whole", voices=voices(tmp_path), use_cache=False)
    for one, other in zip(resumed.tracks, whole.tracks, strict=True):
        # The same book, to espeak's jitter (see the tone-engine test for exact equality)
        assert one.duration == pytest.approx(other.duration, rel=0.01)


def test_a_resumed_render_makes_the_same_files_as_an_uninterrupted_one(
    story, tmp_path, monkeypatch
):
    """With a deterministic engine, so that any difference is the pipeline's."""
    tone = get_engine("tone_engine:ToneEngine")
    real = assemble.make_piece
    made = []

    def stop_in_chapter_two(text, *args):
        if text == "More tea?" and "More tea?" not in made:
            made.append(text)
            raise KeyboardInterrupt
        return real(text, *args)

    monkeypatch.setattr(assemble, "make_piece", stop_in_chapter_two)
    with pytest.raises(KeyboardInterrupt):
        render(story, tmp_path, engine=tone, jobs=1)
    assert made == ["More tea?"]  # stopped there, by this test's Ctrl-C
    monkeypatch.setattr(assemble, "make_piece", real)
    resumed = render(story, tmp_path, engine=tone, jobs=1)
    assert resumed.reused >= 2 and len(resumed.kept) == 1
    whole = narrate.render(
        story, out=tmp_path / "whole", voices=voices(tmp_path), engine=tone, use_cache=False
    )
    for one, other in zip(resumed.tracks, whole.tracks, strict=True):
        assert one.path.name == other.path.name
        assert one.path.read_bytes() == other.path.read_bytes()


def test_the_key_changes_with_what_is_said_and_how():
    profile = VoiceProfile("en-us+f3", 175, 50)
    key = speech_key("Hello.", profile, 0.25, "pyttsx3-espeak 1", 22050)
    assert key == speech_key("Hello.", profile, 0.25, "pyttsx3-espeak 1", 22050)
    assert key != speech_key("Hello!", profile, 0.25, "pyttsx3-espeak 1", 22050)
    assert key != speech_key("Hello.", VoiceProfile("en-us+f3", 176, 50), 0.25, "e 1", 22050)
    assert key != speech_key("Hello.", profile, 0.3, "pyttsx3-espeak 1", 22050)
    assert key != speech_key("Hello.", profile, 0.25, "pyttsx3-espeak 2", 22050)


def test_a_cache_that_cannot_be_written_only_costs_speed(tmp_path):
    blocker = tmp_path / "cache"
    blocker.mkdir()
    (blocker / "speech").write_text("not a folder")
    cache = SpeechCache(blocker)
    cache.put("ab" * 32, Piece(b"\xff\xf3", 1, 10, 22050, 576))
    assert cache.get("ab" * 32) is None and cache.misses == 1


def test_cache_info_and_clear(story, tmp_path):
    render(story, tmp_path)
    info = cache_info(tmp_path / "cache")
    assert info.entries > 0 and info.size > 0
    runner = CliRunner()
    shown = runner.invoke(main, ["cache", "info", "--cache-dir", str(tmp_path / "cache")])
    assert shown.exit_code == 0 and f"{info.entries} sentences" in shown.output
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(tmp_path / "cache")])
    assert cleared.exit_code == 0 and f"removed {info.entries} sentences" in cleared.output
    assert cache_info(tmp_path / "cache").entries == 0
    assert clear_cache(tmp_path / "nowhere").entries == 0
