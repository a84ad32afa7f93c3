"""The results explorer page (``love-r1 report --format html``) without a browser: its data against the runs,
the embedded traces, escaping and self-containment. The browser checks are in test_explorer_browser.py."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from love_r1.eval.explorer import render_explorer
from love_r1.eval.report import item_rows, summarize
from love_r1.eval.store import read_run
from tests.viz.runs import HOSTILE, expected_status


def page_data(page: str) -> dict:
    """The JSON the explorer page carries."""
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1))


def page_traces(page: str) -> list[list[str | None]]:
    """Every item's trace fragments (per run), decompressed as the page's script does."""
    match = re.search(r'<script type="application/json" id="traces">(.*?)</script>', page, re.S)
    assert match is not None
    out: list = []
    for chunk in json.loads(match.group(1)):
        out += json.loads(gzip.decompress(base64.b64decode(chunk)).decode("utf-8"))
    return out


def broken(video: str) -> bool:
    return Path(video).name == "needle_0002.mp4" and "long" not in video


def expected_flips(run_a: Path, run_b: Path) -> dict[str, str]:
    """qid -> flip kind, from the policy's rules (tests/viz/runs.py), not from the report code."""
    out = {}
    for row in item_rows(read_run(run_a)):
        a = expected_status(row["qid"], salt="a", broken=broken(row["video"])) == "correct"
        b = expected_status(row["qid"], salt="b", broken=broken(row["video"])) == "correct"
        out[row["qid"]] = {(True, False): "right_to_wrong", (False, True): "wrong_to_right", (True, True): "both_right",
                           (False, False): "both_wrong"}[(a, b)]
    return out


def facet_values(data: dict, facet_id: str) -> dict[str, object]:
    """qid -> the item's value(s) of one facet, as names."""
    index = next(i for i, f in enumerate(data["facets"]) if f["id"] == facet_id)
    names = data["facets"][index]["values"]
    out = {}
    for item in data["items"]:
        value = item["f"][index]
        out[item["q"]] = [names[v] for v in value] if isinstance(value, list) else (
            None if value is None else names[value])
    return out


@pytest.fixture(scope="module")
def comparison(needle_runs) -> str:
    _, run_a, run_b = needle_runs
    return render_explorer(read_run(run_a), read_run(run_b), frame_items=4, num_thumbnails=4, frames_per_clip=3)


def test_items_and_facets_match_the_runs(needle_runs, comparison):
    _, run_a, run_b = needle_runs
    data = page_data(comparison)
    rows = {tag: {r["qid"]: r for r in item_rows(read_run(run))} for tag, run in (("A", run_a), ("B", run_b))}
    assert [i["q"] for i in data["items"]] == list(rows["A"]) and data["total_items"] == 12
    for tag, salt in (("A", "a"), ("B", "b")):
        results = facet_values(data, f"result{tag}")
        assert results == {q: expected_status(q, salt=salt, broken=broken(r["video"])) for q, r in rows[tag].items()}
        zooms = facet_values(data, f"zooms{tag}")
        assert zooms == {q: "n/a" if r["error"] else str(r["zooms"]) for q, r in rows[tag].items()}
        ended = facet_values(data, f"ended{tag}")
        assert {q for q, v in ended.items() if v == "error"} == {q for q, r in rows[tag].items() if r["error"]}
    assert facet_values(data, "flip") == expected_flips(run_a, run_b)
    assert Counter(facet_values(data, "flip").values())["right_to_wrong"] >= 1
    # categories and duration groups come from the samples
    samples = {row.qid: row.sample for row in read_run(run_a).items}
    assert facet_values(data, "cat:category") == {q: [s["categories"]["category"]] for q, s in samples.items()}
    assert facet_values(data, "cat:duration") == {q: [s["duration_bucket"]] for q, s in samples.items()}
    assert sorted({v[0] for v in facet_values(data, "cat:duration").values()}) == ["3-10min", "<3min"]
    # the IoU bucket follows the stored best IoU
    ious = facet_values(data, "iouA")
    for q, r in rows["A"].items():
        iou = r["best_iou"]
        assert ious[q] == ("n/a (error)" if r["error"] else "0 (missed)" if iou == 0 else
                           "(0, 0.25)" if iou < 0.25 else "[0.25, 0.5)" if iou < 0.5 else "[0.5, 1]"), q


