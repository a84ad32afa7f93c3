"""Training-data construction: captions, teacher CoT, clue checks, assembly, hard-example mining, contamination.

Every step stores each model call in an append-only SQLite store (:class:`CallStore`) keyed by a hash
of the step configuration, so any step can be stopped and re-run without repeating a call. The
names below are what the ``love-r1 data`` steps call; the helpers they use stay in their modules.
"""

from love_r1.data._assemble import AssembleResult, assemble, write_records
from love_r1.data._captions import CaptionConfig, export_captions, run_captions
from love_r1.data._clue import ClueCheckConfig, export_clue_check, run_clue_check
from love_r1.data._contamination import ContaminationReport, VideoRef, find_contamination, read_eval_manifest
from love_r1.data._cot import (
    AnswerCotConfig,
    ZoomCotConfig,
    export_cot,
    judge_answer,
    judge_zoom,
    run_answer_cot,
    run_zoom_cot,
)
from love_r1.data._engine import RunStats, StepInterrupted
from love_r1.data._items import AnnotationError, QAItem, load_items
from love_r1.data._learn_to_zoom import write_learn_to_zoom_records
from love_r1.data._learn_to_zoom_check import check_resolution_premise
from love_r1.data._mine import MineConfig, hard_items, run_mine_hard
from love_r1.data._store import CallStore, UsageTotals, recover_call_store

__all__ = [
    "AnnotationError", "AnswerCotConfig", "AssembleResult", "CallStore", "CaptionConfig", "ClueCheckConfig",
    "ContaminationReport", "MineConfig", "QAItem", "RunStats", "StepInterrupted", "UsageTotals", "VideoRef",
    "ZoomCotConfig", "assemble", "check_resolution_premise", "export_captions", "export_clue_check", "export_cot", "find_contamination",
    "hard_items", "judge_answer", "judge_zoom", "load_items", "read_eval_manifest", "recover_call_store",
    "run_answer_cot", "run_captions", "run_clue_check", "run_mine_hard", "run_zoom_cot", "write_learn_to_zoom_records",
    "write_records",
]
