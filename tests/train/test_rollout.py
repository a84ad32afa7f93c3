"""Pure pieces of the GRPO update: the step-2 clip builder (tables + fuzz), data order, batch and loss arithmetic."""

from __future__ import annotations

import math
import random

import pytest

from love_r1.interval import Interval
from love_r1.train._rollout import (
    UpdatePlan,
    ZoomRules,
    is_zoom,
    loss_scale,
    num_updates,
    rollout_record_indices,
    rollout_seed,
    start_clips,
    step2_clips,
)
from love_r1.train.rewards import zoom_interval

Z = "I need to zoom in on the video.\n\n"
A = "I get the answer.\n\n"
RULES = ZoomRules()
START = (Interval(0.0, 10.0),)


def _clips(reply: str, *, compat: bool, duration: float = 100.0, clips=START) -> list[list[float]]:
    return [c.as_list() for c in step2_clips(reply=reply, clips=clips, duration_seconds=duration, rules=RULES,
                                             compat=compat)]


@pytest.mark.parametrize(("reply", "ours", "reference"), [
    # a valid zoom is added (both)
    (Z + "Look. \\boxed{[20, 30]}", [[0, 10], [20, 30]], [[0, 10], [20, 30]]),
    # no zoom phrase: we read the interval as inference does; the reference ignores it (same clips)
    ("Look. \\boxed{[20, 30]}", [[0, 10], [20, 30]], [[0, 10]]),
    # two boxes: we read the last (as inference), the reference the first
    (Z + "\\boxed{[20, 30]} or \\boxed{[40, 50]}", [[0, 10], [40, 50]], [[0, 10], [20, 30]]),
    # floats: ours reads them, the reference's int() fails -> every clip dropped
    (Z + "\\boxed{[20.5, 30]}", [[0, 10], [20.5, 30]], []),
    # invalid (negative start): ours keeps the step-1 clips, the reference drops every clip
    (Z + "\\boxed{[-5, 10]}", [[0, 10]], []),
    # too long (> min(D/2, 60) = 50): same split
    (Z + "\\boxed{[20, 80]}", [[0, 10]], []),
    # a repeat of the shown clip (IoU 0.9 > 0.7)
    (Z + "\\boxed{[0, 9]}", [[0, 10]], []),
    # an answer: step 2 re-answers with the same clips (both)
    (A + "\\boxed{B}", [[0, 10]], [[0, 10]]),
    # zoom phrase but no box: ours keeps the clips, the reference drops them
    (Z + "I am not sure", [[0, 10]], []),
])
def test_step2_clips_ours_and_reference(reply, ours, reference):
    assert _clips(reply, compat=False) == ours
    assert _clips(reply, compat=True) == reference


def test_step2_clip_end_past_the_video():
    # D = 100.5: [90, 101] is valid (end <= D + 1); we cut the clip to D, the reference keeps 101
    assert _clips(Z + "\\boxed{[90, 101]}", compat=False, duration=100.5) == [[0, 10], [90, 100.5]]
    assert _clips(Z + "\\boxed{[90, 101]}", compat=True, duration=100.5) == [[0, 10], [90, 101]]


def test_reference_start_clips_are_rounded():
    clips = (Interval(12.4, 20.6), Interval(2.5, 3.5))
    assert start_clips(clips, compat=False) == clips
    assert [c.as_list() for c in start_clips(clips, compat=True)] == [[2, 4], [12, 21]]  # round half to even


def test_zoom_detection_for_the_mask_rule():
    assert is_zoom(Z + "\\boxed{[1, 5]}") and is_zoom("\\boxed{[1, 5]}") and not is_zoom(A + "\\boxed{B}")
    assert is_zoom(Z + "no box", compat=True) and not is_zoom("\\boxed{[1, 5]}", compat=True)
    assert zoom_interval(Z + "\\boxed{[5, 1]}") == Interval(1.0, 5.0)  # reordered, as inference reads it
    assert is_zoom(Z + "\\boxed{[-5, 10]}")  # a zoom outside the video is still a zoom (it masks the rollout)


_PIECES = ["\\boxed{", "}", "[", "]", "(", ")", ",", " ", "-", "5", "12", "1e9", "1e400", "nan", "inf", "-inf",
           "3.5", "1:30", "99:99", "to", "~", "s", Z, A, "\n", "\\boxed{[", "{", "é", "\x00", "0", "-0", "[[1, 2]]"]


_VALID_NUMBERS = ["0", "5", "12", "20", "30", "45"]
_ODD_NUMBERS = ["-5", "7.5", "1e3", "nan", "inf", "1:05", "", "x", "99999999999999999999", "-0", "0x10"]


def _malformed_reply(rng: random.Random) -> str:
    """Random pieces, or a near-valid zoom reply with odd numbers and a few random edits."""
    if rng.random() < 0.4:
        return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12)))

    def number() -> str:
        return rng.choice(_VALID_NUMBERS) if rng.random() < 0.7 else rng.choice(_ODD_NUMBERS)

    separator = ", " if rng.random() < 0.6 else rng.choice([",", " to ", "-", " ", ",,"])
    reply = (rng.choice([Z, Z, A, "", Z.strip()]) + rng.choice(["Look. ", ""]) + "\\boxed{["
             + number() + separator + number() + rng.choice(["]}", "]}", ")}", "]", ""]))
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        i = rng.randrange(len(reply) + 1)
        reply = reply[:i] + rng.choice(_PIECES) + reply[i + rng.choice([0, 1]):]
    return reply


