"""The real fanfiction sample in ../shared (not part of the repository): skipped without it.

It has the front matter users bring (Summary, A/N, spoiler warning, Disclaimer), a dream
where one being speaks in several forms, a question-and-answer scene between one
character and a group, interrupted quotes, and "The End".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3

import narrate
from narrate.cli import main
from narrate.voices.load import load_voices

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "samples" / "000_47032963a5db7fc4.txt"

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="../shared sample not present")

# Who speaks each quotation, in order, as a reader of the story would say (names only;
# "|" separates readings that are both defensible).
EXPECTED = (
    "Spike, The First, The First, Spike, The First, Buffy, The First, "
    + "girls, Spike, " * 8
    + "Buffy, Spike, girls, Willow, Spike, Spike, Willow, Dawn, Spike, Dawn, Willow, "
    "Buffy|Spike, Spike, Buffy, Spike, Buffy, Spike, Spike, Buffy, Spike"
).split(", ")


@pytest.fixture(scope="module")
def records():
    result = CliRunner().invoke(main, ["script", "--format", "jsonl", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def quotes(records):
    first_parts = {}
    for record in records:
        if record["kind"] == "dialogue":
            first_parts.setdefault(record["quote"], record)
    return list(first_parts.values())


def test_script_names_the_right_speaker_for_most_quotes(records):
    found = quotes(records)
    assert len(found) == len(EXPECTED)
    right = sum(
        any(name.lower() in record["speaker"].lower() for name in expected.split("|"))
        for record, expected in zip(found, EXPECTED, strict=True)
    )
    # The bar a new user holds narrate to: at most two quotes in the wrong voice.
    assert right >= len(EXPECTED) - 2, f"{right}/{len(EXPECTED)}"


def test_front_matter_is_listed_but_not_read(records):
    unspoken = [r for r in records if r.get("spoken") is False]
    texts = " ".join(r["text"] for r in unspoken)
    for label in ("Summary:", "A/N:", "SPOILERS", "Disclaimer:"):
        assert label in texts
    assert not any(r["kind"] == "dialogue" for r in unspoken)


@pytest.mark.slow
def test_render_gives_one_tagged_chapter_with_distinct_voices(tmp_path):
    result = narrate.render(SAMPLE, out=tmp_path)
    assert len(result.tracks) == 1
    track = result.tracks[0]
    tags = ID3(track.path)
    assert tags.version == (2, 3, 0)
    assert str(tags["TRCK"]) == "1/1"
    assert str(tags.getall("COMM")[0].text[0]).startswith("Continued on sometime")
    cast = result.script.cast
    voices = {name: cast.profile_for(name) for name in ("Spike", "Buffy", "Willow", "Dawn")}
    assert len(set(voices.values())) == 4
    assert all(p.voice != cast.narrator.voice for p in voices.values())
    spoken = " ".join(t.spoken for t in track.timeline)
    assert "Disclaimer" not in spoken and "A/N" not in spoken
    assert spoken.rstrip().endswith("The End.") or spoken.rstrip().endswith("The End")


def test_cast_gives_each_speaker_of_the_sample_their_own_voice(tmp_path):
    """Spike, Buffy, Willow, Dawn, the First and the group of girls: six voices, the women
    female ones, none the narrator's."""
    voices = tmp_path / "voices.yaml"
    result = CliRunner().invoke(main, ["cast", str(SAMPLE), "--voices", str(voices)])
    assert result.exit_code == 0, result.output
    config = load_voices(voices).config
    names = {name.lower(): entry.profile for name, entry in config.characters.items()}
    wanted = ["spike", "buffy", "willow", "dawn", "the first", "the girls"]
    assert set(wanted) <= set(names)
    profiles = [names[name] for name in wanted]
    assert len({p.id for p in profiles}) == len(wanted)
    assert all(p.voice != config.narrator.voice for p in profiles)
    female = {p.voice for p in config.pools["female"]}
    assert {names[n].voice for n in ("buffy", "willow", "dawn", "the girls")} <= female
