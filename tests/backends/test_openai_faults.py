"""OpenAIBackend against fault-injecting loopback servers (issue 13 §5-7, backend side).

Deadlines (a slow-loris server cannot keep a call alive), schema validation of completions,
per-request isolation inside a batch, the reply-size cap, a NaN ``Retry-After`` and credentials
in the base URL. Everything runs offline on 127.0.0.1.
"""

from __future__ import annotations

import base64
import logging
import time

import pytest

from love_r1.backends import BackendError, GenerationRequest, Message, TextPart
from love_r1.backends.openai_http import MalformedReplyError, OpenAIBackend, _retry_after_seconds, mask_url
from tests.fixtures.openai_server import FakeOpenAIServer, Reply

FAST = dict(backoff_seconds=0.01, max_backoff_seconds=0.05, timeout_seconds=5.0)
ANSWER = "I get the answer.\n\n\\boxed{B}"


def _request(text: str = "hi") -> GenerationRequest:
    return GenerationRequest(messages=(Message("system", "sys"), Message("user", (TextPart(text),))))


def _user_text(received) -> str:
    return received.messages[-1]["content"] if received.messages else ""


# -- deadlines ------------------------------------------------------------------------------------

def test_a_dripping_server_cannot_keep_an_attempt_past_its_wall_clock_deadline():
    """Before: timeout_seconds was httpx's per-read timeout; one byte every 0.3 s kept a 0.6 s call alive ~75 s."""
    with FakeOpenAIServer(default=Reply(text=ANSWER, drip_seconds=0.3)) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, timeout_seconds=0.6, max_retries=1,
                                backoff_seconds=0.01)
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"failed 2 time\(s\).*wall-clock limit per attempt"):
            backend.generate([_request()])
        assert time.monotonic() - started < 6.0  # 2 x 0.6 s; before: until the ~75 s body was dripped out
    assert server.num_requests == 2


def test_total_deadline_bounds_a_request_across_retries():
    with FakeOpenAIServer(default=Reply(status=503, headers={"Retry-After": "0.3"})) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, timeout_seconds=2.0, total_timeout_seconds=1.0,
                                max_retries=50, backoff_seconds=0.3, max_backoff_seconds=1.0)
        started = time.monotonic()
        with pytest.raises(BackendError, match="no time left of the 1 s per request"):
            backend.generate([_request()])
        assert time.monotonic() - started < 2.5
    assert 2 <= server.num_requests <= 5  # not 51


def test_teacher_calls_of_a_data_step_stop_at_the_deadline(tmp_path):
    """``data ... --request-timeout-seconds`` is the per-attempt wall-clock limit of the teacher calls."""
    from love_r1.data import CallStore, QAItem, StepInterrupted, ZoomCotConfig, run_zoom_cot
    from love_r1.data._captions import caption_file_name
    from love_r1.interval import Interval

    captions = tmp_path / "captions"
    captions.mkdir()
    (captions / caption_file_name("v.mp4")).write_text('{"start_seconds": 0, "end_seconds": 10, "text": "a cat"}\n')
    items = [QAItem(qid="q1", video_path="v.mp4", question="Where is the cat?", options=("A. left", "B. right"),
                    gold="A", evidence=(Interval(0.0, 5.0),), duration_seconds=10.0)]
    with FakeOpenAIServer(default=Reply(text="x \\boxed{[0, 5]}", drip_seconds=0.3)) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, timeout_seconds=0.5, max_retries=1,
                                backoff_seconds=0.01)
        started = time.monotonic()
        with pytest.raises(StepInterrupted, match="wall-clock limit per attempt"):
            run_zoom_cot(backend, items, captions_dir=captions, store=CallStore(tmp_path / "s.sqlite"),
                         config=ZoomCotConfig(), workers=1)
        assert time.monotonic() - started < 8.0


# -- malformed completions ------------------------------------------------------------------------

MALFORMED = [
    pytest.param({"usage": "lots"}, "usage", id="usage-string"),
    pytest.param({"usage": {"prompt_tokens": "many", "completion_tokens": 1}}, "usage.prompt_tokens",
                 id="prompt-tokens-not-a-number"),
    pytest.param({"usage": {"prompt_tokens": -3, "completion_tokens": 1}}, "usage.prompt_tokens",
                 id="prompt-tokens-negative"),
    pytest.param({"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"},
                               "finish_reason": ["stop"]}]}, "choices.0.finish_reason", id="finish-reason-list"),
    pytest.param({"choices": [{"index": 0, "message": "hello"}]}, "choices.0.message", id="message-string"),
    pytest.param({"choices": [{"index": 0, "message": {"content": ["a", "b"]}}]}, "choices.0.message.content",
                 id="content-list"),
    pytest.param({"choices": {}}, "choices", id="choices-object"),
]


