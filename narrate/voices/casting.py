"""Casting: give the narrator and every speaker a voice profile.

Pure. The policy:

- characters named in the voices file get exactly their profile (matched by name or alias);
- everyone else gets a profile from the pool of their gender (unknown: the neutral pool),
  the biggest parts first, so the biggest parts get the first, most distinct voices;
- speakers with a line or two share the last few voices of their pool ("minor" voices),
  keeping the rest for bigger parts;
- a profile is shared only when that runs out, and then with the speaker it overlaps
  least (fewest scenes in common); a speaker who must share with someone of the same
  scene gets the voice at a clearly different pitch and rate;
- no pooled voice sounds like the narrator (same engine voice);
- a first-person narrator's own quotes keep the narrator's voice;
- the same input always gives the same casting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace

from narrate.dialogue.characters import speaker_gender
from narrate.model import (
    FEMALE,
    MALE,
    NARRATOR,
    NEUTRAL,
    PITCH_RANGE,
    RATE_RANGE,
    Cast,
    Character,
    Segment,
    VoiceProfile,
    VoicesConfig,
)


def configured_name(config: VoicesConfig, speaker: str, aliases: Iterable[str] = ()) -> str | None:
    """The voices-file character a speaker is, by name or alias (case-insensitive)."""
    # A character's own name wins over another character's alias.
    for name in config.characters:
        if name.lower() == speaker.lower():
            return name
    wanted = {speaker.lower(), *(a.lower() for a in aliases)}
    for name, entry in config.characters.items():
        names = {name.lower(), *(a.lower() for a in entry.aliases)}
        if wanted & names:
            return name
    return None


def cast_voices(
    config: VoicesConfig,
    lines: Mapping[str, int],
    characters: Mapping[str, Character],
    segments: Iterable[Segment] = (),
    narrator: str | None = None,
) -> Cast:
    """A profile for each speaker in ``lines`` (speaker name -> number of quotes).

    ``narrator`` names a first-person narrator: their lines keep the narrator's voice.
    """
    scenes: dict[str, set[tuple[int, int]]] = {}
    for segment in segments:
        if segment.is_dialogue:
            scenes.setdefault(segment.speaker, set()).add((segment.chapter, segment.scene))
    reserved = {entry.profile.id for entry in config.characters.values()}
    assigned: dict[str, VoiceProfile] = {}
    users: dict[str, list[str]] = {}
    order = sorted(lines, key=lambda name: (-lines[name], name))
    configured = _configured(config, order, characters, narrator)
    # A file character's voice is theirs; it is shared only when every pooled voice is some
    # file character's, and then the speakers already using it must be known.
    for speaker, name in configured.items():
        users.setdefault(config.characters[name].profile.id, []).append(speaker)
    for speaker in order:
        if speaker in (NARRATOR, narrator):
            assigned[speaker] = config.narrator
            continue
        character = characters.get(speaker)
        name = configured.get(speaker)
        if name is not None:
            assigned[speaker] = config.characters[name].profile
            continue
        pool = _pool(config, speaker_gender(speaker, character), reserved)
        if not pool:
            assigned[speaker] = config.narrator
            continue
        if lines[speaker] <= MINOR_LINES and len(pool) > MINOR_VOICES:
            pool = pool[-MINOR_VOICES:]
        profile = _least_shared(pool, users, scenes, speaker)
        users.setdefault(profile.id, []).append(speaker)
        if any(
            scenes.get(speaker, set()) & scenes.get(other, set())
            for other in users[profile.id][:-1]
        ):
            profile = _set_apart(profile, len(users[profile.id]) - 1)
        assigned[speaker] = profile
    return Cast(narrator=config.narrator, speakers=assigned)


#: Speakers with this many lines or fewer share the pool's last MINOR_VOICES voices.
MINOR_LINES = 2
MINOR_VOICES = 3
#: How far a shared voice is moved for each other speaker of the same scene using it.
PITCH_STEP = 14
RATE_STEP = 20


def _set_apart(profile: VoiceProfile, nth: int) -> VoiceProfile:
    """The same engine voice, higher or lower and faster or slower by a clear step: the
    ``nth`` speaker sharing it in one scene (1: a step up, 2: a step down, 3: two up…)."""
    steps = (nth + 1) // 2 * (1 if nth % 2 else -1)
    pitch = min(PITCH_RANGE[1], max(PITCH_RANGE[0], profile.pitch + steps * PITCH_STEP))
    if pitch == profile.pitch:
        pitch = profile.pitch - steps * PITCH_STEP
    if not profile.has_pitch:
        pitch = profile.pitch  # a neural voice is set apart by its rate alone
    rate = min(RATE_RANGE[1], max(RATE_RANGE[0], profile.rate + steps * RATE_STEP))
    return replace(profile, pitch=pitch, rate=rate)


def _configured(
    config: VoicesConfig,
    speakers: Iterable[str],
    characters: Mapping[str, Character],
    narrator: str | None,
) -> dict[str, str]:
    """Speaker -> the voices-file character they are, for the speakers the file names."""
    configured = {}
    for speaker in speakers:
        if speaker in (NARRATOR, narrator):
            continue
        character = characters.get(speaker)
        name = configured_name(config, speaker, character.aliases if character else ())
        if name is not None:
            configured[speaker] = name
    return configured


def _pool(config: VoicesConfig, gender: str | None, reserved: set[str]) -> list[VoiceProfile]:
    """Profiles for a gender, never with the narrator's voice.

    Profiles the file gives no character come first: the gender's, else neutral ones. When
    the file gives every one of those to a character (a series cast book after book fills
    it), the same profiles are shared, so a new woman shares a woman's voice instead of
    taking a man's or the narrator's. The other gender's come last.
    """
    order = {
        FEMALE: (FEMALE, NEUTRAL, MALE),
        MALE: (MALE, NEUTRAL, FEMALE),
    }.get(gender or NEUTRAL, (NEUTRAL, FEMALE, MALE))
    for keys in (order[:2], order[2:]):
        for shared in (False, True):
            for key in keys:
                profiles = [
                    p
                    for p in config.pools.get(key, ())
                    if p.voice != config.narrator.voice and (shared or p.id not in reserved)
                ]
                if profiles:
                    return profiles
    return []


def _least_shared(
    pool: list[VoiceProfile],
    users: dict[str, list[str]],
    scenes: dict[str, set[tuple[int, int]]],
    speaker: str,
) -> VoiceProfile:
    """The first free profile; when none is free, the one whose speakers share the fewest
    scenes with this speaker."""
    mine = scenes.get(speaker, set())

    def cost(item: tuple[int, VoiceProfile]) -> tuple[int, int, int]:
        position, profile = item
        others = users.get(profile.id, [])
        overlap = sum(len(mine & scenes.get(other, set())) for other in others)
        return (overlap, len(others), position)

    return min(enumerate(pool), key=cost)[1]


def count_lines(segments: Iterable[Segment]) -> Counter:
    """Quotes per speaker (a quote split in parts counts once)."""
    seen: set[int] = set()
    counts: Counter = Counter()
    for segment in segments:
        if segment.is_dialogue and segment.quote not in seen:
            seen.add(segment.quote)  # type: ignore[arg-type]
            counts[segment.speaker] += 1
    return counts


def named_as_in_file(
    segments: Iterable[Segment], config: VoicesConfig, characters: Mapping[str, Character]
) -> list[Segment]:
    """The segments with each speaker the voices file lists under another name or alias
    given that name."""
    renamed: dict[str, str | None] = {}
    result = []
    for segment in segments:
        if not segment.is_dialogue or segment.speaker == NARRATOR:
            result.append(segment)
            continue
        if segment.speaker not in renamed:
            character = characters.get(segment.speaker)
            aliases = character.aliases if character else ()
            renamed[segment.speaker] = configured_name(config, segment.speaker, aliases)
        name = renamed[segment.speaker]
        result.append(replace(segment, speaker=name) if name else segment)
    return result
