"""The ``narrate`` command: a thin shell over :mod:`narrate.pipeline`.

It turns flags into calls, shows progress, and turns a :class:`NarrateError` into one line
on stderr and an exit code (1: the work failed; 2: bad usage or configuration). A
traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path
from urllib.parse import quote

import click

from narrate import __version__
from narrate.display import ProgressDisplay, clock_text
from narrate.errors import EXIT_FAILURE, ConfigError, NarrateError
from narrate.output.layout import DEFAULT_OUT
from narrate.output.views import cast_table, records, review, screenplay
from narrate.speech.mp3 import DEFAULT_BITRATE

_debug = False


class _Group(click.Group):
    """Reports NarrateErrors as one line, and Ctrl-C as an interruption."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NarrateError as error:
            if _debug:
                raise
            _fail(str(error), error.exit_code)
        except KeyboardInterrupt:
            if _debug:
                raise
            _fail("interrupted", 130)
        except BrokenPipeError:
            # The reader went away (`narrate script … | head`): stop quietly.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - flushing at exit must not fail
            sys.exit(0)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:  # a bug or an unexpected failure: still one line
            if _debug:
                raise
            _fail(
                f"unexpected error: {type(error).__name__}: {error} "
                "(run with --debug for the traceback)",
                EXIT_FAILURE,
            )


def _fail(message: str, code: int) -> None:
    lines = message.splitlines() or [message]
    for line in lines:
        click.echo(f"narrate: error: {line}", err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="narrate")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def main(debug: bool) -> None:
    """Turn a story into a multi-voice audiobook: tagged, chaptered MP3s, offline."""
    global _debug
    _debug = debug


_input = click.argument(
    "input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path)
)
_inputs = click.argument(
    "input_paths",
    metavar="INPUT...",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path),
)


def _books_in(paths, title, author) -> list[Path]:
    """The books in INPUT...: one file as given, else every book found (see
    narrate.library.books_in); --title and --author are for one book."""
    from narrate.library import books_in

    if len(paths) == 1 and not Path(paths[0]).is_dir():
        return [Path(paths[0])]
    return [source.path for source in books_in(paths, title=title, author=author)]


_lang = click.option(
    "--lang",
    "language",
    default=None,
    metavar="CODE",
    help="The book's language (fr, de-AT…; default: what the book says, else English); "
    "picks the voices' language and the quote marks.",
)
_voices = click.option(
    "--voices",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Voices file (default: ./voices.yaml if present, else the built-in one).",
)
_title = click.option("--title", default=None, help="Book title (default: from the text).")
_author = click.option("--author", default=None, help="Author (default: from the text).")
_keep_notes = click.option(
    "--keep-notes", is_flag=True, help="Also read author's notes, disclaimers and summary."
)
_engine_name = click.option(
    "--engine",
    "engine_name",
    default="auto",
    show_default=True,
    metavar="NAME",
    help="Speech engine: auto, espeak-ng (narrate's own), espeak-ng-system (the system's "
    "libespeak-ng), piper (cast with Piper voices), pyttsx3, pyttsx3-DRIVER, or "
    "MODULE:FACTORY. Voices named piper:NAME are Piper's with any engine.",
)


def _use_voice_dir(context: click.Context, parameter: click.Parameter, value) -> None:
    """Put --voice-dir where every process of the render looks: worker processes inherit
    the environment."""
    if value:
        from narrate.speech.piper_engine import VOICE_DIR_VARIABLE

        os.environ[VOICE_DIR_VARIABLE] = str(Path(value).expanduser().resolve())


_voice_dir = click.option(
    "--voice-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    expose_value=False,
    callback=_use_voice_dir,
    help="A folder of Piper voices (NAME.onnx with NAME.onnx.json), searched before "
    "$NARRATE_VOICE_DIR and the per-user one.",
)


def _engine(command):
    """--engine, and --voice-dir for Piper's voices."""
    return _engine_name(_voice_dir(command))


_cache_dir = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where synthesized speech is kept (default: the per-user cache folder).",
)


