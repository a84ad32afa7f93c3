"""Long videos never crash a run (issue 9 §3).

The reference's multi-step path hands the processor ``round(n / (b - a) * fps, 2)``: the forced answer's
whole-video clip of 32 frames rounds to 0.0 fps above ~6,400 s (16 frames, the LongVideoBench preset:
~3,200 s), and Qwen's processor then fails (``ValueError`` in ``_qwen_inputs``). We floor every rate at
0.01 as the reference's stage-1 path (``model.py``) does.

Default suite: the floor itself and a 2-hour (0.1 fps) video through the tiny hf model. ``slow``: every
method and preset on a 3-hour 64x48 1 fps video with the tiny hf model and the scripted backend, through
the evaluation runner and the LVBench file format, and 12 questions on one 1-hour video through
``love-r1 eval``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from love_r1._imports import is_available
from love_r1.agent.loop import EpisodeTask, run_episode
from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import SamplingParams, VideoPart
from love_r1.backends.scripted import ScriptedBackend
from love_r1.video import clip_indices, fast_view_indices
from tests.helpers.markers import requires_av

pytestmark = requires_av

ZOOM = "I need to zoom in on the video.\n\n\\boxed{[5000, 5010]}"
NO_BOX = "I need to zoom in on the video, somewhere."
ANSWER = "I get the answer.\n\n\\boxed{B}"


def test_processor_rate_is_floored_like_the_reference_stage1_path():
    # 3 h at 1 fps, whole-video clip of 32 frames: round(32 / 10799, 2) = 0.0 in the multi-step reference
    assert clip_indices(start_seconds=0, end_seconds=10800, num_frames_total=10800, fps=1.0).sample_fps == 0.01
    # LongVideoBench preset (16 frames) on 55 min at 30 fps: round(16 / 98999 * 30, 2) = 0.0
    assert clip_indices(start_seconds=0, end_seconds=3300, num_frames_total=99000, fps=30.0,
                        max_frames=16).sample_fps == 0.01
    # unchanged where the rate is representable: 32 frames over 3000 s
    assert clip_indices(start_seconds=0, end_seconds=3000, num_frames_total=90000, fps=30.0).sample_fps == 0.01
    assert clip_indices(start_seconds=0, end_seconds=1000, num_frames_total=30000, fps=30.0).sample_fps == 0.03
    # a fast view of 2 days still gets a positive rate
    assert fast_view_indices(num_frames_total=172800, fps=1.0).sample_fps == 0.01


def _small(policy: ZoomPolicy) -> ZoomPolicy:
    return policy.replace(fast_max_frames=8, fast_pixels_per_frame=56 * 56, clip_pixels_per_frame=56 * 56,
                          sampling=SamplingParams(max_new_tokens=4))


@pytest.fixture(scope="module")
def tiny_hf():
    if not is_available("torch"):
        pytest.skip("needs torch (pip install 'love-r1[hf]')")
    from love_r1.backends.hf import HFBackend
    from tests.fixtures import tiny_qwen as tq

    model, processor = tq.build_tiny("qwen2_5_vl")
    return HFBackend(model, processor)


@pytest.mark.parametrize("preset", ["reference", "longvideobench"])
def test_two_hour_video_forced_answer_with_the_hf_backend(tmp_path, tiny_hf, preset):
    """7,200 s at 0.1 fps: the forced answer's whole-video clip (32 or 16 frames over 719 source frames at
    0.1 fps) had rate 0.0 and crashed the processor; it now runs at 0.01 fps."""
    from love_r1.synth import write_indexed_video

    path = write_indexed_video(tmp_path / "two_hours.mp4", duration_seconds=7200.0, fps=0.1, width=64, height=48,
                               gop_seconds=600.0)
    episode = run_episode(tiny_hf, EpisodeTask("e", path, "Which?", ("A. x", "B. y")),
                          _small(ZoomPolicy.preset(preset)))
    assert episode.error is None
    forced = episode.steps[-1]
    assert forced.kind == "forced_answer" and [c.as_list() for c in forced.clips_in_prompt] == [[0.0, 7200.0]]
    assert forced.usage.prompt_tokens > 0


# -- slow: the 3-hour video ------------------------------------------------------------------------

LONG_SECONDS = 10800.0


def _lvbench_root(root: Path, video: Path, *, num_questions: int) -> Path:
    """``video`` laid out as upstream LVBench (``video_info.meta.jsonl`` + ``all_videos/<key>.mp4``)."""
    (root / "all_videos").mkdir(parents=True, exist_ok=True)
    (root / "all_videos" / "vid1.mp4").symlink_to(video)
    qa = [{"uid": f"q{i}", "question": f"What happens in part {i}?\n(A) a\n(B) b\n(C) c\n(D) d",
           "answer": "ABCD"[i % 4], "question_type": ["reasoning"], "time_reference": f"{i:02d}:00-{i:02d}:30"}
          for i in range(num_questions)]
    (root / "video_info.meta.jsonl").write_text(json.dumps({"key": "vid1", "type": "documentary", "qa": qa}) + "\n")
    return root


@pytest.fixture(scope="module")
def three_hours(tmp_path_factory):
    from love_r1.synth import write_indexed_video

    root = tmp_path_factory.mktemp("long")
    return write_indexed_video(root / "three_hours.mp4", duration_seconds=LONG_SECONDS, fps=1.0, width=64, height=48,
                               gop_seconds=60.0)


@pytest.fixture(scope="module")
def engine(three_hours):
    """One cached engine for the scripted runs (each preset's fast view is decoded once)."""
    from love_r1.video import FrameCache, open_video

    cache = FrameCache(max_bytes=1 << 30)
    return lambda path, **kwargs: open_video(path, cache=cache, **kwargs)


PRESETS = ["reference", "mlvu", "longvideobench", "budget"]


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("replies", "steps"), [
    ([ZOOM, ANSWER], [("zoom", None), ("answer", "answered")]),                       # zoom
    ([NO_BOX, ANSWER], [("zoom", "no_box"), ("forced_answer", "no_box")]),            # forced answer, whole video
    ([ZOOM, ZOOM.replace("5000, 5010", "100, 110"), ANSWER],                          # step limit
     [("zoom", None), ("zoom", None), ("forced_answer", "step_limit")]),
])
def test_three_hours_scripted_every_preset(three_hours, engine, preset, replies, steps):
    if preset == "budget" and len(steps) == 3:  # 16,384 tokens: the fast view and one clip leave no room for two
        steps = [("zoom", None), ("zoom", "token_budget"), ("forced_answer", "token_budget")]
    backend = ScriptedBackend(replies)
    policy = ZoomPolicy.preset(preset)
    episode = run_episode(backend, EpisodeTask("e", three_hours, "Which?", ("A. x", "B. y")), policy,
                          open_video=engine)
    assert episode.error is None and episode.answer == "B"
    assert [(s.kind, s.stop_reason) for s in episode.steps] == steps
    for (request,) in backend.calls:
        clips = [p.frames for p in request.messages[1].content if isinstance(p, VideoPart)]
        assert all(frames.sample_fps >= 0.01 for frames in clips), [f.sample_fps for f in clips]
    last = backend.calls[-1][0]
    assert last.messages[1].content[0].text == "Full video [0, 10800]:"
    if steps[-1][1] == "no_box":  # whole video: min(2 * 10800, cap) frames over 10,799 source frames -> floor
        whole = [p.frames for p in last.messages[1].content if isinstance(p, VideoPart)][1]
        assert whole.sample_fps == 0.01 and whole.num_frames == (16 if preset == "longvideobench" else
                                                                 episode.steps[-1].clip_plan.num_frames
                                                                 if preset == "budget" else 32)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "preset", "real_pixels"), [
    ("zoom", "reference", True), ("zoom", "mlvu", False), ("zoom", "longvideobench", False), ("zoom", "budget", True),
    ("stage1", "reference", False), ("uniform", "reference", False)])
