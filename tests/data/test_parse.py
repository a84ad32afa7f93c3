import pytest

from love_r1.data._parse import parse_boxed_interval, parse_boxed_letter, parse_yes_no


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
    ("\\boxed{\\textbf{b}}", "B"),
])
def test_parse_boxed_letter(text, expected):
    assert parse_boxed_letter(text, letters=("A", "B", "C", "D")) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("\\boxed{[10, 40]}", (10.0, 40.0)),
    ("\\boxed{[ 2.5 , 7 ]}", (2.5, 7.0)),
    ("\\boxed{[1:05, 1:30]}", (65.0, 90.0)),
    ("\\boxed{[10s, 20s]}", (10.0, 20.0)),
    ("\\boxed{[10, 20, 30]}", (10.0, 20.0)),  # the one grammar reads it as the reference does (sorted, first two)
    ("\\boxed{[40, 10]}", None),  # judges refuse reversed endpoints rather than reorder them
    ("\\boxed{[1:75, 2:10]}", None),  # seconds field >= 60: refused (data/_parse read it as 135 s)
    ("\\boxed{\\text{[1:05, 1:30]}}", (65.0, 90.0)),
    ("\\boxed{10-20}", None),
    ("\\boxed{B}", None),
    ("nothing", None),
])
def test_parse_boxed_interval(text, expected):
    assert parse_boxed_interval(text) == expected


def test_readers_use_the_one_box_finder_and_refuse_an_unclosed_last_box():
    # the last box is read (an unclosed last box is not skipped for an earlier one, as data/_parse did)
    assert parse_boxed_letter("\\boxed{A} \\boxed{oops", letters="ABCD") is None
    assert parse_boxed_letter("\\boxed{A} then \\boxed{\\text{C}}", letters="ABCD") == "C"
    assert parse_boxed_interval("\\boxed{[1, 2]} \\boxed{[10, 20]") is None
