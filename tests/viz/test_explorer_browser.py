"""The explorer, the comparison view and a trace page in headless Chromium (``tests/browser.py``), loaded
from file://: no console errors, filters give the exact counts of the runs' data, rows open their traces,
flips show, text is at least 12 px, and the documentation screenshots come out of the same code."""

from __future__ import annotations

from pathlib import Path

import pytest

from love_r1.eval.report import item_rows
from love_r1.eval.store import read_run
from tests.browser import browser_page, requires_browser
from tests.viz.runs import expected_status
from tests.viz.screens import SMALL_TEXT_JS, capture, click_chip, open_page, write_pages

pytestmark = [pytest.mark.slow, requires_browser]

TRACE_QID = "needle_0000_q1"


@pytest.fixture(scope="module")
def pages(needle_runs, tmp_path_factory) -> dict[str, Path]:
    _, run_a, run_b = needle_runs
    return write_pages(run_a, run_b, tmp_path_factory.mktemp("pages"), trace_qid=TRACE_QID)


def _count(page) -> int:
    return int(page.locator("#count").get_attribute("data-count"))


def _visible_qids(page) -> list[str]:
    return page.locator("#items tbody tr.item").evaluate_all("rows => rows.map(r => r.dataset.qid)")


def test_explorer_filters_sorts_and_opens_traces(needle_runs, pages):
    _, run_a, _ = needle_runs
    rows = item_rows(read_run(run_a))
    samples = {row.qid: row.sample for row in read_run(run_a).items}
    with browser_page() as (page, errors):
        open_page(page, pages["explorer"])
        assert _count(page) == 12 and len(_visible_qids(page)) == 12
        assert page.evaluate("window.__xss") is None  # the hostile question text stayed text

        click_chip(page, "resultA", "error")
        error_qids = [r["qid"] for r in rows if r["error"]]
        assert _count(page) == 3 and sorted(_visible_qids(page)) == sorted(error_qids)
        click_chip(page, "resultA", "wrong")  # chips of one facet add up
        wrong = [r["qid"] for r in rows if not r["error"] and not r["correct"] and r["pred"]]
        assert sorted(_visible_qids(page)) == sorted(error_qids + wrong)
        page.click("#clear")
        assert _count(page) == 12

        click_chip(page, "cat:category", "digit")
        click_chip(page, "cat:duration", "<3min")
        expected = [q for q, s in samples.items() if s["categories"]["category"] == "digit"
                    and s["duration_bucket"] == "<3min"]
        assert sorted(_visible_qids(page)) == sorted(expected) and _count(page) == len(expected)
        page.click("#clear")
        click_chip(page, "zoomsA", "1")
        assert sorted(_visible_qids(page)) == sorted(r["qid"] for r in rows if not r["error"] and r["zooms"] == 1)
        page.click("#clear")
        click_chip(page, "iouA", "0 (missed)")
        assert sorted(_visible_qids(page)) == sorted(r["qid"] for r in rows if not r["error"] and r["best_iou"] == 0)
        page.click("#clear")
        page.fill("#search", "long_")
        assert sorted(_visible_qids(page)) == sorted(r["qid"] for r in rows if r["qid"].startswith("long_"))
        page.fill("#search", "")

        # facet counts are faceted: with result = correct, each category chip counts the correct items only
        click_chip(page, "resultA", "correct")
        correct = [r["qid"] for r in rows if r["correct"]]
        digit_chip = page.locator(".facet[data-facet-id='cat:category'] .chip", has_text="digit")
        expected_digit = sum(samples[q]["categories"]["category"] == "digit" for q in correct)
        assert digit_chip.locator(".n").inner_text() == str(expected_digit)
        page.click("#clear")

        # sorting by seconds (twice: descending)
        header = page.locator("#items th[data-sort='t0']")
        header.click()
        header.click()
        slowest = max(rows, key=lambda r: r["seconds"])["qid"]
        assert _visible_qids(page)[0] == slowest

        # a row opens its trace; arrows step through the table order; Esc closes
        order = _visible_qids(page)
        qid = page.evaluate("JSON.parse(document.getElementById('data').textContent).items"
                            ".find(i => i.r[0].fr && i.r[0].z).q")  # an item whose trace carries pictures
        page.click(f"tr.item[data-qid='{qid}']")
        page.wait_for_selector("#panel .trace")
        episode = next(r for r in read_run(run_a).items if r.qid == qid).episode
        assert page.locator("#panel .trace h1").inner_text() == qid
        assert page.locator("#panel .trace section.step").count() == len(episode["steps"])
        assert page.locator("#panel .trace .frames img").count() > 0  # zoom-clip frames
        assert page.locator("#panel .trace .thumbs img").count() == 12  # fast-view thumbnails
        assert page.evaluate(SMALL_TEXT_JS) == []
        page.keyboard.press("ArrowRight")
        following = order[order.index(qid) + 1]
        page.wait_for_function(f"document.querySelector('#panel .body').dataset.qid === {following!r}")
        page.keyboard.press("Escape")
        assert page.locator("#panel").is_hidden()

        # an item can be linked: #item=QID opens it
        open_page(page, pages["explorer"], f"#item={TRACE_QID}")
        page.wait_for_selector("#panel .trace")
        assert page.locator("#panel .trace h1").inner_text() == TRACE_QID
        page.keyboard.press("Escape")
        # the errors section names item, video file and message
        error_rows = page.locator("table.errors tr").all_inner_texts()[1:]
        assert len(error_rows) == 3 and all("needle_0002.mp4" in r and "needle_0002_q" in r for r in error_rows)
        assert page.evaluate(SMALL_TEXT_JS) == []
    assert errors == []


