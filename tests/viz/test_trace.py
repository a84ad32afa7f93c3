"""The HTML trace page: structure, escaping, self-containment, thumbnails, and a real-browser render."""

from __future__ import annotations

import copy
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from love_r1.viz import render_trace_html, write_trace_html

XSS = "<script>alert('x')</script>"


def _episode(video_path: str = "/nonexistent/video.mp4", duration: float = 600.0) -> dict:
    usage = {"prompt_tokens": 12000, "prompt_tokens_cached": 10000, "completion_tokens": 80, "vision_tokens": 10752,
             "vision_frames_encoded": 0, "vision_frames_cached": 0, "encode_seconds": 0.0, "prefill_seconds": 0.0,
             "generate_seconds": 1.0}
    parsed_zoom = {"kind": "zoom", "start_seconds": 100.0, "end_seconds": 110.0, "answer": None, "error": None,
                   "control_phrase": "zoom"}
    return {
        "episode_id": "ep-1",
        "video": {"path": video_path, "duration_seconds": duration, "fps": 30.0, "num_frames": int(duration * 30),
                  "width": 640, "height": 360},
        "question": f"What happens? {XSS}", "options": ["A. a dog", "B. a cat <b>", "C. 猫"],
        "answer_instruction": "\nProvide only the single option letter.", "policy": {"name": "reference"},
        "fast_view": {"num_frames": 4, "width": 196, "height": 112, "sample_fps": 0.01,
                      "timestamps_seconds": [0.0, 150.0, 300.0, 450.0]},
        "steps": [
            {"index": 0, "kind": "zoom", "raw_text": f"I need to zoom in on the video.\n\nLook {XSS}\\boxed{{[100, 110]}}",
             "assistant_prefix": "", "parsed": parsed_zoom, "requested_interval": [100.0, 110.0],
             "applied_interval": [90.0, 120.0], "stop_reason": None, "clips_in_prompt": [], "usage": usage,
             "seconds": 1.25, "finish_reason": "stop"},
            {"index": 1, "kind": "zoom", "raw_text": "no box here", "assistant_prefix": "",
             "parsed": {**parsed_zoom, "kind": "invalid", "start_seconds": None, "end_seconds": None,
                        "error": "no \\boxed{} in the reply", "control_phrase": None},
             "requested_interval": None, "applied_interval": None, "stop_reason": "no_box",
             "clips_in_prompt": [[90.0, 120.0]], "usage": usage, "seconds": 0.5, "finish_reason": "length"},
            {"index": 2, "kind": "forced_answer", "raw_text": "It is a cat.\\boxed{B}",
             "assistant_prefix": "I get the answer.\n\n",
             "parsed": {**parsed_zoom, "kind": "answer", "start_seconds": None, "end_seconds": None, "answer": "B",
                        "control_phrase": "answer"},
             "requested_interval": None, "applied_interval": None, "stop_reason": "no_box",
             "clips_in_prompt": [[90.0, 120.0]], "usage": usage, "seconds": 0.75, "finish_reason": "stop"},
        ],
        "answer": "B", "clips": [[90.0, 120.0]],
        "ledger": {"frames_decoded": 800, "vision_tokens": 32256, "prompt_tokens": 36000, "prompt_tokens_cached": 30000,
                   "completion_tokens": 240, "decode_seconds": 2.0, "encode_seconds": 0.0, "prefill_seconds": 0.0,
                   "generate_seconds": 3.0, "total_seconds": 5.5, "num_model_calls": 3},
        "error": None, "evidence": [[95.0, 105.0]], "gold": "A",
    }


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_page_structure_steps_bands_and_ledger():
    doc = _parse(render_trace_html(_episode()))
    sections = [a for t, a in doc.tags if t == "section" and a.get("class") == "step"]
    assert [a["id"] for a in sections] == ["step-1", "step-2", "step-3"]
    rects = doc.find("rect")
    dashed = [r for r in rects if r.get("stroke-dasharray")]
    filled = [r for r in rects if r.get("fill-opacity")]
    assert len(dashed) == 1  # one requested interval
    assert len(filled) == 2  # one applied clip + one evidence interval
    # x positions follow the time axis: evidence [95, 105] starts right of the applied clip's start (90)
    applied = next(r for r in filled if r["fill"] != "#16a34a")
    evidence = next(r for r in filled if r["fill"] == "#16a34a")
    assert float(applied["x"]) < float(evidence["x"]) < float(dashed[0]["x"]) + float(dashed[0]["width"])
    assert {a.get("href") for t, a in doc.tags if t == "a"} >= {"#step-1"}
    text = " ".join(doc.text)
    for expected in ("stop: no box in the reply", "finish: length", "parse error: no \\boxed{} in the reply", "model calls", "36,000",
                     "wrong", "[100, 110] s (1:40–1:50)", "[90, 120] s (1:30–2:00)", "猫", "I get the answer."):
        assert expected in text, expected
    assert "video not available" in text  # no thumbnails without a video


def test_all_text_is_escaped():
    page = render_trace_html(_episode())
    doc = _parse(page)
    assert len(doc.find("script")) == 1  # only the page's own script
    assert all("alert" not in s for s in doc.scripts)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert XSS not in page
    assert "B. a cat &lt;b&gt;" in page
    assert any(XSS in t for t in doc.text)  # shown to the reader as text


def test_page_is_self_contained(tmp_path):
    out = write_trace_html(_episode(), tmp_path / "sub" / "t.html")
    doc = _parse(out.read_text(encoding="utf-8"))
    assert not doc.find("link")
    for tag, attrs in doc.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith(("data:", "#")), (tag, name, value)


