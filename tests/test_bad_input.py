"""Whatever a user feeds narrate: a clear one-line error and a non-zero exit, or a
sensible script; never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import narrate
from narrate.cli import main

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x00\x00/lib64/ld-linux-x86-64.so.2\x00"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(20)

REFUSED = {
    "empty": (b"", "the file is empty"),
    "whitespace": (b"  \n\n\t \r\n", "the file is empty"),
    "png": (PNG, "not a text file"),
    "executable": (ELF, "not a text file"),
    "zip": (ZIP, "not a text file"),
    "only a heading": (b"Chapter 1\n", "nothing to read"),
}

READ = {
    "invalid utf-8": b"Caf\xe9 au lait, said Ann. \xff\xfe\n",
    "unclosed quote": b'"It goes on and on, she said\n\nThe end.\n',
    "all dialogue": b'"Yes."\n\n"No."\n\n"Maybe."\n',
    "all narration": b"The sea was grey.\n\nThe wind rose.\n",
    "emoji and right to left": (
        "\u201c\U0001f600 \u05e9\u05dc\u05d5\u05dd!\u201d said Ann. "
        "\u0645\u0631\u062d\u0628\u0627\n"
    ).encode(),
    "looks like markup": b"\"<speak> &amp; [[pause]] <break time='3s'/>,\" said Ann.\n",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_input_with_nothing_to_read_is_one_clear_line(tmp_path, name):
    data, message = REFUSED[name]
    story = tmp_path / "story.txt"
    story.write_bytes(data)
    result = CliRunner().invoke(main, ["script", str(story)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(READ))
def test_odd_input_reads_into_a_sensible_script(tmp_path, name):
    story = tmp_path / "story.txt"
    story.write_bytes(READ[name])
    result = CliRunner().invoke(main, ["script", str(story), "--format", "jsonl", "--spoken"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert lines and all(line["text"] for line in lines)
    if name == "looks like markup":
        # Said as written: the engine is given the text, never SSML made from it.
        assert any("<speak>" in line["text"] and "[[pause]]" in line["text"] for line in lines)


def test_missing_files_and_folders_are_one_clear_line(tmp_path):
    # A folder is a shelf of books (see test_library.py); one without any says so.
    for path, message in ((tmp_path / "nowhere.txt", "no such file"), (tmp_path, "no books in")):
        result = CliRunner().invoke(main, ["script", str(path)])
        assert result.exit_code == 2
        assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "title",
    ["a/b\\c", "..", 'Who: *what*? "why" <how> |', "nul\x00here", "x" * 300, "CON", "  . . ."],
)
def test_titles_never_lead_outside_the_output_folder(tmp_path, title):
    from narrate.speech.engine import get_engine

    story = tmp_path / "story.txt"
    story.write_text('"Hello," said Ann.\n', encoding="utf-8")
    out = tmp_path / "out"
    result = narrate.render(
        story,
        out=out,
        title=title,
        author=title,
        engine=get_engine("tone_engine:ToneEngine"),
        use_cache=False,
        extras=False,
    )
    assert out.resolve() in result.folder.resolve().parents
    for path in out.rglob("*"):
        assert out.resolve() in path.resolve().parents
        assert len(path.name.encode()) <= 255
        assert "\x00" not in path.name and path.name.upper() != "CON"
    assert len(result.tracks) == 1 and result.tracks[0].path.stat().st_size > 0


@pytest.mark.slow
def test_ten_thousand_chapters_read_and_name_their_files(tmp_path):
    from narrate.output.layout import TRACK_PATTERN, track_name

    story = tmp_path / "many.txt"
    story.write_text(
        "Title: Many\nAuthor: A\n\n"
        + "".join(f'Chapter {n}\n\n"Line {n}?" asked Ann.\n\n' for n in range(1, 10001)),
        encoding="utf-8",
    )
    script = narrate.script(story)
    assert [c.number for c in script.book.chapters] == list(range(1, 10001))
    assert script.book.chapters[-1].title == "Chapter 10000"
    assert sum(1 for s in script.segments if s.is_dialogue) == 10000
    names = [track_name(n, 10000, f"Chapter {n}") for n in (1, 10000)]
    assert names == ["00001 - Chapter 1.mp3", "10000 - Chapter 10000.mp3"]
    assert all(TRACK_PATTERN.match(name) for name in names)


@pytest.mark.slow
def test_a_fifty_megabyte_line_reads_into_a_sensible_script(tmp_path):
    """50 MB without a line break: one paragraph, read in well under a minute, its speech
    to be made in pieces of bounded size."""
    from narrate.speech.assemble import PART_CHARACTERS, parts
    from narrate.speech.text import spoken_text

    words = "the sea was grey and cold and the wind rose over the long dark water".split()
    line = " ".join(words[i % len(words)] for i in range(12_000_000))[:50_000_000]
    story = tmp_path / "line.txt"
    story.write_text(line, encoding="utf-8")
    script = narrate.script(story)
    (segment,) = [s for s in script.segments if s.spoken]
    assert segment.end - segment.start == len(line.strip())
    first = parts(spoken_text(segment, "", ())[:20_000])
    assert all(len(piece) <= PART_CHARACTERS for piece in first)