def test_headline_breakdowns_errors_and_config(needle_runs, comparison):
    _, run_a, run_b = needle_runs
    data = page_data(comparison)
    summaries = [summarize(read_run(run_a)), summarize(read_run(run_b))]
    assert [r["accuracy"] for r in data["runs"]] == [s["accuracy"] for s in summaries]
    headline = {h["label"]: h for h in data["headline"]}
    a, b = (100 * s["accuracy"] for s in summaries)
    assert headline["accuracy (official)"]["values"] == [f"{a:.1f}", f"{b:.1f}"]
    assert headline["accuracy (official)"]["delta"] == f"{b - a:+.1f}"
    category = next(x for x in data["breakdowns"] if x["key"] == "category")
    for row in category["rows"]:
        for k, summary in enumerate(summaries):
            cell = summary["breakdowns"]["category"][row["label"]]
            assert row["cells"][k] == [cell["accuracy"], cell["correct"], cell["total"]]
    stored = [(k, r.qid, r.error) for k, run in enumerate((run_a, run_b)) for r in read_run(run).items if r.error]
    assert [(e["run"], e["qid"], e["message"]) for e in data["errors"]] == stored and len(stored) == 6
    assert all(e["video"].endswith("videos/needle_0002.mp4") for e in data["errors"])
    assert ["model", "scripted-a", "scripted-b"] in data["config_diff"]
    assert [r["run_dir"] for r in data["runs"]] == [str(run_a), str(run_b)]


def test_every_item_opens_a_trace_with_pictures_for_the_failures_first(needle_runs, comparison):
    _, run_a, run_b = needle_runs
    data = page_data(comparison)
    traces = page_traces(comparison)
    assert len(traces) == len(data["items"]) == 12
    flips = expected_flips(run_a, run_b)
    with_pictures = [item["q"] for item in data["items"] if any(r and r.get("fr") for r in item["r"])]
    assert len(with_pictures) == data["frame_items"] == 4
    assert all(flips[q] in ("right_to_wrong", "wrong_to_right") for q in with_pictures)  # flips come first
    episodes = {row.qid: row for row in read_run(run_a).items}
    for item, (frag_a, frag_b) in zip(data["items"], traces, strict=True):
        assert frag_a is not None and frag_b is not None
        assert f"run A · {item['q']}" in frag_a and f"run B · {item['q']}" in frag_b
        row = episodes[item["q"]]
        if row.error:
            assert "episode failed:" in frag_a and "needle_0002.mp4" in frag_a
            continue
        assert frag_a.count('class="step"') == len(row.episode["steps"])
        images = frag_a.count('src="data:image/jpeg;base64,')
        if item["q"] in with_pictures and item["r"][0]["z"]:
            assert 'class="thumbs"' in frag_a and images >= 4 + 1  # 4 thumbnails + zoom-clip frames
        elif item["q"] not in with_pictures:
            assert images == 0


def test_hostile_text_is_escaped_everywhere(comparison):
    assert HOSTILE not in comparison
    traces = page_traces(comparison)
    assert all(HOSTILE not in f for pair in traces for f in pair if f)
    first = traces[[i["q"] for i in page_data(comparison)["items"]].index("needle_0000_q0")][0]
    assert "&lt;/script&gt;&lt;script&gt;window.__xss=1&lt;/script&gt;" in first


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.links = 0

    def handle_starttag(self, tag, attrs):
        self.links += tag == "link"
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.refs.append((tag, name, value))


def test_page_is_self_contained(comparison):
    parser = _Links()
    parser.feed(comparison)
    for pair in page_traces(comparison):
        for fragment in filter(None, pair):
            parser.feed(fragment)
    assert parser.links == 0
    assert parser.refs and all(v.startswith(("data:", "#")) for _, _, v in parser.refs), parser.refs[:5]
    assert "url(" not in comparison and "@import" not in comparison


def test_items_limit_keeps_numbers_for_every_item(needle_runs):
    _, run_a, _ = needle_runs
    data = page_data(render_explorer(read_run(run_a), items=5, frame_items=0))
    assert len(data["items"]) == 5 and data["total_items"] == 12 and data["runs"][0]["num_items"] == 12
    assert not [f for f in data["facets"] if f["id"] in ("flip", "resultB")]  # one run: no comparison facets


def test_thumbnails_are_shared_only_within_the_same_window_of_a_video(tmp_path):
    """Two MVBench-style items on one file with different windows get their own thumbnails (spread over their own
    window, timed from its start); a third item on the first window reuses the first item's."""
    from love_r1.eval.explorer import item_frames
    from love_r1.synth import write_indexed_video

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=20.0, fps=10.0, width=64, height=48,
                                gop_seconds=0.5)

    def episode(window):
        return {"video": {"path": str(video), "duration_seconds": window[1] - window[0], "window": list(window)},
                "steps": []}

    shared: dict = {}
    first = item_frames(episode((0.0, 4.0)), probe=None, num_thumbnails=4, max_frames_per_clip=None,
                        thumbs_by_video=shared)
    second = item_frames(episode((10.0, 20.0)), probe=None, num_thumbnails=4, max_frames_per_clip=None,
                         thumbs_by_video=shared)
    again = item_frames(episode((0.0, 4.0)), probe=None, num_thumbnails=4, max_frames_per_clip=None,
                        thumbs_by_video=shared)
    assert [p.seconds for p in first.thumbs] == [0.5, 1.5, 2.5, 3.5]  # keyframes every 0.5 s: exact times
    assert [p.seconds for p in second.thumbs] == [1.0, 3.5, 6.0, 8.5]  # the second window's, from its start
    assert again.thumbs is first.thumbs and len(shared) == 2
