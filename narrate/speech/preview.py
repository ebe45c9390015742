"""Auditions: which voice a character's name means, and what they say to be heard.

Pure. ``narrate preview`` lets someone casting a book hear one voice before rendering it;
this module decides whose voice that is and which words it reads, so that the preview
sounds exactly as the character will in a render:

- a name is looked up, case-insensitively, among the speakers narrate found in the book
  (their profile is the automatic cast's), then the voices file's characters, then the
  book's aliases; "narrator" is the narrator;
- the words are the character's first quotes in the book, until about
  :data:`AUDITION_SECONDS` of speech, else a greeting that names them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from narrate.errors import ConfigError
from narrate.model import NARRATION, NARRATOR, Cast, Script, VoiceProfile, VoicesConfig
from narrate.speech.text import sentences, speakable
from narrate.voices.casting import configured_name

#: Roughly how long a preview drawn from the book speaks, in seconds: long enough to hear
#: a voice over several sentences, short enough to compare a few voices quickly.
AUDITION_SECONDS = 20.0
#: How many names an "unknown character" message lists before it says "and N more".
MAX_LISTED_NAMES = 12

_WORD = re.compile(r"[\w']+")


def find_voice(
    character: str, config: VoicesConfig, script: Script | None = None
) -> tuple[str, VoiceProfile]:
    """The name and profile ``character`` stands for; ConfigError listing the known names.

    With a script, the book's speakers come first and get the automatic cast's profile, so
    the preview uses the profile a render of that book would use.
    """
    wanted = " ".join(character.split()).lower()
    if wanted == NARRATOR:
        return NARRATOR, config.narrator
    speakers = script.characters if script is not None else ()
    cast = script.cast if script is not None else Cast(config.narrator)
    for speaker in speakers:
        if speaker.name.lower() == wanted:
            return speaker.name, cast.profile_for(speaker.name)
    # Names and aliases of the voices file (a speaker's own name wins over an alias).
    name = configured_name(config, wanted)
    if name is not None:
        return name, config.characters[name].profile
    for speaker in speakers:
        if wanted in (alias.lower() for alias in speaker.aliases):
            return speaker.name, cast.profile_for(speaker.name)
    raise ConfigError(_unknown_message(character, config, script))


def _unknown_message(character: str, config: VoicesConfig, script: Script | None) -> str:
    """One line: the name not found and the ones that would be, biggest parts first."""
    names = [NARRATOR]
    if script is not None:
        names += [speaker.name for speaker in script.characters]
    names += [name for name in config.characters if name not in names]
    listed = ", ".join(names[:MAX_LISTED_NAMES])
    if len(names) > MAX_LISTED_NAMES:
        listed += f" and {len(names) - MAX_LISTED_NAMES} more"
    hint = " (give the book as INPUT to choose among its speakers)" if script is None else ""
    return f"unknown character {character!r}; known: {listed}{hint}"


def first_quotes(
    script: Script, speaker: str, rate: int, seconds: float = AUDITION_SECONDS
) -> list[list[str]]:
    """The speaker's first quotes in the book, about ``seconds`` long at ``rate`` wpm.

    Each quote is a list of its parts (an interrupted quote has several), as speakable
    text. Quotes are taken whole and in order until the estimate reaches ``seconds``; the
    quote that reaches it is cut after that sentence, so one long speech does not make a
    preview of minutes. The narrator's quotes are the book's first narration, a paragraph
    at a time. Empty when the speaker says nothing in the book.
    """
    quotes: list[list[str]] = []
    spoken = 0.0
    for parts in _quotes_of(script, speaker):
        taken: list[str] = []
        for part in parts:
            said = []
            for sentence in sentences(speakable(part)):
                said.append(sentence)
                spoken += speech_seconds(sentence, rate)
                if spoken >= seconds:
                    break
            if said:
                taken.append(" ".join(said))
            if spoken >= seconds:
                break
        if taken:
            quotes.append(taken)
        if spoken >= seconds:
            break
    return quotes


def _quotes_of(script: Script, speaker: str) -> Iterator[list[str]]:
    """The parts of each of the speaker's quotes in book order; for the narrator, the
    narration of each paragraph."""
    quotes: dict[tuple, list[str]] = {}
    for segment in script.segments:
        if not segment.spoken or segment.heading:
            continue
        if speaker == NARRATOR and segment.kind == NARRATION:
            key: tuple = (segment.chapter, segment.paragraph)
        elif segment.is_dialogue and segment.speaker == speaker:
            key = (segment.quote,)
        else:
            continue
        quotes.setdefault(key, []).append(segment.text)
    # A dict keeps insertion order: the quotes come in the order the book says them.
    yield from quotes.values()


def speech_seconds(text: str, rate: int) -> float:
    """How long ``text`` takes at ``rate`` words per minute (pauses not counted)."""
    return len(_WORD.findall(text)) * 60.0 / rate


def greeting(name: str) -> str:
    """What a character says when there is no book and no text: a line naming them."""
    who = "the narrator" if name == NARRATOR else name
    return f"Hello, I am {who}. This is how I sound."
