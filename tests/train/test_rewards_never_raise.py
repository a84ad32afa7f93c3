"""Reward functions never raise on what a policy can write (issue 9 §5): a GRPO reply with a negative
or otherwise invalid interval scores format 0 instead of stopping training."""

from __future__ import annotations

import math
import random
import string

import pytest

from love_r1.train import rewards as R

Z = "I need to zoom in on the video.\n\n"
A = "I get the answer.\n\n"


@pytest.mark.parametrize("compat", [False, True])
@pytest.mark.parametrize("box", ["[-5, 10]", "[-10, -5]", "[5, -1]", "[-0.5, 3]", "[" + "9" * 400 + ", 1]",
                                 "[1e309, 5]", "[nan, 5]", "[inf, 9]", "[]", "[,]", "[-]"])
def test_invalid_interval_scores_format_zero(box, compat):
    """Before: ``rewards.zoom_interval`` raised ``ValueError: Interval.start_seconds must be >= 0``."""
    replies = [Z + f"\\boxed{{{box}}}"]
    kw = dict(duration_seconds=[100.0], clips=[[]], gold=["B"], kind=["grounding"], evidence=[[[0, 50]]], step=[1])
    assert R.format_reward(replies, compat=compat, **kw) == [0.0]
    assert R.answer_reward(replies, compat=compat, **kw) == [0.0]
    assert R.zoom_reward(replies, **kw) == [None]
    assert R.zoom_interval(replies[0], compat=compat) is None
    assert R.format_reward([Z + "\\boxed{[10, 10]}"], compat=compat, duration_seconds=[100.0]) == [0.0]  # too short


def test_reference_grpo_reading_under_compat():
    # grpo_trainer.py reads the FIRST box up to the first "}" and needs "[int, int]" there
    first_box = Z + "\\boxed{[10, 20]} then \\boxed{[30, 40]}"
    assert R.zoom_interval(first_box, compat=True).as_list() == [10.0, 20.0]
    assert R.zoom_interval(first_box).as_list() == [30.0, 40.0]  # ours: the last box, as at inference
    assert R.zoom_interval(Z + "\\boxed{ [10, 20]}", compat=True) is None  # unstripped: does not start with "["
    assert R.zoom_interval("\\boxed{[10, 20]}", compat=True) is None  # no zoom phrase
    # neither phrase: the reference keeps format 1 (and gives no accuracy at step 1)
    assert R.format_reward(["It is B"], compat=True) == [1.0]
    assert R.answer_reward(["It is \\boxed{B}"], compat=True, gold=["B"], step=[1]) == [0.0]
    assert R.answer_reward(["It is \\boxed{B}"], compat=True, gold=["B"], step=[2]) == [1.0]


_PIECES = ["\\boxed{", "}", "{", "[", "]", "(", ")", ",", ":", "-", "to", " ", "\n", ".", "s", "-5", "9" * 400,
           "1", "12", "59", "60", "1e308", "nan", "inf", "\u2013", "\x00", Z, A, "\\", "\\text{", "$", "B", "b",
           "<think>", "</think>", "<answer>", "</answer>", "answer is", "Option", "**", "\\left(", "1:75", "[B]"]


def _malformed_replies(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.printable + "é€😀（）"
    out = []
    for _ in range(count):
        if rng.random() < 0.7:
            text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 30)))
        else:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        out.append(rng.choice(["", Z, A]) + text)
    return out


def test_every_reward_function_survives_fuzzed_replies():
    replies = _malformed_replies(seed=9, count=3000)
    n = len(replies)
    columns = dict(
        assistant_prefix=[random.Random(i).choice(["", Z, A]) for i in range(n)],
        kind=["qa", "grounding"] * (n // 2), duration_seconds=[100.0, 7.5, 3600.0] * (n // 3),
        clips=[[[10, 20]], [], [[0, 5], [50, 80]]] * (n // 3), gold=["A", "B", "C"] * (n // 3),
        evidence=[[[3, 9]], [], [[0, 100]]] * (n // 3), options=[["A. x", "B. y", "C. z"]] * n, step=[1, 2] * (n // 2),
    )
    for compat in (False, True):
        fmt = R.format_reward(replies, compat=compat, **columns)
        acc = R.answer_reward(replies, compat=compat, **columns)
        assert all(v in (0.0, 1.0) for v in fmt)
        assert all(v is None or v in (0.0, 1.0) for v in acc)
    for mode in ("overlap", "iou"):
        zoom = R.zoom_reward(replies, mode=mode, **columns)
        assert all(v is None or (0.0 <= v <= 1.0 and not math.isnan(v)) for v in zoom)
    for reply in replies:
        for compat in (False, True):
            interval = R.zoom_interval(reply, compat=compat)
            assert interval is None or 0 <= interval.start_seconds <= interval.end_seconds
            R.answer_letter(reply, ["A. x", "B. y"], compat=compat)
    # conversational completions with odd content are text too
    assert R.format_reward([[{"role": "assistant", "content": None}]]) == [0.0]
