"""OpenAIBackend against the loopback fake server: payloads, retries, faults, concurrency, key hygiene."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

from love_r1.backends import BackendError, GenerationRequest, Message, SamplingParams, TextPart, VideoPart
from love_r1.backends.openai_http import OpenAIBackend, encode_frames, map_finish_reason
from love_r1.video import Frames
from tests.fixtures.openai_server import FakeOpenAIServer, Reply

FAST = dict(backoff_seconds=0.01, max_backoff_seconds=0.05, timeout_seconds=5.0)


def _frames(values: list[int], *, key: str | None = None, size: int = 16) -> Frames:
    """Frames whose pixels all equal ``values[i]`` (so a decoded JPEG tells which frame it was)."""
    data = np.stack([np.full((size, size, 3), v, dtype=np.uint8) for v in values])
    return Frames(data=data, timestamps_seconds=np.arange(len(values), dtype=np.float64), key=key)


def _request(text: str = "hi", **kwargs) -> GenerationRequest:
    return GenerationRequest(messages=(Message("system", "sys"), Message("user", (TextPart(text),))), **kwargs)


def _video_request() -> GenerationRequest:
    user = Message("user", (
        TextPart("Full video [0, 3]:"), VideoPart(_frames([10, 60, 110])),
        TextPart("Subset zoom-in video clip [1, 2]:"), VideoPart(_frames([160, 210])),
        TextPart("Question?"),
    ))
    return GenerationRequest(messages=(Message("system", "sys"), user))


def _pixel(b64: str) -> int:
    return int(np.asarray(Image.open(io.BytesIO(base64.b64decode(b64)))).mean().round())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_text_round_trip_usage_and_payload():
    usage = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14, "prompt_tokens_details": {"cached_tokens": 4}}
    with FakeOpenAIServer([Reply(text="I get the answer.\n\n\\boxed{B}", usage=usage)]) as server:
        backend = OpenAIBackend("m1", base_url=server.base_url, **FAST)
        sampling = SamplingParams(max_new_tokens=77, temperature=0.5, top_p=0.9, seed=3, top_k=5)
        (gen,) = backend.generate([_request("What?", sampling=sampling)])
    assert gen.text == "I get the answer.\n\n\\boxed{B}"
    assert gen.finish_reason == "stop"
    assert (gen.usage.prompt_tokens, gen.usage.prompt_tokens_cached, gen.usage.completion_tokens) == (11, 4, 3)
    assert gen.usage.prompt_tokens_computed == 7
    assert gen.raw["choices"][0]["message"]["content"] == gen.text
    payload = server.chat_requests[0].payload
    assert payload["model"] == "m1"
    assert payload["messages"] == [{"role": "system", "content": "sys"}, {"role": "user", "content": "What?"}]
    assert (payload["max_tokens"], payload["temperature"], payload["top_p"], payload["seed"], payload["top_k"]) == (
        77, 0.5, 0.9, 3, 5)
    assert "repetition_penalty" not in payload and "continue_final_message" not in payload


def test_frames_as_images_preserve_count_order_and_interleaving():
    with FakeOpenAIServer() as server:
        OpenAIBackend("m", base_url=server.base_url, **FAST).generate([_video_request()])
    parts = server.chat_requests[0].content_parts()
    kinds = [p["type"] for p in parts]
    assert kinds == ["text", "image_url", "image_url", "image_url", "text", "image_url", "image_url", "text"]
    assert parts[0]["text"] == "Full video [0, 3]:" and parts[4]["text"] == "Subset zoom-in video clip [1, 2]:"
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert all(u.startswith("data:image/jpeg;base64,") for u in urls)
    pixels = [_pixel(u.split(",", 1)[1]) for u in urls]
    assert all(abs(p - e) <= 2 for p, e in zip(pixels, [10, 60, 110, 160, 210], strict=True)), pixels


def test_video_url_mode_sends_one_jpeg_sequence_per_clip():
    with FakeOpenAIServer() as server:
        OpenAIBackend("m", base_url=server.base_url, video_mode="video_url", **FAST).generate([_video_request()])
    parts = server.chat_requests[0].content_parts()
    assert [p["type"] for p in parts] == ["text", "video_url", "text", "video_url", "text"]
    first = parts[1]["video_url"]["url"]
    assert first.startswith("data:video/jpeg;base64,")
    frames = first.split(",", 1)[1].split(",")
    assert [round(_pixel(f) / 50) for f in frames] == [0, 1, 2]  # 10, 60, 110 in order
    assert len(parts[3]["video_url"]["url"].split(",", 1)[1].split(",")) == 2


def test_png_frames_are_lossless():
    frames = _frames([7, 200])
    encoded = encode_frames(frames, image_format="png")
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(base64.b64decode(e)))) for e in encoded])
    assert np.array_equal(decoded, frames.data)


def test_assistant_prefix_continue_final_message():
    with FakeOpenAIServer(["B}"]) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, **FAST)
        (gen,) = backend.generate([_request(assistant_prefix="I get the answer.\n\n\\boxed{")])
    payload = server.chat_requests[0].payload
    assert payload["messages"][-1] == {"role": "assistant", "content": "I get the answer.\n\n\\boxed{"}
    assert payload["continue_final_message"] is True and payload["add_generation_prompt"] is False
    assert gen.text == "B}"


def test_assistant_prefix_strip_mode_removes_echoed_prefix():
    prefix = "I get the answer.\n\n"
    with FakeOpenAIServer([prefix + "\\boxed{C}", "\\boxed{D}"]) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, assistant_prefix_mode="strip", **FAST)
        gens = backend.generate([_request(assistant_prefix=prefix), _request(assistant_prefix=prefix)])
    assert sorted(g.text for g in gens) == ["\\boxed{C}", "\\boxed{D}"]
    for received in server.chat_requests:
        assert received.payload["messages"][-1]["role"] == "user"
        assert "continue_final_message" not in received.payload


@pytest.mark.parametrize(("value", "expected"), [
    ("stop", "stop"), ("length", "length"), (None, "stop"), ("content_filter", "error"), ("abort", "error"),
])
def test_finish_reason_mapping(value, expected):
    assert map_finish_reason(value) == expected


def test_length_finish_reason_end_to_end():
    with FakeOpenAIServer([Reply(text="I need", finish_reason="length")]) as server:
        (gen,) = OpenAIBackend("m", base_url=server.base_url, **FAST).generate([_request()])
    assert gen.finish_reason == "length"


def test_retries_500_then_success():
    with FakeOpenAIServer([Reply(status=500), Reply(status=503), "fine"]) as server:
        (gen,) = OpenAIBackend("m", base_url=server.base_url, max_retries=3, **FAST).generate([_request()])
    assert gen.text == "fine"
    assert server.num_requests == 3


def test_429_respects_retry_after():
    with FakeOpenAIServer([Reply(status=429, headers={"Retry-After": "0.4"}), "ok"]) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, backoff_seconds=0.0, max_backoff_seconds=5.0,
                                timeout_seconds=5.0)
        (gen,) = backend.generate([_request()])
    first, second = server.chat_requests
    assert gen.text == "ok"
    assert second.received_at_seconds - first.received_at_seconds >= 0.38


def test_retry_after_is_capped_by_max_backoff():
    with FakeOpenAIServer([Reply(status=429, headers={"Retry-After": "3600"}), "ok"]) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, backoff_seconds=0.0, max_backoff_seconds=0.05,
                                timeout_seconds=5.0)
        started = time.monotonic()
        (gen,) = backend.generate([_request()])
    assert gen.text == "ok" and time.monotonic() - started < 3


def test_retries_exhausted_raise_backend_error_listing_attempts():
    with FakeOpenAIServer(default=Reply(status=500, error_message="kaput")) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_retries=2, **FAST)
        with pytest.raises(BackendError, match=r"failed 3 time\(s\).*HTTP 500: kaput"):
            backend.generate([_request()])
    assert server.num_requests == 3


def test_timeout_becomes_backend_error():
    with FakeOpenAIServer(default=Reply(delay_seconds=3.0)) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, timeout_seconds=0.2, max_retries=1,
                                backoff_seconds=0.01)
        started = time.monotonic()
        with pytest.raises(BackendError, match="timed out after 0.2 s"):
            backend.generate([_request()])
        assert time.monotonic() - started < 2.5
    assert server.num_requests == 2


def test_malformed_json_is_retried_then_succeeds():
    with FakeOpenAIServer([Reply(body="{not json"), Reply(body='{"choices": []}'), "good"]) as server:
        (gen,) = OpenAIBackend("m", base_url=server.base_url, max_retries=3, **FAST).generate([_request()])
    assert gen.text == "good" and server.num_requests == 3


def test_malformed_json_forever_is_a_backend_error():
    with FakeOpenAIServer(default=Reply(body="<html>bad gateway</html>")) as server:
        with pytest.raises(BackendError, match="unreadable reply"):
            OpenAIBackend("m", base_url=server.base_url, max_retries=1, **FAST).generate([_request()])


def test_dropped_connection_is_retried():
    with FakeOpenAIServer([Reply(drop_connection=True), "after drop"]) as server:
        (gen,) = OpenAIBackend("m", base_url=server.base_url, max_retries=2, **FAST).generate([_request()])
    assert gen.text == "after drop"


def test_server_down_fails_fast_with_clear_error():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    backend = OpenAIBackend("m", base_url=url, max_retries=2, backoff_seconds=0.01, timeout_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"failed 3 time\(s\).*connection error.*server is down"):
        backend.generate([_request()])
    assert time.monotonic() - started < 10


def test_bad_request_is_an_error_generation_not_an_exception():
    with FakeOpenAIServer([Reply(status=400, error_message="prompt is too long"), "second ok"]) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_concurrency=1, **FAST)
        bad, good = backend.generate([_request("long"), _request("short")])
    assert (bad.text, bad.finish_reason, bad.raw["status"]) == ("", "error", 400)
    assert "prompt is too long" in bad.raw["error"]
    assert good.text == "second ok"


def test_not_found_model_raises_without_retry():
    with FakeOpenAIServer(default=Reply(status=404, error_message="model 'x' does not exist")) as server:
        with pytest.raises(BackendError, match="HTTP 404.*does not exist.*model name"):
            OpenAIBackend("x", base_url=server.base_url, **FAST).generate([_request()])
    assert server.num_requests == 1


def test_concurrent_requests_are_in_flight_together_and_ordered():
    barrier = threading.Barrier(8, timeout=10)  # the first 8 replies wait until 8 requests are in flight
    lock, seen = threading.Lock(), []

    def reply(received):
        with lock:
            seen.append(received)
            first_wave = len(seen) <= 8
        if first_wave:
            barrier.wait()
        return Reply(text="echo:" + received.payload["messages"][-1]["content"], delay_seconds=0.05)

    with FakeOpenAIServer(reply) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, max_concurrency=8, **FAST)
        gens = backend.generate([_request(f"q{i}") for i in range(12)])
    assert [g.text for g in gens] == [f"echo:q{i}" for i in range(12)]
    assert server.max_in_flight == 8


def test_max_concurrency_one_serialises():
    with FakeOpenAIServer(default=Reply(delay_seconds=0.05)) as server:
        OpenAIBackend("m", base_url=server.base_url, max_concurrency=1, **FAST).generate([_request()] * 4)
    assert server.max_in_flight == 1 and server.num_requests == 4


def test_generate_from_threads_and_inside_a_running_loop():
    with FakeOpenAIServer(lambda r: "t:" + r.payload["messages"][-1]["content"]) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, **FAST)
        results: dict[int, str] = {}

        def work(i: int) -> None:
            results[i] = backend.generate([_request(str(i))])[0].text

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        async def inside_loop() -> str:
            return backend.generate([_request("loop")])[0].text

        in_loop = asyncio.run(inside_loop())
    assert results == {i: f"t:{i}" for i in range(4)}
    assert in_loop == "t:loop"


SECRET = "sk-test-SECRET-0123456789abcdef"


def test_api_key_is_sent_but_never_leaks(monkeypatch, caplog):
    monkeypatch.setenv("LOVE_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    leak = f"Incorrect API key provided: {SECRET}; also {SECRET[:10]}...{SECRET[-4:]}"
    with FakeOpenAIServer([Reply(status=400, error_message=leak), Reply(status=500, error_message=leak)],
                          default=Reply(status=401, error_message=leak)) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, api_key_env="LOVE_TEST_KEY", max_concurrency=1, **FAST)
        gen_bad, = backend.generate([_request()])
        with pytest.raises(BackendError) as info:
            backend.generate([_request()])
    assert server.chat_requests[0].headers.get("authorization") == f"Bearer {SECRET}"
    texts = [repr(backend), str(info.value), json.dumps(gen_bad.raw), caplog.text]
    for text in texts:
        assert SECRET not in text
        assert SECRET[-4:] not in text and SECRET[:10] not in text
    assert "HTTP 401" in str(info.value)
    assert "LOVE_TEST_KEY" in str(info.value)  # the variable name is named, not its value


def test_missing_key_for_openai_api_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("LOVE_TEST_MISSING_KEY", raising=False)
    with pytest.raises(ValueError, match="LOVE_TEST_MISSING_KEY is not set"):
        OpenAIBackend("gpt-x", api_key_env="LOVE_TEST_MISSING_KEY")


def test_local_server_without_key_sends_placeholder(monkeypatch):
    monkeypatch.delenv("LOVE_TEST_MISSING_KEY", raising=False)
    with FakeOpenAIServer() as server:
        OpenAIBackend("m", base_url=server.base_url, api_key_env="LOVE_TEST_MISSING_KEY", **FAST).generate([_request()])
    assert server.chat_requests[0].headers.get("authorization") == "Bearer EMPTY"


@pytest.mark.parametrize("kwargs", [
    {"video_mode": "frames"}, {"image_format": "webp"}, {"video_mode": "video_url", "image_format": "png"},
    {"jpeg_quality": 0}, {"max_concurrency": 0}, {"timeout_seconds": 0}, {"assistant_prefix_mode": "x"},
])
def test_invalid_arguments_name_the_value(kwargs):
    with pytest.raises(ValueError, match=str(next(iter(kwargs.values())))):
        OpenAIBackend("m", base_url="http://127.0.0.1:1/v1", **kwargs)


def test_num_return_sequences_above_one_is_rejected():
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="num_return_sequences"):
        backend.generate([_request(sampling=SamplingParams(num_return_sequences=2))])


def test_encoded_frames_are_reused_by_key():
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:1/v1")
    frames = _frames([1, 2, 3], key="clip-a")
    assert backend._encode(frames) is backend._encode(frames)
    assert backend._encode(_frames([1, 2, 3])) is not backend._encode(_frames([1, 2, 3]))


def test_models_endpoint_lists_the_served_model():
    import openai

    with FakeOpenAIServer(model="served-x") as server:
        client = openai.OpenAI(api_key="EMPTY", base_url=server.base_url, max_retries=0)
        assert [m.id for m in client.models.list().data] == ["served-x"]
        client.close()
