"""Pure pieces of the decoupled GRPO update: the step-2 clip builder, data order, seeds and batch arithmetic.

Nothing here raises on model output: a malformed reply is data (no zoom), never an exception.

**Step-2 clips** (``docs/protocol.md`` §4.3). A QA rollout's step-2 prompt shows the step-1 clips plus
the clip its step-1 reply asked for, when that zoom is valid:

* default (love-r1): the reply is read by :func:`love_r1.agent.grammar.parse_reply` as at inference
  (the last box; floats, ``mm:ss``; the zoom phrase is not needed to read it, the format reward asks
  for it); a valid zoom is added with its end cut to the video's duration D; an invalid zoom
  leaves the step-1 clips, so step 2 re-answers with what the model had.
* ``compat=True`` (the reference, ``grpo_trainer.py``): the reply must start with the zoom phrase;
  the first box is read, ``[int, int]`` only; a valid zoom is added raw (its end may pass D, up to
  D + 1); an invalid zoom after the phrase drops **every** clip (the reference's ``except`` branch
  sets the clip list to ``[]``); the starting clips are rounded to whole seconds.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from love_r1.interval import Interval
from love_r1.prompts import constants


@dataclass(frozen=True)
class ZoomRules:
    """The stage-3 validity rule of a requested zoom (``docs/protocol.md`` §4.3)."""

    min_clip_seconds: float = 1.0
    max_clip_seconds: float = 60.0
    max_clip_fraction: float = 0.5
    repeat_iou: float = 0.7

    @classmethod
    def from_config(cls, config: Any) -> ZoomRules:
        return cls(min_clip_seconds=config.min_clip_seconds, max_clip_seconds=config.max_clip_seconds,
                   max_clip_fraction=config.max_clip_fraction, repeat_iou=config.repeat_iou)


def _finite(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def is_zoom(reply: str, *, compat: bool = False) -> bool:
    """Whether a reply is a zoom request (a second QA zoom masks its rollout). Never raises.

    Default: the reply grammar reads a zoom (the last box holds an interval, even one outside the video).
    ``compat``: the reply starts with the zoom phrase.
    """
    if not isinstance(reply, str):
        return False
    if compat:
        return reply.startswith(constants.ZOOM_PREFIX)
    from love_r1.agent.grammar import parse_reply

    return parse_reply(reply).kind == "zoom"


def valid_zoom(interval: Interval, *, duration_seconds: float, clips: Sequence[Interval], rules: ZoomRules) -> bool:
    """The reward's zoom rule (``rewards.zoom_is_valid``) under ``rules``; a non-finite duration is invalid."""
    from love_r1.train import rewards

    if not _finite(duration_seconds):
        return False
    return rewards.zoom_is_valid(interval, duration_seconds=duration_seconds, clips=clips, **dataclasses.asdict(rules))


def start_clips(intervals: Sequence[Interval], *, compat: bool = False) -> tuple[Interval, ...]:
    """A record's starting clips: as given, or (``compat``) rounded to whole seconds like the reference."""
    if not compat:
        return tuple(intervals)
    rounded = []
    for interval in intervals:
        start, end = round(interval.start_seconds), round(interval.end_seconds)
        rounded.append(Interval(float(start), float(max(start, end))))
    return tuple(sorted(rounded, key=lambda i: i.start_seconds))


def step2_clips(*, reply: str, clips: Sequence[Interval], duration_seconds: float, rules: ZoomRules,
                compat: bool = False) -> tuple[Interval, ...]:
    """The clips of a QA rollout's step-2 prompt after step-1 ``reply`` (see the module docstring). Never raises."""
    from love_r1.train.rewards import zoom_interval

    clips = tuple(clips)
    requested = zoom_interval(reply, compat=compat)  # the reward's reading: the same zoom is scored and shown
    if requested is None or not valid_zoom(requested, duration_seconds=duration_seconds, clips=clips, rules=rules):
        return () if compat and is_zoom(reply, compat=True) else clips
    start, end = requested.start_seconds, requested.end_seconds
    if not compat:
        end = min(end, duration_seconds)
        start = min(start, end)
    return tuple(sorted((*clips, Interval(start, end)), key=lambda i: i.start_seconds))


