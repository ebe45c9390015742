"""ID3v2.3 tags for the chapter files: metadata declared once in a table, plus chapters.

Each field of :class:`TrackTags` is declared once in :data:`FIELDS` with the ID3 frame it
maps to; :func:`write_tags` walks the table, so adding a field is one line. A field's value
is format-neutral (text, a number pair, an image and its type) and each format column says
how to store it: today ``id3``; an ``mp4`` column for AAC (M4B) files fits beside it.

Chapter marks become ID3 chapter frames (the ID3v2 Chapter Frame Addendum): one ``CHAP``
per mark, with its times and a ``TIT2`` title sub-frame, all listed in order by one
top-level ``CTOC``. Tags are saved as ID3v2.3, which players and car stereos read more
widely than 2.4; text that Latin-1 cannot hold is stored as UTF-16, since 2.3 has no UTF-8.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import mutagen
import mutagen.id3
import mutagen.mp3
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TXXX,
    CTOCFlags,
    Encoding,
    Frame,
    PictureType,
)

from narrate.errors import EXIT_USAGE, NarrateError
from narrate.model import ChapterMark, Script, primary_language

#: The most child elements one CTOC frame can list (its entry count is one byte).
MAX_TOC_ENTRIES = 255
#: Element ids: the top-level table of contents, chapters, and nested tables (if needed).
TOC_ID = "toc"
CHAPTER_ID = "chp{}"
NESTED_TOC_ID = "toc{}"

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class TrackTags:
    """Everything written into one chapter file's tags."""

    title: str  # the chapter title
    album: str  # the book title
    author: str
    narrator: str = ""
    track: int = 1
    total_tracks: int = 1
    genre: str = "Audiobook"
    description: str = ""
    language: str = "eng"  # ISO 639-2
    year: str | None = None
    series: str | None = None
    series_part: str | None = None
    cover: bytes | None = None
    cover_mime: str = "image/jpeg"
    marks: tuple[ChapterMark, ...] = ()
    #: A hash of everything the file is made from, so a render can tell it is up to date.
    made_from: str | None = None


# --- how values are stored in ID3 ------------------------------------------------------------


class Id3Mapping(Protocol):
    """How one field's value becomes ID3 frames."""

    def frames(self, value: object, tags: TrackTags) -> list[Frame]: ...


@dataclass(frozen=True)
class Id3Text:
    """A text frame; with several ids, the same text in each (TPE1 and TPE2)."""

    frame_ids: tuple[str, ...]

    def __init__(self, *frame_ids: str) -> None:
        object.__setattr__(self, "frame_ids", frame_ids)

    def frames(self, value: object, tags: TrackTags) -> list[Frame]:
        text = str(value)
        return [
            getattr(mutagen.id3, frame_id)(encoding=_encoding(text), text=[text])
            for frame_id in self.frame_ids
        ]


@dataclass(frozen=True)
class Id3NumberPair:
    """A "number/total" text frame, like TRCK "2/5"."""

    frame_id: str

    def frames(self, value: object, tags: TrackTags) -> list[Frame]:
        number, total = value  # type: ignore[misc]
        text = f"{number}/{total}" if total else str(number)
        return [getattr(mutagen.id3, self.frame_id)(encoding=Encoding.LATIN1, text=[text])]


@dataclass(frozen=True)
class Id3UserText:
    """A TXXX frame with a fixed description."""

    description: str

    def frames(self, value: object, tags: TrackTags) -> list[Frame]:
        text = str(value)
        encoding = _encoding(text + self.description)
        return [TXXX(encoding=encoding, desc=self.description, text=[text])]


@dataclass(frozen=True)
class Id3Comment:
    """A COMM frame with an empty description, in the book's language."""

    def frames(self, value: object, tags: TrackTags) -> list[Frame]:
        text = str(value)
        language = tags.language if _is_language_code(tags.language) else "eng"
        return [COMM(encoding=_encoding(text), lang=language, desc="", text=[text])]


