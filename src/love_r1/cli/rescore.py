"""``love-r1 rescore RUN_DIR --extractor classic``: re-score saved trajectories offline (no model)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli.report import ScoringOptions

DESCRIPTION = """Re-extract every stored answer with the chosen extractor and print the metrics; writes
RUN_DIR/rescore-<extractor>.json with the per-item letters. No model is loaded.

  love-r1 rescore runs/vmme --extractor classic
"""


@dataclass(kw_only=True)
class Options(ScoringOptions):
    run_dir: Path = field(metadata={"positional": True, "help": "run directory (--out of love-r1 eval)"})


def run(options: Options) -> int:
    from love_r1.eval.report import score_run, summarize
    from love_r1.eval.store import read_run

    try:
        data = read_run(options.run_dir, config_hash_=options.config_hash)
    except (FileNotFoundError, ValueError) as error:
        raise CliError(str(error)) from None
    summary = summarize(data, extractor=options.extractor)
    items = score_run(data, extractor=options.extractor)
    path = options.run_dir / f"rescore-{options.extractor}.json"
    path.write_text(json.dumps({"summary": {k: summary[k] for k in (
        "benchmark", "extractor", "accuracy", "aggregation", "num_items", "num_errors", "num_extraction_failures")},
        "items": {i.qid: {"gold": i.gold, "predicted": i.predicted, "error": i.error} for i in items}},
        indent=1), encoding="utf-8")
    print(f"{summary['benchmark']} ({summary['extractor']} extractor): accuracy {100 * summary['accuracy']:.1f} "
          f"({summary['aggregation']}), {summary['num_extraction_failures']} extraction failures, "
          f"{summary['num_errors']} errors of {summary['num_items']} items -> {path}")
    return 0


COMMAND = Leaf(
    name="rescore",
    help="re-score the saved trajectories of a run with another answer extractor (offline)",
    description=DESCRIPTION,
    options=Options,
    function=run,
)
