"""The zoom loop against the scripted backend and a fake video engine (tiny synthetic frames)."""

from __future__ import annotations

import json

import pytest

from love_r1.agent.loop import EpisodeTask, resolve_zoom, run_episode, run_episodes
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import AnswerStep, Episode, ForcedAnswerStep, ZoomStep
from love_r1.backends import BackendError, Generation, GenerationRequest, TextPart
from love_r1.backends.scripted import ScriptedBackend
from love_r1.interval import Interval
from love_r1.prompts.constants import FORCED_ANSWER_PREFIX
from tests.helpers.agent import FakeVideos

Z = "I need to zoom in on the video.\n\n"
A = "I get the answer.\n\n"


def zoom(start, end) -> str:
    return f"{Z}Let me look closer. \\boxed{{[{start}, {end}]}}"


def answer(letter) -> str:
    return f"{A}It is {letter}. \\boxed{{{letter}}}"


def forced(letter) -> str:  # forced replies come without the pre-filled phrase
    return f"So the answer is \\boxed{{{letter}}}"


def by_session(scripts: dict[str, list[str]]):
    queues = {k: list(v) for k, v in scripts.items()}

    def reply(request: GenerationRequest) -> str:
        return queues[request.session_id].pop(0)

    return reply


def labels(request: GenerationRequest) -> list[str]:
    return [p.text for p in request.messages[1].content if isinstance(p, TextPart) and p.text.endswith("]:")]


def task(episode_id="e1", path="v.mp4", **kwargs) -> EpisodeTask:
    return EpisodeTask(episode_id=episode_id, video_path=path, question="What color?",
                       options=("A. red", "B. blue", "C. green"), **kwargs)


@pytest.fixture
def videos() -> FakeVideos:
    return FakeVideos(durations={"v.mp4": 600.0, "w.mp4": 100.0, "x.mp4": 100.7, "bad.mp4": 30.0})


