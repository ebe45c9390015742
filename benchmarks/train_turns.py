"""Learn the turn-taking weights (narrate/dialogue/data/turn_weights.json) from annotated novels.

    python benchmarks/train_turns.py [PDNC_DIR] [--rounds N] [--write] [--no-loo]

Everything before turn-taking (quotes, characters, speech tags, hints) is computed once
with the code as it is; each conversation is kept as the turn-taking model sees it, with
the speakers its gold labels allow. Then coordinate ascent, from the hand-set weights:
each weight in turn tries a few steps up and down and keeps the one that gets the most
turns right (turns whose gold speaker is none of the candidates do not count), for a few
rounds. (A structured perceptron was tried first; on these features it did worse than
the hand-set weights, on the novels it learned from as well.)

It prints the accuracy of the whole pipeline (the PDNC scorer's rule) per novel with
the hand weights, with weights learned leaving that novel out (what to expect on a
novel never seen), and with weights learned on all of them; ``--write`` saves the last
ones into the package. PDNC_DIR defaults to ../shared/pdnc/dev beside the repository;
the corpus stays outside the repository, and only the learned numbers go in.
"""

from __future__ import annotations

import argparse
import bisect
import importlib.util
import json
import multiprocessing
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from attribution import find_scorer  # noqa: E402  (benchmarks/ is on the path)

from narrate.dialogue import attribution as speakers  # noqa: E402
from narrate.dialogue import turn_taking as turns  # noqa: E402
from narrate.model import NARRATOR  # noqa: E402
from narrate.pipeline import make_script  # noqa: E402
from narrate.readers import read_book  # noqa: E402
from narrate.voices.load import default_voices_path, load_voices  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "pdnc" / "dev"
WEIGHTS_FILE = ROOT / "narrate" / "dialogue" / "data" / "turn_weights.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the weights")
    parser.add_argument("--write", action="store_true", help="save the weights learned on all")
    parser.add_argument("--no-loo", action="store_true", help="skip leave-one-novel-out")
    args = parser.parse_args()
    scorer = _load_scorer(args.data)
    if scorer is None:
        print(f"no PDNC data with score.py at {args.data}; nothing to learn", file=sys.stderr)
        return 1
    turns.WEIGHTS.clear()
    turns.WEIGHTS.update(turns.DEFAULT_WEIGHTS)
    novels = [Novel(folder, scorer) for folder in scorer.novel_dirs(args.data)]
    print(f"{len(novels)} novels, {sum(len(n.conversations) for n in novels)} conversations")
    rows = {n.name: {"hand": n.accuracy(turns.DEFAULT_WEIGHTS)} for n in novels}
    _NOVELS[:] = novels
    folds = [] if args.no_loo else list(range(len(novels)))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        learned_all = pool.apply_async(_learn, (None, args.rounds))
        scores = pool.starmap(_learn_and_score, [(f, args.rounds) for f in folds])
        for fold, accuracy in zip(folds, scores, strict=True):
            rows[novels[fold].name]["left out"] = accuracy
        learned = learned_all.get()
    for novel in novels:
        rows[novel.name]["all six"] = novel.accuracy(learned)
    _print_table(rows, novels)
    if args.write:
        payload = {
            "about": "Turn-taking weights learned by benchmarks/train_turns.py "
            f"({args.rounds} rounds of coordinate ascent) on {len(novels)} annotated novels.",
            "weights": {k: round(v, 3) for k, v in sorted(learned.items())},
        }
        WEIGHTS_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE.relative_to(ROOT)}")
    return 0


class Conversation:
    """One call of the turn-taking model, with the speakers the gold labels allow."""

    def __init__(self, args: tuple, allowed: list[set[str] | None]) -> None:
        self.turns, self.candidates, self.genders, self.salience = args
        self.allowed = allowed

    def free(self) -> bool:
        return any(not t.fixed for t in self.turns)


