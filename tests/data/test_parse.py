import pytest

from love_r1.data import last_boxed, parse_boxed_interval, parse_boxed_letter, parse_yes_no


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes", True),
    ("yes.", True),
    ("**Yes**, the frames show it.", True),
    ("No", False),
    ("No, nothing relevant.", False),
    ("I know the answer", None),  # the reference stopped on any reply containing "no"
    ("Not sure", None),
    ("nope", None),
    ("The answer is no.", None),
    ("", None),
    ("Yes-ish", None),
])
def test_parse_yes_no_is_strict(text, expected):
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("so \\boxed{B}", "B"),
    ("\\boxed{(c)}", "C"),
    ("\\boxed{D. a red car}", "D"),
    ("first \\boxed{A} then \\boxed{B}", "B"),
    ("\\boxed{E}", None),  # not an option letter
    ("\\boxed{AB}", None),
    ("\\boxed{the answer}", None),
    ("no box at all: B", None),
    ("\\boxed{B", None),
])
def test_parse_boxed_letter(text, expected):
    assert parse_boxed_letter(text, letters=("A", "B", "C", "D")) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("\\boxed{[10, 40]}", (10.0, 40.0)),
    ("\\boxed{[ 2.5 , 7 ]}", (2.5, 7.0)),
    ("\\boxed{[1:05, 1:30]}", (65.0, 90.0)),
    ("\\boxed{[10s, 20s]}", (10.0, 20.0)),
    ("\\boxed{[10, 20, 30]}", None),
    ("\\boxed{10-20}", None),
    ("\\boxed{B}", None),
    ("nothing", None),
])
def test_parse_boxed_interval(text, expected):
    assert parse_boxed_interval(text) == expected


def test_last_boxed_matches_nested_braces():
    assert last_boxed("a \\boxed{x{y}z} b") == (2, "x{y}z")
    assert last_boxed("\\boxed{A} \\boxed{oops") == (0, "A")
