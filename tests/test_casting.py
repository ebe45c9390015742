"""The casting policy (narrate.voices.casting): distinct voices, gender pools, the
narrator's voice kept apart, voices shared only by speakers who never meet, the biggest
parts first, and a series whose file has taken every pooled voice."""

from __future__ import annotations

from test_voices_edit import NARRATOR_ONLY, POOLS

from narrate.dialogue.characters import speaker_gender
from narrate.model import FEMALE, MALE, NARRATOR, Character, Segment, VoiceProfile, VoicesConfig
from narrate.voices.casting import MINOR_VOICES, cast_voices
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


# --- on configurations built for the test -------------------------------------------------


def _config(pools: dict[str, list[VoiceProfile]]) -> VoicesConfig:
    return VoicesConfig(
        narrator=VoiceProfile("en-us+m3", 170, 45),
        pools={gender: tuple(profiles) for gender, profiles in pools.items()},
    )


def _lines(speakers_by_scene: dict[tuple[int, int], list[str]]) -> list[Segment]:
    segments = []
    for (chapter, scene), names in speakers_by_scene.items():
        for name in names:
            segments.append(
                Segment(
                    kind="dialogue",
                    start=0,
                    end=1,
                    text="Hi.",
                    chapter=chapter,
                    scene=scene,
                    paragraph=0,
                    speaker=name,
                    quote=len(segments),
                )
            )
    return segments


def test_the_narrators_voice_is_never_a_characters():
    pool = [VoiceProfile("en-us+m3", 150, 30), VoiceProfile("en-us+m1", 175, 40)]
    cast = cast_voices(_config({"male": pool}), {"Tom": 5, "Ned": 3}, {}, ())
    assert all(p.voice != "en-us+m3" for p in cast.speakers.values())


def test_two_speakers_of_one_scene_sharing_a_voice_sound_clearly_different():
    pool = [VoiceProfile("en-us+m1", 175, 40)]
    segments = _lines({(1, 0): ["Tom", "Ned"]})
    cast = cast_voices(_config({"male": pool}), {"Tom": 5, "Ned": 4}, {}, segments)
    tom, ned = cast.speakers["Tom"], cast.speakers["Ned"]
    assert tom.voice == ned.voice
    assert abs(tom.pitch - ned.pitch) >= 12 and abs(tom.rate - ned.rate) >= 15


def test_speakers_of_different_scenes_may_share_a_voice_unchanged():
    pool = [VoiceProfile("en-us+m1", 175, 40)]
    segments = _lines({(1, 0): ["Tom"], (2, 0): ["Ned"]})
    cast = cast_voices(_config({"male": pool}), {"Tom": 5, "Ned": 4}, {}, segments)
    assert cast.speakers["Tom"] == cast.speakers["Ned"] == pool[0]


def test_voices_follow_gender_and_the_biggest_parts_come_first():
    women = [VoiceProfile(f"en-us+f{n}", 175, 50) for n in range(1, 6)]
    men = [VoiceProfile(f"en-us+m{n}", 175, 40) for n in (1, 2, 4, 5, 6)]
    characters = {
        "Ann": Character("Ann", gender=FEMALE),
        "Bea": Character("Bea", gender=FEMALE),
        "Cal": Character("Cal", gender=MALE),
    }
    cast = cast_voices(
        _config({"female": women, "male": men}), {"Bea": 3, "Ann": 9, "Cal": 5}, characters
    )
    assert cast.speakers["Ann"] == women[0] and cast.speakers["Bea"] == women[1]
    assert cast.speakers["Cal"] == men[0]
    again = cast_voices(
        _config({"female": women, "male": men}), {"Cal": 5, "Ann": 9, "Bea": 3}, characters
    )
    assert again.speakers == cast.speakers  # the same input, the same casting


def test_minor_parts_share_the_last_voices_of_the_pool():
    women = [VoiceProfile(f"en-us+f{n}", 175, 50 + n) for n in range(1, 8)]
    lines = {"Ann": 9, **{f"Extra{n}": 1 for n in range(6)}}
    characters = {name: Character(name, gender=FEMALE) for name in lines}
    segments = _lines({(n, 0): [f"Extra{n}"] for n in range(6)})
    cast = cast_voices(_config({"female": women}), lines, characters, segments)
    minor = {cast.speakers[f"Extra{n}"] for n in range(6)}
    assert minor <= set(women[-MINOR_VOICES:])
    assert cast.speakers["Ann"] == women[0]


# --- casting a series ----------------------------------------------------------------------


def test_when_the_file_has_taken_every_pooled_voice_a_new_speaker_shares_one_of_their_gender():
    """After a few books of a series every pool voice is some character's in the file; a new
    woman then shares a woman's voice, never gets the narrator's or a man's."""
    config = parse_voices(
        NARRATOR_ONLY
        + "characters:\n"
        + "  Ann: {voice: en-us+f3, rate: 175, pitch: 55}\n"
        + "  Bea: {voice: en-gb-x-rp+f2, rate: 170, pitch: 60}\n"
        + "  Cal: {voice: en-us+m1, rate: 175, pitch: 40}\n"
        + "  Dan: {voice: en-gb-x-rp+m7, rate: 165, pitch: 35}\n"
        + POOLS
    ).config
    characters = {"Eve": Character("Eve", gender=FEMALE), "Fin": Character("Fin", gender=MALE)}
    cast = cast_voices(config, {"Eve": 3, "Fin": 3}, characters)
    female = {p.voice for p in config.pools["female"]}
    male = {p.voice for p in config.pools["male"]}
    assert cast.profile_for("Eve").voice in female
    assert cast.profile_for("Fin").voice in male
    voices = {cast.profile_for("Eve").voice, cast.profile_for("Fin").voice}
    assert config.narrator.voice not in voices
