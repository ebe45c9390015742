"""Tests of the data model's own rules: the ranges of a voice profile's numbers."""

from __future__ import annotations

import pytest

from narrate.model import PITCH_RANGE, RATE_RANGE, VOLUME_RANGE, VoiceProfile, range_problem


@pytest.mark.parametrize(
    ("value", "bounds", "problem"),
    [
        (80, RATE_RANGE, None),
        (450, RATE_RANGE, None),
        (451, RATE_RANGE, "451 is out of range; must be from 80 to 450"),
        (-1, PITCH_RANGE, "-1 is out of range; must be from 0 to 100"),
        (1.5, VOLUME_RANGE, "1.5 is out of range; must be from 0.0 to 1.0"),
        (0, VOLUME_RANGE, None),
        (float("nan"), VOLUME_RANGE, "nan is out of range; must be from 0.0 to 1.0"),
    ],
)
def test_range_problem_says_what_is_wrong_or_nothing(value, bounds, problem):
    assert range_problem(value, bounds) == problem


def test_a_profile_names_its_first_number_out_of_range():
    assert VoiceProfile("en-us", rate=80, pitch=100, volume=0.0).out_of_range() is None
    assert (
        VoiceProfile("en-us", rate=500, pitch=101).out_of_range()
        == "rate: 500 is out of range; must be from 80 to 450"
    )
    assert (
        VoiceProfile("en-us", volume=2.0).out_of_range()
        == "volume: 2.0 is out of range; must be from 0.0 to 1.0"
    )
