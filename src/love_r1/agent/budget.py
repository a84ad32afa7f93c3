"""Visual-token budgets for zoom clips: count tokens and plan frames × resolution under a budget.

Token arithmetic (``docs/protocol.md`` §8, the Qwen2/2.5-VL vision tower): one vision token
covers 2×2 patches of 14 px across 2 frames, so a frame pair of ``h×w`` pixels (sides multiples
of 28) costs ``(h/28)·(w/28)`` tokens and a clip of ``n`` frames costs ``ceil(n/2)`` pairs (an
odd count is padded with a copy of the last frame). Frame sizes come from the video engine's
smart-resize (:func:`love_r1.video.budget_hw`), so a plan's size is the size the frames will have.

:func:`plan_clip` chooses a frame count and a per-frame pixel budget whose clip fits a token
budget (the rule is in its docstring); :func:`fixed_clip_plan` prices the reference's fixed
clip; :func:`nominal_pair_tokens` is the aspect-free bound used by ``ZoomPolicy`` checks.
All functions are pure and keyword-only.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

QWEN_RESIZE_FACTOR = 28
TEMPORAL_PATCH_SIZE = 2
MAX_PIXELS_RATIO = 1.05

PLAN_MIN_FRAMES = 4
PLAN_MIN_PIXELS_PER_FRAME = 64 * 28 * 28
PLAN_MAX_PIXELS_PER_FRAME = 1024 * 28 * 28


class BudgetError(ValueError):
    """A clip cannot be planned within its token budget (or its interval holds no frame)."""


@dataclass(frozen=True)
class ClipPlan:
    """How one zoom clip is sampled and what it costs.

    Attributes:
        num_frames: frames to sample (``max_frames`` handed to ``sample_clip``).
        pixels_per_frame: pixel budget per frame handed to ``sample_clip`` (``resolution_factor=1``).
        resized_width, resized_height: frame size after smart-resize (pixels, multiples of 28).
        tokens: vision tokens of the clip: ``ceil(num_frames/2) · (h/28) · (w/28)``.
    """

    num_frames: int
    pixels_per_frame: int
    resized_width: int
    resized_height: int
    tokens: int

    def __post_init__(self) -> None:
        for name in ("num_frames", "pixels_per_frame", "resized_width", "resized_height", "tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ClipPlan.{name} must be a positive int, got {value!r}")

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClipPlan:
        missing = sorted(set(cls.__dataclass_fields__) - set(data))
        if missing:
            raise ValueError(f"clip plan {data!r} lacks fields {missing}")
        return cls(**{name: int(data[name]) for name in cls.__dataclass_fields__})


def pair_tokens(*, height: int, width: int, factor: int = QWEN_RESIZE_FACTOR) -> int:
    """Vision tokens of one frame pair of ``height × width`` pixels: ``(h/28)·(w/28)``.

    Sides that are not multiples of ``factor`` are counted as the processor's smart-resize
    would round them (to the nearest multiple, at least one).
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"height and width must be > 0 pixels; got height={height}, width={width}")
    return max(1, round(height / factor)) * max(1, round(width / factor))


