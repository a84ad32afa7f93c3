"""Secrets in a base URL never reach the log lines: httpx logs every request's full URL at INFO (``-v``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from love_r1.backends.openai_http import mask_secrets
from love_r1.synth import write_indexed_video
from tests.fixtures.openai_server import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[2]


def test_mask_secrets_in_a_line():
    line = ('HTTP Request: POST https://bob:hunter2@llm.example.com:8443/v1/chat/completions?api_key=abc123&x=1 '
            '"HTTP/1.1 200 OK" (key sk-abcdefghijklmnop)')
    masked = mask_secrets(line)
    assert all(secret not in masked for secret in ("hunter2", "abc123", "sk-abcdefghijklmnop", "bob"))
    assert masked == ('HTTP Request: POST https://***:***@llm.example.com:8443/v1/chat/completions?api_key=%2A%2A%2A&x=1 '
                      '"HTTP/1.1 200 OK" (key sk-***)')
    assert mask_secrets("no url here: 3 items") == "no url here: 3 items"


def test_verbose_ask_against_a_server_logs_no_secret(tmp_path):
    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=4.0, fps=5.0, width=64, height=48)
    with FakeOpenAIServer(default="I get the answer.\n\n\\boxed{A}") as server:
        url = server.base_url.replace("http://", "http://alice:pw-LEAK1@") + "?api_key=LEAK2"
        env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OPENAI_API_KEY": "sk-LEAK3abcdefghijkl"}
        done = subprocess.run([sys.executable, "-m", "love_r1.cli", "-vv", "ask", str(video), "Q?", "--option", "x",
                               "--option", "y", "--backend", "openai", "--model", "m", "--base-url", url],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert server.num_requests == 1
    assert "HTTP Request: POST" in done.stderr  # the line that carried the query string is still logged
    assert "LEAK" not in done.stdout + done.stderr
