"""Table-driven checks of the answer extractor, including the adversarial cases of benchmarks.md §3."""

from __future__ import annotations

import pytest

import love_r1
from love_r1.agent.grammar import find_box
from love_r1.eval.extract import extract_choice, strip_reasoning

OPTIONS = ("A. a red car", "B. a blue bus", "C. a green tram", "D. nothing")

DEFAULT_CASES = [
    ("B", "B"),
    ("(C)", "C"),
    ("D.", "D"),
    ("b", "B"),  # a lone lower-case letter as the whole reply
    ("**A**", "A"),
    ("A man is walking down the street.", None),  # article "A" is not an answer
    ("Based on the video, the answer is C.", "C"),  # "Based" is not B
    ("there is a dog", None),  # lower-case "a" inside a sentence is not A
    ("The answer is (B). Option A is wrong.", "B"),  # explicit answer beats a later option mention
    ("Options A and C are wrong, so B", "B"),  # letters in reasoning, last word wins
    ("The first frame shows A. Then D.", "D"),  # last formatted letter wins
    ("<think>the answer is A</think>B", "B"),
    ("<think>Maybe A. No, C.</think>\nI get the answer.\n\n\\boxed{D}", "D"),
    ("\\boxed{[12, 30]} then \\boxed{B. a blue bus}", "B"),  # last box
    ("\\boxed{a green tram}", "C"),  # option text inside a box
    ("<answer>D</answer>", "D"),
    ("I saw a blue bus in the clip.", "B"),  # option text in free text
    ("Best option: (C", "C"),
    ("Answer: A", "A"),
    ("The answer is E.", None),  # not one of the four letters
    ("", None),
    ("I cannot tell.", None),
]


@pytest.mark.parametrize(("text", "expected"), DEFAULT_CASES)
def test_default_extractor(text, expected):
    assert extract_choice(text, OPTIONS) == expected


CLASSIC_CASES = [
    ("A man is walking.", "A"),  # the known flaw of the classic rule
    ("Based on the video, the answer is C.", "B"),
    ("The answer is C", "C"),
    ("The best answer is D", "D"),
    ("there is nothing here at all to see in this long reply of many words", None),
    ("(B)", "B"),
]


@pytest.mark.parametrize(("text", "expected"), CLASSIC_CASES)
def test_classic_extractor(text, expected):
    assert extract_choice(text, OPTIONS, mode="classic") == expected


def test_five_options_allow_e_and_reexport():
    five = (*OPTIONS, "E. a bike")
    assert extract_choice("The answer is E.", five) == "E"
    assert love_r1.extract_choice is extract_choice


def test_helpers_and_bad_input():
    assert find_box("x \\boxed{a{b}c} y \\boxed{D}").content == "D"
    assert find_box("\\boxed{a{b}c}").content == "a{b}c"
    assert strip_reasoning("<think>A</think> B").strip() == "B"
    assert strip_reasoning("reasoning A</think>C") == "C"
    with pytest.raises(ValueError, match="mode"):
        extract_choice("A", OPTIONS, mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        extract_choice(None, OPTIONS)  # type: ignore[arg-type]
