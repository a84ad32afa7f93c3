"""``love-r1 data clue-check``: ask a vision teacher whether the evidence clip shows the answer's clue."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from love_r1.cli.data._shared import (
    ClipOptions,
    ModelStepOptions,
    format_table,
    load_work_items,
    make_backend_from,
    option_errors,
    run_model_step,
    step_command,
    video_root_of,
)
from love_r1.data import ClueCheckConfig

DESCRIPTION = """A vision teacher sees frames of the first evidence interval +- --pad-seconds, the question
and the correct answer, and must reply Yes or No first. Anything else is recorded as
'unparsed' (never read as a no). Writes W/clue_check.jsonl; `data assemble` drops items whose
verdict is 'no'."""


@dataclass(kw_only=True)
class Options(ClipOptions, ModelStepOptions):
    """Work and backend options, then the evidence clip."""


def run(options: Options) -> int:
    from love_r1.data import export_clue_check, run_clue_check

    items = load_work_items(options)
    with option_errors():
        config = ClueCheckConfig(**options.clip_settings(), sampling=options.sampling(ClueCheckConfig().sampling),
                                 backend_label=options.backend_label())

    def report(store, digest: str) -> str:
        counts = export_clue_check(store, digest, options.work_dir / "clue_check.jsonl")
        return format_table(("verdict", "items"), sorted(counts.items()))

    run_step = functools.partial(run_clue_check, items=items, video_root=video_root_of(options), config=config)
    return run_model_step(options, backend=make_backend_from(options), step="clue-check",
                          call_config=config.call_config(), total=len(items), run_step=run_step, report=report)


COMMAND = step_command(
    name="clue-check",
    help="strict yes/no check that the evidence clip shows the clue (assemble drops the 'no' items)",
    description=DESCRIPTION,
    options=Options,
    function=run,
    sampling=ClueCheckConfig().sampling,
)
