"""Rewards (TRL signature) and advantages: table-driven cases with hand-computed values."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from love_r1.interval import Interval
from love_r1.train import rewards as R
from love_r1.train.grpo import DecoupledGRPOTrainer, StepSample

Z = "I need to zoom in on the video.\n\n"
A = "I get the answer.\n\n"


@pytest.mark.parametrize(("reply", "clips", "expected", "compat_expected"), [
    (A + "It is \\boxed{B}", [], 1.0, 1.0),
    ("It is \\boxed{B}", [], 0.0, 1.0),                       # no control phrase: 0 (compat: 1)
    (A + "no box", [], 0.0, 0.0),
    (Z + "\\boxed{[10, 20]}", [], 1.0, 1.0),
    (A + "\\boxed{[10, 20]}", [], 0.0, 1.0),                  # phrase disagrees with the box
    (Z + "\\boxed{[10, 10.5]}", [], 0.0, 0.0),                # shorter than 1 s
    (Z + "\\boxed{[10, 80]}", [], 0.0, 0.0),                  # longer than min(D/2, 60) = 50
    (Z + "\\boxed{[90, 101]}", [], 1.0, 1.0),                 # end <= D + 1
    (Z + "\\boxed{[90, 102]}", [], 0.0, 0.0),                 # end > D + 1
    (Z + "\\boxed{[10, 20]}", [[11, 20]], 0.0, 0.0),          # IoU 0.9 > 0.7 with a shown clip
    (Z + "\\boxed{[10, 20]}", [[15, 30]], 1.0, 1.0),          # IoU 0.25
    (A + "\\boxed{B} \n", [], 1.0, 1.0),                     # whitespace after the box
    (A + "\\boxed{B},ed{B}}", [], 0.0, 1.0),                  # text after the box: the reply ran on
    (A + "\\boxed{B}xed{I get the answer.", [], 0.0, 1.0),
    (Z + "\\boxed{[10, 20]} then \\boxed{[30, 40]}", [], 1.0, 1.0),  # the last box ends the reply
    (A + "\\boxed{\\text{B}", [], 0.0, 1.0),                 # never closed (cut by the token limit)
])
def test_format_reward(reply, clips, expected, compat_expected):
    kw = {"duration_seconds": [100.0], "clips": [clips]}
    assert R.format_reward([reply], **kw) == [expected]
    assert R.format_reward([reply], compat=True, **kw) == [compat_expected]


def test_format_reward_reads_the_prefilled_phrase():
    assert R.format_reward(["\\boxed{[1, 5]}"], assistant_prefix=[Z], duration_seconds=[20.0]) == [1.0]


def test_answer_reward_table():
    completions = [A + "\\boxed{B}", A + "\\boxed{(b)}", A + "\\boxed{C}", Z + "\\boxed{[1, 4]}",
                   Z + "\\boxed{[1, 4]}", Z + "\\boxed{[8, 9]}", A + "no box"]
    out = R.answer_reward(completions, gold=["B", "B", "B", "B", "B", "B", "B"],
                          kind=["qa", "qa", "qa", "qa", "grounding", "grounding", "qa"],
                          evidence=[[], [], [], [], [[3, 6]], [[3, 6]], []], options=[["A. x", "B. y", "C. z"]] * 7)
    assert out == [1.0, 1.0, 0.0, None, 1.0, 0.0, 0.0]


def test_answer_reward_compat_reads_first_char_after_first_box():
    assert R.answer_reward(["\\boxed{Bxx} then \\boxed{A}"], compat=True, gold=["B"]) == [1.0]
    assert R.answer_reward(["\\boxed{Bxx} then \\boxed{A}"], gold=["B"]) == [0.0]


def test_zoom_reward_overlap_and_iou():
    completions = [Z + "\\boxed{[4, 8]}", A + "\\boxed{A}", Z + "\\boxed{[0, 2]}"]
    evidence = [[[6, 10]], [[6, 10]], [[6, 10]]]
    assert R.zoom_reward(completions, evidence=evidence) == [1.0, None, 0.0]
    assert R.zoom_reward(completions, evidence=evidence, mode="iou") == [pytest.approx(2 / 6), None, 0.0]


def test_group_advantages_hand_computed_with_masking():
    rewards = [2.0, 0.0, 1.0, 1.0, 5.0, 3.0, 7.0]
    groups = [0, 0, 0, 0, 1, 1, 1]
    masked = [False, False, False, True, False, True, True]
    out = R.group_advantages(rewards, groups=groups, masked=masked, epsilon=0.0)
    # group 0 over {2, 0, 1}: mean 1, sample std 1 -> [1, -1, 0]; masked -> 0; group 1 has one member: std 1
    assert out == pytest.approx([1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert R.group_advantages([1.0, 3.0], groups=[0, 0], epsilon=1e-4) == pytest.approx(
        [-1 / (2 ** 0.5 + 1e-4), 1 / (2 ** 0.5 + 1e-4)])


def _sample(group, rollout, step, text, kind="qa", masked=False):
    import torch

    return StepSample(group=group, rollout=rollout, step=step, kind=kind, prompt_inputs={},
                      completion_ids=torch.tensor([1]), text=text, assistant_prefix="", clips=(),
                      duration_seconds=100.0, columns={"gold": "B", "evidence": [], "options": ["A. x", "B. y"]})


def _score(samples, *, zoom_weight=0.0):
    args = SimpleNamespace(reward_compat=False, advantage_epsilon=0.0)
    fake = SimpleNamespace(args=args, reward_weights=[1.0, 1.0, zoom_weight],
                           reward_funcs=[R.answer_reward, R.format_reward, R.zoom_reward])
    fake._advantages = lambda chosen: DecoupledGRPOTrainer._advantages(fake, chosen)
    DecoupledGRPOTrainer._score(fake, samples)


def test_each_step_gets_its_own_advantage_and_masks_are_excluded():
    samples = [
        _sample(0, 0, 1, Z + "\\boxed{[10, 20]}"), _sample(0, 0, 2, A + "\\boxed{B}"),   # zoom then right
        _sample(0, 1, 1, A + "\\boxed{A}"), _sample(0, 1, 2, A + "\\boxed{A}"),          # wrong twice
        _sample(0, 2, 1, A + "\\boxed{B}"), _sample(0, 2, 2, A + "\\boxed{A}"),          # right then wrong
        _sample(0, 3, 1, Z + "\\boxed{[30, 40]}"), _sample(0, 3, 2, Z + "\\boxed{[50, 60]}"),  # second zoom: masked
    ]
    _score(samples)
    rewards = [s.reward for s in samples]
    # zoom inherits step-2 accuracy (1) + format 1 = 2; answers: acc + format; masked rollout: 0
    assert rewards == [2.0, 2.0, 1.0, 1.0, 2.0, 1.0, 0.0, 0.0]
    assert [s.masked for s in samples] == [False] * 6 + [True, True]
    # step 1 over {2, 1, 2}: mean 5/3, sample std sqrt(1/3); step 2 over {2, 1, 1}: mean 4/3
    s1 = (1 / 3) ** 0.5
    assert [samples[i].advantage for i in (0, 2, 4, 6)] == pytest.approx(
        [(2 - 5 / 3) / s1, (1 - 5 / 3) / s1, (2 - 5 / 3) / s1, 0.0])
    assert [samples[i].advantage for i in (1, 3, 5, 7)] == pytest.approx(
        [(2 - 4 / 3) / s1, (1 - 4 / 3) / s1, (1 - 4 / 3) / s1, 0.0])


def test_a_malformed_reply_earns_no_zoom_reward():
    """The learn-to-zoom GRPO run: a step-1 reply whose control phrase is garbled but whose box overlaps the
    evidence got zoom reward 1 (format 0), and the policy learned to drop the phrase. Format 0 zeroes it."""
    garbled = "I, on the video.\n\bo zoom in on the video.\n\\boxed{[10, 50]}"
    samples = [_sample(0, 0, 1, garbled), _sample(0, 0, 2, A + "\\boxed{A}"),
               _sample(0, 1, 1, Z + "\\boxed{[10, 50]}"), _sample(0, 1, 2, A + "\\boxed{B}")]
    for s in samples:
        s.columns["evidence"] = [[20.0, 24.0]]
    assert R.zoom_reward([garbled], evidence=[[[20.0, 24.0]]]) == [1.0]  # the box alone overlaps
    _score(samples, zoom_weight=1.0)
    assert samples[0].format == 0.0 and samples[0].components == [0.0, 0.0, 0.0] and samples[0].reward == 0.0
    # the well-formed zoom: answer inherited (1) + format (1) + zoom overlap (1)
    assert samples[2].components == [1.0, 1.0, 1.0] and samples[2].reward == 3.0
    # answers carry no zoom reward (None): a wrong one scores its format only
    assert samples[1].components == [0.0, 1.0, None] and samples[1].reward == 1.0


def test_zoom_validity_rule():
    assert R.zoom_is_valid(Interval(0, 30), duration_seconds=60.0, clips=[])
    assert not R.zoom_is_valid(Interval(0, 31), duration_seconds=60.0, clips=[])  # > D/2
