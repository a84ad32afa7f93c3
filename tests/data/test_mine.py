import json
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest

from love_r1.backends import GenerationRequest
from love_r1.data import CallStore, MineConfig, QAItem, hard_items, run_mine_hard
from love_r1.data._mine import episode_success
from love_r1.interval import Interval
from love_r1.prompts.constants import SYSTEM_MESSAGE, TYPE_TEMPLATE
from love_r1.video import Frames
from tests.helpers.data import CountingBackend, prompt_text

ITEMS = [QAItem(qid=f"q{i}", video_path=f"v{i}.mp4", question=f"Question {i}?", options=("A. one", "B. two"),
                gold="B", evidence=(Interval(10, 14),)) for i in range(3)]


@contextmanager
def _open_video(path):
    yield SimpleNamespace(metadata=SimpleNamespace(duration_seconds=40.0, fps=10.0, num_frames=400, width=64,
                                                   height=48), path=path)


def _frames(n):
    return Frames(data=np.zeros((n, 28, 28, 3), dtype=np.uint8), timestamps_seconds=np.arange(n, dtype=float),
                  sample_fps=2.0)


VIDEO_OPS = {"open_video": _open_video, "sample_fast_view": lambda reader, **kw: _frames(4),
             "sample_clip": lambda reader, s, e, **kw: _frames(2),
             "timeline": lambda reader, **kw: SimpleNamespace(duration_seconds=40.0, num_frames=400)}


def _replies(request: GenerationRequest) -> str:
    qid, k = request.session_id.split("#")
    # q0 always right, q1 right only on sample 0, q2 never right
    right = qid == "q0" or (qid == "q1" and k == "0")
    return "I get the answer.\n\n\\boxed{" + ("B" if right else "A") + "}"


def test_mining_keeps_mixed_items_and_uses_the_training_input_builder(tmp_path):
    store = CallStore(tmp_path / "s.sqlite")
    backend = CountingBackend(_replies)
    config = MineConfig(num_samples=3)
    digest, stats = run_mine_hard(backend, ITEMS, video_root=tmp_path, store=store, config=config, **VIDEO_OPS)
    assert stats.new_calls == 9 and len(backend.requests) == 9
    request = backend.requests[0]
    assert request.messages[0].text == SYSTEM_MESSAGE  # the agent loop's prompt, not a private one
    assert prompt_text(request).count(TYPE_TEMPLATE["multiple choice"]) == 1
    assert request.sampling.temperature == 0.9 and request.sampling.top_k == 50
    hard, counts = hard_items(store, digest, ITEMS, num_samples=3, criterion="answer")
    assert [row["qid"] for row in hard] == ["q1"] and hard[0]["correctness"] == [1.0, 0.0, 0.0]
    assert counts == {"all_correct": 1, "all_wrong": 1, "mixed": 1, "incomplete": 0}
    again = CountingBackend(_replies)
    assert run_mine_hard(again, ITEMS, video_root=tmp_path, store=store, config=config, **VIDEO_OPS)[1].new_calls == 0
    assert again.requests == []


def test_zoom_criterion_checks_the_requested_interval():
    episode = {"answer": "A", "steps": [{"kind": "zoom", "requested_interval": [12, 30]}]}
    assert episode_success(episode, item=ITEMS[0], criterion="zoom")
    assert not episode_success(episode, item=ITEMS[0], criterion="answer")
    far = {"answer": "B", "steps": [{"kind": "zoom", "requested_interval": [20, 30]}]}
    assert not episode_success(far, item=ITEMS[0], criterion="zoom")
    assert episode_success(json.loads(json.dumps(far)), item=ITEMS[0], criterion="answer")


def test_greedy_mining_is_refused():
    with pytest.raises(ValueError, match="temperature must be > 0"):
        MineConfig(temperature=0.0)


def test_raising_the_sample_count_only_adds_rollouts(tmp_path):
    store = CallStore(tmp_path / "s.sqlite")
    first = CountingBackend(_replies)
    run_mine_hard(first, ITEMS, video_root=tmp_path, store=store, config=MineConfig(num_samples=2), **VIDEO_OPS)
    more = CountingBackend(_replies)
    digest, stats = run_mine_hard(more, ITEMS, video_root=tmp_path, store=store, config=MineConfig(num_samples=3),
                                  **VIDEO_OPS)
    assert (len(first.requests), len(more.requests), stats.skipped_calls) == (6, 3, 6)
    assert sorted(r.session_id for r in more.requests) == ["q0#2", "q1#2", "q2#2"]
