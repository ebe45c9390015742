"""Turn-taking: the speakers of a conversation's quotes, decided together.

Pure. Speech tags settle some quotes for sure; for the rest, English prose relies on the
reader following the exchange: speakers alternate (A, B, A, B — on annotated novels the
speaker of an untagged quote is the speaker two quotes back about four times in five); a
new paragraph means a new speaker; the one addressed by name answers; nobody addresses
themselves; "she said" needs a woman; the person acting in the paragraph is likely the
one speaking. Each of these is a named feature with a weight, and the best sequence of
speakers for the whole conversation is found by dynamic programming over pairs of
consecutive speakers (a second-order Viterbi search), so a sure quote anywhere in the
exchange informs every quote around it, backwards as well as forwards.

The weights are set by hand (``DEFAULT_WEIGHTS``). ``benchmarks/train_turns.py`` learns
them from annotated novels instead and writes ``dialogue/data/turn_weights.json``, used
when present; so far learned weights do worse than these on novels left out of the
learning, so none are shipped.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from narrate.model import NARRATOR

#: Hand-set weights: positive is evidence for, negative against. A hint's weight is
#: "hint:" + its kind ("hint:tag:pronoun" for "he said" resolved to someone).
DEFAULT_WEIGHTS: dict[str, float] = {
    "self_address": -8.0,  # a speaker names the one they speak to, not themselves
    "wrong_gender": -6.0,  # "she said" and a man
    "addressed_before": 2.5,  # named in the previous quote: answers now
    "same_paragraph": 6.0,  # two quotes of one paragraph: one speaker
    "same_paragraph_other": -6.0,  # ...not two
    "new_paragraph_same": -3.0,  # a new paragraph of dialogue: a new speaker...
    "after_narration_same": -1.0,  # ...less so after narration between them
    "alternation": 2.0,  # A, B, A
    "third_voice": -1.0,  # A, B, C
    "salience": 0.4,  # how much the person is named around the exchange (log)
    "self_mention": -2.0,  # a speaker says "I", not their own name
    "addressee_gender": -1.0,  # "Yes, sir." answers a man, and a man answers "madam"
    "named_before": 0.0,  # named in the narration just before the quote
    "named_after": 0.0,  # named in the narration after it, in its paragraph
    "narrator": 0.0,  # the first-person narrator
    "gender_unknown": 0.0,  # "she said" and someone whose gender is not known
    "hint:tag:pronoun": 4.5,  # "he said", resolved to the last man named
    "hint:tag:pronoun_outsider": 1.5,  # ...who takes no part in the exchange
    "hint:tag:relation": 3.0,  # "said his wife"
    "hint:tag:description": 3.0,  # "returned the young girl"
    "hint:tag:epithet": 12.0,  # "said the stranger", a description used like a name
    "hint:tag:described": 3.5,  # the last woman named, for "said the tall woman"
    "hint:tag:other": 3.0,
    "hint:beat:name": 4.0,  # "Spike squeezed her hand." beside the quote
    "hint:beat:pronoun": 4.0,
    "hint:beat:perceived": 4.0,  # "Buffy heard Spike chuckle"
    "hint:beat:other": 4.0,
    "hint:previous:name": 2.0,  # the one acting in the paragraph before
    "hint:previous:pronoun": 2.0,
    "hint:previous:perceived": 4.0,
    "hint:previous:speech": 4.0,  # "...and spoke in a rush."
    "hint:previous:other": 2.0,
    "hint:listening": -6.0,  # "she sat on the stairs and listened"
}


def hint_kind(source: str, why: str) -> str:
    """The weight name of a hint from ``source`` (tag, beat, previous) found by ``why``."""
    kind = f"hint:{source}:{why}"
    return kind if kind in DEFAULT_WEIGHTS else f"hint:{source}:other"


@dataclass
class Turn:
    """One quote of a conversation, with what the earlier passes found about it."""

    paragraph: int
    #: The speaker a sure pass found (a speech tag with a name), or None.
    fixed: str | None = None
    #: Candidate -> (hint kind, why) from softer evidence: a pronoun tag, an action beat…
    hints: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: The gender a pronoun tag asks for ("she said").
    gender: str | None = None
    addressees: Sequence[str] = ()
    #: Names the quote speaks of, not to.
    mentioned: Sequence[str] = ()
    #: The gender of the one spoken to ("sir", "madam"), when the quote says.
    addressee_gender: str | None = None
    #: Words of narration between the previous quote and this one.
    narration_before: int = 0
    #: The narration right before the quote leads into it ("To which Mrs. Crane
    #: answered,"): a new voice may start even inside a paragraph.
    introduced: bool = False
    #: Where the quote starts in the source (for training and debugging).
    start: int = 0
    #: People named in the narration just before the quote, and right after it in its
    #: paragraph.
    named_before: Collection[str] = ()
    named_after: Collection[str] = ()


@dataclass(frozen=True)
class Decision:
    speaker: str
    reason: str
    #: How much better the best reading of the conversation is than the best one with
    #: another speaker for this quote (infinite for a quote a speech tag settled).
    margin: float = math.inf
    #: That other speaker.
    runner_up: str | None = None


def load_weights(text: str | None = None) -> dict[str, float]:
    """The hand-set weights, overlaid with learned ones: ``text`` (JSON with a "weights"
    object) or else the package's ``data/turn_weights.json`` when there is one. Names
    that are not features here are ignored."""
    weights = dict(DEFAULT_WEIGHTS)
    if text is None:
        try:
            text = (
                resources.files("narrate.dialogue")
                .joinpath("data/turn_weights.json")
                .read_text("utf-8")
            )
        except FileNotFoundError:
            return weights
    learned = json.loads(text)["weights"]
    weights.update({k: float(v) for k, v in learned.items() if k in DEFAULT_WEIGHTS})
    return weights


WEIGHTS: dict[str, float] = load_weights()


def decide(
    turns: Sequence[Turn],
    candidates: Sequence[str],
    genders: Mapping[str, str | None],
    salience: Mapping[str, float],
    weights: Mapping[str, float] | None = None,
    allowed: Sequence[set[str] | None] | None = None,
) -> list[Decision]:
    """The most likely speaker of every turn, with the evidence that weighed most.

    ``allowed`` (for training) limits each turn to some speakers: the path the gold
    labels allow."""
    weights = WEIGHTS if weights is None else weights
    found = search(turns, candidates, genders, salience, weights, allowed)
    speakers = found.speakers
    return [
        Decision(
            speaker,
            _why(turns, position, speakers, speaker),
            found.margins[position],
            found.runners_up[position],
        )
        for position, speaker in enumerate(speakers)
    ]


def people_of(turns: Sequence[Turn], candidates: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(list(candidates) + [t.fixed for t in turns if t.fixed]))


def best_path(
    turns: Sequence[Turn],
    candidates: Sequence[str],
    genders: Mapping[str, str | None],
    salience: Mapping[str, float],
    weights: Mapping[str, float],
    allowed: Sequence[set[str] | None] | None = None,
) -> list[str]:
    """The most likely speaker of every turn (see :func:`search`)."""
    return search(turns, candidates, genders, salience, weights, allowed).speakers


@dataclass
class Search:
    """The best reading of a conversation, and for each quote how sure it is: the margin
    by which it beats the best reading that gives the quote to someone else, and who."""

    speakers: list[str]
    margins: list[float]
    runners_up: list[str | None]


def search(
    turns: Sequence[Turn],
    candidates: Sequence[str],
    genders: Mapping[str, str | None],
    salience: Mapping[str, float],
    weights: Mapping[str, float],
    allowed: Sequence[set[str] | None] | None = None,
) -> Search:
    """A second-order Viterbi search over who speaks each turn, then a backward pass, so
    that for every turn and speaker the best whole reading with that speaker there is
    known (its max-marginal): the margins come from those."""
    people = people_of(turns, candidates) if turns else []
    if not people:
        return Search([], [], [])
    start = (None, None)
    # best[(previous, current)] = (score, back-pointer state)
    best: dict[tuple[str | None, str | None], tuple[float, tuple | None]] = {start: (0.0, None)}
    history: list[dict] = []
    steps: list[tuple[list[str], dict[str, float], object]] = []
    for position, turn in enumerate(turns):
        options = [turn.fixed] if turn.fixed else people
        if allowed is not None and allowed[position] and not turn.fixed:
            options = [c for c in options if c in allowed[position]] or options
        emissions = {
            c: _dot(weights, emission_features(turn, c, turns, position, genders, salience))
            for c in options
        }
        transition = _transition_scorer(turn, turns, position, genders, weights)
        steps.append((options, emissions, transition))
        following: dict[tuple, tuple[float, tuple]] = {}
        for (before, previous), (score, _) in best.items():
            for current in options:
                total = score + emissions[current] + transition(before, previous, current)
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
    margins, runners_up = _margins(history, steps, speakers)
    return Search(speakers, margins, runners_up)


def _margins(
    history: list[dict], steps: list[tuple], speakers: list[str]
) -> tuple[list[float], list[str | None]]:
    """For each turn, the best reading's lead over the best reading with another speaker
    there, and that speaker: forward scores (``history``) plus the best continuation."""
    rest: dict = {state: 0.0 for state in history[-1]}
    after: list[dict] = [rest]
    for position in range(len(history) - 1, 0, -1):
        options, emissions, transition = steps[position]
        earlier: dict = {}
        for before, previous in history[position - 1]:
            earlier[before, previous] = max(
                emissions[current]
                + transition(before, previous, current)
                + rest.get((previous, current), -math.inf)
                for current in options
            )
        rest = earlier
        after.append(rest)
    after.reverse()
    margins: list[float] = []
    runners_up: list[str | None] = []
    for position, chosen in enumerate(speakers):
        whole: dict[str, float] = {}
        for state, (score, _) in history[position].items():
            total = score + after[position].get(state, -math.inf)
            whole[state[1]] = max(whole.get(state[1], -math.inf), total)
        others = [(total, speaker) for speaker, total in whole.items() if speaker != chosen]
        if not others:
            margins.append(math.inf)
            runners_up.append(None)
            continue
        second, runner_up = max(others)
        margins.append(max(0.0, whole[chosen] - second))
        runners_up.append(runner_up)
    return margins, runners_up


def path_features(
    turns: Sequence[Turn],
    speakers: Sequence[str],
    genders: Mapping[str, str | None],
    salience: Mapping[str, float],
) -> Counter:
    """The feature counts of one sequence of speakers: what a path's score is made of."""
    total: Counter = Counter()
    for position, turn in enumerate(turns):
        current = speakers[position]
        previous = speakers[position - 1] if position else None
        before = speakers[position - 2] if position >= 2 else None
        total.update(emission_features(turn, current, turns, position, genders, salience))
        features = transition_features(turn, before, previous, current, turns, position)
        _addressed(features, turn, previous, current, turns, position, genders)
        total.update(features)
    return total


