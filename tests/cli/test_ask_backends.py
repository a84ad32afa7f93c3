"""``love_r1.cli._backends.make_backend``: the CLI's backend factory (shared by ask, eval and data)."""

from __future__ import annotations

import json

import pytest

from love_r1.backends import BackendError, GenerationRequest, Message
from love_r1.cli._backends import BACKEND_KINDS, load_script, make_backend
from tests.helpers.markers import requires_transformers


def _request() -> GenerationRequest:
    return GenerationRequest(messages=(Message("user", "Full video [0, 100]:\nQ?\nA. x\nB. y"),))


def test_kinds_are_the_documented_set():
    assert BACKEND_KINDS == ("hf", "openai", "vllm", "scripted")


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"'tgi' is not one of \('hf', 'openai', 'vllm', 'scripted'\)"):
        make_backend("tgi", model="m")


def test_base_url_only_for_openai():
    with pytest.raises(ValueError, match="--base-url is only used by --backend openai"):
        make_backend("scripted", model="", base_url="http://127.0.0.1:1/v1")


def test_scripted_from_json_and_text_scripts(tmp_path):
    as_json = tmp_path / "r.json"
    as_json.write_text(json.dumps(["one", "two\nlines"]), encoding="utf-8")
    backend = make_backend("scripted", model="", script_path=as_json)
    assert [g.text for g in backend.generate([_request(), _request()])] == ["one", "two\nlines"]
    as_text = tmp_path / "r.txt"
    as_text.write_text("first reply\nstill first\n---\nsecond \\boxed{A}\n", encoding="utf-8")
    assert load_script(as_text) == ["first reply\nstill first", "second \\boxed{A}"]


def test_scripted_without_script_is_the_dummy_policy():
    (gen,) = make_backend("scripted", model="").generate([_request()])
    assert "\\boxed{[45, 55]}" in gen.text  # zooms on the middle of the 100 s video


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ("{not json", ".json", "not valid JSON"), ('{"a": 1}', ".json", "JSON list of strings"),
    ("\n---\n", ".txt", "holds no replies"),
])
def test_bad_scripts_are_value_errors(tmp_path, content, suffix, message):
    path = tmp_path / f"s{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_script(path)
    with pytest.raises(ValueError, match="does not exist"):
        load_script(tmp_path / "missing.json")


def test_openai_settings_are_passed_through():
    from love_r1.backends.openai_http import OpenAIBackend

    backend = make_backend("openai", model="served", base_url="http://127.0.0.1:1/v1", timeout_seconds=7.0,
                           max_retries=1, max_concurrency=3, video_mode="video_url", api_key_env="SOME_KEY_VAR")
    assert isinstance(backend, OpenAIBackend)
    assert (backend.model, backend.base_url, backend.timeout_seconds, backend.max_retries, backend.max_concurrency,
            backend.video_mode, backend.api_key_env) == (
        "served", "http://127.0.0.1:1/v1", 7.0, 1, 3, "video_url", "SOME_KEY_VAR")


@requires_transformers
def test_hf_offline_unknown_model_is_a_backend_error_with_a_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(BackendError, match="--model /path/to/local/checkpoint"):
        make_backend("hf", model="iSEE-Laboratory/love-r1-stage3", device="cpu")