@pytest.mark.parametrize(("fields", "where"), MALFORMED)
def test_a_malformed_completion_is_a_typed_error_naming_the_field(fields, where):
    """Before: raw AttributeError / ValueError / TypeError escaped ``generate``."""
    with FakeOpenAIServer(default=Reply(text=ANSWER, completion=fields)) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_retries=1, **FAST)
        with pytest.raises(MalformedReplyError, match=f"malformed reply.*{where}"):
            backend.generate([_request()])


def test_a_malformed_completion_fails_only_its_own_request():
    def reply(received):
        if "bad" in _user_text(received):
            return Reply(text=ANSWER, completion={"usage": "lots"})
        return Reply(text=ANSWER)

    with FakeOpenAIServer(reply) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_retries=4, **FAST)
        good1, bad, good2 = backend.generate([_request("one"), _request("bad"), _request("two")])
    assert good1.text == good2.text == ANSWER and good1.finish_reason == "stop"
    assert (bad.finish_reason, bad.raw["error_type"]) == ("error", "malformed_reply")
    assert "usage" in bad.raw["error"]
    sent = [_user_text(r) for r in server.chat_requests]
    assert sent.count("one") == sent.count("two") == 1  # the others were neither cancelled nor re-sent
    assert 2 <= sent.count("bad") <= 5  # retried, then failed alone (given up early once the others are answered)


def test_the_agent_loop_records_a_malformed_reply_as_a_failed_episode():
    """The loop turns the typed error into ``Episode.error`` for that episode; the others finish."""
    from love_r1.agent.loop import EpisodeTask, run_episodes
    from tests.helpers.agent import FakeVideos

    def reply(received):
        text = _user_text(received) if isinstance(_user_text(received), str) else " ".join(
            p.get("text", "") for p in _user_text(received))
        return Reply(text=ANSWER, completion={"usage": "lots"}) if "BAD" in text else Reply(text=ANSWER)

    videos = FakeVideos(durations={"v.mp4": 60.0})
    tasks = [EpisodeTask(episode_id=f"e{i}", video_path="v.mp4", question=q, options=("A. red", "B. blue"))
             for i, q in enumerate(["What color?", "BAD question", "Which one?"])]
    with FakeOpenAIServer(reply) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_retries=2, **FAST)
        done = {e.episode_id: e.episode for e in run_episodes(backend, tasks, **videos.kwargs()) if e.episode_done}
    assert done["e0"].answer == done["e2"].answer == "B" and done["e0"].error is None
    assert "malformed reply" in done["e1"].error and "usage" in done["e1"].error


# -- isolation inside a batch ---------------------------------------------------------------------

def test_a_request_the_server_keeps_refusing_does_not_delay_or_resend_the_others():
    """Before: the whole batch raised, then the loop re-sent each request alone (~37 s in the report)."""
    def reply(received):
        return Reply(status=500, error_message="worker crashed") if _user_text(received) == "poison" else ANSWER

    with FakeOpenAIServer(reply) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_retries=4, backoff_seconds=0.4,
                                max_backoff_seconds=5.0, timeout_seconds=5.0)
        started = time.monotonic()
        results = backend.generate([_request(f"q{i}") for i in range(3)] + [_request("poison")])
        elapsed = time.monotonic() - started
    assert [g.finish_reason for g in results] == ["stop", "stop", "stop", "error"]
    assert results[3].raw["error_type"] == "server_error" and "worker crashed" in results[3].raw["error"]
    sent = [_user_text(r) for r in server.chat_requests]
    assert sent.count("poison") == 2 and all(sent.count(f"q{i}") == 1 for i in range(3))
    assert elapsed < 2.0  # one backoff, not four


def test_a_server_that_answers_nothing_is_still_an_infrastructure_fault():
    with FakeOpenAIServer(default=Reply(status=500, error_message="down")) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_retries=1, **FAST)
        with pytest.raises(BackendError, match=r"failed 2 time\(s\).*HTTP 500: down"):
            backend.generate([_request("a"), _request("b")])


# -- reply size, Retry-After ----------------------------------------------------------------------

