"""The HTML trace page: structure, escaping, self-containment, thumbnails, and a real-browser render."""

from __future__ import annotations

import base64
import copy
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from love_r1.viz import render_trace_html, trace_frames, write_trace_html
from tests.browser import browser_page, requires_browser

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
    assert "no thumbnails" in text  # none were given


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


@pytest.mark.parametrize(("time_base", "window", "expected"), [
    # keyframes every 1 s from the first frame (3.0 s in the file); 4 thumbnails aim at 0.75, 2.25, 3.75 and
    # 5.25 s of the 6 s timeline and get the nearest keyframes: timeline seconds 1, 2, 4, 5 = file frames 10 ..
    ("presentation", None, [1.0, 2.0, 4.0, 5.0]),
    ("index", None, [1.0, 2.0, 4.0, 5.0]),
    # a window [2, 6) of the timeline: targets 0.5, 1.5, 2.5, 3.5 s after its start = timeline 2.5 .. 5.5, half
    # way between keyframes (ties go to the earlier one): 2, 3, 4, 5 s, timed from the window's start
    ("presentation", (2.0, 6.0), [0.0, 1.0, 2.0, 3.0]),
])
def test_thumbnails_on_a_file_whose_first_frame_starts_late(tmp_path, time_base, window, expected):
    """A file whose first frame is shown at 3 s (MPEG-TS, stream-copy cuts): thumbnails are timed on the episode's
    timeline, like its fast view and clips (they used the file's raw times: 3.0, 3.0, 4.0, 5.0)."""
    from fractions import Fraction

    from love_r1.synth import read_frame_index
    from love_r1.viz._media import _jpeg
    from tests.fixtures.timed_videos import write_timed_video

    video = write_timed_video(tmp_path / "late.ts", [3.0 + i / 10 for i in range(60)], rate=10,
                              time_base=Fraction(1, 90000), container_format="mpegts", width=160, height=120)
    episode = _episode(str(video), duration=4.0 if window else 6.0)
    episode["policy"] = {"time_base": time_base}
    episode["video"]["window"] = list(window) if window else None
    frames = trace_frames(episode, num_thumbnails=4, max_frames_per_clip=0)
    assert [p.seconds for p in frames.thumbs] == pytest.approx(expected, abs=1e-6)
    from love_r1.video import open_video

    with open_video(video) as reader:  # each picture is the frame its time names (file frame = 10 x seconds)
        offset = window[0] if window else 0.0
        for picture in frames.thumbs:
            index = round((picture.seconds + offset) * 10)
            source = reader.get_frames_at([index], max_pixels=160 * 90).data[0]
            assert read_frame_index(source) == index
            assert picture.jpeg_base64 == _jpeg(source)


def test_input_is_not_modified(tmp_path):
    episode = _episode()
    before = copy.deepcopy(episode)
    write_trace_html(episode, tmp_path / "t.html")
    assert episode == before


@pytest.mark.slow
@requires_browser
def test_renders_in_a_headless_browser(tmp_path):
    from love_r1.synth import write_indexed_video
    from tests.viz.screens import SMALL_TEXT_JS

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=30.0, fps=10.0, width=320, height=180)
    page_path = write_trace_html(_episode(str(video), duration=30.0) | {"evidence": [[5.0, 9.0]]}, tmp_path / "t.html")
    with browser_page() as (page, errors):
        page.goto(Path(page_path).resolve().as_uri())
        assert page.locator(".thumbs img").count() == 24
        assert page.locator("section.step").count() == 3
        assert page.locator("script").count() == 1  # the page's own; the reply's <script> stayed text
        assert page.evaluate(SMALL_TEXT_JS) == []
    assert errors == []


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


def _prompt_clips(backend) -> dict[tuple[float, float], object]:
    """Every zoom clip the backend was shown (the frames of each request's video parts after the fast view),
    keyed by the interval its label names."""
    from love_r1.backends import TextPart, VideoPart

    clips = {}
    for call in backend.calls:
        for request in call:
            parts = [p for m in request.messages for p in m.content]
            for before, part in zip(parts, parts[1:], strict=False):
                label = re.search(r"\[([\d.]+), ([\d.]+)\]:\s*$", before.text) if isinstance(before, TextPart) else None
                if isinstance(part, VideoPart) and label and "zoom-in" in before.text:
                    clips[(float(label.group(1)), float(label.group(2)))] = part.frames
    return clips


