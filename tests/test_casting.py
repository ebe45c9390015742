"""Casting policy: distinct voices, gender pools, the narrator's voice kept apart."""

from __future__ import annotations

from narrate.dialogue.characters import speaker_gender
from narrate.model import FEMALE, MALE, NARRATOR, Character, Segment, VoiceProfile
from narrate.voices.casting import cast_voices
from narrate.voices.load import parse_voices

VOICES = """
narrator: {voice: en-us+m3, rate: 170}
characters:
  Spike: {voice: en-gb-x-rp+m7, rate: 165, pitch: 35, aliases: [William]}
pools:
  female:
    - {voice: en-us+f3}
    - {voice: en-us+f2}
    - {voice: en-us+m3}
  male:
    - {voice: en-us+m1}
    - {voice: en-us+m2}
  neutral:
    - {voice: en-us+klatt2}
"""


def config():
    return parse_voices(VOICES).config


def characters(**genders):
    return {name: Character(name, gender=gender) for name, gender in genders.items()}


def dialogue(speaker: str, chapter: int) -> Segment:
    return Segment("dialogue", 0, 1, "x", chapter, 0, 0, speaker=speaker, quote=chapter)


def test_voices_file_character_gets_exactly_its_profile_by_name_or_alias():
    cast = cast_voices(config(), {"William": 5}, characters(William=MALE))
    assert cast.profile_for("William") == VoiceProfile("en-gb-x-rp+m7", 165, 35, 1.0)


def test_speakers_get_distinct_gender_matched_voices():
    lines = {"Ann": 10, "Bea": 8, "Carl": 6, "Dan": 4}
    who = characters(Ann=FEMALE, Bea=FEMALE, Carl=MALE, Dan=MALE)
    cast = cast_voices(config(), lines, who)
    voices = {name: cast.profile_for(name).voice for name in lines}
    assert len(set(voices.values())) == 4
    assert voices["Ann"].endswith(("+f3", "+f2"))
    assert voices["Bea"].endswith(("+f3", "+f2"))
    assert voices["Carl"].endswith(("+m1", "+m2"))


def test_no_pooled_speaker_sounds_like_the_narrator():
    lines = {f"Woman{n}": 10 - n for n in range(5)}
    who = {name: Character(name, gender=FEMALE) for name in lines}
    cast = cast_voices(config(), lines, who)
    assert all(cast.profile_for(name).voice != "en-us+m3" for name in lines)


def test_biggest_parts_get_the_first_voices_and_casting_is_stable():
    lines = {"Minor": 1, "Major": 50}
    who = characters(Minor=FEMALE, Major=FEMALE)
    first = cast_voices(config(), lines, who)
    second = cast_voices(config(), dict(reversed(list(lines.items()))), who)
    assert first.profile_for("Major").voice == "en-us+f3"
    assert first.speakers == second.speakers


def test_when_a_pool_runs_out_speakers_of_different_chapters_share():
    lines = {"Ann": 10, "Bea": 9, "Cat": 8}
    who = characters(Ann=FEMALE, Bea=FEMALE, Cat=FEMALE)
    segments = [dialogue("Ann", 1), dialogue("Bea", 1), dialogue("Cat", 2)]
    cast = cast_voices(config(), lines, who, segments)
    # Two female voices for three women: Cat (chapter 2 only) shares with someone absent
    # from chapter 2, never making Ann and Bea (together in chapter 1) sound alike.
    assert cast.profile_for("Ann") != cast.profile_for("Bea")
    assert cast.profile_for("Cat") in (cast.profile_for("Ann"), cast.profile_for("Bea"))


def test_first_person_narrator_keeps_the_narrators_voice():
    cast = cast_voices(config(), {NARRATOR: 3, "Ann": 2}, characters(Ann=FEMALE))
    assert cast.profile_for(NARRATOR) == config().narrator


def test_unknown_gender_uses_the_neutral_pool():
    cast = cast_voices(config(), {"Quill": 3}, characters(Quill=None))
    assert cast.profile_for("Quill").voice == "en-us+klatt2"


def test_group_and_description_gender_come_from_the_noun():
    assert speaker_gender("the girls", None) == FEMALE
    assert speaker_gender("the fishermen", None) == MALE
    assert speaker_gender("the old woman", None) == FEMALE
    assert speaker_gender("the crowd", None) is None
