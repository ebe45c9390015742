"""The pipeline, top to bottom: read → segment → attribute → cast → synthesize →
assemble → encode and tag.

:func:`script` stops before synthesis (what ``narrate script`` prints); :func:`render`
goes all the way to tagged MP3 files; :func:`preview` speaks a few lines in one
character's voice, cast as a render would cast it. All work from Python as well as from
the command line, which is a thin shell over them.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

from mutagen import MutagenError
from mutagen.mp3 import MP3

from narrate.atomic import replacing
from narrate.atomic import write_atomically as write_file
from narrate.dialogue.attribution import attribute
from narrate.dialogue.characters import find_characters, is_group, speaker_gender
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
    ChapterMark,
    Character,
    Pauses,
    Pronunciations,
    Script,
    Segment,
    VoiceProfile,
    VoicesConfig,
)
from narrate.output.cover import generated_cover
from narrate.output.feed import Show
from narrate.output.layout import DEFAULT_OUT, TRACK_PATTERN, book_folder, safe_name, track_name
from narrate.output.lock import book_lock
from narrate.output.m4b import make_m4b, require_ffmpeg
from narrate.output.publish import (
    COMPANIONS,
    companion,
    has_companions,
    read_cues,
    read_marks,
    remove_companions,
    write_companions,
    write_cover,
    write_feed,
    write_readalong,
)
from narrate.output.tags import TrackTags, read_cover, read_made_from, write_tags
from narrate.output.transcripts import cues
from narrate.readers import read_book
from narrate.speech.assemble import (
    ChapterAudio,
    Encoding,
    TimedSegment,
    assemble_chapter,
    chapter_key,
    parts,
    segment_key,
)
from narrate.speech.cache import FORMAT_VERSION, SpeechCache, open_cache
from narrate.speech.engine import Engine, check_profiles, get_engine, is_speakable, voices_hint
from narrate.speech.mp3 import DEFAULT_BITRATE, DEFAULT_QUALITY, check_bitrate, join_mp3
from narrate.speech.preview import find_voice, first_quotes, greeting
from narrate.speech.text import spoken_text
from narrate.speech.workers import SpeechTask, default_jobs, load_executor, run_in_workers
from narrate.voices.casting import cast_voices, configured_name, count_lines
from narrate.voices.edit import (
    NewCharacter,
    add_characters,
    check_writable,
    write_atomically,
)
from narrate.voices.load import DEFAULT_NAME as DEFAULT_VOICES_NAME
from narrate.voices.load import (
    LoadedVoices,
    default_voices_path,
    find_voices_file,
    load_voices,
    parse_voices,
)


@dataclass(frozen=True)
class Track:
    """One written chapter file."""

    path: Path
    title: str
    duration: float
    #: Where each spoken segment sits in the file.
    timeline: tuple[TimedSegment, ...] = ()


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


#: Progress events, as (event, value, total): ("book", 0, segments in the book) first;
#: ("chapter", chapter number, segments in the chapter) when a chapter starts;
#: ("segment", 1, 0) for each segment spoken; ("written", chapter number, chapters) when its
#: file is in place.
Progress = Callable[[str, int, int], None]


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
    segments = _apply_voices_file_names(segments, config, index.characters)
    lines = count_lines(segments)
    characters = _speaking_characters(lines, index.characters)
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


def _apply_voices_file_names(
    segments: list[Segment], config: VoicesConfig, characters: dict[str, Character]
) -> list[Segment]:
    """A speaker the voices file lists under another name or alias takes that name."""
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


def _speaking_characters(lines, known: dict[str, Character]) -> list[Character]:
    """The speakers, biggest parts first, with what the character finder knows of them."""
    characters = []
    for name, count in sorted(lines.items(), key=lambda item: (-item[1], item[0])):
        if name == NARRATOR:
            continue
        base = known.get(name)
        characters.append(
            Character(
                name=name,
                aliases=base.aliases if base else (),
                gender=speaker_gender(name, base),
                group=base is None and is_group(name),
                lines=count,
            )
        )
    return characters


def in_language(
    book: Book, config: VoicesConfig, engine: Engine, language: str | None = None
) -> tuple[Book, VoicesConfig]:
    """The book in ``language`` (``--lang``; default: its own), and the voices that speak
    it: a book not in English has the narrator's and the pools' voices moved to its
    language's voice, each keeping its variant (``en-us+f3`` becomes ``fr+f3``), so the
    voices stay as distinct as in English. Characters the voices file names keep the
    voice it gives them. A language the engine has no voice for keeps the English ones."""
    if language:
        book = replace(book, language=language)
    code = book.language.replace("_", "-").lower()
    primary = code.split("-")[0]
    if primary in ("", "en"):
        return book, config
    base = next((v for v in (code, primary) if engine.has_voice(v)), None)
    if base is None:
        return book, config

    def moved(profile: VoiceProfile) -> VoiceProfile:
        current, plus, variant = profile.voice.partition("+")
        if current.split("-")[0].lower() == primary:
            return profile
        voice = f"{base}+{variant}" if plus else base
        return replace(profile, voice=voice) if engine.has_voice(voice) else profile

    pools = {gender: tuple(moved(p) for p in pool) for gender, pool in config.pools.items()}
    return book, replace(config, narrator=moved(config.narrator), pools=pools)


def load_config(voices: str | Path | None, engine: Engine | None = None) -> VoicesConfig:
    """Find, read and check the voices file, and fit it to the engine (see
    :func:`spoken_by`)."""
    return spoken_by(load_voices(find_voices_file(voices)), engine or get_engine())


def spoken_by(loaded: LoadedVoices, engine: Engine) -> VoicesConfig:
    """The voices file as ``engine`` can speak it.

    A voice named for the narrator or a character must be the engine's: ConfigError
    otherwise. A pool voice the engine does not have (an older espeak-ng, a pool written
    for another engine) is left out of its pool, with one warning naming them all: pools
    are offers, and the casting makes do with the rest.
    """
    config = loaded.config
    locations = {id(profile): where for where, profile in loaded.profile_locations}
    pools: dict[str, tuple[VoiceProfile, ...]] = {}
    missing: dict[str, list[str]] = {}
    for gender, pool in config.pools.items():
        kept = []
        for profile in pool:
            if engine.has_voice(profile.voice):
                kept.append(profile)
                continue
            # "voices.yaml:54: pools.neutral[2].voice" -> "voices.yaml:54"
            where = locations.get(id(profile), "the built-in pools").rsplit(": ", 1)[0]
            missing.setdefault(profile.voice, []).append(where)
        pools[gender] = tuple(kept)
    pooled = {id(profile) for pool in config.pools.values() for profile in pool}
    check_profiles(
        engine, [(where, p) for where, p in loaded.profile_locations if id(p) not in pooled]
    )
    if not missing:
        return config
    left_out = "; ".join(f"{voice} ({', '.join(where)})" for voice, where in missing.items())
    warning = (
        f"speech engine {engine.name} does not have {len(missing)} pool"
        f" voice{'s' * (len(missing) != 1)}, left out of the pools: {left_out};"
        f" {voices_hint(engine)}"
    )
    return replace(config, pools=pools, warnings=(*config.warnings, warning))


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
    config = spoken_by(loaded, engine)
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
        write_atomically(target, add_characters(text, new, str(target)))
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
    single_file: bool = False,
    audio_format: str = "mp3",
    extras: bool = True,
    language: str | None = None,
) -> RenderResult:
    """Render a story into ``OUT/<Author>/<Title>/NN - <Chapter>.mp3``, one per chapter.

    Every file is written under a temporary name and renamed into place only when it is
    complete and tagged, so an interrupted render never leaves a half-written MP3.
    Segment speech is cached (``cache_dir``, default the per-user cache folder), and a
    chapter file whose recorded making matches what it would be made from now is kept as
    it is: after a casting tweak only what changed is synthesized and encoded, and an
    interrupted render resumes. ``jobs`` worker processes (default: one per core)
    make the missing speech first, when the engine was made by name; ``executor`` (a
    ``concurrent.futures.Executor``, or "module:factory" giving one) runs that work
    elsewhere instead, e.g. on a Dask cluster sharing ``cache_dir``. From a script, call
    this under ``if __name__ == "__main__":``, as worker processes are spawned.

    Next to the MP3s go each chapter's transcripts (WebVTT, SRT) and JSON chapters, and in
    the book's folder a podcast feed and a playlist (:mod:`narrate.output.publish`), their URLs
    under ``base_url`` when given, else relative (``extras=False``: no feed, playlist,
    page or cover file; the transcripts always). With ``single_file`` the book is one MP3,
    ``<Title>.mp3``, with a chapter mark per chapter; its chapter files are made (and
    kept, for the next render) in the hidden folder ``.chapters`` beside it. With
    ``audio_format="m4b"`` the book is one M4B (AAC with chapters and cover), made with
    ffmpeg from that single MP3.
    """
    if audio_format not in ("mp3", "m4b"):
        raise ConfigError(f"unknown audio format {audio_format!r} (mp3 or m4b)")
    if audio_format == "m4b":
        require_ffmpeg()  # before any work, so its absence is a one-line error at once
    cache = open_cache(cache_dir, use_cache)
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if isinstance(executor, str) or executor is None:
        executor = load_executor(executor, jobs)
    # Workers make their own engines by name: only an engine made by name can be shared.
    named = engine is None or getattr(engine, "spec", None) is not None
    parallel = named and (jobs > 1 or executor is not None)
    engine = engine or get_engine()
    check_bitrate(bitrate, engine.sample_rate)
    encoding = Encoding(bitrate)
    cover_image = read_cover(cover) if cover is not None else None
    result_script = script(
        path,
        voices=voices,
        title=title,
        author=author,
        keep_notes=keep_notes,
        engine=engine,
        language=language,
    )
    book = result_script.book
    if cover_image is None and book.cover:
        cover_image = (book.cover, book.cover_mime)
    if cover_image is None:
        cover_image = (generated_cover(book.title, book.author), "image/jpeg")
    folder = book_folder(Path(out), book.author, book.title)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"{folder}: cannot create the output folder: {error.strerror or error}"
        ) from None
    # One render at a time per book: a second would overwrite the first's files.
    with book_lock(folder):
        _remove_leftovers(folder)
        work = _chapters_folder(folder, single_file or audio_format == "m4b")
        total = len(book.chapters)
        tracks: list[Track] = []
        kept: list[Path] = []
        planned: list[tuple] = []
        if progress:
            progress("book", 0, sum(1 for s in result_script.segments if s.spoken))
        for chapter in book.chapters:
            segments = result_script.chapter_segments(chapter.number)
            if progress:
                progress("chapter", chapter.number, len(segments))
            target = work / track_name(chapter.number, total, chapter.title)
            tags = _track_tags(
                chapter, book, result_script, total, cover_image, series, series_part
            )
            made_from = _made_from(
                chapter_key(
                    chapter,
                    segments,
                    result_script.cast,
                    result_script.pauses,
                    engine,
                    result_script.pronunciations,
                    encoding,
                ),
                tags,
                bitrate,
            )
            if read_made_from(target) == made_from and has_companions(target):
                kept.append(target)
                tracks.append(Track(target, chapter.title, _duration(target)))
                if progress:
                    progress("segment", len(segments), 0)
                    progress("written", chapter.number, total)
                continue
            planned.append((chapter, segments, target, tags, made_from))
        with _speech_store(cache, parallel) as store:
            tasks, lookups, needed = (
                _speech_tasks(planned, result_script, engine, store, encoding)
                if parallel
                else ([], 0, {})
            )
            waiting: dict[int, ChapterJob] = {
                chapter.number: ChapterJob(
                    chapter,
                    tuple(segments),
                    target,
                    tags,
                    made_from,
                    result_script.cast,
                    result_script.pauses,
                    result_script.pronunciations,
                    bitrate,
                )
                for chapter, segments, target, tags, made_from in planned
            }

            def join(number: int, report: Progress | None) -> None:
                tracks.append(build_chapter(waiting.pop(number), engine, store, report))
                if progress:
                    progress("written", number, total)

            made = 0
            big = len(tasks) >= MIN_PARALLEL_TASKS or lookups >= MIN_PARALLEL_SEGMENTS
            if parallel and tasks and (big or executor is not None):
                # Every core makes the missing pieces; each chapter is joined as soon as its
                # pieces are there, while the workers go on with the next ones.
                if progress:
                    progress("segment", lookups - len(tasks), 0)
                # How many of the pieces being made each chapter waits for (a piece two
                # chapters share is made once, for the first).
                missing = Counter(chapter for chapters in needed.values() for chapter in chapters)

                def on_batch(batch: list[SpeechTask]) -> None:
                    if progress:
                        progress("segment", len(batch), 0)
                    for task in batch:
                        missing.subtract(needed[task.key])
                    for number in [n for n in waiting if missing[n] <= 0]:
                        join(number, None)

                made = run_in_workers(
                    tasks,
                    store.folder,
                    jobs,
                    getattr(engine, "spec", "auto"),
                    on_batch=on_batch,
                    executor=executor,
                )
            for number in list(waiting):
                join(number, None if made else progress)
            synthesized = made + store.misses
            reused = store.hits - made
        tracks.sort(key=lambda track: track.path.name)
        _remove_stale_tracks(work, {t.path.name for t in tracks})
        name = safe_name(book.title, "Book")
        book_file, m4b_file = folder / f"{name}.mp3", folder / f"{name}.m4b"
        book_tags = _track_tags(None, book, result_script, 1, cover_image, series, series_part)
        if audio_format == "m4b":
            # The single MP3 stays with the chapter files; the M4B is made from it.
            whole = _write_single_file(
                work / book_file.name, tracks, book_tags, bitrate, engine.sample_rate
            )
            published = [_write_m4b(whole, m4b_file, book, cover_image)]
        elif single_file:
            published = [
                _write_single_file(book_file, tracks, book_tags, bitrate, engine.sample_rate)
            ]
        else:
            published = tracks
        # What other editions of this book left in its folder.
        if published is not tracks:
            _remove_stale_tracks(folder, set())
        for other in (book_file, m4b_file):
            if other not in [track.path for track in published] and other.is_file():
                other.unlink()
                remove_companions(other)
        if published is tracks:
            shutil.rmtree(folder / SINGLE_FILE_CHAPTERS, ignore_errors=True)
        if extras:
            language = book.language.split("-")[0] or "en"
            cover_name = write_cover(folder, cover_image)
            show = Show(book.title, book.author, book.description, language, cover_name)
            write_feed(folder, show, published, base_url)
            write_readalong(folder, show, published)
        return RenderResult(
            result_script, folder, tuple(tracks), synthesized, reused, tuple(kept), tuple(published)
        )


@dataclass(frozen=True)
class ChapterJob:
    """Everything needed to make one chapter file from speech: small enough to send to a
    worker process."""

    chapter: Chapter
    segments: tuple[Segment, ...]
    target: Path
    tags: TrackTags
    made_from: str
    cast: Cast
    pauses: Pauses
    pronunciations: Pronunciations
    bitrate: int


def build_chapter(
    job: ChapterJob, engine: Engine, cache: SpeechCache, progress: Progress | None = None
) -> Track:
    """Join one chapter from its speech pieces (making those the cache lacks), tag it, put
    it in place."""
    audio = assemble_chapter(
        job.chapter,
        job.segments,
        job.cast,
        job.pauses,
        engine,
        progress=(lambda n: progress("segment", n, 0)) if progress else None,
        pronunciations=job.pronunciations,
        cache=cache,
        encoding=Encoding(job.bitrate),
    )
    tags = replace(job.tags, marks=audio.marks, made_from=job.made_from)
    _write_track(audio, job.target, tags)
    write_companions(job.target, cues(audio.timeline, job.chapter.title), audio.marks)
    return Track(job.target, job.chapter.title, audio.duration, audio.timeline)


#: Below this many segments to synthesize, starting worker processes (a second or two
#: each) costs more than it saves: the render synthesizes them itself.
MIN_PARALLEL_TASKS = 40
#: ...and below this many segments to assemble and encode.
MIN_PARALLEL_SEGMENTS = 300


@contextlib.contextmanager
def _speech_store(cache: SpeechCache, parallel: bool):
    """The cache, or with --no-cache and workers, a temporary one for this render only:
    the workers hand speech over through it."""
    if cache.folder is not None or not parallel:
        yield cache
        return
    with tempfile.TemporaryDirectory(prefix="narrate-speech-") as folder:
        yield SpeechCache(Path(folder))


def _speech_tasks(
    planned: list[tuple],
    result_script: Script,
    engine: Engine,
    cache: SpeechCache,
    encoding: Encoding,
) -> tuple[list[SpeechTask], int, dict[str, set[int]]]:
    """The speech the planned chapters need that the cache does not have, once each; how
    many pieces they join in all; and which chapters need each missing piece."""
    tasks = []
    needed: dict[str, set[int]] = {}
    lookups = 0
    for chapter, segments, *_ in planned:
        for segment in segments:
            text = spoken_text(segment, chapter.title, result_script.pronunciations)
            profile = result_script.cast.profile_for(segment.speaker)
            for part in parts(text):
                lookups += 1
                key = segment_key(part, profile, result_script.pauses, engine, encoding)
                if key in needed:
                    needed[key].add(chapter.number)
                    continue
                if cache.has(key):
                    continue
                needed[key] = {chapter.number}
                sentence = result_script.pauses.sentence
                tasks.append(SpeechTask(key, part, profile, sentence, encoding, chapter.number))
    return tasks, lookups, needed


#: Where a single-file render keeps its chapter files, inside the book's folder.
SINGLE_FILE_CHAPTERS = ".chapters"


def _chapters_folder(folder: Path, single_file: bool) -> Path:
    if not single_file:
        return folder
    work = folder / SINGLE_FILE_CHAPTERS
    try:
        work.mkdir(exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{work}: cannot create the folder: {error.strerror or error}") from None
    return work


def _write_single_file(
    target: Path, tracks: list[Track], tags: TrackTags, bitrate: int, rate: int
) -> Track:
    """The chapter files joined into one MP3 with a chapter mark per chapter, its
    transcripts the chapters' shifted to their place; kept when made from the same
    chapters."""
    made_from = hashlib.sha256(
        "\n".join(
            [*(str(read_made_from(t.path)) for t in tracks), repr(replace(tags, cover=None))]
        ).encode()
    ).hexdigest()
    title = tags.album
    if read_made_from(target) == made_from and has_companions(target):
        return Track(target, title, _duration(target))
    with replacing(target) as partial:
        info, starts = join_mp3(partial, [t.path for t in tracks], rate, bitrate)
        ends = [*starts[1:], info.duration]
        marks = tuple(
            ChapterMark(t.title, round(start * 1000), round(end * 1000))
            for t, start, end in zip(tracks, starts, ends, strict=True)
        )
        write_tags(partial, replace(tags, title=title, marks=marks, made_from=made_from))
    lines = [
        replace(
            cue,
            start_ms=cue.start_ms + round(start * 1000),
            end_ms=cue.end_ms + round(start * 1000),
        )
        for track, start in zip(tracks, starts, strict=True)
        for cue in read_cues(track.path)
    ]
    write_companions(target, lines, marks)
    return Track(target, title, info.duration)


def _write_m4b(whole: Track, target: Path, book: Book, cover: tuple[bytes, str] | None) -> Track:
    """The M4B edition of the single MP3 ``whole``, remade only when that changed; its
    transcripts and chapters are the MP3's."""
    made_from = str(read_made_from(whole.path))
    stamp = whole.path.with_name(f"{target.name}.made-from")
    current = stamp.read_text(encoding="utf-8") if stamp.is_file() else None
    if not (target.is_file() and current == made_from and has_companions(target)):
        marks = read_marks(whole.path, whole.duration)
        make_m4b(whole.path, target, book.title, book.author, marks, cover)
        for suffix in COMPANIONS:
            write_file(companion(target, suffix), companion(whole.path, suffix).read_bytes())
        write_file(stamp, made_from.encode("utf-8"))
    return Track(target, book.title, whole.duration)


