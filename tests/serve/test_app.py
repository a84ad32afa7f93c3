"""``love_r1.serve``: the HTTP service end to end on 127.0.0.1 with ``ScriptedBackend`` and generated videos."""

from __future__ import annotations

import json
import threading
import time

import pytest

from love_r1 import ask
from love_r1.agent import ZoomPolicy
from love_r1.backends.scripted import ScriptedBackend
from tests.helpers.markers import requires_openai, requires_torch
from tests.helpers.serve import Gate, call, parse_sse, serving

OPTIONS = ["A. three", "B. six"]
ZOOM = "I need to zoom in on the video.\n\nThe box is early on.\\boxed{[2, 4]}"
ANSWER = "I get the answer.\n\nThe box shows a six.\\boxed{B}"


def _timeless(value):
    """``value`` without wall-clock fields (``*_seconds`` keys) and episode ids, for comparisons."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if not k.endswith("_seconds") and k not in
                ("seconds", "episode_id")}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _wait_for(predicate, *, timeout_seconds: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.01)


def test_episode_round_trip_equals_ask(video_root):
    video = video_root / "clip.mp4"
    expected = ask(video.resolve(), "Which digit is shown?", options=OPTIONS,
                   backend=ScriptedBackend([ZOOM, ANSWER])).to_dict()
    with serving(ScriptedBackend([ZOOM, ANSWER]), video_root=video_root) as server:
        reply = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "Which digit is shown?",
                                                   "options": OPTIONS})
    assert reply.status == 200, reply.body
    data = reply.json
    episode = data["episode"]
    assert data["answer"] == "B" == expected["answer"]
    assert [s["kind"] for s in episode["steps"]] == ["zoom", "answer"]
    # [2, 4] padded by 5 s -> [0, 9]; 9 s is longer than min(30, 12 / 8) s, so it is not widened
    assert episode["clips"] == expected["clips"] == [[0.0, 9.0]]
    assert _timeless(episode["steps"]) == _timeless(expected["steps"])
    assert _timeless(episode) == _timeless(expected)
    assert data["trace_url"] == f"/v1/episodes/{episode['episode_id']}/trace.html"


def test_stream_yields_start_steps_in_order_then_done(video_root):
    with serving(ScriptedBackend(), video_root=video_root) as server:
        reply = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "Which digit?",
                                                   "options": OPTIONS, "stream": True})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(reply.body)
    assert [name for name, _ in events] == ["start", "step", "step", "done"]
    episode = events[-1][1]["episode"]
    assert events[0][1]["episode_id"] == episode["episode_id"]
    step_events = [data for name, data in events if name == "step"]
    # each step event is the episode's step plus "reply", the text as people read it
    assert [{k: v for k, v in data.items() if k != "reply"} for data in step_events] == episode["steps"]
    assert [data["reply"] for data in step_events] == [s["raw_text"] for s in episode["steps"]]
    assert [s["index"] for s in episode["steps"]] == [0, 1]
    assert episode["steps"][0]["applied_interval"] == [0.0, 12.0]  # dummy zoom [1, 11] padded to the video
    assert events[-1][1]["answer"] == "A"


def test_concurrent_requests_share_one_generate_call_per_round(video_root):
    backend = ScriptedBackend()
    replies = [None] * 3
    with serving(backend, video_root=video_root, max_concurrent_episodes=3, max_batch_wait_seconds=10.0) as server:
        def worker(i):
            replies[i] = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": f"Question {i}?",
                                                            "options": OPTIONS})

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        stats = call(f"{server.url}/healthz").json
    assert [r.status for r in replies] == [200, 200, 200]
    ids = {r.json["episode"]["episode_id"] for r in replies}
    assert len(ids) == 3
    # the dummy policy zooms, then answers: two rounds, each ONE generate call holding all three episodes
    assert [len(c) for c in backend.calls] == [3, 3]
    for requests in backend.calls:
        assert {r.session_id for r in requests} == ids
    assert stats["episode_groups"] == 1 and stats["model_calls"] == 2 and stats["completed"] == 3
    assert sorted(r.json["episode"]["question"] for r in replies) == ["Question 0?", "Question 1?", "Question 2?"]


def test_an_episode_arriving_mid_way_joins_the_next_round(video_root):
    gate = Gate()
    backend = ScriptedBackend(gate)
    results = {}
    with serving(backend, video_root=video_root, max_concurrent_episodes=4, max_batch_wait_seconds=0.0) as server:
        def post(name):
            results[name] = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": name,
                                                               "options": OPTIONS})

        first = threading.Thread(target=post, args=("first",))
        first.start()
        assert gate.entered.wait(10)  # round 1 of the first episode is inside generate
        second = threading.Thread(target=post, args=("second",))
        second.start()
        _wait_for(lambda: call(f"{server.url}/healthz").json["queued"] == 1)
        gate.open()
        first.join(30)
        second.join(30)
    ids = {name: results[name].json["episode"]["episode_id"] for name in ("first", "second")}
    # the second episode did not wait for the first to finish: its first step shared the first's second round
    assert [[r.session_id for r in call_] for call_ in backend.calls] == [
        [ids["first"]], [ids["first"], ids["second"]], [ids["second"]]]
    assert [len(results[name].json["episode"]["steps"]) for name in ("first", "second")] == [2, 2]


def test_path_traversal_and_outside_paths_are_rejected(video_root, tmp_path):
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    (video_root / "link.mp4").unlink(missing_ok=True)
    (video_root / "link.mp4").symlink_to(outside)
    backend = ScriptedBackend()
    try:
        with serving(backend, video_root=video_root) as server:
            for path in ("../secret.mp4", str(outside), "link.mp4", "sub/../../secret.mp4"):
                reply = call(f"{server.url}/v1/episodes", {"video": path, "question": "q"})
                assert reply.status == 400, path
                error = reply.json["error"]
                assert error["type"] == "invalid_request_error" and error["param"] == "video"
                assert repr(path) in error["message"] and "outside --video-root" in error["message"]
            # an absolute path inside the root is fine
            ok = call(f"{server.url}/v1/episodes", {"video": str(video_root / "clip.mp4"), "question": "q"})
            assert ok.status == 200
    finally:
        (video_root / "link.mp4").unlink()
    assert len(backend.calls) == 2  # only the accepted episode reached the model


def test_missing_video_400_and_broken_video_422(video_root):
    with serving(ScriptedBackend(), video_root=video_root) as server:
        missing = call(f"{server.url}/v1/episodes", {"video": "nope/clip.mp4", "question": "q"})
        broken = call(f"{server.url}/v1/episodes", {"video": "broken.mp4", "question": "q", "options": OPTIONS})
        fine = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "q", "options": OPTIONS})
        trace = call(f"{server.url}/v1/episodes/{broken.json['episode']['episode_id']}/trace.html")
    assert missing.status == 400
    assert "'nope/clip.mp4' not found" in missing.json["error"]["message"]
    assert str(video_root.resolve() / "nope" / "clip.mp4") in missing.json["error"]["message"]
    assert broken.status == 422
    assert broken.json["error"]["type"] == "episode_error"
    assert "broken.mp4" in broken.json["error"]["message"]
    assert broken.json["episode"]["error"] and broken.json["episode"]["steps"] == []
    assert fine.status == 200 and fine.json["answer"] == "A"  # a broken video fails only its own request
    assert trace.status == 200 and b"episode failed" in trace.body


def test_backend_fault_is_500_with_the_message(video_root):
    with serving(ScriptedBackend([]), video_root=video_root) as server:
        reply = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "q"})
    assert reply.status == 500
    assert reply.json["error"]["type"] == "backend_error"
    assert "ran out of replies" in reply.json["error"]["message"]


def test_streamed_failure_ends_with_an_error_event(video_root):
    with serving(ScriptedBackend(), video_root=video_root) as server:
        reply = call(f"{server.url}/v1/episodes", {"video": "broken.mp4", "question": "q", "stream": True})
    events = parse_sse(reply.body)
    assert reply.status == 200 and [name for name, _ in events] == ["start", "error"]
    error = events[-1][1]
    assert error["status"] == 422 and error["error"]["type"] == "episode_error"
    assert error["episode"]["episode_id"] == events[0][1]["episode_id"]


def test_an_unexpected_backend_exception_is_a_500_and_serving_goes_on(video_root):
    def reply(request):
        if "boom" in request.messages[-1].text:
            raise RuntimeError("CUDA out of memory (injected)")
        return "I get the answer.\n\n\\boxed{A}"

    with serving(ScriptedBackend(reply), video_root=video_root) as server:
        failed = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "boom?"})
        fine = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "fine?"})
        health = call(f"{server.url}/healthz").json
    assert failed.status == 500 and failed.json["error"]["type"] == "backend_error"
    assert "the model backend failed: RuntimeError: CUDA out of memory (injected)" == failed.json["error"]["message"]
    assert failed.json["episode"]["error"] == "backend: RuntimeError: CUDA out of memory (injected)"
    assert fine.status == 200 and fine.json["answer"] == "A"
    assert (health["completed"], health["failed"], health["failed_by_type"]) == (1, 1, {"backend_error": 1})


def test_full_queue_gives_429_with_retry_after(video_root):
    gate = Gate()
    results = {}
    with serving(ScriptedBackend(gate), video_root=video_root, max_concurrent_episodes=1, max_queued_episodes=1,
                 max_batch_wait_seconds=0.0) as server:
        body = {"video": "clip.mp4", "question": "q", "options": OPTIONS}

        def post(name):
            results[name] = call(f"{server.url}/v1/episodes", body)

        first = threading.Thread(target=post, args=("first",))
        first.start()
        assert gate.entered.wait(10)  # the first episode is running (inside generate)
        second = threading.Thread(target=post, args=("second",))
        second.start()
        _wait_for(lambda: call(f"{server.url}/healthz").json["queued"] == 1)
        third = call(f"{server.url}/v1/episodes", body)
        gate.open()
        first.join(30)
        second.join(30)
    assert third.status == 429
    assert third.json["error"]["type"] == "rate_limit_error"
    assert int(third.headers["retry-after"]) >= 1
    assert results["first"].status == 200 and results["second"].status == 200


def test_shutdown_fails_queued_and_unfinished_episodes_with_503(video_root):
    gate = Gate()
    results = {}
    with serving(ScriptedBackend(gate), video_root=video_root, max_concurrent_episodes=1,
                 max_batch_wait_seconds=0.0, drain_seconds=0.2) as server:
        body = {"video": "clip.mp4", "question": "q"}

        def post(name):
            results[name] = call(f"{server.url}/v1/episodes", body)

        running = threading.Thread(target=post, args=("running",))
        running.start()
        assert gate.entered.wait(10)
        queued = threading.Thread(target=post, args=("queued",))
        queued.start()
        _wait_for(lambda: call(f"{server.url}/healthz").json["queued"] == 1)
        stopper = threading.Thread(target=server.shutdown)
        stopper.start()
        queued.join(10)
        running.join(10)
        gate.open()
        stopper.join(10)
    for name in ("queued", "running"):
        assert results[name].status == 503, name
        assert results[name].json["error"]["type"] == "unavailable_error"
    assert "not started" in results["queued"].json["error"]["message"]
    assert "before the episode finished" in results["running"].json["error"]["message"]


def test_chat_completions_returns_the_boxed_reply_and_the_episode(video_root):
    backend = ScriptedBackend([ZOOM, ANSWER, ZOOM, ANSWER])
    with serving(backend, video_root=video_root, model_name="love-r1-test") as server:
        reply = call(f"{server.url}/v1/chat/completions", {
            "model": "anything", "temperature": 0,
            "messages": [{"role": "system", "content": "ignored"}, {"role": "user", "content": [
                {"type": "video_url", "video_url": {"url": (video_root / "clip.mp4").resolve().as_uri()}},
                {"type": "text", "text": "Which digit is shown?\nA. three\nB. six\nAnswer with the letter."},
            ]}]})
        top_level = call(f"{server.url}/v1/chat/completions", {
            "video": "clip.mp4", "messages": [{"role": "user", "content": "Which digit is shown?"}]})
    assert reply.status == 200, reply.body
    data = reply.json
    assert data["object"] == "chat.completion" and data["model"] == "love-r1-test"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": ANSWER}
    episode = data["love_r1"]["episode"]
    assert episode["question"] == "Which digit is shown?"
    assert episode["options"] == ["A. three", "B. six"]
    assert episode["answer_instruction"] == "\nAnswer with the letter."
    assert episode["answer"] == data["love_r1"]["answer"] == "B"
    ledger = episode["ledger"]
    assert data["usage"]["prompt_tokens"] == ledger["prompt_tokens"] > 0
    assert data["usage"]["total_tokens"] == ledger["prompt_tokens"] + ledger["completion_tokens"]
    prompt = backend.calls[0][0].messages[-1].text
    assert "]:Which digit is shown?\nA. three\nB. six\nAnswer with the letter.\nBased on" in prompt
    assert top_level.status == 200
    assert top_level.json["love_r1"]["episode"]["options"] == []
    assert top_level.json["love_r1"]["episode"]["answer_instruction"] == ""


def test_trace_and_episode_endpoints(video_root):
    with serving(ScriptedBackend(), video_root=video_root, max_stored_episodes=1) as server:
        first = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "First?"}).json
        second = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "Second?"}).json
        episode_id = second["episode"]["episode_id"]
        trace = call(f"{server.url}{second['trace_url']}")
        as_json = call(f"{server.url}/v1/episodes/{episode_id}")
        evicted = call(f"{server.url}/v1/episodes/{first['episode']['episode_id']}/trace.html")
    assert trace.status == 200 and trace.headers["content-type"].startswith("text/html")
    assert f"LOVE-R1 trace · {episode_id}".encode() in trace.body and b"Second?" in trace.body
    assert as_json.status == 200 and as_json.json == second["episode"]
    assert evicted.status == 404 and evicted.json["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(("body", "status", "param", "words"), [
    ({"video": "clip.mp4"}, 400, "question", "'question' is required"),
    ({"video": "clip.mp4", "question": "  "}, 400, "question", "'question' must be a non-empty string"),
    ({"video": "clip.mp4", "question": 3}, 400, "question", "'question' must be a non-empty string, got 3"),
    ({"video": 7, "question": "q"}, 400, "video", "'video' must be a non-empty string path"),
    ({"video": "clip.mp4", "question": "q", "options": ["A. x", 5]}, 400, "options", "options[1]"),
    ({"video": "clip.mp4", "question": "q", "options": ["A. x", "B. y"], "gold": "Z"}, 400, "gold",
     "not one of the option letters A, B"),
    ({"video": "clip.mp4", "question": "q", "evidence": [[1, 2, 3]]}, 400, "evidence", "evidence[0]"),
    ({"video": "clip.mp4", "question": "q", "evidence": [["1", 2]]}, 400, "evidence", "evidence[0][0]"),
    ({"question": "q"}, 400, "video", "'video' is required"),
    ({"video": "clip.mp4", "question": "q", "options": "A. x"}, 400, "options", "must be a list"),
    ({"video": "clip.mp4", "question": "q", "options": ["A. x", ""]}, 400, "options", "options[1]"),
    ({"video": "clip.mp4", "question": "q", "evidence": [[5, 2]]}, 400, "evidence", "evidence[0]"),
    ({"video": "clip.mp4", "question": "q", "stream": "yes"}, 400, "stream", "true or false"),
    ({"video": "clip.mp4", "questoin": "q"}, 400, "questoin", "unknown field"),
    ([1, 2], 400, None, "JSON object"),
])
def test_bad_requests_are_typed_400s(video_root, body, status, param, words):
    backend = ScriptedBackend()
    with serving(backend, video_root=video_root) as server:
        reply = call(f"{server.url}/v1/episodes", body)
    assert reply.status == status
    assert reply.json["error"]["param"] == param
    assert words in reply.json["error"]["message"]
    assert backend.calls == []


def test_protocol_errors_and_info_routes(video_root):
    with serving(ScriptedBackend(), video_root=video_root, max_body_bytes=256, model_name="m") as server:
        not_json = call(f"{server.url}/v1/episodes", raw=b"{not json")
        too_large = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "x" * 300})
        wrong_method = call(f"{server.url}/v1/chat/completions")
        delete = call(f"{server.url}/v1/episodes", method="DELETE")
        unknown = call(f"{server.url}/v2/things", {})
        models = call(f"{server.url}/v1/models")
        health = call(f"{server.url}/healthz")
        no_messages = call(f"{server.url}/v1/chat/completions", {"stream": True, "messages": []})
    assert not_json.status == 400 and "not valid UTF-8 JSON" in not_json.json["error"]["message"]
    assert too_large.status == 413 and too_large.json["error"]["type"] == "request_too_large"
    assert wrong_method.status == 405 and wrong_method.headers["allow"] == "POST"
    assert wrong_method.json["error"]["message"] == "/v1/chat/completions takes POST, not GET"
    assert delete.status == 405 and set(delete.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert delete.json["error"]["type"] == "invalid_request_error"
    assert unknown.status == 404 and "POST /v1/episodes" in unknown.json["error"]["message"]
    assert models.json["data"][0]["id"] == "m"
    assert health.status == 200 and health.json["status"] == "ok" and health.json["queued"] == 0
    assert no_messages.status == 400 and no_messages.json["error"]["param"] == "messages"


def test_policy_preset_reaches_the_episode(video_root):
    policy = ZoomPolicy.preset("longvideobench")
    with serving(ScriptedBackend(), video_root=video_root, policy=policy) as server:
        reply = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "q"})
    assert reply.json["episode"]["policy"] == policy.to_dict()


def test_make_server_validates_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        serving(ScriptedBackend(), video_root=tmp_path / "missing").__enter__()
    with pytest.raises(ValueError, match="max_concurrent_episodes"):
        serving(ScriptedBackend(), max_concurrent_episodes=0).__enter__()


@requires_torch
def test_serves_the_transformers_backend_on_a_tiny_model(tmp_path):
    """The real ``HFBackend`` behind the service (tiny random Qwen2.5-VL): plumbing, not quality."""
    from love_r1.backends import SamplingParams
    from love_r1.backends.hf import HFBackend
    from love_r1.synth import write_indexed_video
    from tests.fixtures import tiny_qwen as tq

    write_indexed_video(tmp_path / "v.mp4", duration_seconds=8.0, fps=10.0, width=224, height=168)
    model, processor = tq.build_tiny("qwen2_5_vl")
    policy = ZoomPolicy(
        fast_max_frames=8, fast_pixels_per_frame=56 * 56, clip_max_frames=4, clip_pixels_per_frame=56 * 56,
        short_video_factor=1, sampling=SamplingParams(max_new_tokens=6), overlay=False,
    )
    with serving(HFBackend(model, processor), video_root=tmp_path, policy=policy) as server:
        reply = call(f"{server.url}/v1/chat/completions", {
            "video": "v.mp4", "messages": [{"role": "user", "content": "Which colour?\nA. red\nB. blue"}]})
    assert reply.status == 200, reply.body
    episode = reply.json["love_r1"]["episode"]
    # seeded random weights write no box: a rejected free step, then the forced answer on the whole video
    assert [(s["kind"], s["stop_reason"]) for s in episode["steps"]] == [("zoom", "no_box"), ("forced_answer", "no_box")]
    forced = episode["steps"][-1]
    assert reply.json["choices"][0]["message"]["content"] == forced["assistant_prefix"] + forced["raw_text"]
    assert reply.json["usage"]["prompt_tokens"] == episode["ledger"]["prompt_tokens"] > 0


@requires_openai
def test_the_openai_client_talks_to_the_chat_endpoint(video_root):
    import openai
    with serving(ScriptedBackend([ZOOM, ANSWER]), video_root=video_root, model_name="love-r1") as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        assert [m.id for m in client.models.list()] == ["love-r1"]
        completion = client.chat.completions.create(
            model="love-r1", messages=[{"role": "user", "content": "Which digit is shown?\nA. three\nB. six"}],
            extra_body={"video": "clip.mp4"})
        with pytest.raises(openai.BadRequestError, match="not found"):
            client.chat.completions.create(model="love-r1", messages=[{"role": "user", "content": "Q?"}],
                                           extra_body={"video": "missing.mp4"})
    assert completion.choices[0].message.content == ANSWER
    assert completion.model_extra["love_r1"]["answer"] == "B"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_end_of_turn_tokens_are_recorded_but_never_shown(video_root):
    """Free steps keep special tokens (the reference's decoding), so a reply that closed its turn ends with
    ``<|im_end|>`` in ``raw_text``; the chat content, the streamed reasoning and the page's step text do not."""
    zoom, answer = ZOOM + "<|im_end|>", ANSWER + "<|im_end|>"
    body = {"messages": [{"role": "user", "content": [
        {"type": "video_url", "video_url": {"url": (video_root / "clip.mp4").resolve().as_uri()}},
        {"type": "text", "text": "Which digit?\nA. five\nB. six"}]}]}
    with serving(ScriptedBackend([zoom, answer]), video_root=video_root) as server:
        reply = call(f"{server.url}/v1/chat/completions", body)
    steps = reply.json["love_r1"]["episode"]["steps"]
    assert [s["raw_text"] for s in steps] == [zoom, answer]  # recorded as generated
    assert reply.json["choices"][0]["message"]["content"] == ANSWER
    with serving(ScriptedBackend([zoom, answer]), video_root=video_root) as server:
        streamed = call(f"{server.url}/v1/chat/completions", {**body, "stream": True}).body.decode("utf-8")
    chunks = [json.loads(line[len("data: "):]) for line in streamed.splitlines()
              if line.startswith("data: ") and line != "data: [DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c.get("choices")]
    reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
    content = "".join(d.get("content") or "" for d in deltas)
    assert (reasoning, content) == (ZOOM + "\n\n", ANSWER)
    with serving(ScriptedBackend([zoom, answer]), video_root=video_root) as server:
        events = parse_sse(call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "Which digit?",
                                                             "options": ["A. five", "B. six"], "stream": True}).body)
    assert [data["reply"] for kind, data in events if kind == "step"] == [ZOOM, ANSWER]
