"""The pipeline, stage by stage: read (``readers``) → who speaks (``dialogue``) → cast
(``voices``) → speak (``speech``) → files (``output``).

:func:`script` stops before the speech (what ``narrate script`` prints); :func:`render`
goes all the way to tagged MP3 files; :func:`cast` writes the voices file; :func:`preview`
speaks a few lines in one character's voice, cast as a render would cast it. The command
line is a thin shell over them.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

from narrate.dialogue.attribution import attribute
from narrate.dialogue.characters import find_characters, speaking_characters
from narrate.dialogue.overrides import apply_fixes
from narrate.dialogue.quotes import segment_book
from narrate.errors import ConfigError, NarrateError
from narrate.model import (
    DIALOGUE,
    NARRATION,
    NARRATOR,
    Book,
    Cast,
    Chapter,
    Script,
    Segment,
    VoiceProfile,
    VoicesConfig,
)
from narrate.output.bookshelf import write_bookshelf
from narrate.output.chapter_files import Track, make_chapters, plan_chapters
from narrate.output.cover import book_cover
from narrate.output.editions import chapters_folder, chosen_edition, remove_leftovers, write_edition
from narrate.output.layout import DEFAULT_OUT, book_folder, make_folder, safe_name
from narrate.output.lock import book_lock
from narrate.output.publish import write_extras
from narrate.output.tags import book_tags, read_cover
from narrate.progress import Progress
from narrate.readers import read_book
from narrate.speech.assemble import ChapterAudio, Encoding, Performance, assemble_chapter
from narrate.speech.cache import open_cache
from narrate.speech.engine import Engine, fit_voices, get_engine, is_speakable
from narrate.speech.mp3 import DEFAULT_BITRATE, check_bitrate
from narrate.speech.preview import find_voice, first_quotes, greeting
from narrate.speech.workers import Workers, default_jobs, load_executor, workers_for
from narrate.voices.casting import cast_voices, configured_name, count_lines, named_as_in_file
from narrate.voices.edit import NewCharacter, add_characters, check_writable, write_voices_file
from narrate.voices.language import in_language
from narrate.voices.load import DEFAULT_NAME as DEFAULT_VOICES_NAME
from narrate.voices.load import (
    default_voices_path,
    find_voices_file,
    load_voices,
    parse_voices,
)

__all__ = ["RenderResult", "Track", "cast", "preview", "render", "script"]


@dataclass(frozen=True)
class RenderResult:
    """What ``render`` wrote."""

    script: Script
    folder: Path
    tracks: tuple[Track, ...]
    #: Sentences synthesized, and sentences whose speech came from the cache.
    synthesized: int = 0
    reused: int = 0
    #: Chapter files already up to date, left as they were.
    kept: tuple[Path, ...] = ()
    #: The files to listen to: the chapter files, or the single file.
    files: tuple[Track, ...] = ()

    @property
    def duration(self) -> float:
        return sum(t.duration for t in self.tracks)


@dataclass(frozen=True)
class Preview:
    """What ``preview`` wrote: whose voice, in which profile, saying what."""

    path: Path
    #: The character as narrate names them ("narrator" for the narrator).
    character: str
    profile: VoiceProfile
    #: What was said, in order: a quote's parts, then the next quote's…
    lines: tuple[str, ...]
    duration: float


#: Silence after a preview's last word, in seconds (a chapter's end pause is for books).
PREVIEW_TAIL_SECONDS = 0.5


def make_script(book: Book, config: VoicesConfig) -> Script:
    """The attributed, cast script of a book (pure: no engine, no files)."""
    segments = segment_book(book)
    narration = [
        (s.start, s.text) for s in segments if s.kind == NARRATION and s.spoken and not s.heading
    ]
    dialogue = [s.text for s in segments if s.is_dialogue]
    index = find_characters(narration, book.source, dialogue)
    attribution = attribute(segments, index)
    segments, warnings = apply_fixes(attribution.segments, config, attribution.narrator)
    segments = named_as_in_file(segments, config, index.characters)
    lines = count_lines(segments)
    characters = speaking_characters(lines, index.characters)
    cast = cast_voices(
        config, lines, {c.name: c for c in characters}, segments, narrator=attribution.narrator
    )
    return Script(
        book,
        tuple(segments),
        tuple(characters),
        cast,
        config.pauses,
        narrator_name=attribution.narrator,
        warnings=(*book.warnings, *config.warnings, *warnings),
        pronunciations=config.pronunciations,
    )


def load_config(voices: str | Path | None, engine: Engine | None = None) -> VoicesConfig:
    """Find, read and check the voices file, and fit it to the engine (see
    :func:`narrate.speech.engine.fit_voices`)."""
    return fit_voices(load_voices(find_voices_file(voices)), engine or get_engine())


def script(
    path: str | Path,
    *,
    voices: str | Path | None = None,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
    engine: Engine | None = None,
    language: str | None = None,
) -> Script:
    """Read a story and attribute and cast it, without synthesizing anything; in
    ``language`` when given (else the book's own), its voices in that language."""
    engine = engine or get_engine()
    config = load_config(voices, engine)
    return _read_script(path, config, engine, title, author, keep_notes, language)


def _read_script(
    path: str | Path,
    config: VoicesConfig,
    engine: Engine,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
    language: str | None = None,
) -> Script:
    """Read a book and make its script, its voices in the book's language: what render,
    script, cast and preview all start from."""
    book = read_book(path, title=title, author=author, keep_notes=keep_notes)
    book, config = in_language(book, config, engine, language)
    return make_script(book, config)


@dataclass(frozen=True)
class CastRow:
    """One speaker of a cast: what ``narrate cast`` prints."""

    name: str
    aliases: tuple[str, ...]
    gender: str | None
    lines: int
    chapters: tuple[int, ...]
    voice: str
    #: True when this run added the character to the voices file.
    added: bool


@dataclass(frozen=True)
class CastResult:
    """What ``cast`` did: the voices file written, and every speaker with their voice."""

    path: Path
    script: Script
    rows: tuple[CastRow, ...]

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(row.name for row in self.rows if row.added)


def cast(
    path: str | Path,
    *,
    voices: str | Path | None = None,
    title: str | None = None,
    author: str | None = None,
    keep_notes: bool = False,
    engine: Engine | None = None,
    language: str | None = None,
) -> CastResult:
    """Find a story's speakers, give each a voice, and write them into the voices file
    (``voices``, default ``./voices.yaml``, started from the built-in one). Run again, it
    adds only characters the file does not have yet and leaves everything else as written."""
    target = Path(voices) if voices is not None else Path.cwd() / DEFAULT_VOICES_NAME
    check_writable(target)
    source = target if target.is_file() else default_voices_path()
    try:
        # Bytes, not text mode: a file with CRLF line endings must keep them.
        text = source.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{source}: cannot read the voices file: {error}") from None
    loaded = parse_voices(text, str(target))
    engine = engine or get_engine()
    config = fit_voices(loaded, engine)
    result = _read_script(path, config, engine, title, author, keep_notes, language)
    chapters: dict[str, set[int]] = {}
    for segment in result.segments:
        if segment.is_dialogue:
            chapters.setdefault(segment.speaker, set()).add(segment.chapter)
    rows, new = [], []
    for character in result.characters:
        if character.name in (NARRATOR, result.narrator_name):
            continue
        profile = result.cast.profile_for(character.name)
        known = configured_name(loaded.config, character.name, character.aliases)
        spoken = tuple(sorted(chapters.get(character.name, ())))
        rows.append(
            CastRow(
                character.name,
                character.aliases,
                character.gender,
                character.lines,
                spoken,
                profile.id,
                known is None,
            )
        )
        if known is None:
            note = (
                f"{character.gender or 'gender unknown'}, {character.lines} line"
                + "s" * (character.lines != 1)
                + f", chapter{'s' * (len(spoken) != 1)} {chapter_ranges(spoken)}"
            )
            new.append(NewCharacter(character.name, character.aliases, profile, note))
    if new or not target.is_file():
        write_voices_file(target, add_characters(text, new, str(target)))
    return CastResult(target, result, tuple(rows))


def chapter_ranges(chapters: tuple[int, ...]) -> str:
    """ "1-3, 5": chapter numbers, runs joined."""
    runs: list[list[int]] = []
    for number in chapters:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def render(
    path: str | Path,
    *,
    voices: str | Path | None = None,
    out: str | Path = DEFAULT_OUT,
    title: str | None = None,
    author: str | None = None,
    cover: str | Path | None = None,
    bitrate: int = DEFAULT_BITRATE,
    keep_notes: bool = False,
    series: str | None = None,
    series_part: str | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    executor: str | Executor | None = None,
    base_url: str | None = None,
    edition: str | None = None,
    single_file: bool = False,
    audio_format: str = "mp3",
    extras: bool = True,
    language: str | None = None,
) -> RenderResult:
    """Render a story into ``OUT/<Author>/<Title>/NN - <Chapter>.mp3``, one per chapter.

    Args:
        path: the story (text, Markdown, HTML, EPUB), or "-" for standard input.
        voices: the voices file (default ``./voices.yaml``, else the built-in one).
        out: the output folder.
        title, author, series, series_part: override what the book says.
        cover: a JPEG or PNG (default: the book's own, else one drawn).
        bitrate: MP3 bitrate in kbit/s, constant, mono.
        keep_notes: also read the author's notes and the summary.
        engine: the speech engine (default: ``get_engine()``).
        progress: called with each :mod:`narrate.progress` event.
        cache_dir, use_cache: where speech is cached, or not at all.
        jobs, executor: worker processes that make the missing speech (default one per
            core), or an executor (or "module:factory" giving one) instead.
        base_url: where the book's folder will be served, for the feed's links.
        edition: "chapters" (default), "single" (one MP3 with chapter marks) or "m4b";
            ``single_file=True`` and ``audio_format="m4b"`` say the same.
        extras: also write the feed, playlist, read-along page and cover file.
        language: the book's language (default: what it says, else English).

    Every file is written under a temporary name and renamed into place when whole; a
    chapter file already made from the same speech, tags and encoding is kept as it is.
    From a script, call this under ``if __name__ == "__main__":`` (workers are spawned).
    """
    edition = chosen_edition(edition, single_file, audio_format)
    engine = engine or get_engine()
    check_bitrate(bitrate, engine.sample_rate)
    given_cover = read_cover(cover) if cover is not None else None
    book_script = script(
        path,
        voices=voices,
        title=title,
        author=author,
        keep_notes=keep_notes,
        engine=engine,
        language=language,
    )
    return render_script(
        book_script,
        out=out,
        cover=given_cover,
        bitrate=bitrate,
        series=series,
        series_part=series_part,
        engine=engine,
        progress=progress,
        cache_dir=cache_dir,
        use_cache=use_cache,
        jobs=jobs,
        executor=executor,
        base_url=base_url,
        edition=edition,
        extras=extras,
    )


def render_script(
    book_script: Script,
    *,
    out: str | Path = DEFAULT_OUT,
    cover: tuple[bytes, str] | None = None,
    bitrate: int = DEFAULT_BITRATE,
    series: str | None = None,
    series_part: str | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    executor: str | Executor | None = None,
    base_url: str | None = None,
    edition: str = "chapters",
    extras: bool = True,
) -> RenderResult:
    """Render a book already made into a script (see :func:`script`): what ``render``
    does after reading. ``cover`` is a cover image as ``read_cover`` gives it (default: the
    book's own, else one drawn)."""
    cache = open_cache(cache_dir, use_cache)
    engine, workers = _engine_and_workers(engine, jobs, executor)
    check_bitrate(bitrate, engine.sample_rate)
    given_cover = cover
    book = book_script.book
    cover_image = book_cover(given_cover, book)
    folder = make_folder(book_folder(Path(out), book.author, book.title))
    with book_lock(folder):  # one render at a time per book
        remove_leftovers(folder)
        tags = book_tags(book_script, cover_image, series, series_part)
        performance = Performance.of(book_script, Encoding(bitrate))
        work = chapters_folder(folder, edition)
        plan = plan_chapters(book_script, work, performance, engine, tags, progress)
        made = make_chapters(plan, engine, cache, workers, progress)
        files = write_edition(
            edition, folder, made.tracks, tags, book, cover_image, bitrate, engine.sample_rate
        )
        if extras:
            write_extras(folder, book, cover_image, files, base_url)
    if extras:
        write_bookshelf(Path(out))  # out/index.html: every book there
    kept = tuple(track.path for track in plan.kept)
    return RenderResult(
        book_script, folder, made.tracks, made.synthesized, made.reused, kept, files
    )


def _engine_and_workers(
    engine: Engine | None, jobs: int | None, executor: str | Executor | None
) -> tuple[Engine, Workers | None]:
    """The render's engine (default: ``get_engine()``), and the workers that make the
    speech it lacks: ``jobs`` processes (default one per core), or ``executor``."""
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if executor is None or isinstance(executor, str):
        executor = load_executor(executor, jobs)
    engine = engine or get_engine()
    return engine, workers_for(engine, jobs, executor)


def preview(
    character: str,
    path: str | Path | None = None,
    *,
    text: str | None = None,
    voices: str | Path | None = None,
    output: str | Path | None = None,
    engine: Engine | None = None,
) -> Preview:
    """Speak a few lines in ``character``'s voice into an MP3, to hear it before a render.

    ``character`` is a name or alias from the voices file, a speaker of the book at
    ``path`` (cast as a render of that book would cast them), or "narrator". It says
    ``text`` when given, else its first quotes in the book (about 20 seconds), else a
    greeting that names it. The file is ``output``, by default ``./preview-<name>.mp3``,
    written under a temporary name and renamed into place.
    """
    engine = engine or get_engine()
    config = load_config(voices, engine)
    book_script = _read_script(path, config, engine) if path is not None else None
    name, profile = find_voice(character, config, book_script)
    quotes = _preview_quotes(name, profile, text, book_script)
    target = Path(output) if output is not None else Path(f"preview-{safe_name(name)}.mp3")
    make_folder(target.parent)
    audio = _speak_quotes(name, profile, quotes, config, engine)
    if not audio.timeline:
        raise NarrateError(f"speech engine {engine.name} said nothing for: {quotes[0][0][:60]!r}")
    audio.write(target)
    lines = tuple(part for parts in quotes for part in parts)
    return Preview(target, name, profile, lines, audio.duration)


def _preview_quotes(
    name: str, profile: VoiceProfile, text: str | None, book_script: Script | None
) -> list[list[str]]:
    """``text``; else the character's first quotes in the book; else a greeting."""
    if text is not None:
        if not is_speakable(text):
            raise ConfigError(f"nothing to say in the preview text {text!r}")
        return [[text]]
    if book_script is not None:
        quotes = first_quotes(book_script, name, profile.rate)
        if quotes:
            return quotes
    return [[greeting(name)]]


def _speak_quotes(
    name: str,
    profile: VoiceProfile,
    quotes: list[list[str]],
    config: VoicesConfig,
    engine: Engine,
) -> ChapterAudio:
    """The quotes as one short track, assembled like a chapter, so they sound as in a
    render: a paragraph's pause between quotes, a sentence's between the parts of one, the
    same loudness, names said as the voices file's pronunciations say."""
    kind = NARRATION if name == NARRATOR else DIALOGUE
    segments = [
        Segment(kind, 0, len(part), part, chapter=1, scene=0, paragraph=number, speaker=name)
        for number, parts in enumerate(quotes)
        for part in parts
    ]
    chapter = Chapter(number=1, title=f"Preview of {name}", scenes=())
    performance = Performance(
        Cast(narrator=profile, speakers={name: profile}),
        replace(config.pauses, chapter=PREVIEW_TAIL_SECONDS),
        config.pronunciations,
    )
    return assemble_chapter(chapter, segments, performance, engine)