def _transition_scorer(
    turn: Turn,
    turns: Sequence[Turn],
    position: int,
    genders: Mapping[str, str | None],
    weights: Mapping[str, float],
):
    """``transition_features`` and ``_addressed`` dotted with the weights, made fast: the
    search calls this for every pair of speakers at every turn."""
    same_paragraph = position > 0 and _one_paragraph(turns[position - 1], turn)
    if same_paragraph:
        same = weights.get("same_paragraph", 0.0)
    elif turn.narration_before:
        same = weights.get("after_narration_same", 0.0)
    else:
        same = weights.get("new_paragraph_same", 0.0)
    other = weights.get("same_paragraph_other", 0.0)
    alternation = weights.get("alternation", 0.0)
    third = weights.get("third_voice", 0.0)
    wrong_addressee = weights.get("addressee_gender", 0.0)
    called = turn.addressee_gender  # what this quote calls the one who spoke before
    answering = turns[position - 1].addressee_gender if position else None

    def score(before: str | None, previous: str | None, current: str) -> float:
        if previous is None:
            return 0.0
        if current == previous:
            return same
        if same_paragraph:
            total = other
        elif before is None:
            total = 0.0
        else:
            total = alternation if current == before else third
        if called and genders.get(previous) and genders[previous] != called:
            total += wrong_addressee
        if answering and genders.get(current) and genders[current] != answering:
            total += wrong_addressee
        return total

    return score


