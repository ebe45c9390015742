"""Turn-taking: the speakers of a conversation's quotes, decided together.

Pure. Speech tags settle some quotes for sure; for the rest, English prose relies on the
reader following the exchange: speakers alternate (A, B, A, B — on annotated novels the
speaker of an untagged quote is the speaker two quotes back about four times in five); a
new paragraph means a new speaker; the one addressed by name answers; nobody addresses
themselves; "she said" needs a woman; the person acting in the paragraph is likely the
one speaking. Each of these is a score, and the best sequence of speakers for the whole
conversation is found by dynamic programming over pairs of consecutive speakers (a
second-order Viterbi search), so a sure quote anywhere in the exchange informs every
quote around it, backwards as well as forwards.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Scores. Positive: evidence for; negative: against. Set by hand on how prose works and
#: checked on annotated novels; see benchmarks/attribution.py.
WEIGHTS: dict[str, float] = {
    "self_address": -8.0,  # a speaker names the one they speak to, not themselves
    "wrong_gender": -6.0,  # "she said" and a man
    "addressed_before": 2.5,  # named in the previous quote: answers now
    "same_paragraph": 6.0,  # two quotes of one paragraph: one speaker
    "new_paragraph_same": -3.0,  # a new paragraph of dialogue: a new speaker...
    "after_narration_same": -1.0,  # ...less so after narration between them
    "alternation": 2.0,  # A, B, A
    "third_voice": -1.0,  # A, B, C
    "salience": 0.4,  # how much the person is named around the exchange (log)
    "self_mention": -2.0,  # a speaker says "I", not their own name
    "addressee_gender": -1.0,  # "Yes, sir." answers a man, and a man answers "madam"
}


@dataclass
class Turn:
    """One quote of a conversation, with what the earlier passes found about it."""

    paragraph: int
    #: The speaker a sure pass found (a speech tag with a name), or None.
    fixed: str | None = None
    #: Candidate -> score from softer evidence (a pronoun tag, an action beat...), and why.
    hints: dict[str, tuple[float, str]] = field(default_factory=dict)
    #: The gender a pronoun tag asks for ("she said").
    gender: str | None = None
    addressees: Sequence[str] = ()
    #: Names the quote speaks of, not to.
    mentioned: Sequence[str] = ()
    #: The gender of the one spoken to ("sir", "madam"), when the quote says.
    addressee_gender: str | None = None
    #: Words of narration between the previous quote and this one.
    narration_before: int = 0


@dataclass(frozen=True)
class Decision:
    speaker: str
    reason: str


def decide(
    turns: Sequence[Turn],
    candidates: Sequence[str],
    genders: Mapping[str, str | None],
    salience: Mapping[str, float],
    weights: Mapping[str, float] = WEIGHTS,
) -> list[Decision]:
    """The most likely speaker of every turn, with the evidence that weighed most."""
    if not turns:
        return []
    people = list(dict.fromkeys(list(candidates) + [t.fixed for t in turns if t.fixed]))
    if not people:
        return []
    start = (None, None)
    # best[(previous, current)] = (score, back-pointer state)
    best: dict[tuple[str | None, str | None], tuple[float, tuple | None]] = {start: (0.0, None)}
    history: list[dict] = []
    for position, turn in enumerate(turns):
        options = [turn.fixed] if turn.fixed else people
        emissions = {
            c: _emission(turn, c, turns, position, genders, salience, weights) for c in options
        }
        following: dict[tuple, tuple[float, tuple]] = {}
        for (before, previous), (score, _) in best.items():
            for current in options:
                total = (
                    score
                    + emissions[current]
                    + _transition(turn, before, previous, current, turns, position, weights)
                    + _addressed(turn, previous, current, turns, position, genders, weights)
                )
                state = (previous, current)
                if state not in following or total > following[state][0]:
                    following[state] = (total, (before, previous))
        history.append(following)
        best = following
    # Follow the back-pointers from the best final state.
    state = max(best, key=lambda key: best[key][0])
    speakers: list[str] = []
    for following in reversed(history):
        speakers.append(state[1])
        state = following[state][1]
    speakers.reverse()
    return [
        Decision(speaker, _why(turns, position, speakers, speaker))
        for position, speaker in enumerate(speakers)
    ]


def _emission(
    turn: Turn,
    candidate: str,
    turns: Sequence[Turn],
    position: int,
    genders: Mapping[str, str | None],
    salience: Mapping[str, float],
    weights: Mapping[str, float],
) -> float:
    if turn.fixed:
        return 0.0
    score = 0.0
    if candidate in turn.addressees:
        score += weights["self_address"]
    known = genders.get(candidate)
    if turn.gender and known and known != turn.gender:
        score += weights["wrong_gender"]
    if candidate in turn.mentioned:
        score += weights["self_mention"]
    if candidate in turn.hints:
        score += turn.hints[candidate][0]
    previous = turns[position - 1] if position else None
    if previous and candidate in previous.addressees and previous.paragraph != turn.paragraph:
        score += weights["addressed_before"]
    score += weights["salience"] * math.log1p(salience.get(candidate, 0.0))
    return score


def _transition(
    turn: Turn,
    before: str | None,
    previous: str | None,
    current: str,
    turns: Sequence[Turn],
    position: int,
    weights: Mapping[str, float],
) -> float:
    if previous is None:
        return 0.0
    same_paragraph = turns[position - 1].paragraph == turn.paragraph
    if current == previous:
        if same_paragraph:
            return weights["same_paragraph"]
        if turn.narration_before:
            return weights["after_narration_same"]
        return weights["new_paragraph_same"]
    if same_paragraph:
        return -weights["same_paragraph"]
    if before is None:
        return 0.0
    return weights["alternation"] if current == before else weights["third_voice"]


def _addressed(
    turn: Turn,
    previous: str | None,
    current: str,
    turns: Sequence[Turn],
    position: int,
    genders: Mapping[str, str | None],
    weights: Mapping[str, float],
) -> float:
    """The one called "sir" is who spoke before, and who answers next."""
    if previous is None or previous == current:
        return 0.0
    score = 0.0
    wanted = turn.addressee_gender
    if wanted and genders.get(previous) and genders[previous] != wanted:
        score += weights["addressee_gender"]
    wanted = turns[position - 1].addressee_gender
    if wanted and genders.get(current) and genders[current] != wanted:
        score += weights["addressee_gender"]
    return score


def _why(turns: Sequence[Turn], position: int, speakers: list[str], speaker: str) -> str:
    turn = turns[position]
    if turn.fixed:
        return ""
    if speaker in turn.hints:
        return turn.hints[speaker][1]
    if position and turns[position - 1].paragraph == turn.paragraph:
        return "turns: continues the paragraph's speech"
    if position and speaker in turns[position - 1].addressees:
        return f"turns: {speaker} was addressed in the quote before"
    if position >= 2 and speakers[position - 2] == speaker != speakers[position - 1]:
        return f"turns: alternates with {speakers[position - 1]}"
    if position + 2 < len(turns) and speakers[position + 2] == speaker:
        return f"turns: alternates with {speakers[position + 1]}"
    return "turns: the likeliest person in the exchange"