def test_failed_episode_and_minimal_dict():
    episode = _episode()
    episode.update(steps=[], error="video x: CorruptVideoError: truncated <here>", answer="", fast_view=None,
                   evidence=None, gold=None)
    page = render_trace_html(episode)
    assert "episode failed:" in page and "truncated &lt;here&gt;" in page
    assert "no model calls" in page and "no gold answer" in page
    minimal = {"episode_id": "m", "video": {"path": "v.mp4"}, "question": "q", "steps": []}
    assert "<svg" in render_trace_html(minimal)
    with pytest.raises(TypeError):
        render_trace_html("not a dict")  # type: ignore[arg-type]


def test_thumbnails_come_from_the_video(tmp_path):
    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=12.0, fps=10.0, width=160, height=120,
                                gop_seconds=1.0)
    episode = _episode(str(video), duration=12.0)
    for step in episode["steps"]:
        step["requested_interval"] = step["applied_interval"] = None
    episode["evidence"] = [[2.0, 4.0]]
    doc = _parse(write_trace_html(episode, tmp_path / "t.html", num_thumbnails=6).read_text(encoding="utf-8"))
    images = [a for a in doc.find("img") if a.get("src", "").startswith("data:image/jpeg;base64,")]
    assert len(images) == 6
    seconds = [float(a["title"].split()[0]) for a in images]
    assert seconds == sorted(seconds) and seconds[0] < 2.0 and seconds[-1] > 9.0
    no_thumbs = _parse(write_trace_html(episode, tmp_path / "n.html", num_thumbnails=0).read_text(encoding="utf-8"))
    assert not no_thumbs.find("img")


def test_input_is_not_modified(tmp_path):
    episode = _episode()
    before = copy.deepcopy(episode)
    write_trace_html(episode, tmp_path / "t.html")
    assert episode == before


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_renders_in_a_headless_browser(tmp_path):
    from PIL import Image

    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=30.0, fps=10.0, width=320, height=180)
    page = write_trace_html(_episode(str(video), duration=30.0) | {"evidence": [[5.0, 9.0]]}, tmp_path / "t.html")
    shot = tmp_path / "shot.png"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,1600",
               Path(page).resolve().as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1600)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # not a blank page


def _budget_episodes(tmp_path) -> tuple[dict, dict]:
    """Two episodes from the real agent loop on a generated 40 s video with the token-budgeted policy."""
    from love_r1.agent.loop import EpisodeTask, run_episode
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.backends.scripted import ScriptedBackend
    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=40.0, fps=10.0, width=320, height=240,
                                gop_seconds=1.0)
    zoom = "I need to zoom in on the video.\n\nLook closer. \\boxed{{[{}, {}]}}"
    replies = [zoom.format(10, 14), zoom.format(20, 30), "I get the answer.\n\nIt is B. \\boxed{B}"]
    task = EpisodeTask(episode_id="b1", video_path=str(video), question="Which?", options=("A. x", "B. y"),
                       gold="B", evidence=((10.0, 14.0),))
    zoomed = run_episode(ScriptedBackend(replies), task, ZoomPolicy.preset("budget")).to_dict()
    short = run_episode(ScriptedBackend(["It is B. \\boxed{B}"]), task,
                        ZoomPolicy.preset("budget", skip_zoom_below_seconds=60.0)).to_dict()
    return zoomed, short


def _plan_text(plan: dict) -> str:
    return (f"clip plan: {plan['num_frames']} frames at {plan['resized_width']}×{plan['resized_height']} px, "
            f"{plan['tokens']:,} tokens")


def test_budget_episode_shows_clip_plans_and_stop_labels(tmp_path):
    zoomed, short = _budget_episodes(tmp_path)
    plans = [s.get("clip_plan") for s in zoomed["steps"]]
    assert [s["kind"] for s in zoomed["steps"]][:2] == ["zoom", "zoom"] and plans[0] and plans[1]
    doc = _parse(render_trace_html(zoomed))
    text = " ".join(" ".join(doc.text).split())
    for plan in filter(None, plans):  # each planned clip is on its step card, with its pixel budget as tooltip
        assert _plan_text(plan) in text, plan
        assert doc.find("p", **{"class": "plan", "title": f"pixel budget {plan['pixels_per_frame']:,} px per frame"})
    assert text.count("clip plan:") == sum(p is not None for p in plans)
    # short video: one forced answer whose fallback plan (the whole video) and readable stop reason are shown
    assert [(s["kind"], s["stop_reason"]) for s in short["steps"]] == [("forced_answer", "short_video")]
    short_doc = _parse(render_trace_html(short))
    short_text = " ".join(" ".join(short_doc.text).split())
    assert "stop: short video, no zoom needed" in short_text
    assert short_doc.find("span", **{"class": "badge stop", "title": "stop_reason=short_video"})
    assert _plan_text(short["steps"][0]["clip_plan"]) in short_text
    # a token-budget stop (as the loop records it) and an unknown future reason also read well
    zoomed["steps"][1] = zoomed["steps"][1] | {"stop_reason": "token_budget", "applied_interval": None}
    zoomed["steps"][2] = zoomed["steps"][2] | {"stop_reason": "new_reason"}
    text = " ".join(" ".join(_parse(render_trace_html(zoomed)).text).split())
    assert "stop: token budget spent" in text and "stop: new reason" in text
