"""Render speed against a single-voice baseline, run on the same text in one script.

    python benchmarks/render.py [TEXT] [--words N]

The baseline is what a user would otherwise run: the whole text through espeak-ng in one
voice (the libespeak-ng that narrate uses, called directly, in memory) and LAME to a
64 kbit/s CBR MP3 (lameenc), one process. Then narrate, as a user runs it: a full render
with an empty speech cache; the same render again, nothing changed; and a render after
one character's voice changed (the character with the most lines). Printed: wall times,
ratios to the baseline, the peak memory of each run's process tree, and narrate's time
per 10k words at three sizes of the text.

TEXT defaults to Pride and Prejudice from ../shared/pdnc/dev when present (the figures
in the README), else the bundled example story. ``--words`` cuts the text to its first N
words (runs at three sizes use fractions of it).
"""

from __future__ import annotations

import argparse
import ctypes
import json
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
    args = parser.parse_args()
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
        base = _measure([sys.executable, __file__, "--baseline", str(book), str(work / "b.mp3")])
        print(
            f"baseline (espeak-ng one voice + LAME 64k CBR): {base['seconds']:.1f} s, "
            f"peak {base['peak_mb']:.0f} MB"
        )
        cache, out, voices = work / "cache", work / "out", work / "voices.yaml"
        render = [
            sys.executable,
            "-m",
            "narrate.cli",
            "render",
            str(book),
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            "--quiet",
        ]
        subprocess.run(
            [sys.executable, "-m", "narrate.cli", "cast", str(book), "--voices", str(voices)],
            check=True,
            capture_output=True,
        )
        full = _measure([*render, "--voices", str(voices)])
        again = _measure([*render, "--voices", str(voices)])
        _change_biggest_voice(voices)
        tweak = _measure([*render, "--voices", str(voices)])
        script = _measure(
            [
                sys.executable,
                "-m",
                "narrate.cli",
                "script",
                str(book),
                "--voices",
                str(voices),
                "--format",
                "jsonl",
            ]
        )
        for name, run in (
            ("full render", full),
            ("again, unchanged", again),
            ("after one voice changed", tweak),
            ("narrate script", script),
        ):
            print(
                f"{name + ':':26} {run['seconds']:7.1f} s  {run['seconds'] / base['seconds']:5.2f}×"
                f" baseline  {run['seconds'] / full['seconds']:5.2f}× full  "
                f"peak {run['peak_mb']:.0f} MB"
            )
        print("time per 10k words (full render, empty cache):")
        for share in (0.25, 0.5, 1.0):
            part = work / f"part{share}.txt"
            part.write_text(" ".join(text.split(" ")[: int(len(text.split(" ")) * share)]))
            run = _measure(
                [
                    sys.executable,
                    "-m",
                    "narrate.cli",
                    "render",
                    str(part),
                    "--out",
                    str(work / f"o{share}"),
                    "--no-cache",
                    "--quiet",
                    "--voices",
                    str(voices),
                ]
            )
            size = len(part.read_text().split())
            print(f"  {size:7d} words: {run['seconds'] / size * 1e4:6.1f} s per 10k words")
    return 0


_PEAK = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _measure(command: list[str]) -> dict:
    """Wall time of a command, and the peak resident memory of its largest process (run
    under a fresh parent, so earlier runs do not count)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], check=True, capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    return {"seconds": seconds, "peak_mb": int(done.stdout.split()[-1]) / 1024}


def _change_biggest_voice(voices: Path) -> None:
    """Give the first character of the voices file (the biggest part) another variant."""
    lines = voices.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("characters:"))
    for number in range(start + 1, len(lines)):
        if "{voice: " in lines[number]:
            voice = lines[number].split("{voice: ")[1].split(",")[0]
            other = voice.rsplit("+", 1)[0] + ("+f5" if not voice.endswith("+f5") else "+m5")
            lines[number] = lines[number].replace(voice, other, 1)
            break
    voices.write_text("".join(lines), encoding="utf-8")


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def baseline(text_path: Path, mp3_path: Path) -> None:
    """espeak-ng in one voice over the whole text, streamed into LAME: the single-voice
    pipeline, as `espeak-ng -f book.txt -w book.wav && lame book.wav` would do it."""
    import espeakng_loader
    import lameenc

    espeak = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
    synchronous = 2
    rate = espeak.espeak_Initialize(synchronous, 0, espeakng_loader.get_data_path().encode(), 0)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(5)
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
