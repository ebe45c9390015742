"""The data model: what flows through the pipeline, from book to script to audio.

Every stage takes and returns these frozen values, so each stage can be tested alone:

    read: file -> Book            (chapters, scenes, paragraphs with their source spans)
    segment: Book -> [Segment]    (narration and dialogue pieces, quotes marked)
    attribute: [Segment] -> [Segment] with speakers, plus the Characters found
    cast: Characters -> Cast      (a VoiceProfile for the narrator and each speaker)

Spans (``start``/``end``) are character offsets into ``Book.source``: the input file's text
decoded as UTF-8 with no newline translation, so ``Book.source[start:end]`` is the
segment's text exactly as written. A Markdown book's ``source`` is its words without the
markup; ``Book.origin`` maps its offsets back into the file.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

#: The speaker name of narration.
NARRATOR = "narrator"

NARRATION = "narration"
DIALOGUE = "dialogue"


def primary_language(code: str) -> str:
    """The main language of a language tag, lower case: "en" for "en-GB", "en_US" or "EN"."""
    return code.replace("_", "-").split("-")[0].lower()


FEMALE = "female"
MALE = "male"
NEUTRAL = "neutral"
GENDERS = (FEMALE, MALE, NEUTRAL)


# --- emphasis ---------------------------------------------------------------------------

#: Where emphasis (italics) begins and ends in a text: private-use characters, put there by
#: the readers (``<em>``, Markdown's ``*word*``) and by :func:`speakable` (plain text's
#: ``_word_``), turned into SSML ``<emphasis>`` by engines that can and dropped by others.
EMPHASIS_OPEN = "\ue000"
EMPHASIS_CLOSE = "\ue001"


def plain(text: str) -> str:
    """``text`` without emphasis marks: what is shown, never what is said."""
    return text.replace(EMPHASIS_OPEN, "").replace(EMPHASIS_CLOSE, "")


def shown(text: str) -> str:
    """Spoken text for people to read: emphasis as ``*word*``."""
    return text.replace(EMPHASIS_OPEN, "*").replace(EMPHASIS_CLOSE, "*")


def balanced(text: str) -> str:
    """A piece of text cut from a longer one, its emphasis marks paired again: an
    emphasis left open is closed at its end; one closed without opening (it began before
    the cut) is opened where the piece, or the last emphasis in it, ends; nested marks
    are merged."""
    out: list[str] = []
    depth = 0
    for character in text:
        if character == EMPHASIS_OPEN:
            if depth == 0:
                out.append(character)
            depth += 1
        elif character == EMPHASIS_CLOSE:
            if depth == 0:
                last_close = max((i for i, c in enumerate(out) if c == EMPHASIS_CLOSE), default=-1)
                out.insert(last_close + 1, EMPHASIS_OPEN)
                out.append(character)
            else:
                depth -= 1
                if depth == 0:
                    out.append(character)
        else:
            out.append(character)
    if depth > 0:
        out.append(EMPHASIS_CLOSE)
    return "".join(out)


@dataclass(frozen=True)
class Paragraph:
    """A block of text between blank lines; ``text`` is ``source[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Scene:
    """Paragraphs between two scene breaks (a chapter has at least one scene)."""

    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Chapter:
    """A chapter: its number (1-based), title, the heading as written, and its scenes."""

    number: int
    title: str
    scenes: tuple[Scene, ...]
    heading: Paragraph | None = None

    @property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(p for scene in self.scenes for p in scene.paragraphs)


@dataclass(frozen=True)
class SourceMap:
    """Where the characters of a text made from a file lie in that file: a Markdown book's
    ``source`` is its words without their markup, and this maps them back.

    ``runs`` are (text position, file position, length): that many characters from the
    text position stand for as many from the file position.
    """

    runs: tuple[tuple[int, int, int], ...]

    def position(self, index: int) -> int:
        """The file position character ``index`` of the text stands for."""
        run = bisect.bisect_right(self.runs, index, key=lambda run: run[0]) - 1
        if run < 0:
            return 0
        text, file, length = self.runs[run]
        return file + min(index - text, length - 1)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The file span of the text span ``[start, end)``."""
        if end <= start:
            first = self.position(start)
            return first, first
        return self.position(start), self.position(end - 1) + 1


@dataclass(frozen=True)
class Book:
    """A story as read from its file: metadata, chapters, and the front matter set aside."""

    title: str
    author: str
    chapters: tuple[Chapter, ...]
    source: str
    description: str = ""
    language: str = "en"
    #: Author's notes, disclaimers and warnings: kept out of the reading unless asked for.
    notes: tuple[Paragraph, ...] = ()
    #: Header lines (title, author, tables of contents, licence text): never read.
    header: tuple[Paragraph, ...] = ()
    series: str | None = None
    series_part: str | None = None
    #: What the reader had to guess (an encoding), to show the user.
    warnings: tuple[str, ...] = ()
    #: The book's own cover image (an EPUB's), and its MIME type.
    cover: bytes | None = None
    cover_mime: str = "image/jpeg"
    #: For a ``source`` made from the file rather than read as it is (Markdown): where
    #: its characters lie in the file, for offsets that point into the file.
    origin: SourceMap | None = None


@dataclass(frozen=True)
class Segment:
    """A piece of one paragraph read in one voice: narration, or (part of) a quotation.

    The parts of one quotation (an interrupted quote, or a quote running over several
    paragraphs) share ``quote``; ``reason`` says which attribution pass chose the speaker.
    """

    kind: str
    start: int
    end: int
    text: str
    chapter: int
    scene: int
    paragraph: int
    speaker: str = NARRATOR
    quote: int | None = None
    reason: str = ""
    #: How likely the speaker is right (0-1), and the next likeliest speaker, for a quote.
    confidence: float | None = None
    runner_up: str | None = None
    #: False for front matter (notes, disclaimers) that is listed but not read aloud.
    spoken: bool = True
    #: True for a chapter heading read by the narrator.
    heading: bool = False

    @property
    def is_dialogue(self) -> bool:
        return self.kind == DIALOGUE


@dataclass(frozen=True)
class Character:
    """Someone who speaks: a named person, a description ("the stranger") or a group."""

    name: str
    aliases: tuple[str, ...] = ()
    gender: str | None = None
    group: bool = False
    lines: int = 0


#: Valid ranges of a VoiceProfile's numbers: words per minute, pitch, volume.
RATE_RANGE = (80, 450)
PITCH_RANGE = (0, 100)
VOLUME_RANGE = (0.0, 1.0)
#: The same ranges by the field they bound, for checks that go through a profile's numbers.
PROFILE_RANGES = {"rate": RATE_RANGE, "pitch": PITCH_RANGE, "volume": VOLUME_RANGE}


def range_problem(value: float, bounds: tuple[float, float]) -> str | None:
    """What is wrong with ``value`` when it lies outside ``bounds`` (both ends allowed), or
    None: "500 is out of range; must be from 80 to 450". NaN is outside every range."""
    low, high = bounds
    if low <= value <= high:
        return None
    return f"{value} is out of range; must be from {low} to {high}"


@dataclass(frozen=True)
class VoiceProfile:
    """How one speaker sounds: an engine voice id plus rate (wpm), pitch (0-100), volume (0-1)."""

    voice: str
    rate: int = 175
    pitch: int = 50
    volume: float = 1.0

    @property
    def id(self) -> str:
        """A short stable identifier, shown in scripts and used in cache keys."""
        return f"{self.voice}/r{self.rate}/p{self.pitch}/v{self.volume:g}"

    @property
    def has_pitch(self) -> bool:
        """Whether the voice can be set higher or lower: Piper's neural voices
        ("piper:...") cannot."""
        return not self.voice.startswith("piper:")

    def out_of_range(self) -> str | None:
        """The first of this profile's numbers outside its range, named, or None:
        "rate: 500 is out of range; must be from 80 to 450"."""
        for field_name, bounds in PROFILE_RANGES.items():
            problem = range_problem(getattr(self, field_name), bounds)
            if problem:
                return f"{field_name}: {problem}"
        return None


@dataclass(frozen=True)
class ChapterMark:
    """A chapter (or scene) inside a file: its title and where it starts and ends, in ms."""

    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Pauses:
    """Silences in seconds, inserted by the assembler."""

    sentence: float = 0.25
    speaker: float = 0.4
    paragraph: float = 0.6
    scene: float = 1.5
    chapter: float = 2.5


@dataclass(frozen=True)
class CharacterVoice:
    """A character entry of the voices file: the profile and the other names they go by."""

    profile: VoiceProfile
    aliases: tuple[str, ...] = ()


#: (word, how to say it) pairs from the voices file, in the file's order: "Giles" -> "Jiles".
Pronunciations = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LineFix:
    """A ``lines:`` entry of the voices file: a quote, by the id ``narrate script --explain``
    shows or by its opening words, and who really says it."""

    quote: int | str
    speaker: str
    #: Where the entry is written ("voices.yaml:31"), for messages.
    where: str = ""


@dataclass(frozen=True)
class VoicesConfig:
    """The voices file: the narrator, named characters, pools for everyone else, pauses,
    and fixes to the attribution (single lines, and speakers merged into others), and how
    to say words the engine gets wrong."""

    narrator: VoiceProfile
    characters: Mapping[str, CharacterVoice] = field(default_factory=dict)
    pools: Mapping[str, tuple[VoiceProfile, ...]] = field(default_factory=dict)
    pauses: Pauses = field(default_factory=Pauses)
    source: str = "<default>"
    lines: tuple[LineFix, ...] = ()
    #: Speaker as found -> the speaker they are ("First-Dru": "The First"; "narrator").
    merge: Mapping[str, str] = field(default_factory=dict)
    pronunciations: Pronunciations = ()
    #: What the reader should know about the file as the engine speaks it (pool voices
    #: the engine does not have, left out).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cast:
    """Who sounds like what: the narrator's profile and one profile per speaker."""

    narrator: VoiceProfile
    speakers: Mapping[str, VoiceProfile] = field(default_factory=dict)

    def profile_for(self, speaker: str) -> VoiceProfile:
        if speaker == NARRATOR:
            return self.narrator
        return self.speakers.get(speaker, self.narrator)


@dataclass(frozen=True)
class Script:
    """The attributed, cast book: everything needed to synthesize it."""

    book: Book
    segments: tuple[Segment, ...]
    characters: tuple[Character, ...]
    cast: Cast
    pauses: Pauses = field(default_factory=Pauses)
    #: The first-person narrator's name, when the story is told by a named "I".
    narrator_name: str | None = None
    #: Things worth telling the user that are not errors: a fix that matched no quote.
    warnings: tuple[str, ...] = ()
    #: How to say words the engine gets wrong, in every voice (from the voices file).
    pronunciations: Pronunciations = ()

    def chapter_segments(self, number: int) -> list[Segment]:
        return [s for s in self.segments if s.chapter == number and s.spoken]
