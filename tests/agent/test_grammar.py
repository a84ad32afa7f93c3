"""Table-driven tests of the reply grammar (tolerant and strict/reference modes)."""

from __future__ import annotations

import random
import string

import pytest

from love_r1.agent.grammar import find_box, parse_reply

Z = "I need to zoom in on the video.\n\n"
A = "I get the answer.\n\n"

# (reply, expected kind, start, end, answer) in the default tolerant mode.
TOLERANT_CASES = [
    # reference behaviours
    (Z + "The event is at the start. \\boxed{[23, 25]}", "zoom", 23.0, 25.0, None),
    (A + "It is red. \\boxed{B}", "answer", None, None, "B"),
    (A + "\\boxed{ C }", "answer", None, None, "C"),
    ("\\boxed{A} then changed my mind \\boxed{D}", "answer", None, None, "D"),  # last box wins
    ("\\boxed{[1, 5]} no wait \\boxed{B}", "answer", None, None, "B"),
    ("\\boxed{B} no wait \\boxed{[1, 5]}", "zoom", 1.0, 5.0, None),
    ("\\boxed{\\text{A}}", "answer", None, None, "A"),  # nested braces matched, formatting unwrapped
    ("\\boxed{a{b{c}}d} tail", "answer", None, None, "a{b{c}}d"),
    ("\\boxed{A. red", "answer", None, None, "A. red"),  # unterminated box: rest of the text
    ("\\boxed{[20, 12]}", "zoom", 12.0, 20.0, None),  # reversed endpoints reordered
    ("\\boxed{[1, 2, 3]}", "zoom", 1.0, 2.0, None),  # reference: sorted, first two kept
    ("\\boxed{[-3, 10]}", "zoom", -3.0, 10.0, None),  # negative kept; the loop clamps
    ("\\boxed{[ 12 ,   20 ]}", "zoom", 12.0, 20.0, None),  # extra spaces
    # tolerant extensions
    ("\\boxed{[12.5, 20.25]}", "zoom", 12.5, 20.25, None),
    ("\\boxed{[1:02, 1:10]}", "zoom", 62.0, 70.0, None),
    ("\\boxed{[01:00:05, 01:00:20.5]}", "zoom", 3605.0, 3620.5, None),
    ("\\boxed{[12s, 20s]}", "zoom", 12.0, 20.0, None),
    ("\\boxed{[12 sec, 20 seconds]}", "zoom", 12.0, 20.0, None),
    ("\\boxed{[12, 20)}", "zoom", 12.0, 20.0, None),  # half-open bracket
    ("\\boxed{[12, 20}", "zoom", 12.0, 20.0, None),  # missing closing bracket
    ("\\boxed{[12-20]}", "zoom", 12.0, 20.0, None),
    ("\\boxed{[12 - 20]}", "zoom", 12.0, 20.0, None),
    ("\\boxed{[12 to 20]}", "zoom", 12.0, 20.0, None),
    ("\\boxed{[12 ~ 20]}", "zoom", 12.0, 20.0, None),
    ("\\boxed{[12–20]}", "zoom", 12.0, 20.0, None),  # en dash
    ("\\boxed{[30.5, 2:00]}", "zoom", 30.5, 120.0, None),
    # invalid
    ("I need to zoom in on the video.\n\nsomewhere in the middle", "invalid", None, None, None),
    ("", "invalid", None, None, None),
    ("\\boxed{}", "invalid", None, None, None),
    ("\\boxed{   }", "invalid", None, None, None),
    ("\\boxed{[12]}", "invalid", None, None, None),
    ("\\boxed{[abc, def]}", "invalid", None, None, None),
    ("\\boxed{[1:75, 2:00]}", "invalid", None, None, None),  # seconds field >= 60
    ("\\boxed{[]}", "invalid", None, None, None),
    ("\\boxed{[1, 2, x]}", "invalid", None, None, None),
]


@pytest.mark.parametrize(("reply", "kind", "start", "end", "answer"), TOLERANT_CASES)
def test_parse_reply_tolerant(reply, kind, start, end, answer):
    parsed = parse_reply(reply)
    assert parsed.kind == kind, parsed
    assert parsed.start_seconds == start
    assert parsed.end_seconds == end
    assert parsed.answer == answer
    assert (parsed.error is None) == (kind != "invalid")


