"""Training test helpers: small frame budgets, CPU settings and record files in the published formats."""

from __future__ import annotations

import json
from pathlib import Path

# small frame budgets so tiny-model steps take milliseconds (the pipeline is the production one)
SMALL = {"fast_max_frames": 8, "fast_pixels_per_frame": 4 * 28 * 28, "clip_pixels_per_frame": 4 * 28 * 28}
CPU = {"use_cpu": True, "bf16": False, "report_to": "none", "save_strategy": "no", "activation_checkpointing": False}
GRPO_CPU = {"use_cpu": True, "bf16": False, "activation_checkpointing": False, "progress": False}
MCQ = "\nProvide only the single option letter (e.g., A, B, C, D, etc.) as the answer."


def sft_records() -> list[dict]:
    return [
        {"video": "a.mp4", "messages": [{"role": "user", "content": [{"type": "text", "text": "Which? A. one B. two"}]},
                                        {"role": "assistant", "content": [{"type": "text", "text": "A"}]}]},
        {"video": "b.mp4", "tgt": [[3, 6]], "messages": [{"role": "user", "content": "When does it happen?"},
                                                         {"role": "assistant", "content": "From 3 to 6 seconds."}]},
        {"video": "a.mp4", "cot_data": {}, "zoomin_intervals": [[2, 3.2]],
         "messages": [{"role": "user", "content": "What is shown?\nA. x\nB. y" + MCQ},
                      {"role": "assistant", "content": "I get the answer.\n\nThe clip shows y. \\boxed{B}"}]},
        {"video": "b.mp4", "cot_data": {}, "zoomin_intervals": [],
         "messages": [{"role": "user", "content": "Where?\nA. x\nB. y" + MCQ},
                      {"role": "assistant", "content": "I need to zoom in on the video.\n\nLook. \\boxed{[4, 9]}"}]},
    ]


def grpo_records() -> list[dict]:
    return [
        {"path": "a.mp4", "problem": "Which number?", "options": ["A. one", "B. two"],
         "problem_type": "multiple choice", "solution": "<answer>A</answer>", "zoomin_intervals": [[1, 3]]},
        {"path": "b.mp4", "problem": "When?", "options": ["A. one", "B. two"], "problem_type": "multiple choice",
         "solution": "<answer>B</answer>", "zoomin_intervals": [[2, 9]], "tgt": [[4, 6]]},
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