@pytest.mark.parametrize("declare_length", [True, False])
def test_a_huge_reply_is_refused_without_reading_it(declare_length):
    """Before: a 300 MB reply was read whole (40 s, 1.59 GB RSS). Here: 64 MB against a 1 MiB cap."""
    def reply(received):
        if _user_text(received) == "huge":
            return Reply(body_bytes=64 * 1024 * 1024, declare_length=declare_length)
        return ANSWER

    with FakeOpenAIServer(reply) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_reply_bytes=1024 * 1024, max_retries=3, **FAST)
        started = time.monotonic()
        ok, huge = backend.generate([_request("fine"), _request("huge")])
        assert time.monotonic() - started < 5.0
    assert ok.text == ANSWER
    assert (huge.finish_reason, huge.raw["error_type"]) == ("error", "reply_too_large")
    assert "1,048,576" in huge.raw["error"]
    assert [_user_text(r) for r in server.chat_requests].count("huge") == 1  # never retried


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_an_unusable_retry_after_is_treated_as_absent(value):
    assert _retry_after_seconds({"retry-after": value}) is None
    with FakeOpenAIServer([Reply(status=429, headers={"Retry-After": value}), ANSWER]) as server:
        (gen,) = OpenAIBackend("m", base_url=server.base_url, max_retries=2, **FAST).generate([_request()])
    assert gen.text == ANSWER and server.num_requests == 2


# -- credentials in the base URL ------------------------------------------------------------------

def test_credentials_in_the_base_url_are_masked_everywhere(caplog):
    secret = "hunter2-very-secret"

    def reply(received):
        return Reply(status=500, error_message=f"upstream http://alice:{secret}@example/v1?api_key={secret}q failed")

    with FakeOpenAIServer(reply) as server:
        url = server.base_url.replace("http://", f"http://alice:{secret}@") + f"?api_key={secret}q"
        backend = OpenAIBackend("m", base_url=url, max_retries=1, **FAST)
        assert secret not in repr(backend) and "***:***@" in repr(backend)
        with caplog.at_level(logging.DEBUG), pytest.raises(BackendError) as caught:  # the HTTP library's logs too
            backend.generate([_request()])
    assert secret not in str(caught.value) and "alice" not in str(caught.value) and "***" in str(caught.value)
    # user:pass@ never appears, not even in the HTTP library's own logs (the query does: it is sent as a query)
    assert f"alice:{secret}" not in caplog.text and f"{secret}@" not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records if r.name.startswith("love_r1"))
    received = server.chat_requests[0]
    # the credentials still reach the server: basic auth from the URL, the query as a query
    assert received.headers["authorization"] == "Basic " + base64.b64encode(f"alice:{secret}".encode()).decode()
    assert received.path == f"/v1/chat/completions?api_key={secret}q"


def test_mask_url():
    assert mask_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
    assert mask_url("https://bob@host/v1") == "https://***@host/v1"
    assert mask_url("https://h/v1?token=t0k&model=x") == "https://h/v1?token=%2A%2A%2A&model=x"


def test_eval_with_credentials_in_the_base_url_writes_them_nowhere(tmp_path, capsys, monkeypatch):
    """Before: ``user:pass@`` of --base-url reached the store, results.jsonl, the episodes and stderr verbatim."""
    from love_r1.cli import main
    from love_r1.synth import write_needle_dataset

    secret = "pa55-w0rd-xyz"
    root = tmp_path / "needle"
    write_needle_dataset(root, duration_seconds=12.0, num_videos=1, num_questions_per_video=2, width=96, height=64,
                         fps=5.0, seed=3)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "run"
    with FakeOpenAIServer(default=Reply(status=404, error_message="no such route")) as server:
        url = server.base_url.replace("http://", f"http://bob:{secret}@")
        assert main(["eval", "--benchmark", "needle", "--data-root", str(root), "--out", str(out), "--backend",
                     "openai", "--base-url", url, "--model", "m", "--no-progress", "--concurrency", "2"]) == 0
    captured = capsys.readouterr()
    written = [captured.out, captured.err, (out / "results.jsonl").read_text()]
    written += [p.read_bytes().decode("latin-1") for p in out.glob("results*.sqlite*")]
    assert "no such route" in written[2] and "***:***@127.0.0.1" in written[2]  # the errors were recorded ...
    assert all(secret not in text and "bob:" not in text for text in written)  # ... without the credentials
