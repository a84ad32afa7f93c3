"""The demo page (``GET /``) in headless Chromium against ``serve`` with the scripted backend: load,
pick a video, ask, watch the zoom arrive on the timeline with its frames, the answer, the trace;
the upload path (a video, then a file that is not one).

``LOVE_R1_SCREENSHOT_DIR=docs/img python -m pytest -m slow tests/serve/test_demo_page.py`` also
writes ``serve-demo.png`` (the page after an episode), the screenshot in docs/serve.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from love_r1.backends.scripted import ScriptedBackend
from tests.browser import browser_page, requires_browser
from tests.helpers.serve import serving

pytestmark = [pytest.mark.slow, requires_browser]


@pytest.fixture(scope="module")
def needle(tmp_path_factory):
    """A 60 s needle video (320x180, 5 fps) and its question."""
    from love_r1.synth import write_needle_dataset

    root = tmp_path_factory.mktemp("demo")
    annotations = write_needle_dataset(root, duration_seconds=60.0, num_questions_per_video=1, width=320,
                                       height=180, fps=5.0, seed=3)
    record = json.loads(annotations.read_text().splitlines()[0])
    return root, record


def _left_and_width(style: str) -> tuple[float, float]:
    values = dict(part.split(":", 1) for part in style.replace(" ", "").split(";") if part)
    return float(values["left"].rstrip("%")), float(values["width"].rstrip("%"))


def test_demo_page_runs_an_episode(needle, tmp_path):
    root, record = needle
    with serving(ScriptedBackend(), video_root=root, upload_dir=tmp_path / "uploads") as server, \
            browser_page(viewport=(1400, 1000)) as (page, errors):
        page.goto(f"{server.url}/")
        page.wait_for_selector("#videos li[data-video]")
        entry = page.locator("#videos li[data-video]").first
        assert entry.get_attribute("data-video") == record["video"]
        assert entry.locator(".dur").inner_text() == "1:00"
        entry.click()
        assert page.input_value("#video") == record["video"]
        page.fill("#question", record["question"])
        page.fill("#options", "\n".join(record["options"]))
        page.click("#ask")
        page.wait_for_selector("#answer:not([hidden])", timeout=60_000)
        page.wait_for_selector(".step .frames img", timeout=30_000)
        page.wait_for_selector("#thumbs img:nth-child(12)", timeout=30_000)
        page.wait_for_selector("#history a[href$='trace.html']")

        answer = page.inner_text("#answer .letter")
        num_applied = page.locator(".band.applied").count()
        band_style = page.locator(".band.applied").first.get_attribute("style")
        step_kinds = page.locator(".step .badge").all_inner_texts()
        frame_titles = [img.get_attribute("title") for img in page.locator(".step .frames img").all()]
        trace_href = page.get_attribute("#trace-link", "href")
        history = page.locator("#history tr").first.inner_text()
        status = page.inner_text("#status")
        if os.environ.get("LOVE_R1_SCREENSHOT_DIR"):
            out = Path(os.environ["LOVE_R1_SCREENSHOT_DIR"])
            out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out / "serve-demo.png"), full_page=True)

        page.goto(f"{server.url}{trace_href}")
        trace_text = page.inner_text("body")
        trace_images = page.locator("img[src^='data:image/jpeg']").count()
        episode = server.worker.episode(trace_href.split("/")[3])
    assert errors == []
    # the scripted policy zooms on [25, 35] of the 60 s video (padded by 5 s: [20, 40]), then answers "A"
    assert episode["steps"][0]["applied_interval"] == [20.0, 40.0]
    left, width = _left_and_width(band_style)
    assert (round(left, 3), round(width, 3)) == (round(100 * 20 / 60, 3), round(100 * 20 / 60, 3))
    assert num_applied == 1 and step_kinds == ["zoom", "answer"]
    assert answer == "A" and "answer A" in status
    assert len(frame_titles) == 6 and all("0:2" in t or "0:3" in t for t in frame_titles)  # inside [20, 40) s
    assert record["question"][:30] in history and "done" in history
    assert "video not available" not in trace_text and trace_images >= 6


def test_demo_page_uploads_a_video_and_refuses_a_non_video(needle, tmp_path):
    root, record = needle
    uploads = tmp_path / "uploads"
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("these are notes, not a video\n" * 20)
    with serving(ScriptedBackend(), video_root=root, upload_dir=uploads) as server, \
            browser_page() as (page, errors):
        page.goto(f"{server.url}/")
        page.wait_for_selector("#videos li[data-video]")
        page.set_input_files("#upload", str(root / record["video"]))
        page.wait_for_selector("#upload-status .ok")
        uploaded = page.input_value("#video")
        page.fill("#question", "Which digit?")
        page.fill("#options", "3\n7")
        page.click("#ask")
        page.wait_for_selector("#answer:not([hidden])", timeout=60_000)
        answer = page.inner_text("#answer")
        listed = page.locator("#videos li .src").count()
        before = list(errors)
        page.set_input_files("#upload", str(not_a_video))
        page.wait_for_selector("#upload-status .error")
        refusal = page.inner_text("#upload-status .error")
    assert before == []
    # the only console line after the refusal is Chromium's own note of the 415 reply
    assert len(errors) == 1 and "415" in errors[0]
    assert Path(uploaded).parent == uploads.resolve() and Path(uploaded).suffix == ".mp4"
    assert answer.startswith("A") and "3" in answer and listed == 1
    assert "not a video this server can read" in refusal
    assert sorted(p.name for p in uploads.iterdir()) == [Path(uploaded).name]


def test_demo_page_with_an_api_key(needle):
    """The page asks for the key before calling anything, then works; the trace opens with the key."""
    root, record = needle
    key = "demo-page-key-8c1d"
    with serving(ScriptedBackend(), video_root=root, api_key=key) as server, browser_page() as (page, errors):
        page.goto(f"{server.url}/")
        page.wait_for_selector("#key-card:not([hidden])")
        page.fill("#api-key", key)
        page.click("#save-key")
        page.wait_for_selector("#videos li[data-video]")
        page.locator("#videos li[data-video]").first.click()
        page.fill("#question", "Which digit?")
        page.click("#ask")
        page.wait_for_selector("#answer:not([hidden])", timeout=60_000)
        with page.context.expect_page() as popup:
            page.click("#trace-link")
        trace = popup.value
        trace.wait_for_load_state()
        trace_text = trace.inner_text("body")
    assert errors == []
    assert "Which digit?" in trace_text and "video not available" not in trace_text
