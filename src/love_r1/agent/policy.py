"""``ZoomPolicy``: every number of the inference loop, with the reference defaults and presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from love_r1.agent.budget import (
    PLAN_MIN_FRAMES,
    PLAN_MIN_PIXELS_PER_FRAME,
    TEMPORAL_PATCH_SIZE,
    nominal_pair_tokens,
)
from love_r1.backends import SamplingParams
from love_r1.prompts.constants import SINGLE_LETTER_INSTRUCTION
from love_r1.time_base import DEFAULT_TIME_BASE, TimeBase, check_time_base

PresetName = Literal["reference", "mlvu", "longvideobench", "budget"]

# name -> field overrides on top of the reference defaults (model_sample_frame.py keys these on the
# benchmark name; we ship them as explicit, recorded presets).
_PRESETS: dict[PresetName, dict[str, Any]] = {
    "reference": {},
    "mlvu": {"fast_max_frames": 384, "fast_pixels_per_frame": 64 * 28 * 28},
    "longvideobench": {"clip_max_frames": 16, "widen": False},
    # Token-budgeted zoom (docs/protocol.md §8): 4032 = the reference zoom clip of a 16:9 video
    # (32 frames at 588x336 = 16 pairs x 252 tokens), so long intervals keep the reference clip and
    # short ones trade unused frames for resolution; 16384 = the paper's ~16k-token context for the
    # whole prompt (a long 16:9 video's fast view costs 10,752 of it).
    "budget": {"clip_token_budget": 4032, "total_token_budget": 16384},
}

# Off by default; omitted from to_dict() while None so reference records (and run hashes) are unchanged.
_OPTIONAL_FIELDS = ("clip_token_budget", "total_token_budget", "skip_zoom_below_seconds")
# Field names of episodes and run stores written before the vocabulary rename (read by from_dict only).
_OLD_NAMES = {
    "iou_stop": "repeat_iou",
    "slow_max_frames": "clip_max_frames",
    "slow_pixels_per_frame": "clip_pixels_per_frame",
    "zoom_token_budget": "clip_token_budget",
}


@dataclass(frozen=True)
class ZoomPolicy:
    """Settings of the multi-step zoom loop (defaults: the reference inference settings).

    Attributes:
        name: preset name recorded with every result (``"custom"`` after manual changes is fine).
        max_free_steps: model calls that may zoom or answer before the forced answer (reference: 2).
        pad_seconds: each requested interval is padded by this on both sides (seconds).
        min_clip_seconds: a padded interval shorter than this forces the answer (seconds).
        min_length_seconds, min_length_fraction: intervals shorter than
            ``min(min_length_seconds, duration * min_length_fraction)`` are widened to that length
            around their midpoint (endpoints cast to ``int`` as the reference does).
        widen: apply the widening (off in the LongVideoBench preset).
        repeat_iou: a new interval whose IoU with an existing clip is above this forces the answer.
        fast_max_frames, fast_pixels_per_frame: fast-view frame cap and pixel budget per frame.
        clip_max_frames, clip_pixels_per_frame: zoom-clip frame cap and pixel budget per frame.
        short_video_seconds, short_video_factor: videos shorter than ``short_video_seconds`` get
            ``short_video_factor`` times the pixel budget (fast view and zoom clips).
        frames_per_second: sampling rate cap for both views (frames per second).
        overlay: burn the timestamp overlay into the frames (the checkpoints were trained with it).
        sampling: decoding settings of every model call (reference: near-greedy, <= 2048 new tokens;
            temperature 0.01 / top-k 1 there, i.e. greedy, which we express as temperature 0).
        strict_parsing: read intervals exactly like the reference (``[int, int]`` only).
        answer_instruction: appended to the question text when a task gives none.
        clip_token_budget: vision tokens per zoom clip; when set, each clip's frame count and pixels
            per frame come from :func:`love_r1.agent.budget.plan_clip` (up to ``clip_max_frames``
            frames at up to ``frames_per_second``) instead of the fixed zoom-clip settings and the 60 s
            factor. ``None`` (default): the reference clips.
        total_token_budget: vision tokens of the whole prompt (fast view plus every zoom clip); a zoom
            whose clip does not fit (or, with ``clip_token_budget``, cannot be planned in what is left)
            forces the answer with stop reason ``"token_budget"``. ``None`` (default): unbounded.
        skip_zoom_below_seconds: any-horizon routing: videos shorter than this (seconds) are answered
            in one forced step with the whole video as the zoom clip (stop reason ``"short_video"``).
            ``None`` (default): never.
        time_base: the clock of D, frame selection, clip bounds, labels and the overlay (``docs/protocol.md``
            "Time base"): ``"presentation"`` (default; each frame's presentation time measured from the
            first frame) or ``"index"`` (the reference: ``frame_index / header fps``, ``D = N / fps``).
            Identical on constant-frame-rate files.
    """

    name: str = "reference"
    max_free_steps: int = 2
    pad_seconds: float = 5.0
    min_clip_seconds: float = 3.0
    min_length_seconds: float = 30.0
    min_length_fraction: float = 1 / 8
    widen: bool = True
    repeat_iou: float = 0.3
    fast_max_frames: int = 768
    fast_pixels_per_frame: int = 32 * 28 * 28
    clip_max_frames: int = 32
    clip_pixels_per_frame: int = 256 * 28 * 28
    short_video_seconds: float = 60.0
    short_video_factor: int = 2
    frames_per_second: float = 2.0
    overlay: bool = True
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=2048))
    strict_parsing: bool = False
    answer_instruction: str = SINGLE_LETTER_INSTRUCTION
    clip_token_budget: int | None = None
    total_token_budget: int | None = None
    skip_zoom_below_seconds: float | None = None
    time_base: TimeBase = DEFAULT_TIME_BASE

    def __post_init__(self) -> None:
        check_time_base(self.time_base, name="ZoomPolicy.time_base")
        if isinstance(self.sampling, dict):
            object.__setattr__(self, "sampling", SamplingParams(**self.sampling))
        if not isinstance(self.sampling, SamplingParams):
            raise TypeError(f"ZoomPolicy.sampling must be SamplingParams, got {type(self.sampling).__name__}")
        for name in ("max_free_steps", "fast_max_frames", "clip_max_frames", "fast_pixels_per_frame",
                     "clip_pixels_per_frame", "short_video_factor"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"ZoomPolicy.{name} must be an int, got {value!r}")
        if self.max_free_steps < 0:
            raise ValueError(f"ZoomPolicy.max_free_steps must be >= 0, got {self.max_free_steps}")
        for name in ("fast_max_frames", "clip_max_frames", "fast_pixels_per_frame", "clip_pixels_per_frame",
                     "short_video_factor"):
            if getattr(self, name) < 1:
                raise ValueError(f"ZoomPolicy.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("pad_seconds", "min_clip_seconds", "min_length_seconds", "min_length_fraction",
                     "short_video_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"ZoomPolicy.{name} must be >= 0, got {getattr(self, name)}")
        if self.frames_per_second <= 0:
            raise ValueError(f"ZoomPolicy.frames_per_second must be > 0, got {self.frames_per_second}")
        if not 0 <= self.repeat_iou <= 1:
            raise ValueError(f"ZoomPolicy.repeat_iou must be in [0, 1], got {self.repeat_iou}")
        self._check_budgets()

    def _check_budgets(self) -> None:
        for name in ("clip_token_budget", "total_token_budget"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise TypeError(f"ZoomPolicy.{name} must be an int number of tokens or None, got {value!r}")
        skip = self.skip_zoom_below_seconds
        if skip is not None and (isinstance(skip, bool) or not isinstance(skip, (int, float)) or not skip >= 0):
            raise ValueError(f"ZoomPolicy.skip_zoom_below_seconds must be >= 0 seconds or None, got {skip!r}")
        smallest_clip = self.smallest_clip_tokens()
        if self.clip_token_budget is not None and self.clip_token_budget < smallest_clip:
            frames = min(PLAN_MIN_FRAMES, self.clip_max_frames)
            raise ValueError(
                f"ZoomPolicy.clip_token_budget={self.clip_token_budget} is below the smallest planned clip: "
                f"{frames} frames at {PLAN_MIN_PIXELS_PER_FRAME} pixels = "
                f"{-(-frames // TEMPORAL_PATCH_SIZE)} frame pairs x "
                f"{nominal_pair_tokens(pixels_per_frame=PLAN_MIN_PIXELS_PER_FRAME)} tokens = {smallest_clip} tokens"
            )
        if self.total_token_budget is not None:
            fast = self.max_fast_view_tokens()
            if self.total_token_budget < fast + smallest_clip:
                raise ValueError(
                    f"ZoomPolicy.total_token_budget={self.total_token_budget} leaves no room for a zoom clip: the "
                    f"fast view ({self.fast_max_frames} frames at {self.fast_pixels_per_frame} pixels, x"
                    f"{self.short_video_factor} under {self.short_video_seconds:g} s) may cost up to {fast} tokens "
                    f"and the smallest clip {smallest_clip}, so at least {fast + smallest_clip} are needed "
                    "(hint: raise the budget or lower fast_max_frames / fast_pixels_per_frame)"
                )

    def smallest_clip_tokens(self) -> int:
        """Tokens of the smallest clip :func:`~love_r1.agent.budget.plan_clip` makes (nominal, any aspect ratio):
        ``min(4, clip_max_frames)`` frames at ``64·28·28`` pixels, i.e. 2 pairs x 67 = 134 tokens by default."""
        frames = min(PLAN_MIN_FRAMES, self.clip_max_frames)
        return -(-frames // TEMPORAL_PATCH_SIZE) * nominal_pair_tokens(pixels_per_frame=PLAN_MIN_PIXELS_PER_FRAME)

    def max_fast_view_tokens(self) -> int:
        """Nominal upper bound of the fast view's vision tokens over all video lengths (12,672 by default:
        384 pairs x 33 tokens; a 16:9 video's actual fast view costs 10,752)."""
        long_pairs = -(-self.fast_max_frames // TEMPORAL_PATCH_SIZE)
        short_frames = min(self.fast_max_frames, int(self.frames_per_second * self.short_video_seconds))
        short_pairs = -(-short_frames // TEMPORAL_PATCH_SIZE)
        return max(
            long_pairs * nominal_pair_tokens(pixels_per_frame=self.fast_pixels_per_frame),
            short_pairs * nominal_pair_tokens(pixels_per_frame=self.fast_pixels_per_frame * self.short_video_factor),
        )

    @property
    def budgeted(self) -> bool:
        """Whether a token budget is set (zoom clips are then planned and priced)."""
        return self.clip_token_budget is not None or self.total_token_budget is not None

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> ZoomPolicy:
        """A named preset: ``"reference"``, ``"mlvu"`` (384 fast frames at 64*28*28 pixels),
        ``"longvideobench"`` (16 frames per zoom clip, no widening) or ``"budget"`` (4032 tokens per
        zoom clip, 16384 per prompt); ``overrides`` replace fields."""
        if name not in _PRESETS:
            raise ValueError(f"ZoomPolicy preset must be one of {list(get_args(PresetName))}; got {name!r}")
        return cls(**{"name": name, **_PRESETS[name], **overrides})

    def replace(self, **changes: Any) -> ZoomPolicy:
        return dataclasses.replace(self, **changes)

    def resolution_factor(self, duration_seconds: float) -> int:
        """Pixel-budget multiplier for a video of ``duration_seconds`` (the 60 s rule)."""
        return self.short_video_factor if duration_seconds < self.short_video_seconds else 1

    def min_length_for(self, duration_seconds: float) -> float:
        """Length in seconds that short intervals are widened to: ``min(30, D/8)`` by default."""
        return min(self.min_length_seconds, duration_seconds * self.min_length_fraction)

    def fast_view_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :func:`love_r1.video.sample_fast_view` for this policy (the task adds its
        ``window``). Every caller that must decode the loop's exact fast view (the loop, the stage-1 path, the
        eval prefetch, whose frames the loop then takes from the cache) uses these."""
        return {"max_frames": self.fast_max_frames, "frames_per_second": self.frames_per_second,
                "pixels_per_frame": self.fast_pixels_per_frame, "short_video_seconds": self.short_video_seconds,
                "short_video_factor": self.short_video_factor, "overlay": self.overlay, "time_base": self.time_base}

    def clip_arguments(self, *, duration_seconds: float, num_frames: int | None = None,
                       pixels_per_frame: int | None = None) -> dict[str, Any]:
        """The keyword arguments of :func:`love_r1.video.sample_clip` (after the interval; the task adds its
        ``window``) for a zoom clip of a video of ``duration_seconds``: the reference's fixed clip
        (``clip_max_frames`` at ``clip_pixels_per_frame`` times the 60 s factor), or, for a clip planned under
        a token budget, exactly ``num_frames`` at ``pixels_per_frame`` (both given)."""
        if (num_frames is None) != (pixels_per_frame is None):
            raise ValueError(f"a planned clip needs both num_frames and pixels_per_frame; got num_frames="
                             f"{num_frames!r}, pixels_per_frame={pixels_per_frame!r}")
        if num_frames is None:
            frames, pixels, factor = self.clip_max_frames, self.clip_pixels_per_frame, \
                self.resolution_factor(duration_seconds)
        else:
            frames, pixels, factor = int(num_frames), int(pixels_per_frame), 1
        return {"max_frames": frames, "frames_per_second": self.frames_per_second, "pixels_per_frame": pixels,
                "resolution_factor": factor, "overlay": self.overlay, "time_base": self.time_base}

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["sampling"] = dataclasses.asdict(self.sampling)
        for name in _OPTIONAL_FIELDS:
            if data[name] is None:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ZoomPolicy:
        """The policy of a ``to_dict()`` (episodes and run stores; older files' field names are read too)."""
        data = {_OLD_NAMES.get(name, name): value for name, value in data.items()}
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown ZoomPolicy fields {unknown}; known: {sorted(cls.__dataclass_fields__)}")
        return cls(**data)
