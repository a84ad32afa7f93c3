"""Per-item table (CSV and Markdown) with hand-computed zoom / IoU values; aligned Markdown tables."""

from __future__ import annotations

import csv
import io
import json

import pytest

from love_r1.backends.scripted import ScriptedBackend
from love_r1.eval.benchmarks import make_benchmark
from love_r1.eval.config import EvalConfig
from love_r1.eval.report import ITEM_COLUMNS, item_rows, markdown_table, render_csv
from love_r1.eval.runner import evaluate
from love_r1.eval.store import read_run
from tests.helpers.eval import make_video

QUESTIONS = [
    {"qid": "a", "video": "v.mp4", "question": "Colour?", "options": ["A. red", "B. blue", "C. green"], "answer": "C",
     "duration_seconds": 20.0, "evidence": [[4.0, 6.0]], "category": "colour"},
    {"qid": "b", "video": "v.mp4", "question": "Digit?", "options": ["A. 1", "B. 2"], "answer": "A",
     "duration_seconds": 20.0, "category": "digit"},
    {"qid": "c", "video": "missing.mp4", "question": "Gone?", "options": ["A. x", "B. y"], "answer": "B",
     "duration_seconds": 20.0, "category": "digit"},
]


@pytest.fixture
def run_dir(tmp_path):
    root = tmp_path / "data"
    make_video(root / "v.mp4", seconds=20.0, seed=6)
    (root / "annotations.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    evaluate(make_benchmark("needle", root), ScriptedBackend(), EvalConfig(run_dir=tmp_path / "run", model="m"), progress=False)
    return tmp_path / "run"


def test_item_rows_hand_computed(run_dir):
    rows = {r["qid"]: r for r in item_rows(read_run(run_dir))}
    # dummy policy on a 20 s video: zoom [5, 15] -> padded to [0, 20] (no widening: L = min(30, 20/8) = 2.5),
    # then answers A. IoU([0, 20], [4, 6]) = 2 / 20.
    a = rows["a"]
    assert (a["gold"], a["pred"], a["correct"], a["steps"], a["zooms"], a["error"]) == ("C", "A", False, 2, 1, "")
    assert a["best_iou"] == pytest.approx(0.1) and a["video"].endswith("v.mp4") and a["seconds"] >= 0
    b = rows["b"]
    assert (b["pred"], b["correct"], b["zooms"], b["best_iou"]) == ("A", True, 1, None)
    c = rows["c"]
    assert (c["pred"], c["correct"], c["steps"], c["zooms"]) == ("", False, 0, 0)
    assert c["error"].startswith("missing video file: ")

    parsed = list(csv.DictReader(io.StringIO(render_csv(item_rows(read_run(run_dir))))))
    assert tuple(parsed[0]) == ITEM_COLUMNS
    assert [(r["qid"], r["gold"], r["pred"], r["correct"], r["steps"], r["zooms"], r["best_iou"]) for r in parsed] == [
        ("a", "C", "A", "0", "2", "1", "0.1000"), ("b", "A", "A", "1", "2", "1", ""), ("c", "B", "", "0", "0", "0", "")]


def test_markdown_table_alignment():
    lines = markdown_table(["task", "acc (n)", "note"], [["plotQA", "75.0 (4)", "ok"], ["needle", "-", "a b"]])
    assert lines == [
        "| task   |  acc (n) | note |",
        "|--------|---------:|------|",
        "| plotQA | 75.0 (4) | ok   |",
        "| needle |        - | a b  |",
    ]
