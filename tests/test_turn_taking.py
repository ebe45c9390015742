"""The turn-taking search (narrate.dialogue.turn_taking): the best path is the best under
the features it is scored by; what the one spoken to and the ones named tell it."""

import itertools
import random

from narrate.dialogue import turn_taking as turns
from narrate.dialogue.turn_taking import DEFAULT_WEIGHTS, Turn, best_path, decide, path_features
from narrate.model import FEMALE, MALE, NARRATOR


def _score(weights, path_turns, path, genders, salience):
    features = path_features(path_turns, path, genders, salience)
    return sum(weights.get(name, 0.0) * value for name, value in features.items())


def _random_conversation(rng: random.Random):
    people = ["Ann", "Bea", "Cal", NARRATOR][: rng.randint(2, 4)]
    genders = {"Ann": FEMALE, "Bea": FEMALE, "Cal": MALE, NARRATOR: rng.choice([None, MALE])}
    salience = {p: rng.uniform(0, 6) for p in people}
    made = []
    paragraph = 0
    for _ in range(rng.randint(1, 5)):
        paragraph += rng.choice([0, 1, 1, 2])
        kinds = [k for k in DEFAULT_WEIGHTS if k.startswith("hint:")]
        hints = {p: (rng.choice(kinds), "why") for p in people if rng.random() < 0.3}
        made.append(
            Turn(
                paragraph=paragraph,
                fixed=rng.choice(people) if rng.random() < 0.25 else None,
                hints=hints,
                gender=rng.choice([None, None, MALE, FEMALE]),
                addressees=[p for p in people if rng.random() < 0.2],
                mentioned=[p for p in people if rng.random() < 0.2],
                addressee_gender=rng.choice([None, None, MALE, FEMALE]),
                narration_before=rng.choice([0, 0, 12]),
                named_before={p for p in people if rng.random() < 0.3},
                named_after={p for p in people if rng.random() < 0.3},
            )
        )
    return made, people, genders, salience


def test_the_search_finds_the_path_its_features_score_best():
    """Against every possible path, by brute force, on random small conversations."""
    rng = random.Random(7)
    weights = dict(DEFAULT_WEIGHTS, named_before=1.3, named_after=0.7, narrator=0.4)
    for _ in range(150):
        made, people, genders, salience = _random_conversation(rng)
        found = best_path(made, people, genders, salience, weights)
        options = [[t.fixed] if t.fixed else people for t in made]
        best = max(
            _score(weights, made, list(p), genders, salience) for p in itertools.product(*options)
        )
        assert abs(_score(weights, made, found, genders, salience) - best) < 1e-9


def test_each_margin_is_the_lead_over_the_best_path_with_another_speaker_there():
    """Max-marginals by brute force: for every turn, the best path that gives it to someone
    else scores the margin less, and that someone is the runner-up."""
    rng = random.Random(11)
    weights = dict(DEFAULT_WEIGHTS, named_before=1.3, named_after=0.7)
    for _ in range(150):
        made, people, genders, salience = _random_conversation(rng)
        found = turns.search(made, people, genders, salience, weights)
        options = [[t.fixed] if t.fixed else people for t in made]
        paths = [list(p) for p in itertools.product(*options)]
        scores = [_score(weights, made, path, genders, salience) for path in paths]
        best = max(scores)
        for position, chosen in enumerate(found.speakers):
            others = {}
            for path, total in zip(paths, scores, strict=True):
                if path[position] != chosen:
                    others[path[position]] = max(others.get(path[position], -1e18), total)
            if not others:
                assert found.margins[position] == float("inf")
                assert found.runners_up[position] is None
                continue
            second = max(others.values())
            assert abs(found.margins[position] - max(0.0, best - second)) < 1e-9
            assert others[found.runners_up[position]] == second


def test_allowed_speakers_limit_the_path():
    made = [Turn(paragraph=1), Turn(paragraph=2), Turn(paragraph=3)]
    genders = {"Ann": FEMALE, "Cal": MALE}
    free = best_path(made, ["Ann", "Cal"], genders, {"Ann": 5.0, "Cal": 1.0}, DEFAULT_WEIGHTS)
    assert free == ["Ann", "Cal", "Ann"]
    forced = best_path(
        made,
        ["Ann", "Cal"],
        genders,
        {"Ann": 5.0, "Cal": 1.0},
        DEFAULT_WEIGHTS,
        allowed=[{"Cal"}, None, None],
    )
    assert forced == ["Cal", "Ann", "Cal"]


def test_a_hint_names_its_kind_and_reason():
    made = [
        Turn(paragraph=1, fixed="Ann"),
        Turn(paragraph=2, hints={"Cal": ("hint:beat:name", "beat (name): Cal frowned.")}),
    ]
    decisions = decide(made, ["Ann", "Bea", "Cal"], {}, {"Ann": 3, "Bea": 3, "Cal": 1})
    assert decisions[1].speaker == "Cal"
    assert decisions[1].reason == "beat (name): Cal frowned."


def test_every_hint_kind_the_passes_make_has_a_weight():
    assert turns.hint_kind("tag", "pronoun") == "hint:tag:pronoun"
    assert turns.hint_kind("beat", "nonsense") == "hint:beat:other"
    for source in ("tag", "beat", "previous"):
        assert f"hint:{source}:other" in DEFAULT_WEIGHTS


def test_learned_weights_overlay_the_hand_set_ones():
    weights = turns.load_weights('{"weights": {"alternation": 3.5, "no_such_feature": 9}}')
    assert weights["alternation"] == 3.5
    assert "no_such_feature" not in weights
    assert {k: v for k, v in weights.items() if k != "alternation"} == {
        k: v for k, v in DEFAULT_WEIGHTS.items() if k != "alternation"
    }


# "sir" and "madam" tell the gender of the one spoken to.


def test_whoever_answers_sir_is_a_man():
    turns = [Turn(paragraph=0, fixed="Ann", addressee_gender=MALE), Turn(paragraph=1)]
    genders = {"Ann": FEMALE, "Bea": FEMALE, "Tom": MALE}
    # Bea is named a little more, which alone would make her the one who answers.
    decisions = decide(turns, ["Bea", "Tom"], genders, {"Bea": 3.0, "Tom": 1.0})
    assert decisions[1].speaker == "Tom"


def test_the_one_called_madam_spoke_before():
    turns = [Turn(paragraph=0), Turn(paragraph=1, fixed="Tom", addressee_gender=FEMALE)]
    genders = {"Tom": MALE, "Sam": MALE, "Ann": FEMALE}
    decisions = decide(turns, ["Sam", "Ann"], genders, {"Sam": 3.0, "Ann": 1.0})
    assert decisions[0].speaker == "Ann"


# A quote that names someone is rarely theirs.


def test_a_speaker_does_not_name_themselves():
    turns = [Turn(paragraph=0, fixed="Ann"), Turn(paragraph=1, mentioned=["Bea"])]
    genders = {"Ann": FEMALE, "Bea": FEMALE, "Cal": MALE}
    # Bea is named a little more, which alone would make her the speaker.
    decisions = decide(turns, ["Bea", "Cal"], genders, {"Bea": 3.0, "Cal": 1.0})
    assert decisions[1].speaker == "Cal"
