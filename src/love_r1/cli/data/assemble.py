"""``love-r1 data assemble``: build stage-2 SFT and stage-3 GRPO records with deterministic splits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli.data._shared import WorkOptions, format_table, load_work_items

DESCRIPTION = """Reads W/zoom_cot.jsonl and W/answer_cot.jsonl (accepted replies only) and writes
W/records/sft_stage2.{train,val}.jsonl (no clip -> zoom CoT; evidence clip -> answer CoT) and
W/records/grpo_stage3.{train,val}.jsonl. Items listed in the contamination report
(W/contamination.json by default) are refused unless --allow-contaminated; items whose
clue check (W/clue_check.jsonl, when present) answered "no" are left out."""


@dataclass(kw_only=True)
class Options(WorkOptions):
    out_dir: Path | None = field(default=None, metadata={"help": "where records go (None: W/records)"})
    val_fraction: float = field(default=0.05, metadata={"help": "share of qids in the val split (fraction)"})
    split_salt: str = field(default="", metadata={"help": "text mixed into the split hash (changes the split)"})
    max_per_item: int = field(default=1, metadata={"help": "most records per item and CoT kind (count)"})
    grpo_items: Path | None = field(default=None, metadata={
        "help": "JSONL whose qids limit the GRPO records, e.g. W/hard.jsonl from mine-hard (None: all items)"})
    grounding: bool = field(default=True, metadata={"help": "write the evidence as `tgt` in GRPO records"})
    contamination_report: Path | None = field(default=None, metadata={
        "help": "report of `data contamination` (None: W/contamination.json when it exists)"})
    allow_contaminated: bool = field(default=False, metadata={"help": "keep items flagged as contaminated"})


def _rows(path: Path) -> list[dict]:
    from love_r1.data._assemble import read_jsonl

    return read_jsonl(path) if path.is_file() else []


def run(options: Options) -> int:
    from love_r1.data import assemble, write_records
    from love_r1.data._assemble import read_jsonl

    items = load_work_items(options)
    work = Path(options.work_dir)
    report_path = options.contamination_report or work / "contamination.json"
    contaminated: set[str] = set()
    if report_path.is_file():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        contaminated = set(report.get("contaminated_qids", []))
        videos = set(report.get("contaminated_videos", []))
        contaminated |= {item.qid for item in items if item.video_path in videos}
    elif options.contamination_report is not None:
        raise CliError(f"--contamination-report {str(report_path)!r} does not exist")
    else:
        print(f"warning: no contamination report at {report_path}; run `love-r1 data contamination` first")
    grpo_qids = None
    if options.grpo_items is not None:
        grpo_qids = {str(row["qid"]) for row in read_jsonl(options.grpo_items)}
    zoom_rows, answer_rows = _rows(work / "zoom_cot.jsonl"), _rows(work / "answer_cot.jsonl")
    clue_rejected = {str(r["qid"]) for r in _rows(work / "clue_check.jsonl") if r.get("verdict") == "no"}
    result = assemble(items, zoom_rows=zoom_rows, answer_rows=answer_rows, grpo_qids=grpo_qids,
                      contaminated_qids=contaminated, allow_contaminated=options.allow_contaminated,
                      clue_rejected_qids=clue_rejected,
                      val_fraction=options.val_fraction, split_salt=options.split_salt,
                      max_per_item=options.max_per_item, grounding=options.grounding)
    paths = write_records(result, options.out_dir or work / "records")
    print(format_table(("records", "train", "val", "total"), result.table_rows()))
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


COMMAND = Leaf(
    name="assemble",
    help="build stage-2 CoT SFT records and stage-3 GRPO records (splits by hash of qid)",
    description=DESCRIPTION,
    options=Options,
    function=run,
)
