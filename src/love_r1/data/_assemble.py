"""Step ``assemble``: accepted teacher replies -> stage-2 SFT records and stage-3 GRPO records.

Stage-2 SFT (single-step CoT records, protocol §4.2/§5), two kinds per item:

* **zoom**: no clip in the prompt -> the zoom CoT (``zoomin_intervals = []``);
* **answer**: the evidence clip the answer teacher saw -> the answer CoT
  (``zoomin_intervals = [[s, e]]`` in integer seconds).

Record: ``{"video", "messages": [user, assistant], "zoomin_intervals", "cot_data", "qid"}``.
The user text is the question block plus the multiple-choice answer template; the SFT
loader appends the decision instruction to records that carry ``cot_data`` (as the
reference's ``sft_video.py`` does), so it is not written here.

Stage-3 GRPO: ``{"path", "problem", "options", "solution": "<answer>X</answer>",
"problem_type": "multiple choice", "data_type", "zoomin_intervals": [], "qid"}`` plus
``tgt`` (the evidence intervals) when grounding records are asked for.

Splits come from a hash of ``qid`` (``split_of``), so every record of a question lands in
the same split, run after run. Items flagged by a contamination report are left out unless
``allow_contaminated`` is set; items whose clue check answered "no" are left out too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from love_r1.data._items import QAItem, Split, jsonl_rows, question_block, split_of
from love_r1.prompts.constants import TYPE_TEMPLATE

SPLITS: tuple[str, ...] = get_args(Split)


@dataclass
class AssembleResult:
    """Records per split and counters for the statistics table."""

    sft: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    grpo: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: {s: {} for s in SPLITS})

    def bump(self, split: str, key: str, by: int = 1) -> None:
        self.counts[split][key] = self.counts[split].get(key, 0) + by

    def table_rows(self) -> list[tuple[str, int, int, int]]:
        keys = ["items", "contaminated_dropped", "contaminated_kept", "clue_check_no", "sft_zoom", "sft_answer", "no_zoom_cot",
                "no_answer_cot", "grpo"]
        rows = []
        for key in keys:
            train = self.counts["train"].get(key, 0)
            val = self.counts["val"].get(key, 0)
            rows.append((key, train, val, train + val))
        return rows


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; hint: run the step that writes it first")
    return [row for _, row in jsonl_rows(path)]


def accepted_replies(rows: Iterable[Mapping[str, Any]], *, max_per_item: int) -> dict[str, list[Mapping[str, Any]]]:
    """Accepted rows grouped by qid (sample order), at most ``max_per_item`` each."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in sorted((r for r in rows if r.get("accepted")), key=lambda r: (r["qid"], r["sample_index"])):
        bucket = grouped.setdefault(str(row["qid"]), [])
        if len(bucket) < max_per_item:
            bucket.append(row)
    return grouped


def user_text(item: QAItem) -> str:
    """The SFT user text: question, options and the multiple-choice answer template."""
    return question_block(item) + TYPE_TEMPLATE["multiple choice"]


def sft_record(item: QAItem, *, reply: str, zoomin_intervals: Sequence[Sequence[int]], kind: str,
               sample_index: int) -> dict[str, Any]:
    return {
        "video": item.video_path,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": user_text(item)}]},
            {"role": "assistant", "content": [{"type": "text", "text": reply}]},
        ],
        "zoomin_intervals": [list(iv) for iv in zoomin_intervals],
        "cot_data": {"kind": kind, "sample_index": sample_index, "source": item.source},
        "qid": item.qid,
    }


def grpo_record(item: QAItem, *, grounding: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "path": item.video_path,
        "problem": item.question.rstrip() + "\n",
        "options": list(item.options),
        "solution": f"<answer>{item.gold}</answer>",
        "problem_type": "multiple choice",
        "data_type": item.source,
        "zoomin_intervals": [],
        "qid": item.qid,
    }
    if grounding and item.evidence:
        record["tgt"] = [iv.as_list() for iv in item.evidence]
    return record


def assemble(
    items: Sequence[QAItem],
    *,
    zoom_rows: Iterable[Mapping[str, Any]] = (),
    answer_rows: Iterable[Mapping[str, Any]] = (),
    grpo_qids: set[str] | None = None,
    contaminated_qids: set[str] = frozenset(),
    allow_contaminated: bool = False,
    clue_rejected_qids: set[str] = frozenset(),
    val_fraction: float = 0.05,
    split_salt: str = "",
    max_per_item: int = 1,
    grounding: bool = True,
) -> AssembleResult:
    """Build the records. ``grpo_qids`` limits GRPO records (e.g. to the mined hard set); None keeps all."""
    if max_per_item < 1:
        raise ValueError(f"max_per_item must be >= 1, got {max_per_item}")
    zooms = accepted_replies(zoom_rows, max_per_item=max_per_item)
    answers = accepted_replies(answer_rows, max_per_item=max_per_item)
    result = AssembleResult()
    for item in items:
        split = split_of(item.qid, val_fraction=val_fraction, salt=split_salt)
        result.bump(split, "items")
        if item.qid in contaminated_qids:
            if not allow_contaminated:
                result.bump(split, "contaminated_dropped")
                continue
            result.bump(split, "contaminated_kept")
        if item.qid in clue_rejected_qids:
            result.bump(split, "clue_check_no")
            continue
        if item.qid in zooms:
            for row in zooms[item.qid]:
                result.sft[split].append(sft_record(item, reply=row["reply"], zoomin_intervals=[], kind="zoom",
                                                    sample_index=int(row["sample_index"])))
                result.bump(split, "sft_zoom")
        else:
            result.bump(split, "no_zoom_cot")
        if item.qid in answers:
            for row in answers[item.qid]:
                clip = row.get("clip")
                if not clip:
                    raise ValueError(f"answer CoT row of qid {item.qid!r} has no 'clip'; re-export answer-cot")
                result.sft[split].append(sft_record(item, reply=row["reply"], zoomin_intervals=[clip], kind="answer",
                                                    sample_index=int(row["sample_index"])))
                result.bump(split, "sft_answer")
        else:
            result.bump(split, "no_answer_cot")
        if grpo_qids is None or item.qid in grpo_qids:
            result.grpo[split].append(grpo_record(item, grounding=grounding))
            result.bump(split, "grpo")
    return result


def write_records(result: AssembleResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``sft_stage2.<split>.jsonl`` and ``grpo_stage3.<split>.jsonl``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, by_split in (("sft_stage2", result.sft), ("grpo_stage3", result.grpo)):
        for split in SPLITS:
            path = out_dir / f"{kind}.{split}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in by_split[split]),
                            encoding="utf-8")
            paths[f"{kind}.{split}"] = path
    return paths
