"""Training configs: TRL's configs plus only our fields, each with help; cross-field checks in ``__post_init__``.

Both parse from YAML with ``trl.TrlParser`` (``love-r1 train sft --config configs/sft/stage1.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from love_r1._imports import require

require("trl", extra="train")

from trl import GRPOConfig, SFTConfig  # noqa: E402

from love_r1.train.sampling import ClipPolicy  # noqa: E402

_FRAME_OVERRIDES = ("fast_max_frames", "fast_pixels_per_frame", "slow_pixels_per_frame")


@dataclass
class _VideoDataFields:
    model_name_or_path: str = field(default="", metadata={"help": "checkpoint directory or Hub id to start from"})
    train_file: str = field(default="", metadata={"help": "records file (.jsonl or .json list): published "
                                                          "annotations or love-r1 trajectories"})
    video_root: str | None = field(default=None, metadata={"help": "directory that relative video paths are "
                                                                   "resolved against"})
    clip_preset: Literal["reference", "aligned"] = field(default="reference", metadata={
        "help": "clip sampling and frame budgets: 'reference' (training as released) or 'aligned' "
                "(inference values; docs/protocol.md §8)"})
    fast_max_frames: int | None = field(default=None, metadata={"help": "override: fast-view frames (count)"})
    fast_pixels_per_frame: int | None = field(default=None, metadata={"help": "override: fast-view pixel budget "
                                                                              "per frame (pixels)"})
    slow_pixels_per_frame: int | None = field(default=None, metadata={"help": "override: slow-clip pixel budget "
                                                                              "per frame (pixels)"})
    time_base: Literal["presentation", "index"] = field(default="presentation", metadata={
        "help": "clock of D, frame selection, clip bounds, labels and the overlay: 'presentation' (each frame's "
                "presentation time from the first frame) or 'index' (the reference's frame_index / header fps); "
                "the same on constant-frame-rate files (docs/protocol.md, Time base)"})
    decode_mode: Literal["exact", "keyframe"] = field(default="exact", metadata={
        "help": "frame decoding: 'exact' frames or nearest keyframes (faster, approximate)"})
    freeze_vision_tower: bool = field(default=True, metadata={"help": "keep the vision encoder's weights fixed "
                                                                      "(the merger trains)"})
    probe_videos: bool = field(default=True, metadata={"help": "open every video in the pre-flight check"})

    def clip_policy(self) -> ClipPolicy:
        overrides = {name: getattr(self, name) for name in _FRAME_OVERRIDES if getattr(self, name) is not None}
        return ClipPolicy.preset(self.clip_preset, time_base=self.time_base, **overrides)

    def _check_video_fields(self) -> None:
        for name in _FRAME_OVERRIDES:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name}={value} must be >= 1")


@dataclass
class ZoomSFTConfig(SFTConfig, _VideoDataFields):
    """``trl.SFTConfig`` for video SFT (stages 1-2) with our custom collator."""

    loss_on_prompt: bool = field(default=False, metadata={"help": "reference behaviour: loss on every non-pad, "
                                                                  "non-vision token, prompt text included"})
    max_sample_tokens: int | None = field(default=20500, metadata={"help": "drop samples longer than this "
                                                                           "(tokens; the reference's 20,500)"})
    remove_unused_columns: bool = field(default=False, metadata={"help": "must stay False: the collator reads "
                                                                         "the 'record' column"})
    dataset_kwargs: dict[str, Any] | None = field(default_factory=lambda: {"skip_prepare_dataset": True},
                                                  metadata={"help": "must keep skip_prepare_dataset=True"})
    max_length: int | None = field(default=None, metadata={"help": "unused; see max_sample_tokens"})

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_video_fields()
        if self.remove_unused_columns:
            raise ValueError("remove_unused_columns=True would drop the 'record' column the video collator reads; "
                             "set it to False")
        if not (self.dataset_kwargs or {}).get("skip_prepare_dataset"):
            raise ValueError("dataset_kwargs must hold skip_prepare_dataset=True (the collator tokenizes)")
        if self.loss_on_prompt and self.assistant_only_loss:
            raise ValueError("loss_on_prompt=True and assistant_only_loss=True contradict each other; choose one")
        if self.packing:
            raise ValueError("packing=True is not supported with video samples; set packing=False")
        if self.max_sample_tokens is not None and self.max_sample_tokens < 1:
            raise ValueError(f"max_sample_tokens={self.max_sample_tokens} must be >= 1 or None")


@dataclass
class ZoomGRPOConfig(GRPOConfig, _VideoDataFields):
    """``trl.GRPOConfig`` read by our decoupled trainer (``love_r1.train.grpo``); TRL's trainer is not used.

    Batch semantics: every optimizer step, each process takes ``gradient_accumulation_steps`` prompts,
    samples ``num_generations`` rollouts of each (two decoupled steps per rollout), and runs the loss in
    micro-batches of ``per_device_train_batch_size`` samples.
    """

    accuracy_weight: float = field(default=1.0, metadata={"help": "weight of answer_reward (accuracy)"})
    format_weight: float = field(default=1.0, metadata={"help": "weight of format_reward"})
    zoom_weight: float = field(default=0.0, metadata={"help": "weight of zoom_reward (overlap with tgt/evidence)"})
    zoom_reward_mode: Literal["overlap", "iou"] = field(default="overlap", metadata={
        "help": "zoom_reward: 1 when a zoom overlaps a moment ('overlap', reference) or its best IoU ('iou')"})
    reward_compat: bool = field(default=False, metadata={
        "help": "reference rewards: accuracy reads the first character after the first \\boxed{, format needs "
                "no control phrase (defect #9)"})
    alternate_steps: bool = field(default=False, metadata={
        "help": "reference schedule: even updates train step-1 samples, odd updates train the stored step-2 "
                "samples one update off-policy"})
    max_zoom_seconds: float = field(default=60.0, metadata={"help": "valid zoom: length <= min(D * "
                                                                    "max_zoom_fraction, this) (seconds)"})
    max_zoom_fraction: float = field(default=0.5, metadata={"help": "valid zoom: length <= D * this"})
    min_zoom_seconds: float = field(default=1.0, metadata={"help": "valid zoom: length >= this (seconds)"})
    zoom_repeat_iou: float = field(default=0.7, metadata={"help": "valid zoom: IoU with every shown clip <= this"})
    advantage_epsilon: float = field(default=1e-4, metadata={"help": "advantages: (r - mean) / (std + this)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_video_fields()
        if self.beta != 0.0:
            raise ValueError(f"beta={self.beta}: the decoupled trainer has no reference model (the reference uses "
                             "beta=0); set beta: 0.0")
        if self.use_vllm:
            raise ValueError("use_vllm=True is not wired into the decoupled trainer yet; rollouts use HF generate "
                             "with num_return_sequences (see docs/training.md)")
        if not 0 < self.max_zoom_fraction <= 1:
            raise ValueError(f"max_zoom_fraction={self.max_zoom_fraction} must lie in (0, 1]")
        if self.min_zoom_seconds > self.max_zoom_seconds:
            raise ValueError(f"min_zoom_seconds={self.min_zoom_seconds} > max_zoom_seconds={self.max_zoom_seconds}")
        if self.accuracy_weight == self.format_weight == self.zoom_weight == 0:
            raise ValueError("all reward weights are 0; nothing to learn")


__all__ = ["ZoomGRPOConfig", "ZoomSFTConfig"]