def _one_paragraph(previous: Turn, turn: Turn) -> bool:
    """Two quotes of one paragraph, with no narration leading into the second."""
    return previous.paragraph == turn.paragraph and not turn.introduced


def _dot(weights: Mapping[str, float], features: Mapping[str, float]) -> float:
    return sum(weights.get(name, 0.0) * value for name, value in features.items())


def emission_features(
    turn: Turn,
    candidate: str,
    turns: Sequence[Turn],
    position: int,
    genders: Mapping[str, str | None],
    salience: Mapping[str, float],
) -> dict[str, float]:
    """What speaks for or against ``candidate`` saying this quote, by itself."""
    if turn.fixed:
        return {}
    features: dict[str, float] = {}
    if candidate in turn.addressees:
        features["self_address"] = 1.0
    if candidate in turn.mentioned:
        features["self_mention"] = 1.0
    known = genders.get(candidate)
    if turn.gender and known and known != turn.gender:
        features["wrong_gender"] = 1.0
    elif turn.gender and not known:
        features["gender_unknown"] = 1.0
    if candidate in turn.named_before:
        features["named_before"] = 1.0
    if candidate in turn.named_after:
        features["named_after"] = 1.0
    if candidate == NARRATOR:
        features["narrator"] = 1.0
    if candidate in turn.hints:
        features[turn.hints[candidate][0]] = 1.0
    previous = turns[position - 1] if position else None
    if previous and candidate in previous.addressees and previous.paragraph != turn.paragraph:
        features["addressed_before"] = 1.0
    features["salience"] = math.log1p(salience.get(candidate, 0.0))
    return features


