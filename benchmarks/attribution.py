"""Speaker attribution on the PDNC dev novels, end to end, with the corpus's own scorer.

    python benchmarks/attribution.py [PDNC_DIR] [--errors N] [--by-pass]

PDNC_DIR defaults to ../shared/pdnc/dev beside the repository. The scorer (score.py, next
to the dev folder) runs ``narrate script --format jsonl`` on each novel and prints, per
novel, the accuracy over all quotations and by type (explicit, anaphoric, implicit) and the
seconds it took. ``--by-pass`` adds how often each attribution pass was right. The corpus
is research data and stays outside the repository; nothing here is derived from it.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "pdnc" / "dev"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--errors", type=int, default=0, help="show N wrong quotes per novel")
    parser.add_argument("--by-pass", action="store_true", help="accuracy of each pass")
    args = parser.parse_args()
    scorer = find_scorer(args.data)
    if scorer is None:
        print(f"no PDNC data with score.py at {args.data}; nothing to measure", file=sys.stderr)
        return 1
    command = f"{shlex.quote(sys.executable)} -m narrate.cli script --format jsonl"
    run = [sys.executable, str(scorer), str(args.data), "--cmd", command]
    if args.errors:
        run += ["--errors", str(args.errors)]
    result = subprocess.run(run, check=False)
    if args.by_pass:
        _by_pass(scorer, args.data)
    return result.returncode


def find_scorer(data: Path) -> Path | None:
    for folder in (data, data.parent, data.parent.parent):
        if (folder / "score.py").exists():
            return folder / "score.py"
    return None


def _by_pass(scorer: Path, data: Path) -> None:
    """Accuracy of each attribution pass, by the reason narrate gives for each quote."""
    spec = importlib.util.spec_from_file_location("pdnc_score", scorer)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)  # type: ignore[union-attr]

    from narrate.pipeline import make_script
    from narrate.readers import read_book
    from narrate.voices.load import default_voices_path, load_voices

    config = load_voices(default_voices_path()).config
    right: Counter = Counter()
    total: Counter = Counter()
    for folder in score.novel_dirs(data):
        script = make_script(read_book(folder / "novel_text.txt"), config)
        matcher = score.NameMatcher(score.load_characters(folder))
        index = score.SegmentIndex(
            [(s.start, s.end, f"{s.speaker}\t{s.reason}") for s in script.segments if s.is_dialogue]
        )
        for quote in score.load_quotes(folder):
            found = score.predicted_speaker(quote["spans"], index)
            if found is None:
                total["(not detected)"] += 1
                continue
            speaker, reason = found.split("\t")
            kind = re.sub(r":.*|\s*\[.*", "", reason).strip() or "(none)"
            total[kind] += 1
            right[kind] += quote["speaker"] in matcher.candidates(speaker)
    print(f"\n{'pass':<40} {'quotes':>7} {'right':>7}")
    for kind, count in total.most_common():
        print(f"{kind:<40} {count:7d} {right[kind] / count:7.1%}")


if __name__ == "__main__":
    sys.exit(main())
