"""The teacher steps against a loopback OpenAI-compatible server that injects faults."""

import threading

import pytest

from love_r1.backends.openai_http import OpenAIBackend
from love_r1.data import (
    AnswerCotConfig,
    CallStore,
    StepInterrupted,
    ZoomCotConfig,
    load_items,
    run_answer_cot,
    run_zoom_cot,
)
from love_r1.data._captions import caption_file_name
from love_r1.synth import write_needle_dataset
from tests.fixtures.openai_server import FakeOpenAIServer, Reply


@pytest.fixture(scope="module")
def needle(tmp_path_factory):
    root = tmp_path_factory.mktemp("needle_http")
    annotations = write_needle_dataset(root, duration_seconds=30.0, num_videos=2, num_questions_per_video=3,
                                       width=128, height=96, fps=4.0, seed=5)
    items = load_items(annotations)
    captions = root / "captions"
    captions.mkdir()
    for video in {i.video_path for i in items}:
        lines = [f'{{"start_seconds": {s}, "end_seconds": {s + 10}, "text": "scene {s}"}}' for s in (0, 10, 20)]
        (captions / caption_file_name(video)).write_text("\n".join(lines) + "\n")
    return root, items


class Teacher:
    """Replies like a teacher; after ``fail_from`` good replies every request gets HTTP 503."""

    def __init__(self, items, *, fail_from=None):
        self.items = items
        self.fail_from = fail_from
        self.answered: list[str] = []  # prompt of every 200 reply
        self.lock = threading.Lock()

    def __call__(self, request):
        text = "".join(p.get("text", "") for p in request.content_parts())
        if text.startswith("Describe what happens"):
            with self.lock:
                self.answered.append(text)
            return "A grey screen; a small box appears."
        item = next(i for i in self.items if i.question in text and all(o in text for o in i.options))
        with self.lock:
            if self.fail_from is not None and len(self.answered) >= self.fail_from:
                return Reply(status=503, error_message="overloaded")
            self.answered.append(text)
        if "Hint" in text:
            return f"Watching closely. \\boxed{{{item.gold}}}"
        start, end = item.evidence[0].start_seconds, item.evidence[0].end_seconds
        return f"Look there. \\boxed{{[{int(start)}, {int(end) + 1}]}}"


def _backend(server, **kwargs):
    return OpenAIBackend("fake-model", base_url=server.base_url, backoff_seconds=0.0, max_backoff_seconds=0.0,
                         timeout_seconds=kwargs.pop("timeout_seconds", 5.0), **kwargs)


def test_transient_faults_are_retried_and_usage_is_counted(needle, tmp_path):
    root, items = needle
    teacher = Teacher(items)
    faults = [Reply(status=429, headers={"Retry-After": "0"}), Reply(body="{not json"), Reply(drop_connection=True),
              Reply(delay_seconds=1.5, text="late")]
    with FakeOpenAIServer(faults, default=teacher) as server:
        store = CallStore(tmp_path / "s.sqlite")
        digest, stats = run_zoom_cot(_backend(server, max_retries=4, timeout_seconds=1.0), items,
                                     captions_dir=root / "captions", store=store, config=ZoomCotConfig(), workers=2)
        assert stats.new_calls == len(items) and not stats.failed_items
        assert server.num_requests == len(items) + len(faults)
        assert len(teacher.answered) == len(items)
        assert stats.usage.requests == len(items) and stats.usage.prompt_tokens > 0
        assert stats.usage.completion_tokens == sum(len(r.text.split()) for r in store.calls("zoom-cot", digest))


def test_a_rate_limit_stop_resumes_without_duplicate_requests(needle, tmp_path):
    root, items = needle
    store = CallStore(tmp_path / "s.sqlite")
    config = AnswerCotConfig(num_samples=1, max_calls=2)
    first = Teacher(items, fail_from=2)
    with FakeOpenAIServer(first) as server, pytest.raises(StepInterrupted, match="resume"):
        run_answer_cot(_backend(server, max_retries=1), items, video_root=root, store=store, config=config,
                       workers=2)
    stored_after_stop = len(store.calls("answer-cot", store.register_config("answer-cot", config.call_config())))
    assert stored_after_stop == len(first.answered) == 2
    second = Teacher(items)
    with FakeOpenAIServer(second) as server:
        digest, stats = run_answer_cot(_backend(server), items, video_root=root, store=store, config=config,
                                       workers=2)
        assert server.num_requests == len(items) - 2
        # frames went over the wire as images, before the prompt text
        parts = server.chat_requests[0].content_parts()
        assert parts[0]["type"] == "image_url" and parts[-1]["type"] == "text"
    assert stats.new_calls == len(items) - 2 and stats.skipped_calls == 2
    assert not set(first.answered) & set(second.answered)  # nothing answered twice
    assert len(store.calls("answer-cot", digest)) == len(items)


