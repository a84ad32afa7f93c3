"""What the demo page and OpenAI clients use: chat streaming, traces with thumbnails, episode lists,
preview frames, the video list and uploads."""

from __future__ import annotations

import base64
import io
import threading
from pathlib import Path

import pytest
from PIL import Image

from love_r1.backends.scripted import ScriptedBackend
from tests.helpers.markers import requires_openai
from tests.helpers.serve import Gate, call, parse_sse, serving

OPTIONS = ["A. three", "B. six"]
ZOOM = "I need to zoom in on the video.\n\nThe box is early on.\\boxed{[2, 4]}"
ANSWER = "I get the answer.\n\nThe box shows a six.\\boxed{B}"


def _upload(url: str, data: bytes, *, filename: str = "my video.mp4", content_type: str = "video/mp4"):
    from urllib.parse import quote

    return call(f"{url}/v1/videos?filename={quote(filename)}", raw=data, headers={"Content-Type": content_type})


@requires_openai
def test_openai_client_streams_chat_completions(video_root):
    import openai
    with serving(ScriptedBackend([ZOOM, ANSWER], per_session=True), video_root=video_root) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        messages = [{"role": "user", "content": "Which digit is shown?\nA. three\nB. six"}]
        chunks = list(client.chat.completions.create(model="love-r1", messages=messages, stream=True,
                                                     stream_options={"include_usage": True},
                                                     extra_body={"video": "clip.mp4"}))
        plain = client.chat.completions.create(model="love-r1", messages=messages, extra_body={"video": "clip.mp4"})
        with pytest.raises(openai.APIError, match="the episode failed"):
            list(client.chat.completions.create(model="love-r1", messages=messages, stream=True,
                                                extra_body={"video": "broken.mp4"}))
        with pytest.raises(openai.BadRequestError, match="not found"):
            client.chat.completions.create(model="love-r1", messages=messages, stream=True,
                                           extra_body={"video": "missing.mp4"})
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == plain.choices[0].message.content == ANSWER
    reasoning = [c.choices[0].delta.model_extra.get("reasoning_content") for c in chunks if c.choices]
    assert [r for r in reasoning if r] == [ZOOM + "\n\n"]  # the zoom step, as it happened
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finish) == 1 and finish[0].choices[0].finish_reason == "stop"
    assert finish[0].model_extra["love_r1"]["answer"] == "B"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == plain.usage.total_tokens > 0
    assert len({c.id for c in chunks}) == 1 and chunks[0].object == "chat.completion.chunk"


def test_streams_send_keep_alive_comments_while_an_episode_is_silent(video_root, monkeypatch):
    import love_r1.serve._app as app_module

    monkeypatch.setattr(app_module, "KEEPALIVE_SECONDS", 0.05)
    gate = Gate()
    replies = {}
    with serving(ScriptedBackend(gate), video_root=video_root) as server:
        def post():
            replies["stream"] = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "q",
                                                                   "options": OPTIONS, "stream": True})

        thread = threading.Thread(target=post)
        thread.start()
        assert gate.entered.wait(10)
        threading.Timer(0.3, gate.open).start()
        thread.join(30)
    body = replies["stream"].body
    assert b": keep-alive\n\n" in body
    assert [name for name, _ in parse_sse(body.replace(b": keep-alive\n\n", b""))] == ["start", "step", "step", "done"]


def test_served_trace_carries_thumbnails(video_root):
    with serving(ScriptedBackend(), video_root=video_root) as server:
        reply = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "q", "options": OPTIONS}).json
        trace = call(f"{server.url}{reply['trace_url']}")
    html = trace.body.decode()
    assert trace.status == 200 and "video not available" not in html
    assert html.count('src="data:image/jpeg;base64,') >= 6  # keyframe thumbnails of the 12 s clip


def test_episode_list_and_preview_frames(video_root):
    with serving(ScriptedBackend(), video_root=video_root) as server:
        first = call(f"{server.url}/v1/episodes", {"video": "clip.mp4", "question": "First?", "options": OPTIONS})
        second = call(f"{server.url}/v1/episodes", {"video": "broken.mp4", "question": "Second?"})
        listing = call(f"{server.url}/v1/episodes").json["data"]
        episode_id = first.json["episode"]["episode_id"]
        frames = call(f"{server.url}/v1/episodes/{episode_id}/frames?start_seconds=2&end_seconds=4&num_frames=4")
        whole = call(f"{server.url}/v1/episodes/{episode_id}/frames?num_frames=3")
        past_end = call(f"{server.url}/v1/episodes/{episode_id}/frames?start_seconds=40")
        bad = call(f"{server.url}/v1/episodes/{episode_id}/frames?num_frames=many")
        unknown = call(f"{server.url}/v1/episodes/nope/frames")
        broken = call(f"{server.url}/v1/episodes/{second.json['episode']['episode_id']}/frames")
    assert [(e["question"], e["status"], e["answer"]) for e in listing] == [("Second?", "failed", ""),
                                                                           ("First?", "done", "A")]
    assert listing[1]["trace_url"] == first.json["trace_url"] and listing[1]["num_steps"] == 2
    assert "broken.mp4" in listing[0]["error"]
    # centres of 4 equal parts of [2, 4): 2.25, 2.75, 3.25, 3.75 s -> the frames shown then (10 fps)
    assert [f["seconds"] for f in frames.json["frames"]] == [2.2, 2.7, 3.2, 3.7]
    image = Image.open(io.BytesIO(base64.b64decode(frames.json["frames"][0]["src"].split(",", 1)[1])))
    assert image.format == "JPEG" and image.width <= 192
    assert [f["seconds"] for f in whole.json["frames"]] == [2.0, 6.0, 10.0]
    assert (whole.json["start_seconds"], whole.json["end_seconds"]) == (0.0, 12.0)  # the end: the video's
    assert past_end.status == 400 and "past the end" in past_end.json["error"]["message"]
    assert bad.status == 400 and bad.json["error"]["param"] == "num_frames"
    assert unknown.status == 404
    assert broken.status == 422 and "broken.mp4" in broken.json["error"]["message"]