# --------------------------------------------------------------------------- data order and seeds


def rollout_record_indices(*, num_records: int, prompts_per_update: int, rollout_index: int, seed: int) -> list[int]:
    """Global record indices of rollout round ``rollout_index``: consecutive slices of seeded epoch shuffles.

    Independent of the process count: process ``r`` of ``W`` takes the ``r``-th of ``W`` equal slices.
    """
    if num_records < 1:
        raise ValueError(f"num_records={num_records} must be >= 1")
    out = []
    position = rollout_index * prompts_per_update
    while len(out) < prompts_per_update:
        epoch, offset = divmod(position, num_records)
        order = list(range(num_records))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        take = min(prompts_per_update - len(out), num_records - offset)
        out.extend(order[offset:offset + take])
        position += take
    return out


def rollout_seed(*, seed: int, rollout_index: int, prompt_position: int) -> int:
    """The sampling seed of one prompt's rollouts (depends on the round and the prompt's global position)."""
    return (seed * 1_000_003 + rollout_index * 7_919 + prompt_position * 104_729) % (2**31 - 1)


# --------------------------------------------------------------------------- batch arithmetic


@dataclass(frozen=True)
class UpdatePlan:
    """Per-process sizes of one update; identical on every process, whatever its masks.

    ``micro_batches`` is the number of forward/backward passes per update = the engine's gradient
    accumulation steps (DeepSpeed's ``gradient_accumulation_steps``); the optimizer steps once at
    the last one.
    """

    num_processes: int
    prompts_per_process: int
    samples_per_process: int
    micro_batch_size: int
    micro_batches: int

    @classmethod
    def build(cls, *, prompts_per_update: int, num_processes: int, num_generations: int, micro_batch_size: int,
              alternate_steps: bool) -> UpdatePlan:
        if num_processes < 1:
            raise ValueError(f"num_processes={num_processes} must be >= 1")
        if prompts_per_update % num_processes:
            raise ValueError(f"prompts_per_update={prompts_per_update} is not a multiple of the {num_processes} "
                             f"processes; use a multiple of {num_processes}")
        prompts = prompts_per_update // num_processes
        steps_trained = 1 if alternate_steps else 2  # alternating updates train one of the two steps
        samples = prompts * num_generations * steps_trained
        return cls(num_processes=num_processes, prompts_per_process=prompts, samples_per_process=samples,
                   micro_batch_size=micro_batch_size, micro_batches=math.ceil(samples / micro_batch_size))

    def micro_batch_slices(self) -> list[slice]:
        return [slice(i * self.micro_batch_size, min((i + 1) * self.micro_batch_size, self.samples_per_process))
                for i in range(self.micro_batches)]


def num_updates(*, num_records: int, num_train_epochs: float, prompts_per_update: int, max_steps: int,
                alternate_steps: bool) -> int:
    """Optimizer steps of a run: ``max_steps``, else enough rollout rounds for the epochs (x2 when alternating)."""
    if max_steps > 0:
        return max_steps
    rounds = max(1, math.ceil(num_records * num_train_epochs / prompts_per_update))
    return rounds * (2 if alternate_steps else 1)


def loss_scale(*, num_processes: int, micro_batches: int) -> float:
    """Undo the engines' averaging so the update's gradient is Σ over every token / that count, over all processes.

    Each micro-batch's loss is its token sum divided by the token count of the whole update (all
    processes). Accelerate (DDP, FSDP) and DeepSpeed divide each backward's loss by the accumulation
    steps, and gradient all-reduces average over the processes: multiply both back.
    """
    return float(num_processes * micro_batches)


__all__ = [
    "UpdatePlan", "ZoomRules", "is_zoom", "loss_scale", "num_updates", "rollout_record_indices",
    "rollout_seed", "start_clips", "step2_clips", "valid_zoom",
]
