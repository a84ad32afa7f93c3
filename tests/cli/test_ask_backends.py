"""``love_r1.cli._backends.make_backend``: the CLI's backend factory (shared by ask, serve, eval and data)."""

from __future__ import annotations

import json

import pytest

from love_r1.backends import BackendError, GenerationRequest, Message
from love_r1.cli._backends import load_script, make_backend
from love_r1.cli._errors import CliError
from love_r1.cli._options import BackendOptions
from tests.helpers.markers import requires_transformers


def _request() -> GenerationRequest:
    return GenerationRequest(messages=(Message("user", "Full video [0, 100]:\nQ?\nA. x\nB. y"),))


@pytest.mark.parametrize(("kind", "flags", "message"), [
    ("scripted", {"base_url": "http://127.0.0.1:1/v1"}, "--base-url not used by --backend scripted (--base-url is "
                                                        "read by --backend openai)"),
    ("openai", {"device": "cuda"}, "--device not used by --backend openai (--device is read by --backend hf)"),
    ("hf", {"script": "r.json", "timeout_seconds": 3.0}, "--script, --timeout-seconds not used by --backend hf"),
    ("vllm", {"device": "cpu"}, "--device not used by --backend vllm"),
])
def test_a_setting_the_backend_ignores_is_an_error(kind, flags, message):
    with pytest.raises(CliError) as error:
        make_backend(BackendOptions(backend=kind, **flags))
    assert message in str(error.value)


def test_scripted_from_json_and_text_scripts(tmp_path):
    as_json = tmp_path / "r.json"
    as_json.write_text(json.dumps(["one", "two\nlines"]), encoding="utf-8")
    backend = make_backend(BackendOptions(backend="scripted", script=as_json))
    assert [g.text for g in backend.generate([_request(), _request()])] == ["one", "two\nlines"]
    as_text = tmp_path / "r.txt"
    as_text.write_text("first reply\nstill first\n---\nsecond \\boxed{A}\n", encoding="utf-8")
    assert load_script(as_text) == ["first reply\nstill first", "second \\boxed{A}"]


def test_scripted_without_script_is_the_dummy_policy():
    (gen,) = make_backend(BackendOptions(backend="scripted")).generate([_request()])
    assert "\\boxed{[45, 55]}" in gen.text  # zooms on the middle of the 100 s video


def test_recorded_model_of_the_stand_in_is_not_a_checkpoint():
    assert BackendOptions(backend="scripted").recorded_model() == "scripted"
    assert BackendOptions(backend="scripted", model="label").recorded_model() == "label"
    assert BackendOptions(backend="hf").recorded_model() == "iSEE-Laboratory/love-r1-stage3"


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ("{not json", ".json", "not valid JSON"), ('{"a": 1}', ".json", "JSON list of strings"),
    ("\n---\n", ".txt", "holds no replies"),
])
def test_bad_scripts_are_cli_errors(tmp_path, content, suffix, message):
    path = tmp_path / f"s{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CliError, match=message):
        load_script(path)
    with pytest.raises(CliError, match="does not exist"):
        load_script(tmp_path / "missing.json")


def test_openai_settings_are_passed_through():
    from love_r1.backends.openai_http import OpenAIBackend

    backend = make_backend(BackendOptions(
        backend="openai", model="served", base_url="http://127.0.0.1:1/v1", timeout_seconds=7.0,
        total_timeout_seconds=20.0, max_retries=1, max_concurrency=3, video_mode="video_url", api_key_env="SOME_KEY_VAR",
        assistant_prefix_mode="strip"))
    assert isinstance(backend, OpenAIBackend)
    assert (backend.model, backend.base_url, backend.timeout_seconds, backend.total_timeout_seconds,
            backend.max_retries, backend.max_concurrency, backend.video_mode, backend.api_key_env,
            backend.assistant_prefix_mode) == (
        "served", "http://127.0.0.1:1/v1", 7.0, 20.0, 1, 3, "video_url", "SOME_KEY_VAR", "strip")
    # unset --max-concurrency: every request of a batch at once
    assert make_backend(BackendOptions(backend="openai", base_url="http://127.0.0.1:1/v1"),
                        batch_size=32).max_concurrency == 32


@requires_transformers
def test_hf_offline_unknown_model_is_a_backend_error_with_a_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(BackendError, match="--model /path/to/local/checkpoint"):
        make_backend(BackendOptions(backend="hf", device="cpu"))


@requires_transformers
def test_a_backend_that_cannot_start_is_one_error_line_in_every_command(tmp_path, capsys):
    """ask, serve and the data steps start their backend through one function (cli._backends.start_backend)."""
    from love_r1.cli import main
    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=2.0, fps=4.0, width=64, height=48)
    (tmp_path / "qa.jsonl").write_text(json.dumps({"qid": "q", "video": "v.mp4", "question": "Q?",
                                                   "options": ["A. x", "B. y"], "answer": "A"}) + "\n")
    model = ["--backend", "hf", "--model", str(tmp_path / "no-checkpoint")]
    for argv in (["ask", str(video), "Q?", *model], ["serve", *model],
                 ["data", "caption", "--annotations", str(tmp_path / "qa.jsonl"), "--work-dir", str(tmp_path / "w"),
                  "--no-progress", *model]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"error: cannot start the hf backend: model directory '{tmp_path / 'no-checkpoint'}' does not exist" \
            in err and "hint: pass --model /path/to/local/checkpoint" in err and "Traceback" not in err, argv
