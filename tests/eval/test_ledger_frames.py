"""The cost ledger counts decoded and cached frames apart (issue 13 §14).

Before: every question of a video reported the fast view as decoded although the frame cache served
it (12 questions on 2 videos: 800 "decoded" frames each).
"""

from __future__ import annotations

import pytest

from love_r1.agent.ledger import Ledger
from love_r1.backends.scripted import ScriptedBackend
from love_r1.eval import make_benchmark, read_run
from love_r1.eval.config import EvalConfig
from love_r1.eval.runner import evaluate

QUESTIONS_PER_VIDEO = 3


@pytest.fixture
def needle_two_videos(tmp_path):
    from love_r1.synth import write_needle_dataset

    root = tmp_path / "needle"
    write_needle_dataset(root, duration_seconds=12.0, num_videos=2, num_questions_per_video=QUESTIONS_PER_VIDEO,
                         width=96, height=64, fps=5.0, seed=7)
    return root


@pytest.mark.parametrize("method", ["zoom", "uniform"])
def test_frames_served_by_the_cache_are_not_counted_as_decoded(needle_two_videos, tmp_path, method):
    bench = make_benchmark("needle", needle_two_videos)
    evaluate(bench, ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="scripted", method=method,
                                                  num_frames=16 if method == "uniform" else None, prefetch_workers=0,
                                                  concurrency=1), progress=False)
    rows = read_run(tmp_path / "run").items
    assert len(rows) == 2 * QUESTIONS_PER_VIDEO and all(row.error is None for row in rows)
    by_video: dict[str, list[dict]] = {}
    for row in rows:
        by_video.setdefault(row.episode["video"]["path"], []).append(row.episode)
    for episodes in by_video.values():
        counts = sorted((e["ledger"]["frames_decoded"], e["ledger"]["frames_cached"]) for e in episodes)
        total = counts[-1][0]  # the question that ran first decoded everything it showed
        assert total >= episodes[0]["fast_view"]["num_frames"] > 0
        # ... and the others got the same frames from the cache (before: each reported them all as decoded)
        assert counts == [(0, total)] * (QUESTIONS_PER_VIDEO - 1) + [(total, 0)]


def test_add_decode_splits_decoded_and_cached():
    ledger = Ledger()
    ledger.add_decode(num_frames=768, seconds=0.5, num_cached=768)
    ledger.add_decode(num_frames=32, seconds=0.1)
    assert (ledger.frames_decoded, ledger.frames_cached) == (32, 768)
    assert Ledger.from_dict(ledger.to_dict()) == ledger
    assert (ledger + ledger).frames_cached == 1536