_CHILD = """
import sys
from love_r1.backends.openai_http import OpenAIBackend
from love_r1.data import CallStore, ZoomCotConfig, load_items, run_zoom_cot
annotations, store_path, base_url, captions = sys.argv[1:5]
run_zoom_cot(OpenAIBackend("fake-model", base_url=base_url), load_items(annotations), captions_dir=captions,
             store=CallStore(store_path), config=ZoomCotConfig(), workers=1)
"""


def test_a_killed_process_resumes_without_repeating_stored_calls(needle, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    root, items = needle
    teacher = Teacher(items)

    def slow(request):
        time.sleep(0.05)
        return teacher(request)

    store_path = tmp_path / "s.sqlite"
    with FakeOpenAIServer(slow) as server:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(root / "annotations.jsonl"), str(store_path),
                                  server.base_url, str(root / "captions")], cwd=os.getcwd())
        deadline = time.monotonic() + 60
        while len(teacher.answered) < 3 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        store = CallStore(store_path)
        digest = store.register_config("zoom-cot", ZoomCotConfig().call_config())
        stored = {r.item_id for r in store.calls("zoom-cot", digest)}
        assert 1 <= len(stored) < len(items)
        before = server.num_requests
        _, stats = run_zoom_cot(_backend(server), items, captions_dir=root / "captions", store=store,
                                config=ZoomCotConfig())
        assert server.num_requests - before == len(items) - len(stored) == stats.new_calls
    assert len(store.calls("zoom-cot", digest)) == len(items)


def test_the_whole_chain_over_http_with_faults(needle, tmp_path):
    from love_r1.data import (
        CaptionConfig,
        assemble,
        export_captions,
        export_cot,
        judge_answer,
        judge_zoom,
        run_captions,
    )

    root, items = needle
    teacher = Teacher(items)
    faults = [Reply(status=429), Reply(body="{truncated"), Reply(status=502)]
    store = CallStore(tmp_path / "s.sqlite")
    with FakeOpenAIServer(faults, default=teacher) as server:
        backend = _backend(server, max_retries=3)
        videos = sorted({i.video_path for i in items})
        digest, stats = run_captions(backend, videos, video_root=root, store=store,
                                     config=CaptionConfig(segment_seconds=10.0), workers=2)
        assert stats.new_calls == 6  # 2 videos x 3 segments of 10 s
        export_captions(store, digest, tmp_path / "captions")
        zoom_digest, _ = run_zoom_cot(backend, items, captions_dir=tmp_path / "captions", store=store,
                                      config=ZoomCotConfig(), workers=2)
        answer_digest, _ = run_answer_cot(backend, items, video_root=root, store=store, config=AnswerCotConfig(),
                                          workers=2)
        assert server.num_requests == 6 + 2 * len(items) + len(faults)
    zoom = export_cot(store, step="zoom-cot", config_hash=zoom_digest, items=items, out_path=tmp_path / "z.jsonl",
                      judge=lambda i, t: judge_zoom(t, evidence=i.evidence, max_interval_seconds=60, min_iou=0))
    answer = export_cot(store, step="answer-cot", config_hash=answer_digest, items=items,
                        out_path=tmp_path / "a.jsonl", judge=lambda i, t: judge_answer(t, letters=i.letters,
                                                                                       gold=i.gold))
    assert zoom == answer == {"accepted": len(items)}
    import json

    rows = [json.loads(x) for x in (tmp_path / "z.jsonl").read_text().splitlines()]
    answers = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    result = assemble(items, zoom_rows=rows, answer_rows=answers, val_fraction=0.5)
    assert sum(len(v) for v in result.sft.values()) == 2 * len(items)
    assert sum(len(v) for v in result.grpo.values()) == len(items)
