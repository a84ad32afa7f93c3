"""Training records for a generated needle dataset, in the published LOVE-R1 record formats.

``love-r1 synth needle-records --needle DIR`` reads ``DIR/annotations.jsonl`` (written by
``love-r1 synth needle``) and writes, next to it:

* ``train_sft.jsonl``: two stage-2 (CoT) SFT records per question, the two single steps of the
  ideal episode: from the fast view alone, zoom into the needle's evidence interval; with that
  clip shown, answer with the gold letter.
* ``train_grpo.jsonl``: one stage-3 GRPO record per question (``problem``, ``options``,
  ``solution``, no starting clips) carrying the question's ``evidence`` for the zoom reward.

Video paths stay relative to ``DIR`` (pass it as ``video_root``). The replies are templates: they
teach the mechanics (phrase, box, interval), not reasoning.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from love_r1.prompts import constants


def _evidence_clip(evidence: list[list[float]], duration_seconds: float) -> list[int]:
    """Whole seconds covering every evidence interval, inside ``[0, D]``."""
    start = max(0, math.floor(min(s for s, _ in evidence)))
    end = min(math.floor(duration_seconds), math.ceil(max(e for _, e in evidence)))
    return [start, max(end, start + 1)]


def needle_training_records(annotation: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(sft_records, grpo_record)`` for one needle annotation (pure)."""
    question = annotation["question"] + "\n" + "\n".join(annotation["options"]) + constants.SINGLE_LETTER_INSTRUCTION
    clip = _evidence_clip(annotation["evidence"], float(annotation["duration_seconds"]))
    zoom = f"{constants.ZOOM_PREFIX}The detail is too small in the full video; I need a closer look. \\boxed{{{clip}}}"
    answer = f"{constants.FORCED_ANSWER_PREFIX}The zoomed clip shows the detail clearly. \\boxed{{{annotation['answer']}}}"
    sft = [
        {"id": f"{annotation['qid']}#zoom", "video": annotation["video"], "cot_data": {}, "zoomin_intervals": [],
         "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": zoom}]},
        {"id": f"{annotation['qid']}#answer", "video": annotation["video"], "cot_data": {}, "zoomin_intervals": [clip],
         "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]},
    ]
    grpo = {"id": annotation["qid"], "path": annotation["video"], "problem": annotation["question"],
            "options": list(annotation["options"]), "problem_type": "multiple choice",
            "solution": f"<answer>{annotation['answer']}</answer>", "zoomin_intervals": [],
            "evidence": [list(map(float, e)) for e in annotation["evidence"]]}
    return sft, grpo


def write_needle_training_records(needle_dir: str | Path, *, out: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``train_sft.jsonl`` and ``train_grpo.jsonl`` for ``needle_dir``'s annotations; returns both paths."""
    needle_dir = Path(needle_dir)
    annotations = needle_dir / "annotations.jsonl"
    if not annotations.is_file():
        raise FileNotFoundError(f"{str(annotations)!r} does not exist; write a dataset with `love-r1 synth needle "
                                f"--out {needle_dir}` first")
    out = Path(out) if out is not None else needle_dir
    out.mkdir(parents=True, exist_ok=True)
    sft_rows, grpo_rows = [], []
    for line in annotations.read_text(encoding="utf-8").splitlines():
        if line.strip():
            sft, grpo = needle_training_records(json.loads(line))
            sft_rows.extend(sft)
            grpo_rows.append(grpo)
    sft_path, grpo_path = out / "train_sft.jsonl", out / "train_grpo.jsonl"
    sft_path.write_text("".join(json.dumps(r) + "\n" for r in sft_rows), encoding="utf-8")
    grpo_path.write_text("".join(json.dumps(r) + "\n" for r in grpo_rows), encoding="utf-8")
    return sft_path, grpo_path


__all__ = ["needle_training_records", "write_needle_training_records"]