@main.command()
@_inputs
@_voices
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(DEFAULT_OUT),
    show_default=True,
    help="Output folder.",
)
@_title
@_author
@click.option(
    "--cover",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Cover image (JPEG or PNG) to embed.",
)
@click.option(
    "--bitrate",
    type=int,
    default=DEFAULT_BITRATE,
    show_default=True,
    help="MP3 bitrate in kbit/s (constant bitrate, mono).",
)
@_keep_notes
@_lang
@click.option(
    "--format",
    "audio_format",
    type=click.Choice(["mp3", "m4b"]),
    default="mp3",
    show_default=True,
    help="m4b: the book as one M4B (AAC, chapters, cover) for audiobook apps; needs ffmpeg.",
)
@click.option(
    "--no-extras",
    is_flag=True,
    help="Only the audio and its transcripts: no feed, playlist, read-along page or cover file.",
)
@click.option(
    "--single-file",
    is_flag=True,
    help="The whole book as one MP3 with a chapter mark per chapter.",
)
@click.option("--series", default=None, help="Series name, for the series tag.")
@click.option("--series-part", default=None, help="Part of the series, e.g. 2.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary.")
@_cache_dir
@click.option("--no-cache", is_flag=True, help="Synthesize everything; keep nothing.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for speech (default: one per core).",
)
@click.option(
    "--executor",
    default="local",
    show_default=True,
    metavar="local|MODULE:FACTORY",
    help="Where the speech is made: local worker processes, or an executor that "
    "MODULE:FACTORY(jobs) returns (e.g. a Dask client's; share --cache-dir with it).",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Where the book's folder will be served, for the feed's links (default: relative).",
)
@_engine
def render(
    input_paths,
    voices,
    out,
    title,
    author,
    cover,
    bitrate,
    keep_notes,
    language,
    audio_format,
    no_extras,
    single_file,
    series,
    series_part,
    quiet,
    cache_dir,
    no_cache,
    jobs,
    executor,
    base_url,
    engine_name,
):
    """Render INPUT into OUT/<Author>/<Title>/NN - <Chapter>.mp3.

    Several INPUTs, or a folder (searched for .epub .html .md .txt books, a calibre
    library too), render every book found, through one pool of workers: a book that fails
    is reported in a line and the others carry on (exit 1 when any failed)."""
    from narrate.pipeline import render as render_book
    from narrate.speech.engine import describe, get_engine

    engine = get_engine(engine_name)
    if len(input_paths) > 1 or Path(input_paths[0]).is_dir():
        _render_many(
            input_paths,
            engine,
            quiet,
            jobs=jobs,
            executor=executor,
            voices=voices,
            out=out,
            title=title,
            author=author,
            cover=cover,
            series=series,
            series_part=series_part,
            bitrate=bitrate,
            keep_notes=keep_notes,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            base_url=base_url,
            single_file=single_file,
            audio_format=audio_format,
            extras=not no_extras,
            language=language,
        )
        return
    input_path = input_paths[0]
    bar = None if quiet else ProgressDisplay(sys.stderr, sys.stderr.isatty())
    started = time.monotonic()
    result = render_book(
        input_path,
        voices=voices,
        out=out,
        title=title,
        author=author,
        cover=cover,
        bitrate=bitrate,
        keep_notes=keep_notes,
        series=series,
        series_part=series_part,
        progress=bar.update if bar else None,
        cache_dir=cache_dir,
        use_cache=not no_cache,
        jobs=jobs,
        executor=executor,
        engine=engine,
        base_url=base_url,
        single_file=single_file,
        audio_format=audio_format,
        extras=not no_extras,
        language=language,
    )
    if bar:
        bar.finish()
    _warn(result.script.warnings)
    if quiet:
        return
    click.echo(
        f"Rendered {len(result.tracks)} chapter{'s' * (len(result.tracks) != 1)}, "
        f"{clock_text(result.duration)} of audio, in {time.monotonic() - started:.1f} s "
        f"({result.synthesized} sentences synthesized, {result.reused} from the cache, "
        f"{len(result.kept)} chapter{'s' * (len(result.kept) != 1)} already up to date)."
    )
    click.echo(f"Engine: {describe(engine)}")
    for line in cast_table(result.script):
        click.echo(line)
    click.echo(f"Files: {result.folder}")
    for track in result.files:
        click.echo(f"  {track.path.name}  ({clock_text(track.duration)})")


