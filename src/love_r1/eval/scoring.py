"""Scoring and official aggregation: pure functions on records.

An item counts in every denominator: an infrastructure error (unreadable video, backend fault)
or an extraction failure scores 0 (the official harnesses count every question). ``accuracy``
is the headline with the benchmark's official aggregation: the micro mean, or, when the
benchmark has a ``macro_key`` (MLVU's 7 tasks -> M-Avg, MVBench's 20 tasks), the mean of the
per-group accuracies. Category values that are tuples (LVBench abilities) count toward each label.
Items whose annotation is unusable (error kind ``data error``, e.g. an MLVU answer that is no
candidate) are errors too, and are also listed in ``data_errors`` (the official scorers count them
wrong as well: they have no gold letter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from love_r1.eval.records import DATA_ERROR


@dataclass(frozen=True)
class ScoredItem:
    """One scored question.

    Attributes:
        predicted: the extracted letter, ``None`` when extraction failed or the item errored.
        error: the infrastructure error of the item, if any (``predicted`` is then ``None``).
    """

    qid: str
    gold: str
    predicted: str | None
    error: str | None = None
    categories: Mapping[str, Any] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.error is None and self.predicted is not None and self.predicted == self.gold

    @property
    def extraction_failed(self) -> bool:
        return self.error is None and self.predicted is None

    @property
    def data_error(self) -> bool:
        """The item's annotation is unusable (error kind :data:`~love_r1.eval.records.DATA_ERROR`)."""
        return self.error is not None and self.error.startswith(f"{DATA_ERROR}:")


def _labels(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def accuracy_by(items: Iterable[ScoredItem], key: str) -> dict[str, dict[str, float | int]]:
    """``{label: {"correct", "total", "accuracy"}}`` over the items' ``categories[key]`` (multi-label aware)."""
    table: dict[str, list[int]] = {}
    for item in items:
        if key not in item.categories:
            continue
        for label in _labels(item.categories[key]):
            if label == "":
                continue
            cell = table.setdefault(label, [0, 0])
            cell[0] += int(item.correct)
            cell[1] += 1
    return {label: {"correct": c, "total": t, "accuracy": c / t if t else 0.0}
            for label, (c, t) in sorted(table.items())}


def aggregate(
    items: Sequence[ScoredItem],
    *,
    breakdown_keys: Sequence[str] = (),
    macro_key: str | None = None,
    expected_groups: Sequence[str] = (),
) -> dict[str, Any]:
    """Headline accuracy (official aggregation) plus breakdowns; see the module docstring.

    With ``macro_key``, a group whose items all errored (e.g. MVBench's removed NTU videos) is left
    out of the macro mean and listed in ``missing_groups``; ``num_groups`` says how many were averaged.
    ``num_data_errors`` / ``data_errors`` (``[{"qid", "error"}]``) count and list the data-error items.
    """
    num_items = len(items)
    num_correct = sum(item.correct for item in items)
    num_errors = sum(item.error is not None for item in items)
    num_failures = sum(item.extraction_failed for item in items)
    micro = num_correct / num_items if num_items else 0.0
    answered = num_items - num_errors
    result: dict[str, Any] = {
        "num_items": num_items, "num_scored": answered - num_failures, "num_correct": num_correct,
        "num_errors": num_errors, "num_extraction_failures": num_failures,
        "extraction_failure_rate": num_failures / answered if answered else 0.0,
        "micro_accuracy": micro, "accuracy_excluding_errors": num_correct / answered if answered else 0.0,
        "aggregation": "micro", "accuracy": micro, "breakdowns": {},
        "num_data_errors": sum(item.data_error for item in items),
        "data_errors": [{"qid": item.qid, "error": item.error} for item in items if item.data_error],
    }
    for key in breakdown_keys:
        table = accuracy_by(items, key)
        if table:
            result["breakdowns"][key] = table
    if macro_key is not None:
        present = [i for i in items if i.error is None]
        groups = accuracy_by(items, macro_key)
        live = {label for i in present for label in _labels(i.categories.get(macro_key, ""))}
        used = {label: cell for label, cell in groups.items() if label in live}
        result["breakdowns"][macro_key] = groups
        result["aggregation"] = f"macro over {macro_key}"
        result["accuracy"] = sum(c["accuracy"] for c in used.values()) / len(used) if used else 0.0
        result["num_groups"] = len(used)
        missing = [g for g in expected_groups if g not in used]
        result["missing_groups"] = missing
        if expected_groups and missing:
            result["warning"] = (f"macro mean over {len(used)} of {len(expected_groups)} {macro_key}s; "
                                 f"missing: {', '.join(missing)}")
    return result
