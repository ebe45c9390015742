"""Tests of the voice catalogue: which ids name a voice, and what the driver is given.

Driver voices are written for the test (pyttsx3's ``Voice`` objects, as both engines hand
them over), and the variants are files in a folder made for it, so these run without
espeak-ng.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyttsx3.voice import Voice

from narrate.speech.catalogue import VoiceCatalogue, espeak_variants

ESPEAK_VOICES = [
    Voice("gmw/en-us", "English (America)", ["en-us"], "Male"),
    Voice("gmw/en", "English (Great Britain)", ["en-gb"], "Male"),
    Voice("gmw/en-gb-x-rp", "English (Received Pronunciation)", ["en-gb-x-rp"]),
    Voice("roa/fr", "French", ["fr-fr"], "Female"),
    # Two voices with one short name: shown (and accepted) by their full ids only.
    Voice("art/py", "Python One", ["x-one"]),
    Voice("sit/py", "Python Two", ["x-two"]),
]

VARIANTS = {
    "f3": "name female3\ngender female\n",
    "m3": "language variant\nname male3\ngender male 60\n",
    "Annie": "name Annie\ngender female 70\n",
    "whisper": "gender neutral\n",
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "espeak-ng-data" / "voices" / "!v"
    folder.mkdir(parents=True)
    for name, text in VARIANTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return tmp_path / "espeak-ng-data"


@pytest.fixture
def espeak(data: Path) -> VoiceCatalogue:
    return VoiceCatalogue.espeak(ESPEAK_VOICES, data)


@pytest.mark.parametrize(
    ("asked", "driver_id"),
    [
        ("en-us", "gmw/en-us"),  # the short form
        ("gmw/en-us", "gmw/en-us"),  # the full id
        ("EN-US", "gmw/en-us"),  # any case
        ("en", "gmw/en"),
        ("en-gb", "gmw/en"),  # the language code
        ("fr-fr", "roa/fr"),
        ("art/py", "art/py"),
        ("sit/py", "sit/py"),
        ("en-us+f3", "gmw/en-us+f3"),
        ("EN-GB+Annie", "gmw/en+Annie"),
    ],
)
def test_espeak_ids_in_every_accepted_form_lead_to_the_driver_id(
    espeak: VoiceCatalogue, asked: str, driver_id: str
) -> None:
    assert espeak.driver_voice(asked) == driver_id
    assert espeak.has_voice(asked)


@pytest.mark.parametrize(
    "asked", ["klingon", "py", "en-us+annie", "en-us+F3", "en-us+nowhere", "+f3", "en-us+", ""]
)
def test_espeak_refuses_what_it_would_quietly_replace(espeak: VoiceCatalogue, asked: str) -> None:
    assert espeak.driver_voice(asked) is None
    assert not espeak.has_voice(asked)


def test_espeak_voices_are_shown_in_their_short_form_unless_it_is_shared(
    espeak: VoiceCatalogue,
) -> None:
    shown = [voice.id for voice in espeak.voices() if not voice.id.startswith("+")]
    assert shown == ["en-us", "en", "en-gb-x-rp", "fr", "art/py", "sit/py"]
    english = {voice.id: voice for voice in espeak.voices("en")}
    assert english["en-us"].name == "English (America)"
    assert english["en-us"].gender == "male" and english["en-gb-x-rp"].gender is None
    assert english["en"].language == "en-gb"


def test_voices_of_a_language_then_every_variant(espeak: VoiceCatalogue) -> None:
    ids = [voice.id for voice in espeak.voices("EN-GB")]
    assert ids == ["en", "en-gb-x-rp", "+Annie", "+f3", "+m3", "+whisper"]
    assert [voice.id for voice in espeak.voices("fr")] == ["fr", "+Annie", "+f3", "+m3", "+whisper"]
    # A language is a whole code or a prefix up to a hyphen, not any prefix.
    assert [voice.id for voice in espeak.voices("en-u")] == ["+Annie", "+f3", "+m3", "+whisper"]


def test_variants_are_read_from_the_data_folder(data: Path) -> None:
    variants = espeak_variants(data)
    assert list(variants) == ["Annie", "f3", "m3", "whisper"]  # sorted, whatever the case
    assert variants["f3"].id == "+f3" and variants["f3"].name == "female3"
    assert variants["Annie"].gender == "female"
    assert variants["m3"].gender == "male"
    # No name line: the file name; a gender narrate does not use: none.
    assert (variants["whisper"].name, variants["whisper"].gender) == ("whisper", None)


def test_no_data_folder_means_no_variants(tmp_path: Path) -> None:
    assert espeak_variants(None) == {}
    assert espeak_variants(tmp_path) == {}
    catalogue = VoiceCatalogue.espeak(ESPEAK_VOICES, None)
    assert catalogue.has_voice("en-us") and not catalogue.has_voice("en-us+f3")


def test_a_platform_driver_s_voices_are_taken_exactly_as_it_names_them() -> None:
    raw = [
        Voice("com.apple.voice.compact.en-US.Samantha", "Samantha", ["en_US"], "Female"),
        Voice("HKEY_LOCAL\\TTS_MS_EN-GB_HAZEL+11", "", [b"en-GB"], "VoiceGenderFemale"),
    ]
    catalogue = VoiceCatalogue.exact(raw)
    for voice in raw:
        assert catalogue.driver_voice(voice.id) == voice.id
    assert not catalogue.has_voice("com.apple.voice.compact.en-us.samantha")
    assert not catalogue.has_voice("HKEY_LOCAL\\TTS_MS_EN-GB_HAZEL")
    samantha, hazel = catalogue.voices()
    assert (samantha.name, samantha.language, samantha.gender) == ("Samantha", "en_US", "female")
    assert (hazel.name, hazel.language, hazel.gender) == (raw[1].id, "en-GB", None)
    assert catalogue.voices("en-gb") == [hazel]  # no variants
    # A language is matched up to a hyphen, so macOS's "en_US" is not among "en" voices.
    assert catalogue.voices("en") == [hazel]
