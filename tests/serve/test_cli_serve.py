"""``love-r1 serve``: help text, and a real process that serves and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from love_r1.cli import main
from tests.helpers.serve import call


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for flag in ("--backend", "--model", "--base-url", "--host", "--port", "--video-root", "--policy-preset",
                 "--max-new-tokens", "--temperature", "--time-base", "--position-rule",
                 "--max-concurrent-episodes", "--max-queued-episodes", "--max-batch-wait-ms", "--max-body-bytes",
                 "--drain-seconds", "--served-model-name", "--upload-dir", "--max-upload-bytes",
                 "--max-upload-folder-bytes", "--allowed-host", "--allow-origin", "--server-api-key-env", "--backlog"):
        assert flag in out, flag
    assert "(milliseconds)" in out and "(bytes)" in out and "default: 127.0.0.1" in out
    assert "POST /v1/episodes" in out and "POST /v1/chat/completions" in out


def test_bad_video_root_is_exit_2(tmp_path, capsys):
    assert main(["serve", "--backend", "scripted", "--video-root", str(tmp_path / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_an_unset_api_key_variable_is_exit_2(monkeypatch, capsys):
    monkeypatch.delenv("LOVE_R1_TEST_SERVE_KEY", raising=False)
    assert main(["serve", "--backend", "scripted", "--server-api-key-env", "LOVE_R1_TEST_SERVE_KEY"]) == 2
    assert "LOVE_R1_TEST_SERVE_KEY: that environment variable is not set" in capsys.readouterr().err


def test_process_serves_then_drains_on_sigterm(video_root):
    key = "cli-test-key-4f9a1c"
    process = subprocess.Popen(
        [sys.executable, "-m", "love_r1.cli", "serve", "--backend", "scripted", "--port", "0",
         "--video-root", str(video_root), "--server-api-key-env", "LOVE_R1_TEST_SERVE_KEY"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "LOVE_R1_TEST_SERVE_KEY": key},
    )
    try:
        url = None
        lines = []
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            url = match.group(1) if match else None
        assert url is not None, "".join(lines)
        body = {"video": "clip.mp4", "question": "Which?", "options": ["A. x", "B. y"]}
        assert call(f"{url}/v1/episodes", body).status == 401
        reply = call(f"{url}/v1/episodes", body, headers={"Authorization": f"Bearer {key}"})
        assert reply.status == 200 and reply.json["answer"] == "A"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "SIGTERM: draining" in err and err.rstrip().endswith("stopped")
    assert '"POST /v1/episodes HTTP/1.1" 200' in err  # requests are logged by default
    assert '"POST /v1/episodes HTTP/1.1" 401' in err and key not in err


def test_serve_runs_the_policy_and_sampling_it_was_given(monkeypatch, capsys):
    seen = {}

    def make_server(backend, **kwargs):
        seen.update(kwargs)
        raise OSError("port taken")

    monkeypatch.setattr("love_r1.serve.make_server", make_server)
    assert main(["serve", "--backend", "scripted", "--max-new-tokens", "99", "--temperature", "0.3",
                 "--policy-preset", "mlvu", "--time-base", "index"]) == 2
    policy = seen["policy"]
    assert (policy.name, policy.time_base, policy.sampling.max_new_tokens, policy.sampling.temperature) == (
        "mlvu", "index", 99, 0.3)
    assert "cannot serve on 127.0.0.1:8080: port taken" in capsys.readouterr().err