class Novel:
    """A novel read once: its conversations as the turn-taking model sees them."""

    def __init__(self, folder: Path, scorer) -> None:
        self.name = folder.name
        self.scorer = scorer
        self.book = read_book(folder / "novel_text.txt")
        self.matcher = scorer.NameMatcher(scorer.load_characters(folder))
        self.quotes = scorer.load_quotes(folder)
        self.config = load_voices(default_voices_path()).config
        calls: list[tuple] = []
        original = speakers.decide

        def record(turn_list, candidates, genders, salience, *rest, **options):
            calls.append((turn_list, candidates, genders, salience))
            return original(turn_list, candidates, genders, salience, *rest, **options)

        speakers.decide = record
        try:
            narrator = make_script(self.book, self.config).narrator_name
        finally:
            speakers.decide = original
        starts = [q["spans"][0][0] for q in self.quotes]
        self.conversations = []
        for call in calls:
            people = turns.people_of(call[0], call[1])
            allowed = []
            for turn in call[0]:
                gold = self._gold_at(turn.start, starts)
                wanted = self.matcher.gold(gold) if gold else set()
                names = {
                    p
                    for p in people
                    if wanted
                    & self.matcher.candidates(narrator if p == NARRATOR and narrator else p)
                }
                allowed.append(names or None)
            self.conversations.append(Conversation(call, allowed))

    def _gold_at(self, start: int, starts: list[int]) -> str | None:
        index = bisect.bisect_right(starts, start) - 1
        if index >= 0 and any(a <= start < b for a, b in self.quotes[index]["spans"]):
            return self.quotes[index]["speaker"]
        return None

    def accuracy(self, weights: dict[str, float]) -> float:
        saved = dict(turns.WEIGHTS)
        turns.WEIGHTS.clear()
        turns.WEIGHTS.update(weights)
        try:
            script = make_script(self.book, self.config)
        finally:
            turns.WEIGHTS.clear()
            turns.WEIGHTS.update(saved)
        index = self.scorer.SegmentIndex(
            [(s.start, s.end, s.speaker) for s in script.segments if s.is_dialogue]
        )
        right = 0
        for quote in self.quotes:
            predicted = self.scorer.predicted_speaker(quote["spans"], index)
            right += bool(predicted) and bool(
                self.matcher.gold(quote["speaker"]) & self.matcher.candidates(predicted)
            )
        return right / len(self.quotes)


_NOVELS: list[Novel] = []  # shared with the worker processes (forked)


def _learn(left_out: int | None, rounds: int) -> dict[str, float]:
    conversations = [c for i, n in enumerate(_NOVELS) if i != left_out for c in n.conversations]
    return ascend(conversations, rounds)


def _learn_and_score(left_out: int, rounds: int) -> float:
    return _NOVELS[left_out].accuracy(_learn(left_out, rounds))


def ascend(conversations: list[Conversation], rounds: int = 3) -> dict[str, float]:
    """Coordinate ascent from the hand-set weights on the share of turns right: each
    weight in turn tries a few steps up and down and keeps the best."""
    weights = dict(turns.DEFAULT_WEIGHTS)
    order = [c for c in conversations if c.free()]
    best = _right(order, weights)
    for _ in range(rounds):
        moved = False
        for name in sorted(weights):
            step = max(0.5, abs(weights[name]) * 0.25)
            for delta in (-2 * step, -step, step, 2 * step):
                trial = dict(weights, **{name: weights[name] + delta})
                score = _right(order, trial)
                if score > best:
                    best, weights, moved = score, trial, True
        if not moved:
            break
    return weights


def _right(conversations: list[Conversation], weights: dict[str, float]) -> int:
    """Turns (with a gold speaker among the candidates) the weights get right."""
    right = 0
    for c in conversations:
        path = turns.best_path(c.turns, c.candidates, c.genders, c.salience, weights)
        for turn, allowed, speaker in zip(c.turns, c.allowed, path, strict=False):
            if not turn.fixed and allowed is not None:
                right += speaker in allowed
    return right


def _print_table(rows: dict[str, dict[str, float]], novels: list[Novel]) -> None:
    columns = [c for c in ("hand", "left out", "all six") if c in next(iter(rows.values()))]
    print(f"{'novel':34}" + "".join(f"{c:>10}" for c in columns))
    for name, row in rows.items():
        print(f"{name:34}" + "".join(f"{row[c]:>10.3f}" for c in columns))
    sizes = {n.name: len(n.quotes) for n in novels}
    total = sum(sizes.values())
    print(
        f"{'all quotes':34}"
        + "".join(f"{sum(rows[n][c] * sizes[n] for n in rows) / total:>10.3f}" for c in columns)
    )


def _load_scorer(data: Path):
    """The corpus's score.py as a module, found as benchmarks/attribution.py finds it."""
    path = find_scorer(data)
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location("pdnc_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


if __name__ == "__main__":
    sys.exit(main())