def clip_tokens(*, num_frames: int, height: int, width: int, factor: int = QWEN_RESIZE_FACTOR) -> int:
    """Vision tokens of ``num_frames`` frames of ``height × width``: ``ceil(n/2)`` pairs (0 for no frame)."""
    if num_frames < 0:
        raise ValueError(f"num_frames must be >= 0; got {num_frames}")
    if num_frames == 0:
        return 0
    pairs = -(-num_frames // TEMPORAL_PATCH_SIZE)
    return pairs * pair_tokens(height=height, width=width, factor=factor)


def frames_tokens(frames: Any, *, factor: int = QWEN_RESIZE_FACTOR) -> int:
    """Vision tokens of a decoded ``Frames`` (from its shape)."""
    return clip_tokens(num_frames=frames.num_frames, height=frames.height, width=frames.width, factor=factor)


def nominal_pair_tokens(*, pixels_per_frame: int, factor: int = QWEN_RESIZE_FACTOR) -> int:
    """Tokens per frame pair at a pixel budget ``P`` for any aspect ratio whose smart-resize lands in
    ``[P, 1.05·P]`` pixels: ``⌊max(P, int(1.05·P)) / 28²⌋`` (e.g. 33 for ``32·28·28``, 268 for ``256·28·28``)."""
    if pixels_per_frame < 1:
        raise ValueError(f"pixels_per_frame must be >= 1; got {pixels_per_frame}")
    return max(pixels_per_frame, int(pixels_per_frame * MAX_PIXELS_RATIO)) // (factor * factor)


def _resized_hw(*, height: int, width: int, pixels_per_frame: int, factor: int) -> tuple[int, int]:
    from love_r1.video.resize import budget_hw  # lazy: numpy/PIL only when planning

    return budget_hw(height=height, width=width, pixels_per_frame=pixels_per_frame, factor=factor)


def _available_frames(*, length_seconds: float, max_frames: int, frames_per_second: float) -> int:
    """``min(int(frames_per_second · length), max_frames)``: exactly the count ``sample_clip`` takes."""
    if not (isinstance(length_seconds, (int, float)) and math.isfinite(length_seconds)):
        raise ValueError(f"length_seconds must be a finite number of seconds; got {length_seconds!r}")
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1; got {max_frames}")
    if not frames_per_second > 0:
        raise ValueError(f"frames_per_second must be > 0; got {frames_per_second}")
    available = min(int(frames_per_second * length_seconds), max_frames)
    if available < 1:
        raise BudgetError(
            f"an interval of {length_seconds:g} s holds no frame at {frames_per_second:g} frames per second "
            f"(hint: clips need at least {1 / frames_per_second:g} s)"
        )
    return available


def plan_clip(
    *,
    length_seconds: float,
    width: int,
    height: int,
    token_budget: int,
    max_frames: int = 32,
    min_frames: int = PLAN_MIN_FRAMES,
    frames_per_second_cap: float = 2.0,
    min_pixels_per_frame: int = PLAN_MIN_PIXELS_PER_FRAME,
    max_pixels_per_frame: int = PLAN_MAX_PIXELS_PER_FRAME,
    factor: int = QWEN_RESIZE_FACTOR,
) -> ClipPlan:
    """Frames and pixels per frame of a clip of ``length_seconds`` whose vision tokens fit ``token_budget``.

    Rule (coverage first, then resolution):

    1. ``available = min(int(frames_per_second_cap · length), max_frames)`` frames can be sampled
       (``sample_clip``'s own count, so the plan is exact).
    2. Frames: the most frames, up to ``available``, that fit the budget at the lowest resolution
       (``min_pixels_per_frame``): ``n = min(available, 2·⌊budget / t_min⌋)`` where ``t_min`` is the
       pair cost at that resolution. Fewer than ``min(min_frames, available)`` frames -> ``BudgetError``.
    3. Resolution: among pixel budgets ``k·28²`` in ``[min_pixels_per_frame, max_pixels_per_frame]``, the
       one whose smart-resized frame pair costs the most tokens with ``ceil(n/2)·t <= budget``
       (ties: the smallest pixel budget).

    So long intervals get temporal coverage up to the fps cap and the frame cap at modest
    resolution, short intervals (few available frames) spend the rest of the budget on
    resolution. ``num_frames`` and ``tokens`` never decrease when the budget grows, and
    ``tokens <= token_budget`` always.

    Args:
        length_seconds: interval length (``end - start``, seconds).
        width, height: display size of the source video (pixels).
        token_budget: vision tokens this clip may cost.
        max_frames: frame cap (the policy's ``clip_max_frames``).
        min_frames: fewest frames worth showing (capped by ``available``).
        frames_per_second_cap: sampling rate cap (frames per second).
        min_pixels_per_frame, max_pixels_per_frame: resolution range per frame (pixels).
        factor: smart-resize factor (28 for Qwen2/2.5-VL).

    Raises:
        BudgetError: the interval holds no frame, or ``min(min_frames, available)`` frames at
            ``min_pixels_per_frame`` exceed ``token_budget`` (the message gives the minimum).
        ValueError: inconsistent arguments.
    """
    for name, value in (("width", width), ("height", height), ("token_budget", token_budget),
                        ("max_frames", max_frames), ("min_frames", min_frames),
                        ("min_pixels_per_frame", min_pixels_per_frame),
                        ("max_pixels_per_frame", max_pixels_per_frame), ("factor", factor)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"plan_clip {name} must be an int, got {value!r}")
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be >= 1 pixel; got {width}x{height}")
    if min_frames < 1:
        raise ValueError(f"min_frames must be >= 1; got {min_frames}")
    if not 1 <= min_pixels_per_frame <= max_pixels_per_frame:
        raise ValueError(
            f"need 1 <= min_pixels_per_frame <= max_pixels_per_frame; got {min_pixels_per_frame} and "
            f"{max_pixels_per_frame} pixels"
        )
    available = _available_frames(length_seconds=length_seconds, max_frames=max_frames,
                                  frames_per_second=frames_per_second_cap)
    unit = factor * factor
    first = -(-min_pixels_per_frame // unit)
    budgets = [min_pixels_per_frame, *(k * unit for k in range(first, max_pixels_per_frame // unit + 1)
                                       if k * unit > min_pixels_per_frame)]
    if budgets[-1] != max_pixels_per_frame:
        budgets.append(max_pixels_per_frame)
    sizes = [_resized_hw(height=height, width=width, pixels_per_frame=p, factor=factor) for p in budgets]
    costs = [pair_tokens(height=h, width=w, factor=factor) for h, w in sizes]

    floor_frames = min(min_frames, available)
    cheapest = costs[0]
    num_frames = min(available, TEMPORAL_PATCH_SIZE * (max(token_budget, 0) // cheapest))
    if num_frames < floor_frames:
        needed = clip_tokens(num_frames=floor_frames, height=sizes[0][0], width=sizes[0][1], factor=factor)
        raise BudgetError(
            f"token_budget={token_budget} cannot hold {floor_frames} frames of a {width}x{height} video at "
            f"the lowest resolution ({min_pixels_per_frame} pixels -> {sizes[0][1]}x{sizes[0][0]}, "
            f"{cheapest} tokens per frame pair): that needs {needed} tokens (hint: raise the budget)"
        )
    pairs = -(-num_frames // TEMPORAL_PATCH_SIZE)
    per_pair = token_budget // pairs
    best = max(range(len(budgets)), key=lambda i: (costs[i] if costs[i] <= per_pair else -1, -budgets[i]))
    height_out, width_out = sizes[best]
    return ClipPlan(num_frames=num_frames, pixels_per_frame=budgets[best], resized_width=width_out,
                    resized_height=height_out, tokens=pairs * costs[best])


def fixed_clip_plan(
    *,
    length_seconds: float,
    width: int,
    height: int,
    max_frames: int,
    frames_per_second: float,
    pixels_per_frame: int,
    factor: int = QWEN_RESIZE_FACTOR,
) -> ClipPlan:
    """The reference clip (``min(int(fps · length), max_frames)`` frames at ``pixels_per_frame``) and its cost.

    ``pixels_per_frame`` already includes any resolution factor (the 60 s rule).

    Raises:
        BudgetError: the interval holds no frame.
    """
    num_frames = _available_frames(length_seconds=length_seconds, max_frames=max_frames,
                                   frames_per_second=frames_per_second)
    height_out, width_out = _resized_hw(height=height, width=width, pixels_per_frame=pixels_per_frame,
                                        factor=factor)
    return ClipPlan(num_frames=num_frames, pixels_per_frame=pixels_per_frame, resized_width=width_out,
                    resized_height=height_out,
                    tokens=clip_tokens(num_frames=num_frames, height=height_out, width=width_out, factor=factor))
