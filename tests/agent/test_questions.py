"""``love_r1.agent.normalize_options`` / ``check_gold`` / ``check_evidence``: questions as users write them
(shared by ``love-r1 ask`` and ``love-r1 serve``)."""

from __future__ import annotations

import pytest

from love_r1.agent import check_evidence, check_gold, normalize_options


@pytest.mark.parametrize(("given", "expected", "noted"), [
    (["A. red", "B. blue"], ("A. red", "B. blue"), False),
    (["A) red", "(B) blue"], ("A. red", "B. blue"), True),
    (["a: red", "b. blue"], ("A. red", "B. blue"), True),
    (["red", "blue", "green"], ("A. red", "B. blue", "C. green"), True),
    (["A. red", "blue"], ("A. red", "B. blue"), True),            # one unlettered -> all lettered by position
    (["A. red", "A. blue"], ("A. red", "B. blue"), True),         # repeated letters -> by position
    (["I think so", "No way"], ("A. I think so", "B. No way"), True),  # a leading word is not a letter
    (["  été ☀  ", "冬"], ("A. été ☀", "B. 冬"), True),
    ([], (), False),
])
def test_normalize_options(given, expected, noted):
    out, notes = normalize_options(given)
    assert out == expected
    assert bool(notes) is noted


@pytest.mark.parametrize("given", [["A. x", "  "], [f"opt {i}" for i in range(27)]])
def test_normalize_options_rejects(given):
    with pytest.raises(ValueError):
        normalize_options(given)


@pytest.mark.parametrize(("gold", "options", "expected"), [
    ("b", ["A. x", "B. y"], "B"), ("(B)", ["A. x", "B. y"], "B"), ("B. y", ["A. x", "B. y"], "B"),
    (" A ", ["A. x", "B. y"], "A"), ("a box", [], "a box"), (None, ["A. x"], None),
])
def test_check_gold(gold, options, expected):
    assert check_gold(gold, options) == expected


@pytest.mark.parametrize(("gold", "options", "message"), [
    ("Z", ["A. x", "B. y"], "'Z' is not one of the option letters A, B"),
    ("C", ["A. x", "B. y"], "'C' is not one of the option letters A, B"),
    ("maybe", ["A. x", "B. y"], "'maybe' is not one of the option letters"),
    ("", ["A. x"], "empty"),
])
def test_check_gold_rejects(gold, options, message):
    with pytest.raises(ValueError, match=message):
        check_gold(gold, options)


def test_check_evidence():
    assert check_evidence(None) is None and check_evidence([]) is None
    assert check_evidence([[1, 2.5], (3, 4)], duration_seconds=10) == ((1.0, 2.5), (3.0, 4.0))
    assert check_evidence([[9, 12]], duration_seconds=10) == ((9.0, 12.0),)  # starts inside: kept whole
    for bad, message in (([[2, 1]], "interval 1 \\[2, 1\\] must have 0 <= start < end"),
                         ([[1, 2], [-1, 3]], "interval 2"), ([[1, float("nan")]], "not two finite numbers"),
                         ([[1, 2, 3]], "not two finite numbers"), ([[True, 2]], "not two finite numbers"),
                         ([[10, 12]], "starts after the video ends \\(10 s\\)")):
        with pytest.raises(ValueError, match=message):
            check_evidence(bad, duration_seconds=10)
