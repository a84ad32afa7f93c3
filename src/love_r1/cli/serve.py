"""``love-r1 serve``: run the LOVE-R1 zoom loop behind an HTTP API (episodes, SSE steps, OpenAI chat)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from love_r1.backends.qwen_inputs import PositionRule
from love_r1.cli._backends import BACKEND_HELP, DEFAULT_MODEL_ID, POSITION_RULE_HELP, make_backend

HELP = "serve long-video QA over HTTP: a demo page, episodes (JSON or a step stream), OpenAI chat, traces"
DESCRIPTION = f"""Serve the LOVE-R1 zoom loop as an HTTP API and a demo page (Starlette on uvicorn; binds 127.0.0.1
by default). One model thread owns the backend; concurrent requests are batched: every round is one
generate call holding the next step of every running episode, and new episodes join at the next round.

  GET  /                        the demo page: pick or upload a video, ask, watch the zooms stream in
  POST /v1/episodes             {{"video", "question", "options"?, "evidence"?, "stream"?}} -> episode + answer
                                ("stream": true -> Server-Sent Events: start, step..., done | error)
  POST /v1/chat/completions     OpenAI chat format (also "stream": true); video as a video_url part
                                (file:// URL) or "video"
  GET  /v1/episodes[/ID[/trace.html|/frames]]   recent episodes, one as JSON, its HTML trace, preview frames
  GET  /v1/videos, POST /v1/videos   videos to pick (with durations); upload one (--upload-dir)
  GET  /v1/models, GET /healthz

  love-r1 serve --model /models/love-r1-stage3 --video-root /data/videos --port 8080
  love-r1 serve --backend openai --base-url http://127.0.0.1:8000/v1 --model love-r1
  love-r1 serve --backend scripted --video-root . --upload-dir /tmp/uploads      (dry run, no model)

  curl -s localhost:8080/v1/episodes -H 'Content-Type: application/json' \\
       -d '{{"video": "clip.mp4", "question": "Which digit?", "options": ["A. 3", "B. 6"]}}'

Security: requests must name this server in Host (DNS rebinding), pages from other origins are refused
unless --allow-origin names them, POST bodies must be application/json, and with --server-api-key-env
every route but / and /healthz needs 'Authorization: Bearer KEY'. The default model is {DEFAULT_MODEL_ID}.
Video paths in requests are files on this machine; with --video-root they are taken relative to it and may
not leave it. Ctrl-C / SIGTERM drain the running episodes (up to --drain-seconds) and fail queued ones with
503; a second signal stops at once. See docs/serve.md.
"""


@dataclass
class Options:
    model: str = field(default=DEFAULT_MODEL_ID, metadata={
        "help": "checkpoint: Hub id or local folder (hf, vllm); served model name (openai)"})
    backend: Literal["hf", "openai", "vllm", "scripted"] = field(default="hf", metadata={"help": BACKEND_HELP})
    base_url: str | None = field(default=None, metadata={
        "help": "OpenAI-compatible endpoint for --backend openai, e.g. http://127.0.0.1:8000/v1"})
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={
        "help": "environment variable holding the API key (--backend openai; never printed)"})
    video_mode: Literal["frames_as_images", "video_url"] = field(default="frames_as_images", metadata={
        "help": "how --backend openai sends clips: every frame as an image, or one data:video/jpeg part per clip"})
    device: str | None = field(default=None, metadata={
        "help": "device for --backend hf: cuda, cuda:1, cpu; None = a GPU when available"})
    dtype: str = field(default="auto", metadata={
        "help": "weights dtype for --backend hf: auto, bfloat16, float16, float32"})
    position_rule: PositionRule | None = field(default=None, metadata={"help": POSITION_RULE_HELP})
    script: Path | None = field(default=None, metadata={
        "help": "replies for --backend scripted: a .json list of strings or '---'-separated text; None = a "
                "built-in dummy policy (zoom on the middle, answer the first option)"})
    host: str = field(default="127.0.0.1", metadata={
        "help": "interface to bind; 0.0.0.0 exposes the service (and the files under --video-root) to the network"})
    port: int = field(default=8080, metadata={"help": "TCP port (0 = any free port)"})
    served_model_name: str = field(default="love-r1", metadata={
        "help": "model id reported by /v1/models and in chat completions"})
    video_root: Path | None = field(default=None, metadata={
        "metavar": "DIR", "help": "folder of the videos: request paths are relative to it and may not leave it "
                                  "(None = any path readable by the server, relative to its working directory)"})
    preset: Literal["reference", "mlvu", "longvideobench", "budget"] = field(default="reference", metadata={
        "help": "zoom policy preset (frame and pixel budgets, widening)"})
    max_zoom_steps: int | None = field(default=None, metadata={
        "metavar": "N", "help": "free steps before the answer is forced (count; None = the preset's, 2)"})
    time_base: Literal["presentation", "index"] = field(default="presentation", metadata={
        "help": "clock of D, frame selection, clip bounds, labels and the overlay: presentation (each frame's "
                "presentation time in seconds from the first frame) or index (the reference's frame_index / "
                "header fps); identical on constant-frame-rate files (docs/protocol.md, Time base)"})
    max_concurrent_episodes: int = field(default=8, metadata={
        "metavar": "N", "help": "episodes running at once (count); every round is one generate call over all of "
                             "them, and queued episodes join at the next round when a slot frees up"})
    max_queued_episodes: int = field(default=64, metadata={
        "metavar": "N", "help": "episodes allowed to wait for a free slot; more get HTTP 429 with Retry-After (count)"})
    max_batch_wait_ms: float = field(default=20.0, metadata={
        "metavar": "MS", "help": "when nothing runs, how long the first queued episode waits for others to "
                                 "start with it (milliseconds)"})
    max_stored_episodes: int = field(default=256, metadata={
        "metavar": "N", "help": "finished episodes kept in memory for /v1/episodes/ID and its trace (count)"})
    max_body_bytes: int = field(default=1 << 20, metadata={
        "metavar": "BYTES", "help": "largest accepted JSON request body; larger ones get HTTP 413 (bytes)"})
    upload_dir: Path | None = field(default=None, metadata={
        "metavar": "DIR", "help": "folder where POST /v1/videos (and the demo page) store uploaded videos under "
                                  "server-chosen names; created when missing (None = uploads are refused)"})
    max_upload_bytes: int = field(default=512 << 20, metadata={
        "metavar": "BYTES", "help": "largest uploaded video; larger ones get HTTP 413 (bytes)"})
    max_upload_folder_bytes: int = field(default=8 << 30, metadata={
        "metavar": "BYTES", "help": "all uploads together; beyond it uploads get HTTP 507 (bytes)"})
    allowed_host: list[str] = field(default_factory=list, metadata={
        "metavar": "NAME", "repeat": True,
        "help": "a Host name clients may use besides the bind address and localhost (repeatable; "
                "'*.example.com' patterns; '*' turns the DNS-rebinding check off)"})
    allow_origin: list[str] = field(default_factory=list, metadata={
        "metavar": "ORIGIN", "repeat": True,
        "help": "a web origin (e.g. https://app.example) whose pages may call this API from the browser "
                "(repeatable; '*' any); others are refused with HTTP 403"})
    server_api_key_env: str | None = field(default=None, metadata={
        "metavar": "VAR", "help": "environment variable holding the API key clients must send as "
                                  "'Authorization: Bearer KEY' (the key is never a flag and never printed; "
                                  "None = no key)"})
    backlog: int = field(default=2048, metadata={
        "metavar": "N", "help": "listen backlog: connections the kernel queues before they are accepted (count)"})
    log_requests: bool = field(default=True, metadata={
        "help": "log every request (method, path, status) and batch to stderr, even without -v"})
    drain_seconds: float = field(default=30.0, metadata={
        "help": "at shutdown, how long running episodes may take to finish before they fail with 503 (seconds)"})


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run(options: Options) -> int:
    from love_r1._imports import require

    try:
        for module in ("starlette", "uvicorn", "pydantic"):
            require(module, extra="serve", purpose="love-r1 serve")
    except ImportError as error:
        return _error(str(error))
    from love_r1.agent import ZoomPolicy
    from love_r1.backends import BackendError
    from love_r1.serve import make_server

    if options.video_root is not None and not options.video_root.is_dir():
        return _error(f"--video-root {str(options.video_root)!r} is not a directory")
    api_key = None
    if options.server_api_key_env is not None:
        api_key = os.environ.get(options.server_api_key_env, "").strip()
        if not api_key:
            return _error(f"--server-api-key-env {options.server_api_key_env}: that environment variable is not "
                          "set or empty; export the key first (e.g. export "
                          f"{options.server_api_key_env}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))'))")
    try:
        policy = ZoomPolicy.preset(options.preset, time_base=options.time_base)
        if options.max_zoom_steps is not None:
            policy = policy.replace(max_free_steps=options.max_zoom_steps)
    except (ValueError, TypeError) as error:
        return _error(str(error))
    if options.log_requests and not logging.getLogger("love_r1.serve").isEnabledFor(logging.INFO):
        logging.getLogger("love_r1.serve").setLevel(logging.INFO)
    what = "" if options.backend == "scripted" else f" ({options.model})"
    print(f"loading {options.backend} backend{what} ...", file=sys.stderr, flush=True)
    try:
        backend = make_backend(
            options.backend, model=options.model, base_url=options.base_url, device=options.device,
            dtype=options.dtype, script_path=options.script, api_key_env=options.api_key_env,
            video_mode=options.video_mode, position_rule=options.position_rule,
        )
    except (BackendError, ImportError, ValueError, OSError) as error:
        hint = ("hint: pass --model /path/to/local/checkpoint, --backend openai --base-url URL for a running "
                "server, or --backend scripted for a dry run")
        return _error(f"cannot start the {options.backend} backend: {error}\n{hint}")
    try:
        server = make_server(
            backend, host=options.host, port=options.port, policy=policy, video_root=options.video_root,
            upload_dir=options.upload_dir, model_name=options.served_model_name,
            max_concurrent_episodes=options.max_concurrent_episodes, max_queued_episodes=options.max_queued_episodes,
            max_batch_wait_seconds=options.max_batch_wait_ms / 1000, max_stored_episodes=options.max_stored_episodes,
            max_body_bytes=options.max_body_bytes, max_upload_bytes=options.max_upload_bytes,
            max_upload_folder_bytes=options.max_upload_folder_bytes, drain_seconds=options.drain_seconds,
            allowed_hosts=options.allowed_host, allow_origins=options.allow_origin, api_key=api_key,
            backlog=options.backlog,
        )
    except (ValueError, OSError) as error:
        return _error(f"cannot serve on {options.host}:{options.port}: {error}")

    def on_signal(signum: int) -> None:
        print(f"\n{signal.Signals(signum).name}: draining running episodes (up to {options.drain_seconds:g} s; "
              "again to stop at once) ...", file=sys.stderr, flush=True)

    server.on_signal = on_signal
    root = f", videos under {options.video_root.resolve()}" if options.video_root is not None else ""
    print(f"serving {options.served_model_name} ({options.backend}, policy {policy.name}{root}) on {server.url}",
          file=sys.stderr)
    print(f"  demo page: {server.url}/   try: curl -s {server.url}/healthz", file=sys.stderr)
    if options.host not in ("127.0.0.1", "localhost", "::1") and api_key is None:
        print(f"warning: --host {options.host} without --server-api-key-env: anyone who can reach port "
              f"{options.port} can run episodes and read the videos{root or ' on this machine'}; see the "
              "security section of docs/serve.md", file=sys.stderr)
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.shutdown()  # no-op after a signal-triggered shutdown
    print("stopped", file=sys.stderr)
    return 0