def test_comparison_shows_flips(needle_runs, pages):
    _, run_a, run_b = needle_runs
    expected = {}
    for row in item_rows(read_run(run_a)):
        broken = row["video"].endswith("videos/needle_0002.mp4") and "long" not in row["video"]
        a, b = (expected_status(row["qid"], salt=s, broken=broken) == "correct" for s in "ab")
        expected[row["qid"]] = (a, b)
    right_to_wrong = sorted(q for q, (a, b) in expected.items() if a and not b)
    wrong_to_right = sorted(q for q, (a, b) in expected.items() if b and not a)
    assert right_to_wrong and wrong_to_right
    with browser_page() as (page, errors):
        open_page(page, pages["comparison"])
        assert page.locator("h1").first.inner_text().startswith("needle: A ")
        heads = page.locator("#sec-summary th").all_inner_texts()
        assert heads == ["metric", "A", "B", "Δ (B − A)"]
        click_chip(page, "flip", "A right → B wrong")
        assert sorted(_visible_qids(page)) == right_to_wrong
        click_chip(page, "flip", "A right → B wrong")
        click_chip(page, "flip", "A wrong → B right")
        assert sorted(_visible_qids(page)) == wrong_to_right
        flipped = wrong_to_right[0]
        page.click(f"tr.item[data-qid='{flipped}']")
        page.wait_for_selector("#panel .trace")
        tabs = page.locator("#panel .bar button[data-tab]").all_inner_texts()
        assert tabs[0].startswith("run A: ") and tabs[0] != "run A: correct" and tabs[1] == "run B: correct"
        assert page.locator("#panel .trace h1").inner_text() == f"run A · {flipped}"
        page.click("#panel .bar button[data-tab='1']")
        page.wait_for_function("document.querySelector('#panel .body').dataset.tab === 'B'")
        assert page.locator("#panel .trace h1").inner_text() == f"run B · {flipped}"
        assert page.locator("#panel .trace .verdict").inner_text() == "correct"
        page.keyboard.press("Escape")
        assert page.evaluate(SMALL_TEXT_JS) == []
    assert errors == []


def test_trace_page(needle_runs, pages):
    _, run_a, _ = needle_runs
    episode = next(r for r in read_run(run_a).items if r.qid == TRACE_QID).episode
    ledger = episode["ledger"]  # frames the episode sampled: decoded or served by the frame cache
    clip_frames = ledger["frames_decoded"] + ledger["frames_cached"] - episode["fast_view"]["num_frames"]
    with browser_page() as (page, errors):
        open_page(page, pages["trace"])
        # every zoom-clip frame the model got is shown (the run's ledger counts them), plus 24 thumbnails
        assert page.locator(".frames img").count() == clip_frames > 0
        assert page.locator(".thumbs img").count() == 24
        band = page.locator("svg.timeline a rect").first
        band.hover()
        assert page.locator("section.step.hl").count() == 1
        assert page.evaluate(SMALL_TEXT_JS) == []
    assert errors == []


def test_screenshots_come_from_the_test_helper(pages, tmp_path):
    from PIL import Image

    shots = capture(pages, tmp_path)
    assert [s.name for s in shots] == ["explorer.png", "comparison.png", "trace.png"]
    for shot in shots:
        image = Image.open(shot).convert("RGB")
        assert image.width == 1280 and image.height > 600
        colours = image.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # not blank