def test_three_hours_every_method_and_preset_tiny_hf_through_the_runner(three_hours, tiny_hf, tmp_path, method,
                                                                         preset, real_pixels):
    """Each preset's frame counts and rates on the tiny model, through the runner and the LVBench file format.
    A random model writes no box, so the zoom method goes through the forced answer on the whole video. Two
    runs keep the preset's pixel budgets too (a 12-18k-token prompt); the others shrink frames to 56x56 pixels
    to keep the CPU prefill short (the frame counts, rates and M-RoPE spacing are unchanged)."""
    from love_r1.eval.benchmarks import make_benchmark
    from love_r1.eval.config import EvalConfig
    from love_r1.eval.runner import evaluate
    from love_r1.eval.store import read_run

    bench = make_benchmark("lvbench", _lvbench_root(tmp_path / "lvb", three_hours, num_questions=1))
    policy = ZoomPolicy.preset(preset, sampling=SamplingParams(max_new_tokens=4))
    pixels = 256 * 28 * 28
    if not real_pixels:
        policy = policy.replace(fast_pixels_per_frame=56 * 56, clip_pixels_per_frame=56 * 56)
        pixels = 56 * 56
    key, state = evaluate(bench, tiny_hf, EvalConfig(run_dir=tmp_path / "run", model="tiny", policy=policy, method=method, pixels_per_frame=pixels if method == "uniform" else None, concurrency=1, prefetch_workers=0), progress=False)
    assert (state.done, state.errors) == (1, 0)
    (row,) = read_run(tmp_path / "run", config_hash_=key).items
    episode = row.episode
    assert episode["error"] is None and episode["steps"][-1]["usage"]["prompt_tokens"] > 0
    if method != "uniform":
        assert episode["video"]["duration_seconds"] == LONG_SECONDS
        assert episode["steps"][-1]["clips_in_prompt"][-1] == [0.0, LONG_SECONDS]
        assert episode["fast_view"]["num_frames"] == policy.fast_max_frames


@pytest.mark.slow
def test_lvbench_like_twelve_questions_on_one_hour_through_the_cli(tmp_path):
    """12 questions on one 1-hour video through ``love-r1 eval``: no error, the fast view and the (shared) zoom
    clip are decoded once for all of them (the others are served by the frame cache)."""
    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "hour.mp4", duration_seconds=3600.0, fps=1.0, width=64, height=48,
                                gop_seconds=60.0)
    root = _lvbench_root(tmp_path / "lvb", video, num_questions=12)
    done = subprocess.run([sys.executable, "-m", "love_r1.cli", "eval", "--benchmark", "lvbench", "--data-root", str(root),
                           "--backend", "scripted", "--out", str(tmp_path / "run"), "--no-progress"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and all(r["status"] == "done" for r in rows)
    episodes = [r["episode"] for r in rows]
    assert all(e["error"] is None and e["video"]["duration_seconds"] == 3600.0 for e in episodes)
    decode = sorted(e["ledger"]["decode_seconds"] for e in episodes)
    assert decode[-2] < 0.25 * decode[-1], decode  # one item decoded; eleven hit the cache