def _render_many(paths, engine, quiet: bool, **options) -> None:
    """Every book in ``paths``, one line as each ends, then a table; exit 1 if any failed."""
    from narrate.library import FAILED, render_library
    from narrate.speech.engine import describe

    started = time.monotonic()
    shown: dict[str, ProgressDisplay] = {}

    def starting(source, number: int, total: int) -> None:
        if not quiet:
            click.echo(f"[{number}/{total}] {source.path} ...", err=True)
            shown["book"] = ProgressDisplay(sys.stderr, sys.stderr.isatty())

    def progress(event) -> None:
        if "book" in shown:
            shown["book"].update(event)

    def ended(outcome, number: int, total: int) -> None:
        if "book" in shown:
            shown.pop("book").finish()
        if outcome.status == FAILED:
            where = str(outcome.source.path)
            reason = (
                outcome.reason if outcome.reason.startswith(where) else f"{where}: {outcome.reason}"
            )
            click.echo(f"narrate: error: {reason}", err=True)
        elif outcome.reason and not quiet:
            click.echo(f"narrate: note: {outcome.reason}", err=True)
        if outcome.result is not None:
            _warn(outcome.result.script.warnings)

    result = render_library(
        paths, engine=engine, on_start=starting, on_book=ended, progress=progress, **options
    )
    if not quiet:
        for line in library_table(result):
            click.echo(line)
        click.echo(
            f"{len(result.books)} book{'s' * (len(result.books) != 1)}, "
            f"{len(result.failed)} failed, in {time.monotonic() - started:.1f} s. "
            f"Engine: {describe(engine)}"
        )
    if result.failed:
        sys.exit(1)


def library_table(result) -> list[str]:
    """The books of a library render: chapters, duration, sentences, time, status."""
    rows = [("book", "chapters", "duration", "made", "cached", "time", "status")]
    for book in result.books:
        made = book.result
        name = f"{made.script.book.author} - {made.script.book.title}" if made else ""
        rows.append(
            (
                name or book.source.path.name,
                str(len(made.tracks)) if made else "",
                clock_text(made.duration) if made else "",
                str(made.synthesized) if made else "",
                str(made.reused) if made else "",
                f"{book.seconds:.1f} s",
                book.status,
            )
        )
    widths = [min(48, max(len(row[i]) for row in rows)) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell[: widths[i]].ljust(widths[i]) if i in (0, 6) else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


@main.command()
@_inputs
@_voices
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "jsonl"]),
    default="text",
    show_default=True,
    help="Screenplay text, or JSON Lines.",
)
@click.option(
    "--explain", is_flag=True, help="Show why each quote's speaker was chosen (text format)."
)
@click.option(
    "--spoken",
    is_flag=True,
    help="Show the words as they will be spoken (with the pronunciations), not as written.",
)
@click.option(
    "--review",
    "review_count",
    type=click.IntRange(min=1),
    is_flag=False,
    flag_value=20,
    default=None,
    metavar="[N]",
    help="List the N quotes (default 20) whose speaker narrate is least sure of, to check "
    "and fix under lines: before rendering.",
)
@_title
@_author
@_keep_notes
@_lang
@_engine
def script(
    input_paths,
    voices,
    output_format,
    explain,
    spoken,
    title,
    author,
    keep_notes,
    language,
    engine_name,
    review_count,
):
    """Print the attributed script of INPUT (of each book, for several), without
    synthesizing it."""
    from narrate.pipeline import script as make_script
    from narrate.speech.engine import get_engine

    books = _books_in(input_paths, title, author)
    for number, input_path in enumerate(books, 1):
        result = make_script(
            input_path,
            voices=voices,
            title=title,
            author=author,
            keep_notes=keep_notes,
            language=language,
            engine=get_engine(engine_name),
        )
        if len(books) > 1 and output_format == "text":
            click.echo(f"{'' if number == 1 else chr(10)}=== {input_path} ===")
        _print_script(result, review_count, output_format, explain, spoken)


def _print_script(result, review_count, output_format, explain, spoken) -> None:
    _warn(result.warnings)
    if review_count is not None:
        for line in review(result, review_count):
            click.echo(line)
    elif output_format == "jsonl":
        for record in records(result, spoken=spoken):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        for line in screenplay(result, explain=explain, spoken=spoken):
            click.echo(line)


