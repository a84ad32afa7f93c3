"""Official aggregation against hand-computed numbers."""

from __future__ import annotations

import pytest

from love_r1.eval.benchmarks.lvbench import LVBench
from love_r1.eval.benchmarks.mlvu import MLVU
from love_r1.eval.benchmarks.mvbench import MVBench
from love_r1.eval.scoring import ScoredItem, accuracy_by, aggregate


def item(qid, gold, predicted, *, error=None, **categories):
    return ScoredItem(qid=qid, gold=gold, predicted=predicted, error=error, categories=categories)


def test_mlvu_macro_differs_from_micro():
    # plotQA: 3 of 4 correct (0.75); needle: 0 of 1 (0.0); topic_reasoning: 1 of 1 (1.0)
    items = [item("p0", "A", "A", task="plotQA"), item("p1", "B", "B", task="plotQA"),
             item("p2", "C", "C", task="plotQA"), item("p3", "D", "A", task="plotQA"),
             item("n0", "A", None, task="needle"), item("t0", "B", "B", task="topic_reasoning")]
    result = aggregate(items, breakdown_keys=MLVU.breakdown_keys, macro_key=MLVU.macro_key,
                       expected_groups=MLVU.expected_groups)
    assert result["accuracy"] == pytest.approx((0.75 + 0.0 + 1.0) / 3)  # M-Avg
    assert result["micro_accuracy"] == pytest.approx(4 / 6)
    assert result["num_extraction_failures"] == 1 and result["num_scored"] == 5
    assert result["breakdowns"]["task"]["plotQA"] == {"correct": 3, "total": 4, "accuracy": 0.75}
    assert result["missing_groups"] == ["ego", "count", "order", "anomaly_reco"]
    assert "3 of 7" in result["warning"]


def test_lvbench_multilabel_abilities():
    items = [item("1", "A", "A", ability=("ER", "Rea")), item("2", "B", "C", ability=("ER",)),
             item("3", "C", "C", ability=("TG", "Rea")), item("4", "D", None, error="missing video", ability=("TG",))]
    result = aggregate(items, breakdown_keys=LVBench.breakdown_keys)
    table = result["breakdowns"]["ability"]
    assert table["ER"] == {"correct": 1, "total": 2, "accuracy": 0.5}
    assert table["Rea"] == {"correct": 2, "total": 2, "accuracy": 1.0}
    assert table["TG"] == {"correct": 1, "total": 2, "accuracy": 0.5}
    assert sum(c["total"] for c in table.values()) == 6 > len(items)
    assert result["accuracy"] == pytest.approx(2 / 4)  # errors count as wrong
    assert result["accuracy_excluding_errors"] == pytest.approx(2 / 3)
    assert result["num_errors"] == 1


def test_mvbench_flags_a_missing_task():
    items = [item(f"a{i}", "A", "A" if i < 3 else "B", task="action_antonym") for i in range(4)]
    items += [item("p0", "A", None, error="missing video file", task="fine_grained_pose")]
    result = aggregate(items, breakdown_keys=MVBench.breakdown_keys, macro_key=MVBench.macro_key,
                       expected_groups=MVBench.expected_groups)
    assert result["accuracy"] == pytest.approx(0.75)  # the all-error task is left out of the mean
    assert result["num_groups"] == 1
    assert "fine_grained_pose" in result["missing_groups"]
    assert result["warning"].startswith("macro mean over 1 of 20 tasks")


def test_accuracy_by_skips_empty_labels():
    assert accuracy_by([item("1", "A", "A", duration=""), item("2", "A", "B", duration="short")], "duration") == {
        "short": {"correct": 0, "total": 1, "accuracy": 0.0}}