@pytest.mark.parametrize(("preset", "time_base", "window"), [
    ("reference", "presentation", None), ("budget", "presentation", None), ("reference", "index", (6.0, 48.0)),
])
def test_zoom_clip_frames_are_the_frames_the_model_got(tmp_path, preset, time_base, window):
    """Oracle: the frames the real agent loop put into the prompts (recorded by the scripted backend), for
    both token policies, a time base and a window (MVBench-style start/end)."""
    import numpy as np
    from PIL import Image

    from love_r1.agent.loop import EpisodeTask, run_episode
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.backends.scripted import ScriptedBackend
    from love_r1.interval import Interval
    from love_r1.synth import write_indexed_video
    from love_r1.viz import ClipFrames

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=50.0, fps=10.0, width=160, height=120,
                                gop_seconds=1.0)
    zoom = "I need to zoom in on the video.\n\nLook closer. \\boxed{{[{}, {}]}}"
    backend = ScriptedBackend([zoom.format(10, 14), zoom.format(30, 44), "I get the answer.\n\n\\boxed{B}"])
    task = EpisodeTask(episode_id="e", video_path=str(video), question="Which?", options=("A. x", "B. y"), gold="B",
                       evidence=((12.0, 16.0),), window=None if window is None else Interval(*window))
    episode = run_episode(backend, task, ZoomPolicy.preset(preset, time_base=time_base)).to_dict()
    assert episode["error"] is None and (episode["video"].get("window") == (None if window is None else list(window)))
    assert len(episode["clips"]) == 2
    shown = _prompt_clips(backend)
    frames = trace_frames(episode, num_thumbnails=0)
    assert [c.interval for c in frames.clips] == [tuple(c) for c in episode["clips"]] and set(shown) == {
        tuple(c) for c in episode["clips"]}
    for clip in frames.clips:
        assert isinstance(clip, ClipFrames)
        model = shown[clip.interval]
        assert (clip.num_frames, clip.width, clip.height) == (model.num_frames, model.width, model.height)
        assert [p.seconds for p in clip.pictures] == [float(t) for t in model.timestamps_seconds]
        first = np.asarray(Image.open(io.BytesIO(base64.b64decode(clip.pictures[0].jpeg_base64))))
        expected = np.asarray(Image.fromarray(model.data[0]).resize(first.shape[1::-1], Image.BICUBIC))
        assert np.abs(first.astype(int) - expected.astype(int)).mean() < 6  # same picture (JPEG noise only)
    subset = trace_frames(episode, num_thumbnails=0, max_frames_per_clip=3)
    for clip, full in zip(subset.clips, frames.clips, strict=True):
        times = [p.seconds for p in full.pictures]
        assert [p.seconds for p in clip.pictures] == [times[0], times[len(times) // 2], times[-1]][: len(times)]
    # the page shows them, marking the frames inside the evidence
    page = render_trace_html(episode, frames=frames)
    doc = _parse(page)
    figures = [a for t, a in doc.tags if t == "figure" and a.get("class") == "in-evidence"]
    inside = sum(12.0 <= p.seconds < 16.0 for c in frames.clips for p in c.pictures)
    assert len(figures) == inside > 0
    assert page.count('src="data:image/jpeg;base64,') == sum(len(c.pictures) for c in frames.clips)


def test_missing_video_and_bad_arguments(tmp_path):
    episode = _episode()
    frames = trace_frames(episode)
    assert frames.thumbs == () and frames.clips == () and "does not exist" in frames.notes[0]
    assert "video not available: /nonexistent/video.mp4 does not exist" in render_trace_html(episode, frames=frames)
    with pytest.raises(ValueError):
        trace_frames(episode, num_thumbnails=-1)
    with pytest.raises(TypeError):
        render_trace_html(episode, frames=[(1.0, "x")])  # type: ignore[arg-type]


def test_timeline_axis_rejected_zoom_and_ious():
    episode = _episode()
    episode["steps"][1] = episode["steps"][1] | {"requested_interval": [92.0, 118.0], "stop_reason": "repeat_iou"}
    doc = _parse(render_trace_html(episode))
    text = " ".join(" ".join(doc.text).split())
    assert "time in the video (m:ss; video length 10:00)" in text
    assert "step 2 rejected" in text and "applied none (rejected)" in text
    # requested [100, 110] vs evidence [95, 105]: 5/15; applied [90, 120]: 10/30
    assert "(IoU with evidence: requested 0.33, applied 0.33)" in text
    assert [a["stroke"] for a in doc.find("rect") if a.get("stroke-dasharray")] == ["#0f172a", "#dc2626"]
    ticks = [t for t in doc.text if re.fullmatch(r"\d+:\d\d", t)]
    assert ticks == ["0:00", "2:00", "4:00", "6:00", "8:00", "10:00"]  # 600 s: 8 steps wanted, minute-friendly


def test_end_of_turn_token_is_kept_in_the_record_but_not_shown():
    episode = _episode()
    episode["steps"][2]["raw_text"] += "<|im_end|>"  # free steps keep special tokens, as the reference decodes
    page = render_trace_html(episode)
    step = page[page.index('id="step-3"'):]
    step = step[: step.index("</section>")]
    assert "It is a cat.\\boxed{B}" in step and "im_end" not in step