@main.command()
@_inputs
@click.option(
    "--voices",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Voices file to write or add to (default: ./voices.yaml).",
)
@_title
@_author
@_keep_notes
@_lang
@_engine
def cast(input_paths, voices, title, author, keep_notes, language, engine_name):
    """Give INPUT's speakers voices in the voices file, keeping what is already there.
    Several books (a series) are cast one after the other into the one file."""
    from narrate.pipeline import cast as cast_book
    from narrate.speech.engine import get_engine

    books = _books_in(input_paths, title, author)
    for number, input_path in enumerate(books, 1):
        if len(books) > 1:
            click.echo(f"{'' if number == 1 else chr(10)}=== {input_path} ===")
        result = cast_book(
            input_path,
            voices=voices,
            title=title,
            author=author,
            keep_notes=keep_notes,
            language=language,
            engine=get_engine(engine_name),
        )
        _print_cast(result)


def _print_cast(result) -> None:
    from narrate.pipeline import chapter_ranges

    _warn(result.script.warnings)
    rows = result.rows
    if rows:
        width = max(len(row.name) for row in rows)
        aliases = {row.name: ", ".join(row.aliases) or "-" for row in rows}
        alias_width = min(30, max(len(a) for a in aliases.values()))
        click.echo(
            f"  {'character':<{width}}  {'aliases':<{alias_width}}  gender   lines  "
            f"{'chapters':<10} voice"
        )
        for row in rows:
            mark = "+" if row.added else " "
            click.echo(
                f"{mark} {row.name:<{width}}  {aliases[row.name][:alias_width]:<{alias_width}}  "
                f"{(row.gender or '?'):<7} {row.lines:5d}  {chapter_ranges(row.chapters):<10} "
                f"{row.voice}"
            )
    added = len(result.added)
    click.echo(
        f"{result.path}: {'added ' + str(added) if added else 'no new'} "
        f"character{'s' * (added != 1)} (+); the narrator is "
        f"{result.script.cast.narrator.id}. Edit it, then render again."
    )


@main.group()
def cache():
    """The cache of synthesized speech that makes re-renders fast."""


@cache.command("info")
@_cache_dir
def cache_info_command(cache_dir):
    """Where the cache is, and how much it holds."""
    from narrate.speech.cache import cache_info

    info = cache_info(cache_dir)
    click.echo(f"{info.folder}: {info.entries} sentences, {info.size / 1e6:.1f} MB")


@cache.command("clear")
@_cache_dir
def cache_clear_command(cache_dir):
    """Remove every cached sentence."""
    from narrate.speech.cache import clear_cache

    info = clear_cache(cache_dir)
    click.echo(f"{info.folder}: removed {info.entries} sentences, {info.size / 1e6:.1f} MB")


def _warn(warnings) -> None:
    for warning in warnings:
        click.echo(f"narrate: warning: {warning}", err=True)


@main.command()
@click.argument("character")
@click.argument(
    "input_path",
    metavar="[INPUT]",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--text",
    default=None,
    help="What to say (default: the character's first quotes in INPUT, else a greeting).",
)
@_voices
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The MP3 to write (default: ./preview-<name>.mp3).",
)
@click.option("--no-play", is_flag=True, help="Write the file without playing it.")
@_engine
def preview(character, input_path, text, voices, output, no_play, engine_name):
    """Hear CHARACTER's voice before rendering: a short MP3, played when a player is found.

    CHARACTER is "narrator", a name or alias from the voices file, or a speaker of INPUT,
    who then sounds exactly as a render of INPUT would cast them.
    """
    from narrate.output.player import PLAYERS, find_player, play
    from narrate.pipeline import preview as make_preview
    from narrate.speech.engine import get_engine

    result = make_preview(
        character,
        input_path,
        text=text,
        voices=voices,
        output=output,
        engine=get_engine(engine_name),
    )
    click.echo(
        f"Wrote {result.path} ({result.character}, {result.profile.id}, {result.duration:.1f} s)"
    )
    if no_play:
        return
    command = find_player()
    if command is None:
        names = ", ".join(name for name, _ in PLAYERS)
        click.echo(f"No audio player found ({names}); open {result.path} to listen.")
        return
    problem = play(result.path, command)
    if problem:
        click.echo(
            f"Could not play it with {Path(command[0]).name} ({problem}); "
            f"open {result.path} to listen.",
            err=True,
        )