def _track_tags(
    chapter,
    book: Book,
    result_script: Script,
    total: int,
    cover_image: tuple[bytes, str] | None,
    series: str | None,
    series_part: str | None,
) -> TrackTags:
    """A chapter file's tags, all but the chapter marks (which come with its audio); with
    no chapter, the single file's."""
    return TrackTags(
        title=chapter.title if chapter else book.title,
        album=book.title,
        author=book.author,
        narrator=_narrator_credit(result_script),
        track=chapter.number if chapter else 1,
        total_tracks=total,
        description=book.description,
        language=_iso639_2(book.language),
        series=series or book.series,
        series_part=series_part or book.series_part,
        cover=cover_image[0] if cover_image else None,
        cover_mime=cover_image[1] if cover_image else "image/jpeg",
    )


def _made_from(audio_key: str, tags: TrackTags, bitrate: int) -> str:
    """A hash of a chapter file's audio key, its tags and the encoding settings."""
    digest = hashlib.sha256(audio_key.encode())
    digest.update(repr(replace(tags, cover=None)).encode())
    digest.update(hashlib.sha256(tags.cover or b"").digest())
    digest.update(f"{bitrate} {DEFAULT_QUALITY} {FORMAT_VERSION}".encode())
    return digest.hexdigest()


def _duration(path: Path) -> float:
    try:
        return float(MP3(str(path)).info.length)
    except (MutagenError, OSError):
        return 0.0