@dataclass(frozen=True)
class Id3Picture:
    """An APIC frame of the given picture type; the value is (image bytes, MIME type)."""

    picture_type: PictureType

    def frames(self, value: object, tags: TrackTags) -> list[Frame]:
        data, mime = value  # type: ignore[misc]
        return [
            APIC(encoding=Encoding.LATIN1, mime=mime, type=self.picture_type, desc="", data=data)
        ]


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One piece of metadata: where it comes from and how each format stores it.

    ``value`` takes the tags and returns the field's format-neutral value, or None/"" for
    "not set" (nothing is written); by default it reads the attribute named ``name``.
    """

    name: str
    id3: Id3Mapping
    value: Callable[[TrackTags], object] | None = None

    def value_of(self, tags: TrackTags) -> object:
        return self.value(tags) if self.value else getattr(tags, self.name)


#: Every field written, once. (Chapter marks are structure, not a field: see write_tags.)
#: The user text frame (TXXX) that records what a chapter file was made from.
MADE_FROM = "narrate-made-from"

FIELDS: tuple[Field, ...] = (
    Field("title", id3=Id3Text("TIT2")),
    Field("album", id3=Id3Text("TALB")),
    Field("author", id3=Id3Text("TPE1", "TPE2")),
    Field("narrator", id3=Id3Text("TCOM")),
    Field("track", id3=Id3NumberPair("TRCK"), value=lambda tags: (tags.track, tags.total_tracks)),
    Field("genre", id3=Id3Text("TCON")),
    Field("description", id3=Id3Comment()),
    Field("language", id3=Id3Text("TLAN")),
    Field("year", id3=Id3Text("TYER")),
    Field("series", id3=Id3UserText("series")),
    Field("series_part", id3=Id3UserText("series-part")),
    Field("made_from", id3=Id3UserText(MADE_FROM)),
    Field(
        "cover",
        id3=Id3Picture(PictureType.COVER_FRONT),
        value=lambda tags: (tags.cover, tags.cover_mime) if tags.cover else None,
    ),
)


# --- writing ---------------------------------------------------------------------------------


def write_tags(path: str | Path, tags: TrackTags) -> None:
    """Replace the tags of the MP3 at ``path`` with ``tags``, saved as ID3v2.3.

    Any existing ID3v1 and ID3v2 tags are removed first, so tagging again gives the same
    result. Marks become CHAP frames listed by a top-level CTOC (see :func:`chapter_frames`);
    the last mark is made to end at the file's duration. The file is changed in place: to
    never leave a half-tagged file under its final name, tag a temporary file and rename it.
    """
    path = Path(path)
    frames = [frame for field in FIELDS for frame in _field_frames(field, tags)]
    if tags.marks:
        duration_ms = round(mutagen.mp3.MP3(path).info.length * 1000)
        frames.extend(chapter_frames(tags.marks, tags.title, duration_ms))
    mutagen.id3.delete(path)
    id3 = ID3()
    for frame in frames:
        id3.add(frame)
    # Turns any 2.4-only frame into its 2.3 form; the ones written here already are.
    id3.update_to_v23()
    id3.save(path, v1=0, v2_version=3)
    if tags.marks:
        _put_chapters_in_order(path)


def chapter_frames(marks: tuple[ChapterMark, ...], title: str, duration_ms: int) -> list[Frame]:
    """Return the CHAP frames for ``marks`` and the CTOC frame(s) listing them in order.

    Chapters get element ids "chp0", "chp1"... and times in ms; the last one ends at
    ``duration_ms``. The top-level, ordered CTOC "toc" is titled ``title``. One CTOC can list
    at most 255 children, so past 255 marks the top-level CTOC lists ordered child CTOCs
    ("toc0", "toc1"...) of up to 255 chapters each, titled "Chapters 1-255" and so on.
    """
    _check_marks(marks, duration_ms)
    chapters: list[Frame] = []
    for index, mark in enumerate(marks):
        end_ms = duration_ms if index == len(marks) - 1 else mark.end_ms
        chapters.append(
            CHAP(
                element_id=CHAPTER_ID.format(index),
                start_time=mark.start_ms,
                end_time=end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[_title_frame(mark.title)],
            )
        )
    chapter_ids = [CHAPTER_ID.format(index) for index in range(len(marks))]
    ordered = CTOCFlags.ORDERED
    if len(chapter_ids) <= MAX_TOC_ENTRIES:
        top = CTOC(
            element_id=TOC_ID,
            flags=CTOCFlags.TOP_LEVEL | ordered,
            child_element_ids=chapter_ids,
            sub_frames=[_title_frame(title)],
        )
        return [*chapters, top]
    nested: list[Frame] = []
    for group, first in enumerate(range(0, len(chapter_ids), MAX_TOC_ENTRIES)):
        children = chapter_ids[first : first + MAX_TOC_ENTRIES]
        label = f"Chapters {first + 1}-{first + len(children)}"
        nested.append(
            CTOC(
                element_id=NESTED_TOC_ID.format(group),
                flags=ordered,
                child_element_ids=children,
                sub_frames=[_title_frame(label)],
            )
        )
    if len(nested) > MAX_TOC_ENTRIES:
        raise ValueError(f"too many chapter marks for two levels of contents: {len(marks)}")
    top = CTOC(
        element_id=TOC_ID,
        flags=CTOCFlags.TOP_LEVEL | ordered,
        child_element_ids=[frame.element_id for frame in nested],
        sub_frames=[_title_frame(title)],
    )
    return [*chapters, *nested, top]


def read_cover(path: str | Path) -> tuple[bytes, str]:
    """Return a cover image's bytes and MIME type; it must be a JPEG or PNG file.

    The type is decided by the file's first bytes, not its name. Raises NarrateError (exit
    code 2) if the file cannot be read or is neither JPEG nor PNG.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NarrateError(
            f"{path}: cannot read the cover image: {error.strerror or error}", EXIT_USAGE
        ) from None
    if data.startswith(_JPEG_MAGIC):
        return data, "image/jpeg"
    if data.startswith(_PNG_MAGIC):
        return data, "image/png"
    raise NarrateError(f"{path}: the cover image must be a JPEG or PNG file", EXIT_USAGE)


