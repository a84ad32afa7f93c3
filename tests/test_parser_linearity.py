"""Every reply parser is linear in its input: degenerate 100k-character replies take milliseconds.

Before the fix ``extract_choice`` took 108 s on "answer" + 40k spaces and 23.6 s on 5.7k unclosed
``\\boxed{``. The bound (1 s per call on 100k characters) is generous on purpose: a linear parser
needs a few milliseconds, a quadratic one minutes, so the test catches the shape, not a speed.
"""

from __future__ import annotations

import time

import pytest

from love_r1.agent.grammar import find_box, parse_interval, parse_reply, read_option_letter, unwrap_box_content
from love_r1.data._parse import parse_boxed_interval, parse_boxed_letter, parse_yes_no
from love_r1.eval.extract import extract_choice, strip_reasoning
from love_r1.train import rewards

N = 100_000
OPTIONS = ["A. a red car", "B. a blue bus", "C. a green tram", "D. nothing at all"]
Z = "I need to zoom in on the video.\n\n"

DEGENERATE = {
    "answer+spaces": "answer" + " " * N,
    "answer is+spaces": "The answer is" + " " * N + "b",
    "unclosed boxes": "\\boxed{" * (N // 7),
    "zoom phrase+unclosed boxes": Z + "\\boxed{[" * (N // 8),
    "open braces": "{" * N,
    "close braces": "}" * N,
    "open parens": "(" * N,
    "think opens": "<think>" * (N // 7),
    "think closes": "</think>" * (N // 8),
    "answer tags": "<answer>" * (N // 8),
    "glm boxes": "<|begin_of_box|>" * (N // 16),
    "labels": "A. " * (N // 3),
    "letters": "A" * N,
    "lower letters": "b " * (N // 2),
    "spaces": " " * N,
    "newlines": "\n" * N,
    "text commands": "\\boxed{" + "\\text{" * (N // 6),
    "dollars": "\\boxed{" + "$" * N + "}",
    "long interval": "\\boxed{[" + "1" * N + ", 2]}",
    "interval spaces": "\\boxed{[1" + " " * N + ", 2]}",
    "interval commas": "\\boxed{[" + "1," * (N // 2) + "]}",
    "colons": "\\boxed{[" + "1:" * (N // 2) + "]}",
    "option text repeated": "a blue " * (N // 7),
    "stars": "*" * N,
    "yes after spaces": " " * N + "yes",
    "cjk cue": "答案是" * (N // 3),
}

PARSERS = {
    "parse_reply": lambda t: parse_reply(t),
    "parse_reply strict": lambda t: parse_reply(t, strict=True),
    "find_box first": lambda t: find_box(t, pick="first", nested=False),
    "unwrap_box_content": unwrap_box_content,
    "read_option_letter": lambda t: read_option_letter(t, letters="ABCD"),
    "parse_interval": lambda t: parse_interval(t.lstrip("\\boxed{")),
    "extract_choice": lambda t: extract_choice(t, OPTIONS),
    "extract_choice no options": lambda t: extract_choice(t),
    "extract_choice classic": lambda t: extract_choice(t, OPTIONS, mode="classic"),
    "strip_reasoning": strip_reasoning,
    "parse_boxed_letter": lambda t: parse_boxed_letter(t, letters="ABCD"),
    "parse_boxed_interval": parse_boxed_interval,
    "parse_yes_no": parse_yes_no,
    "format_reward": lambda t: rewards.format_reward([t], duration_seconds=[100.0]),
    "format_reward compat": lambda t: rewards.format_reward([t], compat=True, duration_seconds=[100.0]),
    "answer_reward": lambda t: rewards.answer_reward([t], gold=["B"], options=[OPTIONS]),
    "answer_reward compat": lambda t: rewards.answer_reward([t], compat=True, gold=["B"], step=[1]),
    "zoom_reward": lambda t: rewards.zoom_reward([t], tgt=[[[1, 5]]]),
}


def _seconds(function, text: str) -> float:
    began = time.perf_counter()
    function(text)
    return time.perf_counter() - began


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_parsers_are_linear_on_degenerate_replies(parser):
    function = PARSERS[parser]
    slow = {}
    for name, text in DEGENERATE.items():
        seconds = min(_seconds(function, text) for _ in range(2)) if _seconds(function, text) > 1.0 else 0.0
        if seconds > 1.0:  # twice over the bound: not noise from a busy machine
            slow[name] = round(seconds, 2)
    assert not slow, f"{parser} is super-linear on {slow} (seconds for {N:,} characters)"