def test_step2_clip_builder_never_raises_on_malformed_replies():
    rng = random.Random(0)
    clips_choices = [(), START, (Interval(0, 50), Interval(60, 100))]
    outcomes = {"added": 0, "added_compat": 0, "dropped_compat": 0}
    for _ in range(3000):
        reply = _malformed_reply(rng)
        duration = rng.choice([0.5, 1.0, 8.0, 100.0, 3600.0])
        clips = rng.choice(clips_choices)
        for compat in (False, True):
            out = step2_clips(reply=reply, clips=clips, duration_seconds=duration, rules=RULES, compat=compat)
            added = [c for c in out if c not in clips]
            assert len(added) <= 1 and all(
                math.isfinite(c.end_seconds) and 0 <= c.start_seconds <= c.end_seconds <= duration + 1
                and c.length_seconds <= duration / 2 for c in added), (reply, out)
            if compat:  # the reference keeps the clips, adds the zoom, or drops them all
                assert out == () or set(clips) <= set(out)
                outcomes["dropped_compat"] += bool(clips) and out == ()
            else:  # ours never loses a clip and never passes D
                assert set(clips) <= set(out) and all(c.end_seconds <= duration for c in added)
            outcomes["added_compat" if compat else "added"] += bool(added)
            is_zoom(reply, compat=compat)
    assert min(outcomes.values()) >= 20, outcomes  # the fuzz reaches every branch
    assert step2_clips(reply=None, clips=START, duration_seconds=10.0, rules=RULES) == START  # type: ignore[arg-type]


@pytest.mark.parametrize(("processes", "alternate", "expected"), [
    (1, False, (8, 64, 8)),   # 8 prompts x 4 rollouts x 2 steps = 64 samples / 8 = 8 passes
    (2, False, (4, 32, 4)),
    (8, False, (1, 8, 1)),
    (2, True, (4, 16, 2)),    # alternating updates train one step of each rollout
])
def test_update_plan(processes, alternate, expected):
    plan = UpdatePlan.build(prompts_per_update=8, num_processes=processes, num_generations=4, micro_batch_size=8,
                            alternate_steps=alternate)
    assert (plan.prompts_per_process, plan.samples_per_process, plan.micro_batches) == expected
    slices = plan.micro_batch_slices()
    assert len(slices) == plan.micro_batches and sum(s.stop - s.start for s in slices) == plan.samples_per_process


def test_update_plan_rejects_prompts_not_divisible_by_processes():
    with pytest.raises(ValueError, match="prompts_per_update=6 is not a multiple of the 4 processes"):
        UpdatePlan.build(prompts_per_update=6, num_processes=4, num_generations=8, micro_batch_size=8,
                         alternate_steps=False)


def test_record_order_does_not_depend_on_the_process_count():
    for rollout in range(7):
        indices = rollout_record_indices(num_records=5, prompts_per_update=4, rollout_index=rollout, seed=3)
        assert len(indices) == 4
    stream = [i for r in range(5) for i in rollout_record_indices(num_records=5, prompts_per_update=4,
                                                                  rollout_index=r, seed=3)]
    assert sorted(stream[:5]) == sorted(stream[5:10]) == list(range(5))  # each epoch visits every record once
    assert stream[:5] != stream[5:10]  # and reshuffles
    assert rollout_seed(seed=1, rollout_index=2, prompt_position=3) != rollout_seed(seed=1, rollout_index=2,
                                                                                      prompt_position=4)


def test_num_updates():
    assert num_updates(num_records=10, num_train_epochs=1, prompts_per_update=4, max_steps=0,
                       alternate_steps=False) == 3
    assert num_updates(num_records=10, num_train_epochs=1, prompts_per_update=4, max_steps=0,
                       alternate_steps=True) == 6
    assert num_updates(num_records=10, num_train_epochs=1, prompts_per_update=4, max_steps=5,
                       alternate_steps=True) == 5


def test_loss_scale_makes_the_distributed_gradient_the_single_process_gradient():
    """Emulate the engines: W processes x n micro-batches, each backward's loss / n, gradients averaged over W."""
    import torch

    torch.manual_seed(0)
    weight = torch.randn(4, requires_grad=True)
    tokens = [torch.randn(int(k), 4) for k in torch.randint(1, 6, (12,))]  # 12 samples, varying token counts
    total_tokens = sum(t.shape[0] for t in tokens)

    def sample_loss(x):
        return (x @ weight).tanh().sum()  # summed over the sample's tokens

    single = torch.autograd.grad(sum(sample_loss(x) for x in tokens) / total_tokens, weight)[0]
    world, micro = 3, 2
    per_process = [tokens[r::world] for r in range(world)]
    grads = []
    for shard in per_process:
        grad = torch.zeros(4)
        chunks = [shard[i::micro] for i in range(micro)]
        for chunk in chunks:
            loss = sum(sample_loss(x) for x in chunk) / total_tokens * loss_scale(num_processes=world,
                                                                                  micro_batches=micro)
            grad += torch.autograd.grad(loss / micro, weight)[0]  # accelerate / DeepSpeed divide by n
        grads.append(grad)
    assert torch.allclose(sum(grads) / world, single, atol=1e-6)  # all-reduce averages
