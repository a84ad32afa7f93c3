"""``love-r1 data answer-cot``: teacher answer reasoning from the evidence clip, kept when correct."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from love_r1.cli.data._shared import (
    ClipOptions,
    ModelStepOptions,
    cot_report,
    load_work_items,
    make_backend_from,
    option_errors,
    run_model_step,
    step_command,
    video_root_of,
)
from love_r1.data import AnswerCotConfig

DESCRIPTION = """A vision teacher (e.g. GPT-4o) sees frames of the first evidence interval +- --pad-seconds
and the question with the correct letter as a hint, and writes answer reasoning ending in
\\boxed{X}. A reply is accepted only when the boxed letter equals the gold letter (strict parsing).
Writes W/answer_cot.jsonl (every reply with its verdict and the clip shown)."""


@dataclass(kw_only=True)
class _SampleOptions(ModelStepOptions):
    num_samples: int = field(default=1, metadata={"help": "accepted replies wanted per item (count)"})
    max_calls: int = field(default=3, metadata={"help": "most teacher calls per item (count, >= --num-samples)"})


@dataclass(kw_only=True)
class Options(ClipOptions, _SampleOptions):
    """The clip options come last (``ClipOptions`` is the first base), after the sample counts."""


def run(options: Options) -> int:
    from love_r1.data import AnswerCotConfig, judge_answer, run_answer_cot

    items = load_work_items(options)
    with option_errors():
        config = AnswerCotConfig(num_samples=options.num_samples, max_calls=options.max_calls,
                                 **options.clip_settings(), sampling=options.sampling(AnswerCotConfig().sampling),
                                 backend_label=options.backend_label())

    def judge(item, text):
        return judge_answer(text, letters=item.letters, gold=item.gold)

    report = cot_report(step="answer-cot", items=items, judge=judge, out_path=options.work_dir / "answer_cot.jsonl")
    run_step = functools.partial(run_answer_cot, items=items, video_root=video_root_of(options), config=config)
    return run_model_step(options, backend=make_backend_from(options), step="answer-cot",
                          call_config=config.call_config(), total=None, run_step=run_step, report=report)


COMMAND = step_command(
    name="answer-cot",
    help="teacher answer CoT from evidence-clip frames, kept when the boxed letter is right (resumable)",
    description=DESCRIPTION,
    options=Options,
    function=run,
    sampling=AnswerCotConfig().sampling,
)
