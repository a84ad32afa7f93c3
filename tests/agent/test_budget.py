"""Token-budgeted zoom: the planner (table + properties), policy fields, step records and the loop."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from love_r1.agent.budget import (
    BudgetError,
    ClipPlan,
    clip_tokens,
    fixed_clip_plan,
    frames_tokens,
    nominal_pair_tokens,
    pair_tokens,
    plan_clip,
)
from love_r1.agent.loop import EpisodeTask, run_episode
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import Episode, ForcedAnswerStep, ZoomStep, step_from_dict
from love_r1.backends import VideoPart
from love_r1.backends.scripted import ScriptedBackend
from love_r1.interval import Interval
from love_r1.prompts.constants import FORCED_ANSWER_PREFIX
from love_r1.video import Frames
from love_r1.video.resize import budget_hw
from tests.helpers.agent import FakeMetadata
from tests.helpers.markers import requires_av

Z = "I need to zoom in on the video.\n\n"
A = "I get the answer.\n\n"


def zoom(start, end) -> str:
    return f"{Z}Let me look closer. \\boxed{{[{start}, {end}]}}"


def answer(letter) -> str:
    return f"{A}It is {letter}. \\boxed{{{letter}}}"


# --- token arithmetic -------------------------------------------------------------------------


def test_token_arithmetic_matches_protocol_table():
    # protocol §2.2 (16:9): fast 196x112 -> 7*4 = 28 per pair, 768 frames -> 384 pairs -> 10,752
    assert pair_tokens(height=112, width=196) == 28
    assert clip_tokens(num_frames=768, height=112, width=196) == 10_752
    assert clip_tokens(num_frames=32, height=336, width=588) == 4032  # 16 pairs * 21*12
    assert clip_tokens(num_frames=3, height=28, width=28) == 2  # odd count padded to 2 pairs
    assert clip_tokens(num_frames=0, height=28, width=28) == 0
    assert pair_tokens(height=4, width=4) == 1  # non-multiples round like smart-resize, at least 1
    assert nominal_pair_tokens(pixels_per_frame=32 * 28 * 28) == 33  # int(1.05 * 25088) // 784
    assert nominal_pair_tokens(pixels_per_frame=64 * 28 * 28) == 67


def test_fixed_clip_plan_is_the_reference_clip():
    # 30 s, 16:9 640x360: min(int(2*30), 32) = 32 frames at 256*784 -> 588x336 -> 16 * 252
    ref = fixed_clip_plan(length_seconds=30.0, width=640, height=360, max_frames=32, frames_per_second=2.0,
                          pixels_per_frame=256 * 28 * 28)
    assert ref == ClipPlan(num_frames=32, pixels_per_frame=200_704, resized_width=588, resized_height=336,
                           tokens=4032)
    # 60 s factor 2, 1280x720 -> 840x476 = 30*17 = 510 per pair (protocol table)
    short = fixed_clip_plan(length_seconds=30.0, width=1280, height=720, max_frames=32, frames_per_second=2.0,
                            pixels_per_frame=2 * 256 * 28 * 28)
    assert (short.resized_width, short.resized_height, short.tokens) == (840, 476, 16 * 510)
    # 7.9 s -> int(15.8) = 15 frames -> 8 pairs
    assert fixed_clip_plan(length_seconds=7.9, width=640, height=360, max_frames=32, frames_per_second=2.0,
                           pixels_per_frame=256 * 28 * 28).tokens == 8 * 252


# --- plan_clip: table ---------------------------------------------------------------------------

# (length_seconds, width, height, token_budget, max_frames) -> (num_frames, width, height, tokens); hand-computed:
PLAN_TABLE = [
    # 16 s holds 32 frames (cap): 16 pairs, 4032 // 16 = 252 per pair -> 588x336 = 21*12 = 252 (the reference clip)
    ((16.0, 640, 360, 4032, 32), (32, 588, 336, 16 * 252)),
    ((300.0, 640, 360, 4032, 32), (32, 588, 336, 4032)),
    # 6 s holds 12 frames: 6 pairs, 672 per pair -> 952x532 = 34*19 = 646 -> 3876 (resolution for short clips)
    ((6.0, 640, 360, 4032, 32), (12, 952, 532, 6 * 646)),
    # 3 s holds 6 frames: 3 pairs, 1344 per pair, capped at 1024*784 px -> 1204x672 = 43*24 = 1032 -> 3096
    ((3.0, 640, 360, 4032, 32), (6, 1204, 672, 3 * 1032)),
    # 2.5 s holds int(5.0) = 5 frames: still 3 pairs (odd count padded)
    ((2.5, 640, 360, 4032, 32), (5, 1204, 672, 3 * 1032)),
    # tight budget on a long interval: 64*784 px -> 280x168 = 10*6 = 60 per pair; 1024 // 60 = 17 pairs >= 16
    ((120.0, 640, 360, 1024, 32), (32, 280, 168, 16 * 60)),
    # coverage first: 64-frame cap, 1024 tokens -> 17 pairs at 60 -> 34 frames; 1024 // 17 = 60 -> 280x168
    ((120.0, 640, 360, 1024, 64), (34, 280, 168, 17 * 60)),
    # 64-frame cap, 4032: 32 pairs, 126 per pair -> 420x224 = 15*8 = 120 -> 3840 (frames traded for pixels)
    ((120.0, 640, 360, 4032, 64), (64, 420, 224, 32 * 120)),
    # 4:3 320x240, 30 s, 4032: 16 pairs at 252 -> 504x392 = 18*14 = 252
    ((30.0, 320, 240, 4032, 32), (32, 504, 392, 4032)),
]


@pytest.mark.parametrize(("args", "expected"), PLAN_TABLE)
def test_plan_clip_table(args, expected):
    length, width, height, budget, max_frames = args
    plan = plan_clip(length_seconds=length, width=width, height=height, token_budget=budget, max_frames=max_frames)
    assert (plan.num_frames, plan.resized_width, plan.resized_height, plan.tokens) == expected
    # the planned pixel budget resizes to the planned size with the video engine's own rule
    assert budget_hw(height=height, width=width, pixels_per_frame=plan.pixels_per_frame) == (
        plan.resized_height, plan.resized_width)
    assert plan.tokens == (expected[1] // 28) * (expected[2] // 28) * math.ceil(expected[0] / 2)


def test_plan_clip_errors():
    with pytest.raises(BudgetError, match="needs 120 tokens"):  # 4 frames at 280x168 = 2 * 60
        plan_clip(length_seconds=30.0, width=640, height=360, token_budget=100)
    with pytest.raises(BudgetError, match="holds no frame"):  # int(2 * 0.4) = 0
        plan_clip(length_seconds=0.4, width=640, height=360, token_budget=4032)
    with pytest.raises(TypeError, match="token_budget"):
        plan_clip(length_seconds=3.0, width=640, height=360, token_budget=4032.0)
    with pytest.raises(ValueError, match="min_pixels_per_frame"):
        plan_clip(length_seconds=3.0, width=640, height=360, token_budget=4032, min_pixels_per_frame=10**7)
    # 1 s holds 2 frames (< min_frames 4): the floor is what the interval holds
    assert plan_clip(length_seconds=1.0, width=640, height=360, token_budget=60).num_frames == 2


# --- plan_clip: properties ----------------------------------------------------------------------


def _random_case(rng: np.random.Generator) -> dict:
    width, height = int(rng.integers(64, 2000)), int(rng.integers(64, 2000))
    return dict(length_seconds=float(rng.uniform(0.5, 600.0)), width=width, height=height,
                max_frames=int(rng.integers(1, 128)), frames_per_second_cap=float(rng.choice([0.5, 1.0, 2.0, 4.0])))


def test_plan_clip_respects_budget_and_sampling_for_random_inputs():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(150):
        case = _random_case(rng)
        budget = int(rng.integers(50, 30_000))
        try:
            plan = plan_clip(token_budget=budget, **case)
        except BudgetError:
            continue
        checked += 1
        available = min(int(case["frames_per_second_cap"] * case["length_seconds"]), case["max_frames"])
        assert min(4, available) <= plan.num_frames <= available
        assert 64 * 784 <= plan.pixels_per_frame <= 1024 * 784
        assert plan.tokens <= budget
        assert plan.tokens == clip_tokens(num_frames=plan.num_frames, height=plan.resized_height,
                                          width=plan.resized_width)
    assert checked > 100


def test_plan_clip_is_monotonic_in_budget_and_uses_the_best_resolution():
    rng = np.random.default_rng(1)
    for _ in range(12):
        case = _random_case(rng)
        previous, last_budget = None, None
        for budget in range(200, 12_000, 350):
            try:
                plan = plan_clip(token_budget=budget, **case)
            except BudgetError:
                assert previous is None  # once feasible, always feasible
                continue
            if previous is not None:
                assert plan.num_frames >= previous.num_frames and plan.tokens >= previous.tokens
            previous, last_budget = plan, budget
        if previous is None:
            continue
        # brute-force oracle at the last budget: no pixel budget k*784 gives more tokens for these frames
        pairs = math.ceil(previous.num_frames / 2)
        best = 0
        for k in range(64, 1025):
            h, w = budget_hw(height=case["height"], width=case["width"], pixels_per_frame=k * 784)
            if (tokens := pairs * pair_tokens(height=h, width=w)) <= last_budget:
                best = max(best, tokens)
        assert previous.tokens == best


# --- policy ---------------------------------------------------------------------------------------

REFERENCE_POLICY_KEYS = {
    "name", "max_free_steps", "pad_seconds", "min_clip_seconds", "min_length_seconds", "min_length_fraction",
    "widen", "repeat_iou", "fast_max_frames", "fast_pixels_per_frame", "clip_max_frames", "clip_pixels_per_frame",
    "short_video_seconds", "short_video_factor", "frames_per_second", "overlay", "sampling", "strict_parsing",
    "answer_instruction", "time_base",
}


def test_policy_budget_fields_are_off_and_absent_by_default():
    ref = ZoomPolicy()
    assert (ref.clip_token_budget, ref.total_token_budget, ref.skip_zoom_below_seconds) == (None, None, None)
    assert set(ref.to_dict()) == REFERENCE_POLICY_KEYS and not ref.budgeted
    assert ZoomPolicy.from_dict(ref.to_dict()) == ref  # old dicts (without the fields) still load


def test_budget_preset_and_round_trip():
    budget = ZoomPolicy.preset("budget")
    assert (budget.name, budget.clip_token_budget, budget.total_token_budget) == ("budget", 4032, 16384)
    assert budget.budgeted
    data = json.loads(json.dumps(budget.to_dict()))
    assert data["clip_token_budget"] == 4032 and "skip_zoom_below_seconds" not in data
    assert ZoomPolicy.from_dict(data) == budget
    skip = ZoomPolicy(skip_zoom_below_seconds=16.0)
    assert ZoomPolicy.from_dict(skip.to_dict()) == skip
    assert (ZoomPolicy().smallest_clip_tokens(), ZoomPolicy().max_fast_view_tokens()) == (134, 384 * 33)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clip_token_budget": 100}, r"clip_token_budget=100 is below .* 2 frame pairs x 67 tokens = 134"),
        ({"total_token_budget": 12_000}, r"total_token_budget=12000 .* up to 12672 tokens .* at least 12806"),
        ({"clip_token_budget": 4032.0}, "clip_token_budget must be an int"),
        ({"total_token_budget": True}, "total_token_budget must be an int"),
        ({"skip_zoom_below_seconds": -1.0}, "skip_zoom_below_seconds must be >= 0"),
    ],
)
def test_policy_budget_validation(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ZoomPolicy(**kwargs)


def test_smaller_fast_view_allows_smaller_total_budget():
    # 64 fast frames at 32*784: 32 pairs x 33 = 1056 (long) vs min(64, 120) frames at 2x: 32 x 67 = 2144 (short)
    policy = ZoomPolicy(fast_max_frames=64, total_token_budget=2144 + 134)
    assert policy.max_fast_view_tokens() == 2144
    with pytest.raises(ValueError, match="at least 2278"):
        ZoomPolicy(fast_max_frames=64, total_token_budget=2277)


# --- step records --------------------------------------------------------------------------------


def test_step_clip_plan_is_optional_in_the_dict():
    from love_r1.agent.grammar import parse_reply

    plain = ZoomStep(index=0, raw_text="x", parsed=parse_reply("x"))
    assert "clip_plan" not in plain.to_dict()
    assert step_from_dict(plain.to_dict()) == plain  # dicts written before the field existed load
    plan = ClipPlan(num_frames=32, pixels_per_frame=191_296, resized_width=588, resized_height=336, tokens=4032)
    planned = ZoomStep(index=1, raw_text="x", parsed=parse_reply("x"), applied_interval=Interval(1.0, 31.0),
                       clip_plan=plan)
    data = json.loads(json.dumps(planned.to_dict()))
    assert data["clip_plan"] == {"num_frames": 32, "pixels_per_frame": 191_296, "resized_width": 588,
                                 "resized_height": 336, "tokens": 4032}
    assert step_from_dict(data) == planned
    with pytest.raises(ValueError, match="lacks fields"):
        ClipPlan.from_dict({"num_frames": 2})


# --- the loop --------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, path: str, duration: float, width: int, height: int) -> None:
        self.metadata = FakeMetadata(path=path, duration_seconds=duration, width=width, height=height)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc) -> None:
        pass


class SizedVideos:
    """A fake engine whose frames have the exact smart-resized size and count of the real one
    (zero pixels, broadcast so that large clips cost no memory)."""

    def __init__(self, durations: dict[str, float], *, width: int = 640, height: int = 360,
                 fast_size: tuple[int, int] | None = None) -> None:
        self.durations, self.width, self.height, self.fast_size = durations, width, height, fast_size
        self.clip_kwargs: list[dict] = []

    def _frames(self, n: int, hw: tuple[int, int], start: float, end: float) -> Frames:
        data = np.broadcast_to(np.zeros((1, 1, 1, 3), np.uint8), (n, hw[0], hw[1], 3))
        return Frames(data=data, timestamps_seconds=np.linspace(start, end, n, endpoint=False), sample_fps=2.0)

    def open_video(self, path, **kwargs) -> _Reader:
        return _Reader(str(path), self.durations[str(path)], self.width, self.height)

    def timeline(self, reader, *, time_base, window=None) -> SimpleNamespace:
        return SimpleNamespace(duration_seconds=reader.metadata.duration_seconds, num_frames=0)

    def sample_fast_view(self, reader, *, max_frames, frames_per_second, pixels_per_frame, short_video_seconds,
                         short_video_factor, overlay, time_base, window) -> Frames:
        duration = reader.metadata.duration_seconds
        factor = short_video_factor if duration < short_video_seconds else 1
        hw = self.fast_size or budget_hw(height=self.height, width=self.width, pixels_per_frame=pixels_per_frame * factor)
        return self._frames(min(int(frames_per_second * duration), max_frames), hw, 0.0, duration)

    def sample_clip(self, reader, start_seconds, end_seconds, *, max_frames, frames_per_second, pixels_per_frame,
                    resolution_factor, overlay, time_base, window) -> Frames:
        self.clip_kwargs.append(dict(max_frames=max_frames, frames_per_second=frames_per_second,
                                     pixels_per_frame=pixels_per_frame, resolution_factor=resolution_factor))
        n = min(int(frames_per_second * (end_seconds - start_seconds)), max_frames)  # sample_clip's count
        hw = budget_hw(height=self.height, width=self.width, pixels_per_frame=pixels_per_frame * resolution_factor)
        return self._frames(n, hw, start_seconds, end_seconds)

    def kwargs(self) -> dict:
        return dict(open_video=self.open_video, sample_fast_view=self.sample_fast_view, sample_clip=self.sample_clip,
                    timeline=self.timeline)


def _task(path="v.mp4") -> EpisodeTask:
    return EpisodeTask(episode_id="e", video_path=path, question="What?", options=("A. x", "B. y"))


def _prompt_tokens(request) -> int:
    return sum(frames_tokens(p.frames) for p in request.messages[1].content if isinstance(p, VideoPart))


def _labels(request) -> list[str]:
    return [p.text for p in request.messages[1].content if getattr(p, "text", "").endswith("]:")]


def test_reference_policy_requests_and_records_are_unchanged():
    videos = SizedVideos({"v.mp4": 600.0})
    episode = run_episode(ScriptedBackend([zoom(100, 104), answer("B")]), _task(), ZoomPolicy(), **videos.kwargs())
    assert videos.clip_kwargs == [dict(max_frames=32, frames_per_second=2.0, pixels_per_frame=256 * 784,
                                       resolution_factor=1)]
    data = episode.to_dict()
    assert set(data["policy"]) == REFERENCE_POLICY_KEYS
    assert all("clip_plan" not in step for step in data["steps"])


def test_budget_preset_plans_clips_and_keeps_the_prompt_under_budget():
    # 600 s 16:9: fast view 768 frames at 196x112 = 10,752 tokens; zoom 1 [87, 117] (30 s) gets the full 4032
    # (the reference clip: 32 frames at 588x336); zoom 2 [287, 317] gets what is left: 16384 - 14784 = 1600.
    videos = SizedVideos({"v.mp4": 600.0})
    backend = ScriptedBackend([zoom(100, 104), zoom(300, 304), "So the answer is \\boxed{A}"])
    policy = ZoomPolicy.preset("budget")
    episode = run_episode(backend, _task(), policy, **videos.kwargs())
    first, second, forced = episode.steps
    assert first.clip_plan.tokens == 4032 and (first.clip_plan.resized_width, first.clip_plan.resized_height) == (
        588, 336)
    assert second.clip_plan == plan_clip(length_seconds=30.0, width=640, height=360, token_budget=1600)
    assert second.clip_plan.tokens <= 1600 and second.clip_plan.num_frames == 32
    assert forced.stop_reason == "step_limit" and forced.clip_plan is None
    assert videos.clip_kwargs[0] == dict(max_frames=32, frames_per_second=2.0,
                                         pixels_per_frame=first.clip_plan.pixels_per_frame, resolution_factor=1)
    totals = [_prompt_tokens(call[0]) for call in backend.calls]
    assert totals == [10_752, 10_752 + 4032, 10_752 + 4032 + second.clip_plan.tokens]
    assert max(totals) <= 16384
    # the decoded clips cost exactly what was planned
    last_clips = [p.frames for p in backend.calls[-1][0].messages[1].content if isinstance(p, VideoPart)][1:]
    assert [frames_tokens(f) for f in last_clips] == [4032, second.clip_plan.tokens]
    assert Episode.from_dict(json.loads(json.dumps(episode.to_dict()))).to_dict() == episode.to_dict()


def test_total_budget_forces_the_answer_when_a_clip_does_not_fit():
    # reference clips (no zoom budget), priced: 10,752 + 4032 = 14,784 fits 15,000; a second 4032 does not
    videos = SizedVideos({"v.mp4": 600.0})
    backend = ScriptedBackend([zoom(100, 104), zoom(300, 304), "So the answer is \\boxed{B}"])
    episode = run_episode(backend, _task(), ZoomPolicy(total_token_budget=15_000), **videos.kwargs())
    first, refused, forced = episode.steps
    assert first.clip_plan.tokens == 4032 and first.applied_interval == Interval(87.0, 117.0)
    assert isinstance(refused, ZoomStep) and refused.stop_reason == "token_budget"
    assert refused.applied_interval is None and refused.requested_interval == (300.0, 304.0)
    assert isinstance(forced, ForcedAnswerStep) and forced.stop_reason == "token_budget"
    assert episode.answer == "B" and episode.clips == [Interval(87.0, 117.0)]
    assert _labels(backend.calls[2][0]) == ["Full video [0, 600]:", "Subset zoom-in video clip [87, 117]:"]
    assert all(_prompt_tokens(call[0]) <= 15_000 for call in backend.calls)
    assert len(videos.clip_kwargs) == 1  # the refused clip was priced, never decoded
    assert episode.to_dict()["steps"][1]["stop_reason"] == "token_budget"


def test_short_video_is_answered_in_one_forced_step_with_the_whole_video():
    videos = SizedVideos({"v.mp4": 100.0})
    backend = ScriptedBackend(["So the answer is \\boxed{A}"])
    episode = run_episode(backend, _task(), ZoomPolicy(skip_zoom_below_seconds=120.0), **videos.kwargs())
    (step,) = episode.steps
    assert isinstance(step, ForcedAnswerStep) and step.stop_reason == "short_video" and episode.answer == "A"
    assert step.clips_in_prompt == (Interval(0.0, 100.0),) and episode.clips == []
    assert backend.calls[0][0].assistant_prefix == FORCED_ANSWER_PREFIX
    assert _labels(backend.calls[0][0]) == ["Full video [0, 100]:", "Subset zoom-in video clip [0, 100]:"]
    # not short enough: the normal loop
    longer = run_episode(ScriptedBackend([answer("B")]), _task(), ZoomPolicy(skip_zoom_below_seconds=100.0),
                         **SizedVideos({"v.mp4": 100.0}).kwargs())
    assert [s.stop_reason for s in longer.steps] == ["answered"]


def test_short_video_with_budget_plans_the_whole_video_clip():
    videos = SizedVideos({"v.mp4": 10.0})
    backend = ScriptedBackend(["So the answer is \\boxed{A}"])
    policy = ZoomPolicy.preset("budget", skip_zoom_below_seconds=16.0)
    episode = run_episode(backend, _task(), policy, **videos.kwargs())
    (step,) = episode.steps
    # 10 s: 20 frames, 10 pairs, 4032 // 10 = 403 per pair -> best size 728x420 = 26*15 = 390
    assert step.clip_plan == plan_clip(length_seconds=10.0, width=640, height=360, token_budget=4032)
    assert step.clip_plan.num_frames == 20 and step.clip_plan.tokens == 3900
    clip = [p.frames for p in backend.calls[0][0].messages[1].content if isinstance(p, VideoPart)][1]
    assert frames_tokens(clip) == 3900 and clip.num_frames == 20
    assert episode.to_dict()["steps"][0]["clip_plan"]["tokens"] == 3900


def test_whole_video_fallback_is_left_out_when_it_does_not_fit():
    # a fast view far above its nominal size (an extreme frame size) leaves no room for the fallback clip
    videos = SizedVideos({"v.mp4": 600.0}, fast_size=(28 * 20, 28 * 20))  # 400 tokens per pair x 384 pairs
    backend = ScriptedBackend(["no box here", "So the answer is \\boxed{C}"])
    episode = run_episode(backend, _task(), ZoomPolicy.preset("budget"), **videos.kwargs())
    assert [s.stop_reason for s in episode.steps] == ["no_box", "no_box"]
    assert episode.steps[1].clips_in_prompt == () and episode.steps[1].clip_plan is None
    assert _labels(backend.calls[1][0]) == ["Full video [0, 600]:"] and episode.answer == "C"


def test_zoom_refused_when_nothing_is_left_for_a_planned_clip():
    videos = SizedVideos({"v.mp4": 600.0}, fast_size=(28 * 20, 28 * 20))
    backend = ScriptedBackend([zoom(100, 104), "So the answer is \\boxed{D}"])
    episode = run_episode(backend, _task(), ZoomPolicy.preset("budget"), **videos.kwargs())
    assert [s.stop_reason for s in episode.steps] == ["token_budget", "token_budget"]
    assert videos.clip_kwargs == []


# --- a real generated video ---------------------------------------------------------------------


@requires_av
def test_real_video_clip_has_the_planned_shape_and_cost(tmp_path):
    from love_r1 import synth
    from love_r1.agent.api import ask
    from love_r1.backends.scripted import dummy_reply

    path = synth.write_indexed_video(tmp_path / "v.mp4", duration_seconds=12.0, fps=10.0, width=320, height=240,
                                     gop_seconds=2.0)
    seen = []

    def reply(request):
        seen.append(request)
        return dummy_reply(request)

    policy = ZoomPolicy.preset("budget", overlay=False)
    episode = ask(path, "Which frame?", options=["A. first", "B. last"], backend=ScriptedBackend(reply),
                  policy=policy, episode_id="real")
    assert episode.error is None, episode.error
    zoom_step = episode.steps[0]
    # dummy zooms [1, 11] -> padded to [0, 12]: 24 frames, 12 pairs, 4032 // 12 = 336 per pair -> 588x448 (21*16)
    assert zoom_step.applied_interval == Interval(0.0, 12.0)
    assert zoom_step.clip_plan == ClipPlan(num_frames=24, pixels_per_frame=235_984, resized_width=588,
                                           resized_height=448, tokens=12 * 336)
    fast, clip = [p.frames for p in seen[1].messages[1].content if isinstance(p, VideoPart)]
    assert (clip.num_frames, clip.height, clip.width) == (24, 448, 588)
    assert frames_tokens(clip) == zoom_step.clip_plan.tokens
    assert frames_tokens(fast) + frames_tokens(clip) <= policy.total_token_budget
    for rgb, ts in zip(clip.data, clip.timestamps_seconds, strict=True):  # right frames at the planned size
        assert synth.read_frame_index(rgb) == round(ts * 10.0)
