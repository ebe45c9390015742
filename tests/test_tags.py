"""Tests for narrate.output.tags: ID3v2.3 tags from the field table, chapters, covers."""

from __future__ import annotations

import dataclasses
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import mutagen.mp3
import numpy as np
import pytest
from mutagen.id3 import ID3, CTOCFlags, Encoding, PictureType

from narrate.errors import NarrateError
from narrate.model import ChapterMark
from narrate.output import tags as tags_module
from narrate.output.tags import FIELDS, TrackTags, read_cover, write_tags
from narrate.speech.mp3 import encode_mp3

RATE = 22050
FFPROBE = shutil.which("ffprobe")
needs_ffprobe = pytest.mark.skipif(FFPROBE is None, reason="ffprobe is not installed")

TITLE = "Café — “Spike”"  # outside Latin-1: stored as UTF-16 in ID3v2.3


def png_image() -> bytes:
    """Return a valid 2x2 red PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def mp3_file(tmp_path) -> Path:
    """A real five-second MP3 (a tone), made with narrate.speech.mp3."""
    time = np.arange(RATE * 5) / RATE
    tone = (np.sin(2 * np.pi * 440 * time) * 8000).astype(np.int16)
    return encode_mp3(tone, RATE, tmp_path / "chapter.mp3").path


@pytest.fixture
def full_tags() -> TrackTags:
    return TrackTags(
        title=TITLE,
        album="The Book ☃",
        author="Ann Author",
        narrator="narrate (en-us)",
        track=2,
        total_tracks=5,
        description="A story — told “twice”.",
        language="eng",
        year="2024",
        series="The Saga",
        series_part="3",
        cover=png_image(),
        cover_mime="image/png",
        marks=(
            ChapterMark("Opening", 0, 2000),
            ChapterMark("The “middle” — é", 2000, 4000),
            ChapterMark("End", 4000, 4900),  # ends where the file does, once written
        ),
    )


def text(id3: ID3, frame_id: str) -> str:
    return str(id3.getall(frame_id)[0])


def test_every_field_of_the_table_is_written(mp3_file, full_tags):
    write_tags(mp3_file, full_tags)
    id3 = ID3(mp3_file, translate=False)  # as stored, without upgrading to 2.4 frames
    assert id3.version == (2, 3, 0)
    assert text(id3, "TIT2") == TITLE
    assert text(id3, "TALB") == "The Book ☃"
    assert text(id3, "TPE1") == "Ann Author"
    assert text(id3, "TPE2") == "Ann Author"
    assert text(id3, "TCOM") == "narrate (en-us)"
    assert text(id3, "TRCK") == "2/5"
    assert text(id3, "TCON") == "Audiobook"
    assert text(id3, "TLAN") == "eng"
    assert text(id3, "TYER") == "2024"
    assert id3.getall("TDRC") == []  # 2.4's date frame is not written
    (comment,) = id3.getall("COMM")
    assert (comment.lang, comment.desc, str(comment)) == ("eng", "", "A story — told “twice”.")
    user = {frame.desc: str(frame) for frame in id3.getall("TXXX")}
    assert user == {"series": "The Saga", "series-part": "3"}
    (picture,) = id3.getall("APIC")
    assert picture.type == PictureType.COVER_FRONT
    assert picture.mime == "image/png"
    assert picture.data == full_tags.cover


def test_the_table_covers_every_tag_field():
    # Every TrackTags field is in the table, except the marks (written as chapters) and
    # the parts of combined fields (total_tracks goes with track, cover_mime with cover).
    names = {field.name for field in FIELDS}
    parts = {"marks", "total_tracks", "cover_mime"}
    assert names | parts == {field.name for field in dataclasses.fields(TrackTags)}


def test_text_encodings_suit_id3v23(mp3_file, full_tags):
    write_tags(mp3_file, full_tags)
    id3 = ID3(mp3_file, translate=False)
    assert id3.getall("TIT2")[0].encoding == Encoding.UTF16
    assert id3.getall("TPE1")[0].encoding == Encoding.LATIN1
    # ID3v2.3 knows Latin-1 and UTF-16 only: no frame may say UTF-8.
    raw_tag = mp3_file.read_bytes()[: 10 + id3.size]
    assert b"\x03Caf" not in raw_tag


def test_chapters_and_table_of_contents(mp3_file, full_tags):
    write_tags(mp3_file, full_tags)
    id3 = ID3(mp3_file)
    duration_ms = round(mutagen.mp3.MP3(mp3_file).info.length * 1000)
    (toc,) = id3.getall("CTOC")
    assert toc.element_id == "toc"
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ["chp0", "chp1", "chp2"]
    assert str(toc.sub_frames["TIT2"]) == TITLE
    chapters = {frame.element_id: frame for frame in id3.getall("CHAP")}
    expected = [("Opening", 0, 2000), ("The “middle” — é", 2000, 4000), ("End", 4000, 5000)]
    for index, (title, start, end) in enumerate(expected):
        chapter = chapters[f"chp{index}"]
        assert str(chapter.sub_frames["TIT2"]) == title
        assert (chapter.start_time, chapter.end_time) == (start, end)
        assert (chapter.start_offset, chapter.end_offset) == (0xFFFFFFFF, 0xFFFFFFFF)
    assert duration_ms == 5000
    assert chapters["chp2"].end_time == duration_ms  # the last mark ends with the file


def test_chapter_frames_are_stored_in_time_order(mp3_file, full_tags):
    write_tags(mp3_file, full_tags)
    data = mp3_file.read_bytes()
    positions = [data.index(f"chp{index}\0".encode(), data.index(b"CHAP")) for index in range(3)]
    assert positions == sorted(positions)
    assert data.index(b"CTOC") < data.index(b"CHAP") < data.index(b"APIC")


def test_tagging_again_gives_the_same_file(mp3_file, full_tags):
    write_tags(mp3_file, full_tags)
    first = mp3_file.read_bytes()
    write_tags(mp3_file, full_tags)
    assert mp3_file.read_bytes() == first
    # And other tags replace the old ones entirely: nothing is left over.
    write_tags(mp3_file, TrackTags(title="Other", album="Book", author="Someone"))
    id3 = ID3(mp3_file, translate=False)
    assert sorted(id3.keys()) == ["TALB", "TCON", "TIT2", "TLAN", "TPE1", "TPE2", "TRCK"]
    assert text(id3, "TRCK") == "1/1"


def test_audio_is_untouched_by_tagging(mp3_file, full_tags):
    audio = mp3_file.read_bytes()
    write_tags(mp3_file, full_tags)
    tagged = mp3_file.read_bytes()
    assert tagged.endswith(audio)
    info = mutagen.mp3.MP3(mp3_file).info
    assert info.length == pytest.approx(5.0, abs=1e-6)
    assert tagged[-128:-125] != b"TAG"  # no ID3v1 tag at the end


def test_existing_id3v1_and_v24_tags_are_removed(mp3_file):
    from mutagen.id3 import TDRC, TIT2

    old = ID3()
    old.add(TIT2(encoding=Encoding.UTF8, text=["old title"]))
    old.add(TDRC(encoding=Encoding.UTF8, text=["1999"]))
    old.save(mp3_file, v1=2, v2_version=4)
    assert mp3_file.read_bytes()[-128:-125] == b"TAG"
    write_tags(mp3_file, TrackTags(title="new", album="Book", author="A"))
    id3 = ID3(mp3_file, translate=False)
    assert id3.version == (2, 3, 0)
    assert text(id3, "TIT2") == "new"
    assert id3.getall("TDRC") == [] and id3.getall("TYER") == []
    assert mp3_file.read_bytes()[-128:-125] != b"TAG"


def test_many_marks_nest_tables_of_contents(mp3_file):
    count = 600
    marks = tuple(
        ChapterMark(f"Scene {index + 1}", index * 8, index * 8 + 8) for index in range(count)
    )
    write_tags(mp3_file, TrackTags(title="Long", album="Book", author="A", marks=marks))
    id3 = ID3(mp3_file)
    tables = {frame.element_id: frame for frame in id3.getall("CTOC")}
    top = tables["toc"]
    assert top.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert top.child_element_ids == ["toc0", "toc1", "toc2"]
    children: list[str] = []
    for element_id in top.child_element_ids:
        nested = tables[element_id]
        assert nested.flags == CTOCFlags.ORDERED  # not top-level
        assert len(nested.child_element_ids) <= 255
        children.extend(nested.child_element_ids)
    assert [len(tables[f"toc{n}"].child_element_ids) for n in range(3)] == [255, 255, 90]
    assert str(tables["toc1"].sub_frames["TIT2"]) == "Chapters 256-510"
    assert children == [f"chp{index}" for index in range(count)]
    assert len(id3.getall("CHAP")) == count
    chapters = {frame.element_id: frame for frame in id3.getall("CHAP")}
    assert chapters["chp599"].end_time == 5000


def test_exactly_255_marks_need_no_nesting():
    marks = tuple(ChapterMark(str(index), index, index + 1) for index in range(255))
    frames = tags_module.chapter_frames(marks, "Book", 255)
    tables = [frame for frame in frames if frame.FrameID == "CTOC"]
    assert len(tables) == 1
    assert len(tables[0].child_element_ids) == 255


def test_marks_out_of_order_are_refused():
    marks = (ChapterMark("b", 1000, 2000), ChapterMark("a", 0, 1000))
    with pytest.raises(ValueError, match=r"^chapter marks out of order at ChapterMark"):
        tags_module.chapter_frames(marks, "Book", 2000)


def test_empty_optional_fields_write_no_frames(mp3_file):
    write_tags(mp3_file, TrackTags(title="T", album="B", author="A", genre=""))
    id3 = ID3(mp3_file, translate=False)
    for frame_id in ("TCOM", "COMM", "TYER", "TXXX", "APIC", "CHAP", "CTOC", "TCON"):
        assert id3.getall(frame_id) == []


def test_read_cover_checks_the_bytes_not_the_name(tmp_path):
    jpeg = tmp_path / "cover.png"  # misnamed: the content decides
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    assert read_cover(jpeg) == (jpeg.read_bytes(), "image/jpeg")
    png = tmp_path / "cover"
    png.write_bytes(png_image())
    assert read_cover(png) == (png_image(), "image/png")


def test_read_cover_refuses_other_files(tmp_path):
    gif = tmp_path / "cover.jpg"
    gif.write_bytes(b"GIF89a" + bytes(100))
    with pytest.raises(NarrateError) as caught:
        read_cover(gif)
    assert caught.value.exit_code == 2
    assert "JPEG or PNG" in str(caught.value)
    with pytest.raises(NarrateError) as caught:
        read_cover(tmp_path / "missing.jpg")
    assert caught.value.exit_code == 2


@needs_ffprobe
def test_ffprobe_reads_tags_and_chapters(mp3_file, full_tags):
    write_tags(mp3_file, full_tags)
    completed = subprocess.run(
        [FFPROBE, "-v", "error", "-of", "json", "-show_chapters", "-show_format",
         str(mp3_file)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    probe = json.loads(completed.stdout)
    format_tags = probe["format"]["tags"]
    assert format_tags["title"] == TITLE
    assert format_tags["album"] == "The Book ☃"
    assert format_tags["artist"] == "Ann Author"
    assert format_tags["album_artist"] == "Ann Author"
    assert format_tags["composer"] == "narrate (en-us)"
    assert format_tags["track"] == "2/5"
    assert format_tags["genre"] == "Audiobook"
    assert format_tags["comment"] == "A story — told “twice”."
    assert format_tags["series"] == "The Saga"
    assert format_tags["series-part"] == "3"
    chapters = [
        (chapter["tags"]["title"], chapter["start"], chapter["end"])
        for chapter in probe["chapters"]
    ]
    assert chapters == [
        ("Opening", 0, 2000),
        ("The “middle” — é", 2000, 4000),
        ("End", 4000, 5000),
    ]
    assert all(chapter["time_base"] == "1/1000" for chapter in probe["chapters"])