def _write_track(audio: ChapterAudio, target: Path, tags: TrackTags) -> None:
    with replacing(target) as partial:
        audio.write(partial)
        write_tags(partial, tags)


def _narrator_credit(result_script: Script) -> str:
    return f"narrate ({result_script.cast.narrator.voice})"


def _iso639_2(language: str) -> str:
    return {"en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita"}.get(
        language.split("-")[0].lower(), "eng"
    )


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a render that was killed (its partial MP3s, transcripts and
    the like): with the book's lock held, nothing else is writing them."""
    for place in (folder, folder / SINGLE_FILE_CHAPTERS):
        if not place.is_dir():
            continue
        for path in place.iterdir():
            if path.name.startswith(".") and path.name.endswith((".part", ".tmp")):
                with contextlib.suppress(OSError):
                    path.unlink()


def _remove_stale_tracks(folder: Path, keep: set[str]) -> None:
    """Chapter files of an earlier render of this book that this render did not write
    (the book's chapters changed) would play as if they belonged to it."""
    for path in folder.iterdir():
        if path.is_file() and TRACK_PATTERN.match(path.name) and path.name not in keep:
            path.unlink()
            remove_companions(path)


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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"{target.parent}: cannot create the folder: {error.strerror or error}"
        ) from None
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
    return assemble_chapter(
        chapter,
        segments,
        Cast(narrator=profile, speakers={name: profile}),
        replace(config.pauses, chapter=PREVIEW_TAIL_SECONDS),
        engine,
        pronunciations=config.pronunciations,
    )