# (reply, expected kind, start, end) in strict (reference) mode.
STRICT_CASES = [
    ("\\boxed{[23, 25]}", "zoom", 23.0, 25.0),
    ("\\boxed{[25,23]}", "zoom", 23.0, 25.0),
    ("\\boxed{[ +5 , 9 ]}", "zoom", 5.0, 9.0),  # int() accepts signs and spaces
    ("\\boxed{[1, 2, 3]}", "zoom", 1.0, 2.0),
    ("\\boxed{[12, 20}", "zoom", 2.0, 12.0),  # reference quirk: content[1:-1] drops the last character
    ("\\boxed{B}", "answer", None, None),
    ("\\boxed{[12.5, 20]}", "invalid", None, None),
    ("\\boxed{[1:02, 1:10]}", "invalid", None, None),
    ("\\boxed{[12s, 20s]}", "invalid", None, None),
    ("\\boxed{[12-20]}", "invalid", None, None),
    ("\\boxed{[" + "9" * 400 + ", 1]}", "invalid", None, None),  # too large for a float
]


@pytest.mark.parametrize(("reply", "kind", "start", "end"), STRICT_CASES)
def test_parse_reply_strict(reply, kind, start, end):
    parsed = parse_reply(reply, strict=True)
    assert parsed.kind == kind, parsed
    assert parsed.start_seconds == start
    assert parsed.end_seconds == end


def test_strict_half_open_bracket_behaves_like_reference():
    # The reference strips the last character whatever it is, so "[12, 20)" reads as [12, 20].
    parsed = parse_reply("\\boxed{[12, 20)}", strict=True)
    assert (parsed.kind, parsed.start_seconds, parsed.end_seconds) == ("zoom", 12.0, 20.0)


@pytest.mark.parametrize(
    "content",
    ["[0, 5]", "[5, 0]", "[ 7 , 9 ]", "[3, 1, 2]", "[-4, 4]", "[100, 100]", "[1,2]"],
)
def test_tolerant_agrees_with_strict_where_strict_succeeds(content):
    strict = parse_reply(f"\\boxed{{{content}}}", strict=True)
    tolerant = parse_reply(f"\\boxed{{{content}}}")
    assert strict.kind == "zoom"
    assert (tolerant.start_seconds, tolerant.end_seconds) == (strict.start_seconds, strict.end_seconds)


def test_reordered_flag_and_control_phrases():
    assert parse_reply("\\boxed{[20, 12]}").reordered is True
    assert parse_reply("\\boxed{[12, 20]}").reordered is False
    assert parse_reply("\\boxed{[20 to 12]}").reordered is True
    assert parse_reply(Z + "\\boxed{[1, 9]}").control_phrase == "zoom"
    assert parse_reply("  " + A + "\\boxed{A}").control_phrase == "answer"
    assert parse_reply("Hmm. " + A + "\\boxed{A}").control_phrase is None


def test_missing_box_error_and_box_content():
    parsed = parse_reply(A + "The answer is B.")
    assert parsed.kind == "invalid"
    assert parsed.box_content is None
    assert "boxed" in parsed.error
    bad = parse_reply("\\boxed{[x, y]}")
    assert bad.box_content == "[x, y]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("no box", None), ("\\boxed{}", ""), ("\\boxed{a}\\boxed{b}", "b"), ("\\boxed{a{b}c", "a{b}c"),
     ("x\\boxed{ {}{} }y", " {}{} "), ("\\boxed{", "")],
)
def test_find_box_last_content(text, expected):
    box = find_box(text)
    assert (box.content if box is not None else None) == expected


def test_parse_reply_never_raises_on_random_text():
    rng = random.Random(1234)
    pieces = ["\\boxed{", "}", "{", "[", "]", "(", ")", ",", ":", "-", "to", " ", "\n", ".", "s", "9" * 400,
              "1", "12", "59", "60", "1e308", "nan", "inf", "\u2013", "\x00", "I get the answer.", "\\"]
    alphabet = string.printable + "é€😀"
    for _ in range(3000):
        if rng.random() < 0.5:
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        else:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for strict in (False, True):
            parsed = parse_reply(text, strict=strict)
            assert parsed.kind in ("zoom", "answer", "invalid")
            if parsed.kind == "zoom":
                assert parsed.start_seconds <= parsed.end_seconds
                assert parsed.start_seconds == parsed.start_seconds  # not NaN
            else:
                assert parsed.start_seconds is None


def test_non_string_input_is_invalid_not_an_exception():
    assert parse_reply(None).kind == "invalid"  # type: ignore[arg-type]
    assert parse_reply(b"\\boxed{A}").kind == "invalid"  # type: ignore[arg-type]


def test_huge_numbers_do_not_raise():
    assert parse_reply("\\boxed{[" + "9" * 5000 + ", 1]}").kind == "invalid"
    assert parse_reply("\\boxed{[" + "9" * 400 + ".5, 1]}").kind == "invalid"


def test_package_level_reexports():
    import love_r1

    assert love_r1.parse_reply is parse_reply
    from love_r1.agent.api import ask

    assert love_r1.ask is ask
