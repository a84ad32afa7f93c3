"""Training: records and checks, clip sampling, SFT (TRL) and decoupled GRPO (accelerate).

Heavy modules (``configs``, ``sft``, ``grpo``) import torch/TRL; import them directly.
"""

from love_r1.train.records import (
    Manifest,
    RecordIssue,
    TrainRecord,
    build_manifest,
    check_records,
    load_records,
    records_from_episode,
)
from love_r1.train.sampling import ClipPolicy, slow_frames_per_clip, stage1_clip_intervals, stage2_clip_intervals

__all__ = [
    "ClipPolicy", "Manifest", "RecordIssue", "TrainRecord", "build_manifest", "check_records", "load_records",
    "records_from_episode", "slow_frames_per_clip", "stage1_clip_intervals", "stage2_clip_intervals",
]