def test_answer_at_step_one(videos):
    backend = ScriptedBackend([answer("B")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert episode.answer == "B"
    assert [type(s) for s in episode.steps] == [AnswerStep]
    assert episode.steps[0].stop_reason == "answered"
    assert episode.clips == []
    assert len(backend.calls) == 1
    assert labels(backend.calls[0][0]) == ["Full video [0, 600]:"]
    assert backend.calls[0][0].assistant_prefix == ""


def test_zoom_then_answer(videos):
    backend = ScriptedBackend([zoom(100, 104), answer("C")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert episode.answer == "C"
    assert [s.kind for s in episode.steps] == ["zoom", "answer"]
    first = episode.steps[0]
    assert first.requested_interval == (100.0, 104.0)
    # pad to [95, 109] (14 s < min(30, 600/8) = 30) -> widen around 102: int(87), int(117)
    assert first.applied_interval == Interval(87.0, 117.0)
    assert first.stop_reason is None
    assert labels(backend.calls[1][0]) == ["Full video [0, 600]:", "Subset zoom-in video clip [87, 117]:"]
    assert episode.steps[1].clips_in_prompt == (Interval(87.0, 117.0),)
    assert episode.clips == [Interval(87.0, 117.0)]


def test_two_zooms_then_forced_answer_with_sorted_clips(videos):
    backend = ScriptedBackend([zoom(400, 460), zoom(100, 160), forced("A")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert [s.kind for s in episode.steps] == ["zoom", "zoom", "forced_answer"]
    assert episode.answer == "A"
    last = episode.steps[-1]
    assert isinstance(last, ForcedAnswerStep)
    assert last.stop_reason == "step_limit"
    assert last.assistant_prefix == FORCED_ANSWER_PREFIX
    assert last.parsed.control_phrase == "answer"
    third = backend.calls[2][0]
    assert third.assistant_prefix == FORCED_ANSWER_PREFIX
    # the later, earlier-starting clip is shown first
    assert labels(third) == [
        "Full video [0, 600]:", "Subset zoom-in video clip [95, 165]:", "Subset zoom-in video clip [395, 465]:",
    ]
    assert episode.clips == [Interval(95.0, 165.0), Interval(395.0, 465.0)]
    # the prompts differ only in clips and the prefix: same final text item
    texts = [call[0].messages[1].content[-1].text for call in backend.calls]
    assert texts[0] == texts[1] == texts[2]
    assert texts[0].startswith("What color?\nA. red\nB. blue\nC. green\nProvide only the single option letter")


def test_no_box_forces_answer_on_whole_video(videos):
    backend = ScriptedBackend([Z + "somewhere in the middle", forced("B")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert [s.kind for s in episode.steps] == ["zoom", "forced_answer"]
    assert episode.steps[0].stop_reason == "no_box"
    assert episode.steps[0].applied_interval is None
    assert episode.steps[1].stop_reason == "no_box"
    assert episode.steps[1].clips_in_prompt == (Interval(0.0, 600.0),)
    assert labels(backend.calls[1][0])[-1] == "Subset zoom-in video clip [0, 600]:"
    assert episode.clips == []  # the whole-video fallback is not a zoom
    assert episode.answer == "B"


def test_parse_error_forces_answer(videos):
    backend = ScriptedBackend([Z + "\\boxed{[soon, later]}", forced("A")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert episode.steps[0].stop_reason == "parse_error"
    assert "cannot read" in episode.steps[0].parsed.error
    assert episode.answer == "A"


def test_empty_box_is_a_parse_error_like_the_reference(videos):
    backend = ScriptedBackend([A + "\\boxed{}", forced("A")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert [s.stop_reason for s in episode.steps] == ["parse_error", "parse_error"]


def test_too_short_forces_answer(videos):
    # [605, 610] on a 600 s video: s = 600, e = min(615, 600) = 600 -> 0 s < 3 s
    backend = ScriptedBackend([zoom(605, 610), forced("C")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert episode.steps[0].stop_reason == "too_short"
    assert episode.steps[0].requested_interval == (605.0, 610.0)
    assert episode.steps[1].stop_reason == "too_short"
    assert episode.answer == "C"


def test_repeat_iou_forces_answer(videos):
    # [95, 165] then [95, 155]: IoU 60/70 > 0.3
    backend = ScriptedBackend([zoom(100, 160), zoom(100, 150), forced("B")])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert [s.stop_reason for s in episode.steps] == [None, "repeat_iou", "repeat_iou"]
    assert episode.clips == [Interval(95.0, 165.0)]
    assert episode.steps[2].clips_in_prompt == (Interval(95.0, 165.0),)


def test_forced_answer_without_box_gives_empty_answer(videos):
    backend = ScriptedBackend([zoom(1, 2), zoom(300, 400), "I cannot tell."])
    episode = run_episode(backend, task(), **videos.kwargs())
    assert episode.answer == ""
    assert episode.steps[-1].parsed.kind == "invalid"
    assert episode.error is None


def test_zero_free_steps_goes_straight_to_forced_answer(videos):
    backend = ScriptedBackend([forced("A")])
    episode = run_episode(backend, task(), ZoomPolicy(max_free_steps=0), **videos.kwargs())
    assert [s.kind for s in episode.steps] == ["forced_answer"]
    assert episode.steps[0].stop_reason == "forced"
    assert backend.calls[0][0].assistant_prefix == FORCED_ANSWER_PREFIX


@pytest.mark.parametrize(
    ("duration", "requested", "policy", "expected"),
    [
        (600.0, (100, 104), ZoomPolicy(), ((87.0, 117.0), None)),  # L = 30: mid 102
        (600.0, (200, 260), ZoomPolicy(), ((195.0, 265.0), None)),  # long enough: padding only
        (100.0, (50, 51), ZoomPolicy(), ((44.0, 56.0), None)),  # L = 12.5: mid 50.5 -> int(44.25), int(56.75)
        (100.7, (98, 100), ZoomPolicy(), ((90.0, 100.0), None)),  # e = min(105, int(100.7)); widen -> int(100.7)
        (600.0, (100, 104), ZoomPolicy.preset("longvideobench"), ((95.0, 109.0), None)),  # no widening
        (600.0, (605, 610), ZoomPolicy(), (None, "too_short")),
        (600.0, (-20, -10), ZoomPolicy(), (None, "too_short")),  # s = 0, e = -5
        (20.0, (5.5, 6.5), ZoomPolicy(), ((0.5, 11.5), None)),  # floats kept when not widened (L = 2.5)
        (600.0, (10, 11), ZoomPolicy(pad_seconds=0.0), (None, "too_short")),
    ],
)
def test_resolve_zoom_arithmetic(duration, requested, policy, expected):
    interval, reason = resolve_zoom(start_seconds=requested[0], end_seconds=requested[1], duration_seconds=duration,
                                    existing=[], policy=policy)
    got = (None if interval is None else (interval.start_seconds, interval.end_seconds), reason)
    assert got == expected


def test_resolve_zoom_mid_widening_wide_case():
    # 0 + (0,1): pad -> [0, 6], widen L=12.5 around mid 3: s = int(max(-3.25, 0)) = 0, e = int(9.25) = 9
    interval, _ = resolve_zoom(start_seconds=0, end_seconds=1, duration_seconds=100.0, existing=[],
                               policy=ZoomPolicy())
    assert interval == Interval(0.0, 9.0)


def test_resolve_zoom_iou_threshold():
    existing = [Interval(95.0, 165.0)]
    policy = ZoomPolicy()
    # [95, 155]: IoU 60/70 -> repeat; [140, 200] -> pad [135, 205]: IoU 30/110 = 0.27 -> accepted
    assert resolve_zoom(start_seconds=100, end_seconds=150, duration_seconds=600, existing=existing,
                        policy=policy) == (None, "repeat_iou")
    assert resolve_zoom(start_seconds=140, end_seconds=200, duration_seconds=600, existing=existing,
                        policy=policy) == (Interval(135.0, 205.0), None)


def test_batching_one_generate_call_per_round(videos):
    scripts = {
        "a": [answer("A")],
        "b": [zoom(10, 20), answer("B")],
        "c": [zoom(10, 20), zoom(300, 330), forced("C")],
    }
    backend = ScriptedBackend(by_session(scripts))
    tasks = [task(episode_id=k) for k in scripts]
    events = list(run_episodes(backend, tasks, **videos.kwargs()))
    assert [len(call) for call in backend.calls] == [3, 2, 1]
    assert [[r.session_id for r in call] for call in backend.calls] == [["a", "b", "c"], ["b", "c"], ["c"]]
    done = {e.episode_id: e.episode for e in events if e.episode_done}
    assert {k: ep.answer for k, ep in done.items()} == {"a": "A", "b": "B", "c": "C"}
    assert [e.episode_id for e in events] == ["a", "b", "c", "b", "c", "c"]
    assert videos.open_readers == 0  # every reader closed


def test_max_active_episodes_limits_the_batch(videos):
    backend = ScriptedBackend(lambda request: answer("A"))
    tasks = [task(episode_id=f"t{i}") for i in range(5)]
    events = list(run_episodes(backend, tasks, max_active_episodes=2, **videos.kwargs()))
    assert [len(call) for call in backend.calls] == [2, 2, 1]
    assert sum(e.episode_done for e in events) == 5


def test_broken_video_fails_only_its_episode(videos):
    videos.broken.add("bad.mp4")
    backend = ScriptedBackend(lambda request: answer("B"))
    tasks = [task("ok1"), task("broken", path="bad.mp4"), task("missing", path="nope.mp4"), task("ok2")]
    events = list(run_episodes(backend, tasks, **videos.kwargs()))
    done = {e.episode_id: e.episode for e in events if e.episode_done}
    assert done["broken"].error is not None and "bad.mp4" in done["broken"].error
    assert done["missing"].error is not None
    assert done["broken"].steps == [] and done["broken"].answer == ""
    assert done["ok1"].answer == done["ok2"].answer == "B"
    assert done["ok1"].error is None
    assert [len(c) for c in backend.calls] == [2]


def test_clip_decode_failure_fails_only_its_episode(videos):
    videos.broken_clips.add("w.mp4")
    backend = ScriptedBackend(by_session({"good": [zoom(10, 20), answer("A")], "bad": [zoom(10, 20)]}))
    tasks = [task("good"), task("bad", path="w.mp4")]
    done = {e.episode_id: e.episode for e in run_episodes(backend, tasks, **videos.kwargs()) if e.episode_done}
    assert done["bad"].error is not None and "w.mp4" in done["bad"].error
    assert len(done["bad"].steps) == 1  # the zoom was recorded before the clip failed to decode
    assert done["good"].answer == "A"


class _FlakyBackend:
    """Fails every batch that contains the session ``"sick"``; single healthy requests succeed."""

    def __init__(self):
        self.calls = []

    def generate(self, requests):
        self.calls.append([r.session_id for r in requests])
        if any(r.session_id == "sick" for r in requests):
            raise BackendError("CUDA out of memory")
        return [Generation(text=answer("D")) for _ in requests]


def test_backend_error_fails_only_affected_episodes(videos):
    backend = _FlakyBackend()
    events = list(run_episodes(backend, [task("well"), task("sick"), task("fine")], **videos.kwargs()))
    done = {e.episode_id: e.episode for e in events if e.episode_done}
    assert backend.calls == [["well", "sick", "fine"], ["well"], ["sick"], ["fine"]]
    assert "out of memory" in done["sick"].error
    assert done["well"].answer == done["fine"].answer == "D"


def test_wrong_number_of_generations_fails_the_round(videos):
    class Short:
        def generate(self, requests):
            return []

    episode = run_episode(Short(), task(), **videos.kwargs())
    assert "0 generations for 1 requests" in episode.error


def test_decode_once_and_session_ids(videos):
    backend = ScriptedBackend([zoom(400, 460), zoom(100, 160), forced("A")])
    run_episode(backend, task(), **videos.kwargs())
    kinds = [(k, s, e) for _, k, s, e in videos.decodes]
    assert kinds == [("fast", 0.0, 600.0), ("clip", 395.0, 465.0), ("clip", 95.0, 165.0)]
    requests = [call[0] for call in backend.calls]
    assert {r.session_id for r in requests} == {"e1"}
    fast_views = [r.messages[1].content[1].frames for r in requests]
    assert fast_views[0] is fast_views[1] is fast_views[2]
    assert fast_views[0].key == "v.mp4#fast"
    # the policy numbers reach the video engine
    assert videos.fast_kwargs[0]["max_frames"] == 768 and videos.fast_kwargs[0]["pixels_per_frame"] == 32 * 28 * 28
    assert videos.clip_kwargs[0]["max_frames"] == 32 and videos.clip_kwargs[0]["resolution_factor"] == 1


def test_short_video_resolution_factor(videos):
    videos.durations["short.mp4"] = 40.0
    run_episode(ScriptedBackend([zoom(10, 12), answer("A")]), task(path="short.mp4"), **videos.kwargs())
    assert videos.clip_kwargs[0]["resolution_factor"] == 2
    assert videos.fast_kwargs[0]["short_video_seconds"] == 60.0 and videos.fast_kwargs[0]["short_video_factor"] == 2


def test_ledger_sums(videos):
    backend = ScriptedBackend([zoom(400, 460), zoom(100, 160), forced("A")])
    episode = run_episode(backend, task(), **videos.kwargs())
    ledger = episode.ledger
    fast = episode.fast_view.num_frames
    assert fast == 768  # min(int(2 * 600), 768)
    assert ledger.frames_decoded == fast + 32 + 32
    assert ledger.num_model_calls == 3
    assert ledger.prompt_tokens == sum(s.usage.prompt_tokens for s in episode.steps)
    assert ledger.completion_tokens == sum(s.usage.completion_tokens for s in episode.steps)
    assert ledger.vision_tokens == fast * 3 + 32 + 64  # synthetic: one token per frame
    # cached in the scripted backend: the fast view from call 2 on, the first clip at call 3
    assert ledger.prompt_tokens_cached == fast * 2 + 32
    assert ledger.decode_seconds >= 0 and ledger.total_seconds >= ledger.decode_seconds


def test_episode_dict_round_trip(videos):
    backend = ScriptedBackend([zoom(400, 460), Z + "no box", forced("B")])
    episode = run_episode(backend, task(evidence=[(400, 420)], gold="B"), **videos.kwargs())
    data = json.loads(json.dumps(episode.to_dict()))
    assert set(data) == {"episode_id", "video", "question", "options", "answer_instruction", "policy", "fast_view",
                         "steps", "answer", "clips", "ledger", "error", "evidence", "gold"}
    assert set(data["steps"][0]) == {"index", "kind", "raw_text", "assistant_prefix", "parsed", "requested_interval",
                                     "applied_interval", "stop_reason", "clips_in_prompt", "usage", "seconds",
                                     "finish_reason"}
    assert data["clips"] == [[395.0, 465.0]]
    assert data["evidence"] == [[400.0, 420.0]]
    assert data["video"]["duration_seconds"] == 600.0
    assert data["policy"]["max_free_steps"] == 2
    assert data["steps"][1]["stop_reason"] == "no_box"
    again = Episode.from_dict(data)
    assert again.to_dict() == data
    assert isinstance(again.steps[0], ZoomStep) and isinstance(again.steps[2], ForcedAnswerStep)


def test_task_answer_instruction_override(videos):
    backend = ScriptedBackend([answer("A")])
    run_episode(backend, task(answer_instruction=""), **videos.kwargs())
    text = backend.calls[0][0].messages[1].content[-1].text
    assert text.startswith("What color?\nA. red\nB. blue\nC. green\nBased on the video")


def test_scripted_per_session_replays_the_script_for_every_episode(videos):
    backend = ScriptedBackend([zoom(10, 20), answer("B")], per_session=True)
    events = list(run_episodes(backend, [task("p"), task("q")], **videos.kwargs()))
    done = [e.episode for e in events if e.episode_done]
    assert [(ep.episode_id, ep.answer, len(ep.steps)) for ep in done] == [("p", "B", 2), ("q", "B", 2)]
    assert [len(c) for c in backend.calls] == [2, 2]


def test_dummy_policy_full_episode(videos):
    episode = run_episode(ScriptedBackend(), task(), **videos.kwargs())
    assert [s.kind for s in episode.steps] == ["zoom", "answer"]
    assert episode.steps[0].requested_interval == (295.0, 305.0)
    assert episode.clips == [Interval(285.0, 315.0)]  # pad to [290, 310], 20 s < 30 s -> widen around 300
    assert episode.answer == "A"