def transition_features(
    turn: Turn,
    before: str | None,
    previous: str | None,
    current: str,
    turns: Sequence[Turn],
    position: int,
) -> dict[str, float]:
    """What speaks for or against ``current`` following ``previous`` and ``before``."""
    if previous is None:
        return {}
    same_paragraph = _one_paragraph(turns[position - 1], turn)
    if current == previous:
        if same_paragraph:
            return {"same_paragraph": 1.0}
        if turn.narration_before:
            return {"after_narration_same": 1.0}
        return {"new_paragraph_same": 1.0}
    if same_paragraph:
        return {"same_paragraph_other": 1.0}
    if before is None:
        return {}
    return {"alternation": 1.0} if current == before else {"third_voice": 1.0}


def _addressed(
    features: dict[str, float],
    turn: Turn,
    previous: str | None,
    current: str,
    turns: Sequence[Turn],
    position: int,
    genders: Mapping[str, str | None],
) -> None:
    """The one called "sir" is who spoke before, and who answers next."""
    if previous is None or previous == current:
        return
    count = 0.0
    wanted = turn.addressee_gender
    if wanted and genders.get(previous) and genders[previous] != wanted:
        count += 1
    wanted = turns[position - 1].addressee_gender
    if wanted and genders.get(current) and genders[current] != wanted:
        count += 1
    if count:
        features["addressee_gender"] = count


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
