"""Clip sampling policy: reference percentages, seeding, widening, frame counts (pure functions)."""

from __future__ import annotations

from collections import Counter

import pytest

from love_r1.interval import Interval
from love_r1.train.sampling import (
    ClipPolicy,
    max_frames_per_clip,
    merge_intervals,
    stage1_clip_intervals,
    stage2_clip_intervals,
)

REF = ClipPolicy.preset("reference")
N = 3000


def _kind_of(clips, duration, evidence):
    if not clips:
        return "none"
    if clips == [Interval(0.0, float(int(duration)))]:
        return "whole"
    return "moments"


def test_grounding_mixture_is_60_20_20():
    evidence = [Interval(10, 20), Interval(15, 30), Interval(100, 110)]
    counts = Counter(_kind_of(stage1_clip_intervals(kind="grounding", duration_seconds=300.0, evidence=evidence, policy=REF,
                                                    seed=s), 300.0, evidence) for s in range(N))
    assert abs(counts["moments"] / N - 0.6) < 0.04
    assert abs(counts["whole"] / N - 0.2) < 0.03
    assert abs(counts["none"] / N - 0.2) < 0.03


def test_grounding_moments_are_merged_and_widened_at_most_5s():
    evidence = [Interval(10, 20), Interval(15, 30), Interval(100, 110)]
    for seed in range(300):
        clips = stage1_clip_intervals(kind="grounding", duration_seconds=300.0, evidence=evidence, policy=REF, seed=seed)
        if _kind_of(clips, 300.0, evidence) != "moments":
            continue
        assert len(clips) == 2  # [10, 30] merged, [100, 110]
        assert 5 <= clips[0].start_seconds <= 10 and 30 <= clips[0].end_seconds <= 35
        assert 95 <= clips[1].start_seconds <= 100 and 110 <= clips[1].end_seconds <= 115


def test_qa_mixture_and_clip_lengths():
    counts = Counter()
    for s in range(N):
        clips = stage1_clip_intervals(kind="qa", duration_seconds=400.0, policy=REF, seed=s)
        if clips == [Interval(0.0, 400.0)]:
            counts["whole"] += 1
            continue
        counts[len(clips)] += 1
        for c in clips:
            assert 16 <= c.length_seconds <= 400 // 8 and c.end_seconds <= 400
    assert abs(counts["whole"] / N - 0.9) < 0.02
    assert set(counts) - {"whole"} <= {0, 1, 2, 3}  # D >= 180 s: up to 3 clips


@pytest.mark.parametrize(("duration", "most"), [(20.0, 1), (100.0, 2), (500.0, 3)])
def test_qa_random_clip_count_bounded_by_duration(duration, most):
    seen = set()
    for s in range(2000):
        clips = stage1_clip_intervals(kind="qa", duration_seconds=duration, policy=REF, seed=s)
        if clips != [Interval(0.0, float(int(duration)))]:
            seen.add(len(clips))
    assert max(seen) == most


def test_same_seed_same_clips_and_different_seeds_differ():
    evidence = [Interval(10, 20)]
    a = [stage1_clip_intervals(kind="grounding", duration_seconds=60.0, evidence=evidence, policy=REF, seed=s) for s in range(50)]
    b = [stage1_clip_intervals(kind="grounding", duration_seconds=60.0, evidence=evidence, policy=REF, seed=s) for s in range(50)]
    assert a == b
    assert len({tuple(x) for x in a}) > 3


def test_stage2_rounding_and_widening_hand_computed():
    clips = stage2_clip_intervals(clips=[Interval(10.4, 12.6), Interval(30.5, 50.2), Interval(1.0, 2.0)],
                                  duration_seconds=40.0, policy=REF)
    # [10, 13] -> 3 s < 5 -> mid int(11.5)=11 -> [8, 14]; [30 (round-half-even), 50] stays; [1, 2] -> mid 1 -> [0, 4]
    assert clips == [Interval(0, 4), Interval(8, 14), Interval(30, 50)]


@pytest.mark.parametrize(("kind", "n", "frames"), [
    ("cot", 1, 32), ("cot", 2, 24), ("cot", 3, 16), ("cot", 5, 16), ("cot", 0, 32),
    ("grounding", 2, 16), ("grounding", 1, 32), ("qa", 3, 16), ("step", 3, 32), ("grpo", 1, 16),
])
def test_max_frames_per_clip(kind, n, frames):
    assert max_frames_per_clip(num_clips=n, kind=kind, policy=REF) == frames


def test_presets_and_validation():
    aligned = ClipPolicy.preset("aligned")
    assert (REF.sft_short_video_seconds, aligned.sft_short_video_seconds) == (120.0, 60.0)
    assert (REF.factor_on_clips, aligned.factor_on_clips) == (False, True)
    assert max_frames_per_clip(num_clips=1, kind="grpo", policy=aligned) == 32
    with pytest.raises(ValueError, match="unknown clip preset"):
        ClipPolicy.preset("nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="> 1"):
        ClipPolicy(grounding_moments_probability=0.9, grounding_whole_video_probability=0.2)


def test_merge_intervals():
    assert merge_intervals([Interval(5, 8), Interval(0, 2), Interval(2, 3), Interval(7, 9)]) == [
        Interval(0, 3), Interval(5, 9)]
