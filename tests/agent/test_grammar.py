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


# --- one grammar for the loop, the extractor, the rewards and the data judges (issue 11) ---------------

def test_every_reader_takes_the_same_box():
    """Before: data/_parse returned (2, 'A'), eval/extract 'A' and agent/grammar 'B' on this reply."""
    from love_r1.data._parse import parse_boxed_letter
    from love_r1.eval.extract import extract_choice
    from love_r1.train.rewards import answer_letter

    text = "a \\boxed{A} b \\boxed{B"
    assert parse_reply(text).answer == "B"
    assert extract_choice(text) == "B"
    assert answer_letter(text) == "B"
    assert parse_boxed_letter(text, letters="ABCD") is None  # the judge refuses the unclosed box; never 'A'
    box = find_box(text)
    assert (box.start, box.content, box.closed) == (14, "B", False)


def test_one_time_reader_refuses_seconds_fields_of_60_or_more():
    """Before: data/_parse read '[1:75, 2:10]' as (135.0, 130.0) while parse_reply refused it."""
    from love_r1.data._parse import parse_boxed_interval

    assert parse_reply("\\boxed{[1:75, 2:10]}").kind == "invalid"
    assert parse_boxed_interval("\\boxed{[1:75, 2:10]}") is None
    assert parse_boxed_interval("\\boxed{[1:05, 1:30]}") == (65.0, 90.0) == (
        parse_reply("\\boxed{[1:05, 1:30]}").start_seconds, parse_reply("\\boxed{[1:05, 1:30]}").end_seconds)


def test_reference_grpo_reading_is_a_parameter_of_the_one_finder():
    # grpo_trainer.py: info.split("\\boxed{")[1].split("}")[0]
    text = "\\boxed{\\text{A}} then \\boxed{[3, 9]}"
    assert find_box(text, pick="first", nested=False).content == text.split("\\boxed{")[1].split("}")[0]
    assert find_box("no box at all", pick="first") is None
    assert find_box("\\boxed{[1, 5", pick="first", nested=False).content == "[1, 5"
    with pytest.raises(ValueError, match="pick"):
        find_box("x", pick="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize(("reply", "answer"), [
    ("\\boxed{\\text{B}}", "B"),
    ("\\boxed{\\textbf{B}}", "B"),
    ("\\boxed{\\mathrm{B}}", "B"),
    ("\\boxed{$B$}", "B"),
    ("\\boxed{\\(B\\)}", "B"),
    ("\\boxed{**B**}", "B"),
    ("\\boxed{\\text{(B) } 905}", "(B)  905"),
    ("\\boxed{\\textbf{B. a blue bus}}", "B. a blue bus"),
    ("\\boxed{[B]}", "[B]"),  # bracketed letter: an answer, not an unreadable interval
    ("\\boxed{[b) a blue bus]}", "[b) a blue bus]"),
    ("\\boxed{\\left( C \\right)}", "( C )"),
])
def test_formatting_inside_the_box_is_unwrapped(reply, answer):
    parsed = parse_reply(A + reply)
    assert (parsed.kind, parsed.answer) == ("answer", answer)
    assert parsed.box_content == find_box(reply).content.strip()  # the raw content is kept for the record


@pytest.mark.parametrize(("reply", "start", "end"), [
    ("\\boxed{\\text{[12, 20]}}", 12.0, 20.0),
    ("\\boxed{$[1:02, 1:10]$}", 62.0, 70.0),
    ("\\boxed{\\textbf{[30 to 45]}}", 30.0, 45.0),
])
def test_formatting_around_an_interval_is_unwrapped(reply, start, end):
    parsed = parse_reply(Z + reply)
    assert (parsed.kind, parsed.start_seconds, parsed.end_seconds) == ("zoom", start, end)


def test_strict_mode_keeps_the_reference_reading_of_wrapped_content():
    # the reference never unwraps: "$[12, 20]$" does not start with "[", so it is an answer; "[B]" fails int()
    assert parse_reply("\\boxed{$[12, 20]$}", strict=True).kind == "answer"
    assert parse_reply("\\boxed{[B]}", strict=True).kind == "invalid"
    assert parse_reply("\\boxed{\\text{B}}", strict=True).answer == "\\text{B}"
    assert parse_reply("\\boxed{[abc, def]}").kind == "invalid"  # not a bracketed option letter


@pytest.mark.parametrize(("content", "letter"), [
    ("B", "B"), ("b", "B"), ("(B)", "B"), ("[b]", "B"), ("B.", "B"), ("B) a blue bus", "B"), ("B: a blue bus", "B"),
    ("(b) a blue bus", "B"), ("\\text{Answer: C}", "C"), ("the answer is d", "D"), ("Option A", "A"),
    ("E", None), ("A man", None), ("AB", None), ("blue", None), ("", None),
])
def test_read_option_letter(content, letter):
    from love_r1.agent.grammar import read_option_letter

    assert read_option_letter(content, letters="ABCD") == letter
