"""``love-r1 serve``: run the LOVE-R1 zoom loop behind an HTTP API (episodes, SSE steps, OpenAI chat)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.backends import DEFAULT_MODEL_ID
from love_r1.cli._args import Deprecated
from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli._options import (
    POLICY_SAMPLING_DEFAULTS,
    BackendOptions,
    PolicyOptions,
    SamplingOptions,
    describe_policy,
    describe_sampling,
)

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
  love-r1 serve --backend scripted --video-root . --upload-dir uploads           (dry run, no model)

  curl -s localhost:8080/v1/episodes -H 'Content-Type: application/json' \\
       -d '{{"video": "clip.mp4", "question": "Which digit?", "options": ["A. 3", "B. 6"]}}'

Security: requests must name this server in Host (DNS rebinding), pages from other origins are refused
unless --allow-origin names them, POST bodies must be application/json, and with --server-api-key-env
every route but / and /healthz needs 'Authorization: Bearer KEY'. The default model is {DEFAULT_MODEL_ID}.
Video paths in requests are files on this machine; with --video-root they are taken relative to it and may
not leave it. Ctrl-C / SIGTERM drain the running episodes (up to --drain-seconds) and fail queued ones with
503; a second signal stops at once. See docs/serve.md.
"""


@dataclass(kw_only=True)
class Options(SamplingOptions, PolicyOptions, BackendOptions):
    host: str = field(default="127.0.0.1", metadata={
        "help": "interface to bind; 0.0.0.0 exposes the service (and the files under --video-root) to the network"})
    port: int = field(default=8080, metadata={"help": "TCP port (0 = any free port)"})
    served_model_name: str = field(default="love-r1", metadata={
        "help": "model id reported by /v1/models and in chat completions"})
    video_root: Path | None = field(default=None, metadata={
        "metavar": "DIR", "help": "folder of the videos: request paths are relative to it and may not leave it "
                                  "(None = any path readable by the server, relative to its working directory)"})
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


def run(options: Options) -> int:
    from love_r1._imports import require

    for module in ("starlette", "uvicorn", "pydantic"):  # a missing one: the runner prints the extra, exit 2
        require(module, extra="serve", purpose="love-r1 serve")
    from love_r1.cli._backends import check_backend_options, describe_backend, start_backend
    from love_r1.serve import make_server

    if options.video_root is not None and not options.video_root.is_dir():
        raise CliError(f"--video-root {str(options.video_root)!r} is not a directory")
    api_key = None
    if options.server_api_key_env is not None:
        api_key = os.environ.get(options.server_api_key_env, "").strip()
        if not api_key:
            raise CliError(f"--server-api-key-env {options.server_api_key_env}: that environment variable is not "
                           "set or empty; export the key first (e.g. export "
                           f"{options.server_api_key_env}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))'))")
    try:
        policy = options.policy(sampling=options)
    except ValueError as error:
        raise CliError(str(error)) from None
    check_backend_options(options)
    if options.log_requests and not logging.getLogger("love_r1.serve").isEnabledFor(logging.INFO):
        logging.getLogger("love_r1.serve").setLevel(logging.INFO)
    if options.backend == "scripted":
        print("note: --backend scripted is a stand-in: its replies are canned, not a model's", file=sys.stderr)
    else:
        print(f"loading {options.backend} backend ({options.recorded_model()}) ...", file=sys.stderr, flush=True)
    backend = start_backend(options, batch_size=options.max_concurrent_episodes)
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
        raise CliError(f"cannot serve on {options.host}:{options.port}: {error}") from None

    def on_signal(signum: int) -> None:
        print(f"\n{signal.Signals(signum).name}: draining running episodes (up to {options.drain_seconds:g} s; "
              "again to stop at once) ...", file=sys.stderr, flush=True)

    server.on_signal = on_signal
    root = f", videos under {options.video_root.resolve()}" if options.video_root is not None else ""
    print(f"serving {options.served_model_name} on {server.url}{root}", file=sys.stderr)
    print(f"  model: {describe_backend(options, backend)}", file=sys.stderr)
    print(f"  policy: {describe_policy(policy)}; sampling: {describe_sampling(policy.sampling)}", file=sys.stderr)
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


COMMAND = Leaf(
    name="serve", help="serve long-video QA over HTTP: a demo page, episodes (JSON or a step stream), OpenAI chat, traces",
    description=DESCRIPTION, options=Options, function=run,
    deprecated=(Deprecated("--preset", "policy_preset", "0.2.0"),),
    shown_defaults={**POLICY_SAMPLING_DEFAULTS, "policy_preset": "reference"},
)