@main.command()
@click.option(
    "--lang", default="en", show_default=True, help="Language prefix; 'all' lists every language."
)
@click.option(
    "--download",
    metavar="NAME",
    default=None,
    help="Fetch the Piper voice NAME (e.g. en_US-lessac-medium) into the first voice folder.",
)
@_engine
def voices(lang, download, engine_name):
    """List the voices and variants the speech engines offer (espeak-ng's and Piper's)."""
    from narrate.speech import piper_engine
    from narrate.speech.engine import describe, get_engine

    if download:
        model = piper_engine.download(download, piper_engine.voice_dirs()[0])
        click.echo(f"Downloaded {piper_engine.PREFIX}{model.name}: {model.path}")
        return
    engine = get_engine(engine_name)
    listed = engine.voices(None if lang == "all" else lang)
    piper = [v for v in listed if piper_engine.is_piper_voice(v.id)]
    bases = [v for v in listed if not v.id.startswith("+") and v not in piper]
    variants = [v for v in listed if v.id.startswith("+")]
    click.echo(f"Speech engine: {describe(engine)}")
    click.echo(f"Voices ({len(bases)}):")
    for voice in bases:
        click.echo(f"  {voice.id:<24} {voice.name:<36} {voice.gender or ''}")
    if variants:
        example = bases[0].id if bases else "en-us"
        click.echo(f"Variants ({len(variants)}), combined with a voice as {example}+f3:")
        for voice in variants:
            click.echo(f"  {voice.id:<24} {voice.name:<36} {voice.gender or ''}")
    version = piper_engine.piper_version()
    folders = ", ".join(map(str, piper_engine.voice_dirs()))
    if version is None:
        click.echo("Piper voices: not installed (pip install 'narrate[piper]')")
        return
    click.echo(f"Piper voices ({len(piper)}; piper-tts {version}; from {folders}):")
    for voice in piper:
        click.echo(f"  {voice.id:<34} {voice.language:<7} {voice.name}")
    if not piper:
        click.echo("  none yet: narrate voices --download en_US-lessac-medium")


@main.command()
@click.argument(
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path(DEFAULT_OUT),
    required=False,
)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--token",
    default=None,
    metavar="VALUE",
    help="The secret at the start of every URL: give the one printed before to keep the "
    "same addresses across restarts (default: a new random one; none on 127.0.0.1).",
)
@click.option(
    "--no-token",
    is_flag=True,
    help="No secret in the URLs: anyone who can reach the port can listen.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name apps may use to reach this server (e.g. mybox.local), kept in the "
    "feeds' links; other names get the server's own address. Repeatable.",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not log each request.")
def serve(folder, host, port, token, no_token, allowed_hosts, quiet):
    """Serve the books in FOLDER (default: out) over HTTP, for podcast apps on the network.

    Prints each book's feed URL to subscribe to. Beyond 127.0.0.1 every URL starts with
    a secret token: without it nothing is served. Only the books' published files are
    served (audio, transcripts, chapters, feed, playlist, read-along page, cover), never
    hidden files or directory listings. Players can seek (byte ranges); feeds are served
    with absolute links. Ctrl-C stops it.
    """
    from narrate.output.serve import choose_token, feeds, local_address, make_server, netloc

    secret = choose_token(host, token, no_token)
    try:
        server = make_server(folder, host, port, quiet, token=secret, allowed_hosts=allowed_hosts)
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    address = local_address() if host in ("0.0.0.0", "", "::") else host
    base = f"http://{netloc(address, server.server_address[1])}/" + (f"{secret}/" if secret else "")
    click.echo(f"Serving {folder} at {base}")
    found = list(feeds(folder))
    if not found:
        click.echo("No books yet: render a book into this folder first.")
    for feed in found:
        name = feed.parent.as_posix() if feed.parent != Path() else folder.name
        click.echo(f"  {name}: {base}{quote(feed.as_posix())}")
    if secret:
        click.echo("Anyone with these addresses can listen; nobody without them gets anything.")
        if token is None:
            again = f"narrate serve {shlex.quote(str(folder))} --token {secret}"
            click.echo(f"To keep them across restarts: {again}")
    elif no_token:
        click.echo("No token: anyone who can reach this port can listen.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()


if __name__ == "__main__":  # pragma: no cover
    main()
