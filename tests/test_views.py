"""How a script is shown (narrate.output.views): JSON Lines with each quote's confidence
and runner-up, and the review of the quotes narrate is least sure of."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from narrate.cli import main
from narrate.output.views import doubts, records, review
from narrate.pipeline import make_script
from narrate.readers import read_book
from narrate.voices.load import default_voices_path, load_voices

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "examples" / "the-lamp-at-gull-point.txt"


def story_script():
    return make_script(read_book(STORY), load_voices(default_voices_path()).config)


def test_every_quote_has_a_confidence_and_narration_none():
    lines = list(records(story_script()))
    quotes = [line for line in lines if line["kind"] == "dialogue"]
    assert quotes and all(0.0 <= line["confidence"] <= 1.0 for line in quotes)
    assert all("confidence" not in line for line in lines if line["kind"] == "narration")
    # A quote settled by "Tom said" is surer than one the turn-taking decided.
    tagged = [line for line in quotes if line["reason"].startswith("explicit (name)")]
    decided = [line for line in quotes if line["reason"].startswith("turns")]
    assert tagged and decided
    assert min(line["confidence"] for line in tagged) > max(line["confidence"] for line in decided)
    runner_ups = [line["runner_up"] for line in decided if "runner_up" in line]
    assert runner_ups and all(
        r != line["speaker"] for r, line in zip(runner_ups, decided, strict=False)
    )


def test_the_doubts_are_the_least_sure_quotes_in_book_order():
    script = story_script()
    found = doubts(script, 4)
    assert len(found) == 4
    assert [d.quote for d in found] == sorted(d.quote for d in found)
    sure = {}
    for segment in script.segments:
        if segment.is_dialogue and segment.quote is not None:
            sure[segment.quote] = min(sure.get(segment.quote, 1.0), segment.confidence)
    cutoff = max(d.confidence for d in found)
    assert sum(1 for value in sure.values() if value < cutoff) <= 4
    assert all(d.text and d.speaker for d in found)


def test_review_from_the_command_line(tmp_path):
    result = CliRunner().invoke(main, ["script", str(STORY), "--review", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("The 3 quotes narrate is least sure of")
    heads = [line for line in lines if line.startswith("#")]
    fixes = [line.strip() for line in lines if line.strip().startswith("lines: {")]
    assert len(heads) == 3 and len(fixes) == 3
    assert all("% sure" in head and "chapter" in head for head in heads)
    # The id shown is the id lines: takes: fixing it there changes that quote's speaker.
    quote = int(heads[0].split()[0][1:])
    voices = tmp_path / "voices.yaml"
    voices.write_text(
        default_voices_path()
        .read_text(encoding="utf-8")
        .replace("characters: {}", "characters: {}\nlines:\n  %d: Somebody Else\n" % quote),
        encoding="utf-8",
    )
    fixed = CliRunner().invoke(
        main, ["script", str(STORY), "--format", "jsonl", "--voices", str(voices)]
    )
    records_ = [json.loads(line) for line in fixed.output.splitlines() if line.startswith("{")]
    assert {r["speaker"] for r in records_ if r.get("quote") == quote} == {"Somebody Else"}
    # Bare --review lists twenty, or every quote of a story with fewer.
    default = CliRunner().invoke(main, ["script", str(STORY), "--review"])
    assert default.exit_code == 0
    count = len([line for line in default.output.splitlines() if line.startswith("#")])
    assert count == min(20, len({r["quote"] for r in records_ if "quote" in r}))


def test_review_says_so_when_there_are_no_quotes(tmp_path):
    story = tmp_path / "quiet.txt"
    story.write_text("Nobody spoke. The sea was grey.\n", encoding="utf-8")
    assert list(
        review(make_script(read_book(story), load_voices(default_voices_path()).config))
    ) == ["No quotes to review."]
