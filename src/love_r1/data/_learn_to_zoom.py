"""Training records for a learn-to-zoom dataset: the ideal episode of each question, in the published formats.

The generator knows the evidence and the gold letter exactly, so it is its own teacher (the role
the captioning and CoT teachers of ``love-r1 data`` play for real videos). From each question of
``annotations.jsonl`` it writes (paths relative to the dataset folder, ``video_root`` for training):

* ``records/sft_stage1_grounding.jsonl``: stage-1 grounding records (``tgt`` = the evidence), the
  reply is the gold letter. The SFT loader shows the evidence clip (widened) 60 % of the time,
  the whole video 20 %, no clip 20 % (``docs/protocol.md`` §4.2): learning to read the stripes.
* ``records/sft_stage1_qa.jsonl``: the same questions as stage-1 plain QA records (no ``tgt``): the
  whole video as the clip 90 % of the time. This is the uniform baseline's training data: the
  single-pass model sees the fast view plus a clip spread over the whole video.
* ``records/sft_stage2.jsonl``: two stage-2 CoT records per question, the two steps of the ideal
  episode: from the fast view alone, zoom into the evidence rounded outward to whole seconds (to the
  shot that holds it, when the dataset card has ``shot_seconds``); with
  the zoom clip that inference would apply to that request (``resolve_zoom`` under ``policy``)
  shown, answer with the gold letter.
* ``records/sft_stage2_zoom.jsonl``: the zoom step of each question alone (the first record of each pair in
  ``sft_stage2.jsonl``), for a stage that learns to localise before stage 2 learns both steps.
* ``records/grpo.jsonl``: one stage-3 QA record per question (no starting clip; the problem holds the options,
  pre-formatted, so the prompt is the evaluation's too) carrying the
  ``evidence`` for the zoom reward.

Every user text is the evaluation's question text (question, options, single-letter instruction),
so training prompts and ``love-r1 eval --benchmark needle`` prompts are the same. The replies are
templates: they teach the mechanics (control phrase, box, interval), not reasoning.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from love_r1.prompts import constants

if TYPE_CHECKING:
    from love_r1.agent.policy import ZoomPolicy

RECORD_FILES = {
    "sft_stage1_grounding": "records/sft_stage1_grounding.jsonl",
    "sft_stage1_qa": "records/sft_stage1_qa.jsonl",
    "sft_stage2": "records/sft_stage2.jsonl",
    "sft_stage2_zoom": "records/sft_stage2_zoom.jsonl",
    "grpo": "records/grpo.jsonl",
}


def requested_interval(evidence: list[list[float]], *, duration_seconds: float, shot_seconds: float = 0.0) -> list[int]:
    """The ideal zoom request: every evidence interval rounded outward to whole seconds (with ``shot_seconds > 0``:
    to whole shots, the shot that holds the card), inside ``[0, D]``."""
    step = shot_seconds if shot_seconds > 0 else 1.0
    start = max(0, math.floor(math.floor(min(s for s, _ in evidence) / step + 1e-9) * step))
    end = min(math.floor(duration_seconds), math.ceil(math.ceil(max(e for _, e in evidence) / step - 1e-9) * step))
    return [start, max(end, start + 1)]


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def _assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def learn_to_zoom_records(annotation: dict[str, Any], *, policy: ZoomPolicy,
                          shot_seconds: float = 0.0) -> dict[str, list[dict[str, Any]]]:
    """The records of one question (pure): a dict keyed like :data:`RECORD_FILES`; ``shot_seconds`` as in
    :func:`requested_interval` (the dataset card's)."""
    from love_r1.agent.loop import resolve_zoom
    from love_r1.agent.messages import question_text

    qid, video, gold = annotation["qid"], annotation["video"], annotation["answer"]
    duration = float(annotation["duration_seconds"])
    evidence = [[float(s), float(e)] for s, e in annotation["evidence"]]
    text = question_text(annotation["question"], annotation["options"], constants.SINGLE_LETTER_INSTRUCTION)
    request = requested_interval(evidence, duration_seconds=duration, shot_seconds=shot_seconds)
    clip, reason = resolve_zoom(start_seconds=request[0], end_seconds=request[1], duration_seconds=duration,
                                existing=(), policy=policy)
    if clip is None:
        raise ValueError(f"{qid}: the ideal zoom {request} is refused by the policy ({reason}); "
                         "hint: show the card longer or use a policy with a smaller min_clip_seconds")
    zoom = f"{constants.ZOOM_PREFIX}\\boxed{{[{request[0]}, {request[1]}]}}"
    answer = f"{constants.FORCED_ANSWER_PREFIX}\\boxed{{{gold}}}"
    stage1 = {"video": video, "messages": [_user(text), _assistant(gold)], "qid": qid}
    zoom_step = {"video": video, "messages": [_user(text), _assistant(zoom)], "zoomin_intervals": [],
                 "cot_data": {"kind": "zoom", "source": "learn-to-zoom"}, "qid": qid}
    return {
        "sft_stage1_grounding": [{**stage1, "tgt": evidence}],
        "sft_stage1_qa": [stage1],
        "sft_stage2": [
            zoom_step,
            {"video": video, "messages": [_user(text), _assistant(answer)],
             "zoomin_intervals": [[int(clip.start_seconds), int(clip.end_seconds)]],
             "cot_data": {"kind": "answer", "source": "learn-to-zoom"}, "qid": qid},
        ],
        "sft_stage2_zoom": [zoom_step],
        # the problem pre-formatted with its options (no "Options:" header), so that the GRPO prompt is byte-equal
        # to the evaluation's, like the SFT records': a model trained from random weights does not carry over to
        # another layout of the same question
        "grpo": [{"path": video, "problem": question_text(annotation["question"], annotation["options"]),
                  "options": [], "problem_type": "multiple choice", "solution": f"<answer>{gold}</answer>",
                  "data_type": "learn-to-zoom", "zoomin_intervals": [], "evidence": evidence, "qid": qid}],
    }


def write_learn_to_zoom_records(dataset_dir: str | Path, *, policy: ZoomPolicy | None = None) -> dict[str, Path]:
    """Write the record files of :data:`RECORD_FILES` under ``dataset_dir``; returns their paths by name.

    ``policy`` (default: the reference inference policy) decides the zoom clip of the stage-2 answer
    records: the clip inference applies to the ideal request.
    """
    from love_r1.agent.policy import ZoomPolicy

    dataset_dir = Path(dataset_dir)
    annotations = dataset_dir / "annotations.jsonl"
    if not annotations.is_file():
        raise FileNotFoundError(f"{str(annotations)!r} does not exist; write the dataset first "
                                f"(love-r1 synth learn-to-zoom --out {dataset_dir})")
    policy = policy if policy is not None else ZoomPolicy()
    card = dataset_dir / "dataset.json"
    shot_seconds = float(json.loads(card.read_text(encoding="utf-8"))["params"].get("shot_seconds", 0.0)) \
        if card.is_file() else 0.0
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in RECORD_FILES}
    for line in annotations.read_text(encoding="utf-8").splitlines():
        if line.strip():
            for name, records in learn_to_zoom_records(json.loads(line), policy=policy,
                                                       shot_seconds=shot_seconds).items():
                rows[name].extend(records)
    paths = {}
    for name, relative in RECORD_FILES.items():
        path = dataset_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows[name]), encoding="utf-8")
        paths[name] = path
    return paths
