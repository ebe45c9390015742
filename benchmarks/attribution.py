"""Speaker attribution on the PDNC dev novels, end to end, scored with the corpus's scorer.

    python benchmarks/attribution.py [PDNC_DIR] [--errors N] [--by-pass] [--novel NAME]

PDNC_DIR defaults to ../shared/pdnc/dev beside the repository. Each novel is read and
attributed in process (what ``narrate script --format jsonl`` prints) and scored with the
corpus's own ``score.py``. Printed per novel: accuracy over all quotations and by type
(explicit, anaphoric, implicit), characters in one voice (as ``one_voice.py`` counts
them: a gold character of 10 or more quotes to whom exactly one predicted speaker
belongs), people split over several voices, voices carrying two people, the seconds it
took, and the change in accuracy against the last run (kept in
``benchmarks/.last-attribution.json``, outside version control). ``--by-pass`` adds how
often each attribution pass was right. The corpus is research data and stays outside
the repository; nothing here is derived from it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "pdnc" / "dev"
LAST_RUN = Path(__file__).resolve().parent / ".last-attribution.json"
#: one_voice.py's thresholds: characters with this many quotes count; a voice of fewer
#: than three quotes is not heard as anyone's.
MIN_QUOTES = 10
MIN_VOICE = 3
TYPES = ("Explicit", "Anaphoric", "Implicit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--errors", type=int, default=0, help="show N wrong quotes per novel")
    parser.add_argument("--by-pass", action="store_true", help="accuracy of each pass")
    parser.add_argument("--novel", action="append", help="only these novels (repeatable)")
    parser.add_argument("--show-voices", action="store_true", help="list split and merged")
    parser.add_argument("--jobs", type=int, default=2, help="novels measured at once")
    parser.add_argument(
        "--calibrate", action="store_true", help="fit and check the confidence of each pass"
    )
    args = parser.parse_args()
    scorer = find_scorer(args.data)
    if scorer is None:
        print(f"no PDNC data with score.py at {args.data}; nothing to measure", file=sys.stderr)
        return 1
    score = _load(scorer)
    folders = [f for f in score.novel_dirs(args.data) if not args.novel or f.name in args.novel]
    count = len(folders)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(measure, [str(scorer)] * count, map(str, folders), [args] * count))
    last = json.loads(LAST_RUN.read_text()) if LAST_RUN.exists() else {}
    _print_table(results, last)
    if not args.novel:
        LAST_RUN.write_text(json.dumps({r["novel"]: r["accuracy"] for r in results}, indent=1))
    for result in results:
        if result["wrong"] or result["voices"]:
            print(f"\n{result['novel']}")
            for line in result["wrong"] + result["voices"]:
                print(line)
    if args.by_pass:
        _print_passes(results)
    if args.calibrate:
        _calibrate(results)
    return 0


def find_scorer(data: Path) -> Path | None:
    for folder in (data, data.parent, data.parent.parent):
        if (folder / "score.py").exists():
            return folder / "score.py"
    return None


def _load(scorer: Path):
    spec = importlib.util.spec_from_file_location("pdnc_score", scorer)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)  # type: ignore[union-attr]
    return score


def measure(scorer: str, folder_name: str, args) -> dict:
    """One novel: its script, scored; its voices, counted."""
    from narrate.output.views import records
    from narrate.pipeline import make_script
    from narrate.readers import read_book
    from narrate.voices.load import default_voices_path, load_voices

    score = _load(Path(scorer))
    folder = Path(folder_name)
    config = load_voices(default_voices_path()).config
    started = time.perf_counter()
    script = make_script(read_book(folder / "novel_text.txt"), config)
    lines = [json.dumps(record) for record in records(script)]
    seconds = time.perf_counter() - started
    result = score.score_novel(folder, lines, args.errors)
    text = (folder / "novel_text.txt").read_text(encoding="utf-8")
    segments, _ = score.read_predictions(lines, text)
    index = score.SegmentIndex(segments)
    matcher = score.NameMatcher(score.load_characters(folder))
    quotes = score.load_quotes(folder)
    voices = _voices(score, quotes, index, matcher)
    counts = Counter(quote["type"] for quote in quotes)
    passes = _passes(score, script, quotes, matcher) if args.by_pass else {}
    sureness = _sureness(score, script, quotes, matcher, args.calibrate)
    return {
        "novel": folder.name,
        "quotes": result["quotes"],
        "accuracy": result["accuracy"],
        "by_type": {t: (result["by_type"].get(t, 0.0), counts[t]) for t in TYPES},
        "seconds": seconds,
        "wrong": result["wrong"],
        "one_voice": voices["one"],
        "characters": voices["characters"],
        "split": voices["split"],
        "merged": voices["merged"],
        "voices": voices["lines"] if args.show_voices else [],
        "passes": passes,
        "sureness": sureness,
    }


def _voices(score, quotes, index, matcher) -> dict:
    """Who is heard in how many voices, counted as one_voice.py counts it."""
    said: Counter = Counter()
    by_voice: dict[str, Counter] = defaultdict(Counter)
    for quote in quotes:
        voice = score.predicted_speaker(quote["spans"], index)
        mains = matcher.exact.get(score.norm(quote["speaker"]), set())
        person = next(iter(mains)) if len(mains) == 1 else quote["speaker"]
        said[person] += 1
        if voice:
            by_voice[voice][person] += 1
    owner = {voice: people.most_common(1)[0][0] for voice, people in by_voice.items()}
    voices_of: dict[str, list[str]] = defaultdict(list)
    for voice, person in owner.items():
        if sum(by_voice[voice].values()) >= MIN_VOICE:
            voices_of[person].append(voice)
    people = [person for person, count in said.items() if count >= MIN_QUOTES]
    split = [person for person in people if len(voices_of.get(person, [])) >= 2]
    merged = [
        voice
        for voice, heard in by_voice.items()
        if sum(heard.values()) >= MIN_QUOTES
        and len(heard) > 1
        and heard.most_common(2)[1][1] / sum(heard.values()) >= 0.25
    ]
    lines = [f"    split  {person}: {voices_of[person]}" for person in split]
    lines += [f"    merged {voice!r}: {dict(by_voice[voice].most_common(3))}" for voice in merged]
    one = sum(1 for person in people if len(voices_of.get(person, [])) == 1)
    return {
        "one": one,
        "characters": len(people),
        "split": len(split),
        "merged": len(merged),
        "lines": lines,
    }


def _passes(score, script, quotes, matcher) -> dict:
    """For each attribution pass: (quotes it decided, how many of them right)."""
    import narrate.dialogue.attribution as attribution

    index = score.SegmentIndex(
        [(s.start, s.end, f"{s.speaker}\t{s.reason}") for s in script.segments if s.is_dialogue]
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for quote in quotes:
        found = score.predicted_speaker(quote["spans"], index)
        if found is None:
            counts["(not detected)"][0] += 1
            continue
        speaker, reason = found.split("\t")
        kind = attribution.pass_of(reason)
        counts[kind][0] += 1
        counts[kind][1] += bool(matcher.candidates(speaker) & matcher.gold(quote["speaker"]))
    return dict(counts)


def _sureness(score, script, quotes, matcher, margins: bool) -> list[tuple]:
    """Per gold quote: (pass, confidence, right), and with ``margins`` the turn-taking
    margin behind the confidence (the script is made again with the margins kept)."""
    import math

    import narrate.dialogue.attribution as attribution

    if margins:
        from narrate.pipeline import make_script
        from narrate.voices.load import default_voices_path, load_voices

        kept = attribution.confidence
        attribution.confidence = lambda reason, margin: margin
        try:
            config = load_voices(default_voices_path()).config
            with_margins = make_script(script.book, config)
        finally:
            attribution.confidence = kept
        margin_of = {s.start: s.confidence for s in with_margins.segments if s.is_dialogue}
    index = score.SegmentIndex(
        [(s.start, s.end, s) for s in script.segments if s.is_dialogue and s.confidence is not None]
    )
    found = []
    for quote in quotes:
        cover: Counter = Counter()
        segments = {}
        for start, end in quote["spans"]:
            for a, b, segment in index.overlapping(start, end):
                cover[a] += min(end, b) - max(start, a)
                segments[a] = segment
        if not cover:
            continue
        segment = segments[cover.most_common(1)[0][0]]
        right = bool(matcher.candidates(segment.speaker) & matcher.gold(quote["speaker"]))
        margin = margin_of.get(segment.start, math.inf) if margins else math.inf
        found.append((attribution.pass_of(segment.reason), segment.confidence, right, margin))
    return found


def _calibrate(results: list[dict]) -> None:
    """How well the confidence says how often narrate is right: by pass, in bands, the
    least sure tenth against the rest, and the margin curve fitted on all novels and on
    all but each one (leave one novel out)."""
    import math

    everything = [item for r in results for item in r["sureness"]]
    print(f"\n{'pass':<32} {'quotes':>7} {'right':>7} {'confidence':>11}")
    kinds: dict[str, list] = defaultdict(list)
    for kind, sure, right, _ in everything:
        kinds[kind].append((sure, right))
    for kind, items in sorted(kinds.items(), key=lambda item: -len(item[1])):
        right = sum(r for _, r in items) / len(items)
        mean = sum(s for s, _ in items) / len(items)
        print(f"{kind:<32} {len(items):7d} {right:7.1%} {mean:11.2f}")
    print(f"\n{'confidence':<12} {'quotes':>7} {'right':>7}")
    bands = [(0.0, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)]
    for low, high in bands:
        items = [right for _, sure, right, _ in everything if low <= sure < high]
        if items:
            print(
                f"{low:.1f}-{min(high, 1.0):.1f}     {len(items):7d} {sum(items) / len(items):7.1%}"
            )
    ordered = sorted(everything, key=lambda item: item[1])
    tenth = len(ordered) // 10
    least, rest = ordered[:tenth], ordered[tenth:]
    low_error = 1 - sum(item[2] for item in least) / len(least)
    rest_error = 1 - sum(item[2] for item in rest) / len(rest)
    print(
        f"least sure tenth: {low_error:.1%} wrong; the rest: {rest_error:.1%} wrong;"
        f" {low_error / rest_error:.1f} times"
    )

    # The margin curve of the turn-taking model's choices, fitted by log loss.
    def fit(items):
        best = None
        for low in [x / 100 for x in range(10, 70, 5)]:
            for high in [x / 100 for x in range(70, 100, 2)]:
                for scale in (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0):
                    loss = 0.0
                    for _, _, right, margin in items:
                        p = high - (high - low) * math.exp(-margin / scale)
                        p = min(max(p, 1e-3), 1 - 1e-3)
                        loss -= math.log(p if right else 1 - p)
                    if best is None or loss < best[0]:
                        best = (loss, low, high, scale)
        return best[1:]

    decided = [item for item in everything if not math.isinf(item[3])]
    if not decided:
        return
    print(
        f"\nturn-taking choices: {len(decided)}; fitted (low, high, scale) on all: {fit(decided)}"
    )
    by_kind: dict[str, list] = defaultdict(list)
    for item in decided:
        by_kind[item[0]].append(item)
    for kind, items in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        if len(items) >= 150:
            print(f"  {kind:<32} {len(items):6d} {fit(items)}")
    for r in results:
        held = [item for item in r["sureness"] if not math.isinf(item[3])]
        others = [
            item
            for other in results
            if other is not r
            for item in other["sureness"]
            if not math.isinf(item[3])
        ]
        if held:
            print(f"  without {r['novel']:<30} {fit(others)}")


def _print_table(results: list[dict], last: dict) -> None:
    header = (
        f"{'novel':<30} {'quotes':>6} {'acc':>6} {'change':>7} {'expl':>6} {'anap':>6}"
        f" {'impl':>6} {'1 voice':>8} {'split':>5} {'merged':>6} {'s':>5}"
    )
    print(header)
    totals: Counter = Counter()
    for r in results:
        change = r["accuracy"] - last[r["novel"]] if r["novel"] in last else None
        shown = f"{change * 100:+6.1f}" if change is not None else "      "
        types = " ".join(f"{r['by_type'][t][0]:6.1%}" for t in TYPES)
        voice = r["one_voice"] / max(1, r["characters"])
        print(
            f"{r['novel']:<30} {r['quotes']:6d} {r['accuracy']:6.1%} {shown} {types}"
            f" {voice:8.0%} {r['split']:5d} {r['merged']:6d} {r['seconds']:5.1f}"
        )
        totals["quotes"] += r["quotes"]
        totals["right"] += round(r["accuracy"] * r["quotes"])
        for t in TYPES:
            share, count = r["by_type"][t]
            totals[t] += count
            totals[t + " right"] += round(share * count)
        for key in ("one_voice", "characters", "split", "merged"):
            totals[key] += r[key]
        totals["seconds"] += r["seconds"]
    worst = min(results, key=lambda r: r["accuracy"])
    types = " ".join(f"{totals[t + ' right'] / max(1, totals[t]):6.1%}" for t in TYPES)
    print(
        f"{'all':<30} {totals['quotes']:6d} {totals['right'] / totals['quotes']:6.1%}"
        f" {'':>7} {types} {totals['one_voice'] / max(1, totals['characters']):8.1%}"
        f" {totals['split']:5d} {totals['merged']:6d} {totals['seconds']:5.1f}"
    )
    print(f"lowest: {worst['novel']} {worst['accuracy']:.1%}")


def _print_passes(results: list[dict]) -> None:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        for kind, (total, right) in r["passes"].items():
            counts[kind][0] += total
            counts[kind][1] += right
    print(f"\n{'pass':<40} {'quotes':>7} {'right':>7}")
    for kind, (total, right) in sorted(counts.items(), key=lambda item: -item[1][0]):
        print(f"{kind:<40} {total:7d} {right / max(1, total):7.1%}")


if __name__ == "__main__":
    sys.exit(main())
