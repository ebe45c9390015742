"""How far the turn-taking model can go on the PDNC dev novels, with oracles.

    python benchmarks/attribution_ceiling.py [PDNC_DIR] [--epochs N]

Every quote the speech tags leave open is decided by the turn-taking model from the
candidates of its conversation. This measures, per novel, on those open quotes:

- present: how often the gold speaker is among the conversation's candidates at all;
- model: how often the hand-weighted model picks the gold speaker;
- oracle presence: the same model, given only the candidates who really speak in the
  conversation (what perfect scene tracking could add);
- learned: weights learned on all fourteen novels by an averaged structured perceptron
  over the same features (in-sample: an upper bound for learning these weights).

The point is to know a lever's size before pulling it. The corpus stays outside the
repository; only figures are printed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_turns

from narrate.dialogue import turn_taking as turns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=train_turns.DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=6, help="perceptron passes")
    args = parser.parse_args()
    scorer = train_turns._load_scorer(args.data)
    if scorer is None:
        print(f"no PDNC data with score.py at {args.data}; nothing to measure", file=sys.stderr)
        return 1
    _SCORER.append(scorer)  # the workers are forked: they inherit it
    with multiprocessing.get_context("fork").Pool(2) as pool:
        novels = pool.map(_conversations, scorer.novel_dirs(args.data))
    learned = perceptron([c for _, conversations in novels for c in conversations], args.epochs)
    print(f"{'novel':30} {'open':>6} {'present':>8} {'model':>7} {'oracle':>7} {'learned':>8}")
    total: Counter = Counter()
    for name, conversations in novels:
        row = measure(conversations, learned)
        total.update(row)
        _print_row(name, row)
    _print_row("all", total)
    return 0


_SCORER: list = []


def _conversations(folder: Path) -> tuple[str, list]:
    novel = train_turns.Novel(folder, _SCORER[0])
    return novel.name, novel.conversations


def measure(conversations: list, learned: dict[str, float]) -> Counter:
    """Open turns; with the gold speaker among the candidates; right by each model."""
    row: Counter = Counter()
    for c in conversations:
        if not c.free():
            continue
        spoken = set().union(*[a for a in c.allowed if a])
        present = [name for name in c.candidates if name in spoken] or c.candidates
        paths = {
            "model": turns.best_path(c.turns, c.candidates, c.genders, c.salience, turns.WEIGHTS),
            "oracle": turns.best_path(c.turns, present, c.genders, c.salience, turns.WEIGHTS),
            "learned": turns.best_path(c.turns, c.candidates, c.genders, c.salience, learned),
        }
        for position, (turn, allowed) in enumerate(zip(c.turns, c.allowed, strict=True)):
            if turn.fixed:
                continue
            row["open"] += 1
            row["present"] += bool(allowed)
            for kind, path in paths.items():
                row[kind] += bool(allowed) and path[position] in allowed
    return row


def perceptron(conversations: list, epochs: int, rate: float = 0.2) -> dict[str, float]:
    """Averaged structured perceptron from the hand weights: the path the gold labels
    allow against the path the weights find, feature counts apart."""
    weights = dict(turns.DEFAULT_WEIGHTS)
    summed: Counter = Counter()
    steps = 0
    order = [c for c in conversations if c.free()]
    shuffle = random.Random(0).shuffle
    for _ in range(epochs):
        shuffle(order)
        for c in order:
            found = turns.best_path(c.turns, c.candidates, c.genders, c.salience, weights)
            gold = turns.best_path(c.turns, c.candidates, c.genders, c.salience, weights, c.allowed)
            if found != gold:
                wanted = turns.path_features(c.turns, gold, c.genders, c.salience)
                had = turns.path_features(c.turns, found, c.genders, c.salience)
                for name in weights:
                    weights[name] += rate * (wanted.get(name, 0.0) - had.get(name, 0.0))
            summed.update(weights)
            steps += 1
    return {name: summed[name] / max(1, steps) for name in weights}


def _print_row(name: str, row: Counter) -> None:
    share = [row[k] / max(1, row["open"]) for k in ("present", "model", "oracle", "learned")]
    print(f"{name:30} {row['open']:>6} " + " ".join(f"{s:>7.1%}" for s in share))


if __name__ == "__main__":
    sys.exit(main())