def test_video_list_with_durations(video_root, tmp_path):
    from love_r1.synth import write_indexed_video

    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    write_indexed_video(root / "sub" / "b.mp4", duration_seconds=3.0, fps=10.0, width=64, height=48)
    write_indexed_video(root / ".hidden" / "c.mp4", duration_seconds=1.0, fps=10.0, width=64, height=48)
    (root / "a.mkv").write_bytes(b"not a video")
    (root / "notes.txt").write_text("x")
    with serving(ScriptedBackend(), video_root=root) as server:
        listing = call(f"{server.url}/v1/videos").json
    assert [v["video"] for v in listing["videos"]] == ["a.mkv", "sub/b.mp4"]
    broken, good = listing["videos"]
    assert good["duration_seconds"] == 3.0 and good["width"] == 64 and good["source"] == "root"
    assert broken["duration_seconds"] is None and "a.mkv" in broken["error"]
    assert listing["uploads"] is False and listing["truncated"] is False


def test_upload_then_ask_about_it(video_root, tmp_path):
    from love_r1.synth import write_indexed_video

    source = tmp_path / "phone clip.mp4"
    write_indexed_video(source, duration_seconds=4.0, fps=10.0, width=96, height=64)
    uploads = tmp_path / "uploads"
    from love_r1.video import open_video

    opened = []

    def counting_open(path, **kwargs):
        opened.append(Path(path).name)
        return open_video(path, **kwargs)

    with serving(ScriptedBackend(), video_root=video_root, upload_dir=uploads, max_upload_bytes=200_000,
                 open_video=counting_open) as server:
        stored = _upload(server.url, source.read_bytes(), filename="../../etc/phone clip.MP4")
        listing = call(f"{server.url}/v1/videos").json
        episode = call(f"{server.url}/v1/episodes", {"video": stored.json["video"], "question": "q",
                                                     "options": OPTIONS})
        not_video = _upload(server.url, b"<html>not a video</html>" * 10, filename="x.mp4")
        too_large = _upload(server.url, b"\0" * 200_001)
        wrong_type = _upload(server.url, source.read_bytes(), content_type="text/plain")
        empty = _upload(server.url, b"")
    assert stored.status == 201, stored.body
    name = stored.json["name"]
    assert len(name) == 20 and name.endswith(".mp4") and (uploads / name).is_file()  # 16 hex + the suffix
    assert stored.json["duration_seconds"] == 4.0 and stored.json["source"] == "upload"
    assert stored.json["video"] == str(uploads.resolve() / name)
    assert [v["name"] for v in listing["videos"] if v["source"] == "upload"] == [name]
    assert listing["uploads"] is True and listing["max_upload_bytes"] == 200_000
    assert episode.status == 200 and episode.json["episode"]["video"]["duration_seconds"] == 4.0
    assert not_video.status == 415 and not_video.json["error"]["message"].startswith(
        "'x.mp4' is not a video this server can read (NotAVideoError: cannot be opened as a video container")
    assert ".partial" not in not_video.json["error"]["message"]
    assert too_large.status == 413 and wrong_type.status == 415 and empty.status == 400
    assert sorted(p.name for p in uploads.iterdir()) == [name]  # refused uploads leave nothing behind
    # the upload is opened once to check it (listing it reuses that probe) and once by the episode
    assert len([n for n in opened if n.startswith(name[:16])]) == 2, opened


def test_uploads_are_refused_without_an_upload_folder_and_when_it_is_full(video_root, tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "old.mp4").write_bytes(b"\0" * 1000)
    with serving(ScriptedBackend(), video_root=video_root) as server:
        off = _upload(server.url, b"\0" * 10)
    with serving(ScriptedBackend(), video_root=video_root, upload_dir=uploads, max_upload_folder_bytes=1500) as server:
        full = _upload(server.url, b"\0" * 600)
    assert off.status == 403 and "--upload-dir" in off.json["error"]["message"]
    assert full.status == 507 and full.json["error"]["type"] == "insufficient_storage_error"


def test_demo_page_is_served_with_a_strict_content_security_policy(video_root):
    with serving(ScriptedBackend(), video_root=video_root) as server:
        page = call(f"{server.url}/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and page.headers["x-content-type-options"] == "nosniff"
    assert b"/v1/episodes" in page.body and b"/v1/videos" in page.body
