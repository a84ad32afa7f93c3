"""Training-data construction: captions, teacher CoT, assembly, hard-example mining, contamination.

Every step stores each model call in an append-only SQLite store keyed by a hash of the
step configuration, so any step can be stopped and re-run without repeating a call.
"""

from love_r1.data._assemble import AssembleResult, assemble, grpo_record, sft_record, write_records
from love_r1.data._captions import CaptionConfig, export_captions, read_captions, run_captions, segments_of
from love_r1.data._clips import evidence_clip
from love_r1.data._clue import ClueCheckConfig, clue_verdict, export_clue_check, run_clue_check
from love_r1.data._contamination import (
    ContaminationReport,
    VideoRef,
    ahash64,
    dhash64,
    find_contamination,
    fingerprint_video,
    hamming_bits,
    read_eval_manifest,
)
from love_r1.data._cot import (
    AnswerCotConfig,
    Verdict,
    ZoomCotConfig,
    export_cot,
    judge_answer,
    judge_zoom,
    love_r1_reply,
    run_answer_cot,
    run_zoom_cot,
)
from love_r1.data._engine import CallJob, RunStats, StepInterrupted, run_jobs
from love_r1.data._items import AnnotationError, QAItem, iter_items, load_items, question_block, split_of
from love_r1.data._mine import MineConfig, episode_success, hard_items, run_mine_hard
from love_r1.data._parse import parse_boxed_interval, parse_boxed_letter, parse_yes_no
from love_r1.data._store import CallRecord, CallStore, UsageTotals, config_hash, recover_call_store
from love_r1.data._templates import render

__all__ = [
    "AnnotationError", "AnswerCotConfig", "AssembleResult", "CallJob", "CallRecord", "CallStore", "CaptionConfig",
    "ClueCheckConfig", "clue_verdict", "export_clue_check", "run_clue_check",
    "ContaminationReport", "MineConfig", "QAItem", "RunStats", "StepInterrupted", "UsageTotals", "Verdict",
    "VideoRef", "ZoomCotConfig", "ahash64", "assemble", "config_hash", "dhash64", "episode_success",
    "evidence_clip", "export_captions", "export_cot", "find_contamination", "fingerprint_video", "grpo_record",
    "hamming_bits", "hard_items", "iter_items", "judge_answer", "judge_zoom", "load_items",
    "love_r1_reply", "parse_boxed_interval", "parse_boxed_letter", "parse_yes_no", "question_block",
    "read_captions", "read_eval_manifest", "recover_call_store", "render", "run_answer_cot", "run_captions", "run_jobs",
    "run_mine_hard", "run_zoom_cot", "segments_of", "sft_record", "split_of", "write_records",
]