def _put_chapters_in_order(path: Path) -> None:
    """Rewrite the saved tag with the CTOC and CHAP frames together and in time order.

    mutagen orders frames by size, so chapters land in the file in no useful order; the
    CTOC gives the order, but ffmpeg (and so every M4B made from these files with it) lists
    chapters in file order. The frames keep their bytes and the tag its size: only the order
    within the ID3v2.3 tag changes.
    """
    with open(path, "r+b") as file:
        header = file.read(10)
        size = _syncsafe(header[6:10])
        body = file.read(size)
        frames: list[tuple[bytes, bytes]] = []
        position = 0
        while position + 10 <= len(body) and body[position : position + 4] != bytes(4):
            frame_id = body[position : position + 4]
            # ID3v2.3 frame sizes are plain big-endian integers (2.4's are syncsafe).
            length = 10 + int.from_bytes(body[position + 4 : position + 8], "big")
            frames.append((frame_id, body[position : position + length]))
            position += length
        tables = [data for frame_id, data in frames if frame_id == b"CTOC"]
        chapters = sorted(
            (data for frame_id, data in frames if frame_id == b"CHAP"), key=_chapter_index
        )
        others = [data for frame_id, data in frames if frame_id not in (b"CTOC", b"CHAP")]
        # The chapter frames go after the text frames and before the (large) picture.
        pictures = [data for data in others if data[:4] == b"APIC"]
        texts = [data for data in others if data[:4] != b"APIC"]
        ordered = b"".join([*texts, *tables, *chapters, *pictures])
        if len(ordered) != position:
            raise RuntimeError("could not reorder the ID3 frames just written")
        file.seek(10)
        file.write(ordered)


def _chapter_index(frame: bytes) -> int:
    """Return N of a CHAP frame whose element id is "chpN"."""
    element_id = frame[10 : frame.index(b"\0", 10)].decode("latin-1")
    return int(element_id.removeprefix(CHAPTER_ID.format("")))


def _syncsafe(data: bytes) -> int:
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
    return value


def _field_frames(field: Field, tags: TrackTags) -> list[Frame]:
    value = field.value_of(tags)
    if value is None or value == "":
        return []
    return field.id3.frames(value, tags)


def _check_marks(marks: tuple[ChapterMark, ...], duration_ms: int) -> None:
    previous_start = 0
    for mark in marks:
        if mark.start_ms < previous_start or mark.end_ms < mark.start_ms:
            raise ValueError(f"chapter marks out of order at {mark!r}")
        previous_start = mark.start_ms
    if marks and marks[-1].start_ms > duration_ms:
        raise ValueError(f"chapter mark {marks[-1]!r} starts after the end ({duration_ms} ms)")


def _title_frame(text: str) -> Frame:
    return mutagen.id3.TIT2(encoding=_encoding(text), text=[text])


def _encoding(text: str) -> Encoding:
    """Latin-1 when it can hold the text (read by every player), else UTF-16 (ID3v2.3)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return Encoding.UTF16
    return Encoding.LATIN1


def _is_language_code(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha()


def read_made_from(path: str | Path) -> str | None:
    """What an earlier render recorded as the file's making (see TrackTags.made_from), or
    None when the file is missing, unreadable or not narrate's."""
    try:
        tags = ID3(str(path))
    except (mutagen.MutagenError, OSError):
        return None
    frames = tags.getall(f"TXXX:{MADE_FROM}")
    return str(frames[0].text[0]) if frames and frames[0].text else None


#: ISO 639-2 codes (ID3's TLAN) of the languages narrate reads; others are tagged English.
_ISO_639_2 = {"en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita"}


def book_tags(
    book_script: Script,
    cover: tuple[bytes, str] | None,
    series: str | None = None,
    series_part: str | None = None,
) -> TrackTags:
    """The tags of the book as one file; a chapter's are these with its title and number
    (the chapter marks come with the audio)."""
    book = book_script.book
    return TrackTags(
        title=book.title,
        album=book.title,
        author=book.author,
        narrator=f"narrate ({book_script.cast.narrator.voice})",
        track=1,
        total_tracks=1,
        description=book.description,
        language=_ISO_639_2.get(primary_language(book.language), "eng"),
        series=series or book.series,
        series_part=series_part or book.series_part,
        cover=cover[0] if cover else None,
        cover_mime=cover[1] if cover else "image/jpeg",
    )
