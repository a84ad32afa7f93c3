"""``love-r1 data answer-cot``: teacher answer reasoning from the evidence clip, kept when correct."""

from __future__ import annotations

from dataclasses import dataclass, field

from love_r1.cli.data_shared import (
    BackendOptions,
    WorkOptions,
    format_table,
    load_work_items,
    make_backend_from,
    open_store,
    progress_bar,
    run_summary,
    sampling_from,
    usage_table,
    video_root_of,
)

HELP = "teacher answer CoT from evidence-clip frames, kept when the boxed letter is right (resumable)"
DESCRIPTION = """A vision teacher (e.g. GPT-4o) sees frames of the first evidence interval +- --pad-seconds
and the question with the correct letter as a hint, and writes answer reasoning ending in
\\boxed{X}. A reply is accepted only when the boxed letter equals the gold letter (strict parsing).
Writes W/answer_cot.jsonl (every reply with its verdict and the clip shown)."""


@dataclass(kw_only=True)
class Options(BackendOptions, WorkOptions):
    num_samples: int = field(default=1, metadata={"help": "accepted replies wanted per item (count)"})
    max_calls: int = field(default=3, metadata={"help": "most teacher calls per item (count, >= --num-samples)"})
    pad_seconds: float = field(default=5.0, metadata={"help": "seconds added on each side of the evidence"})
    max_frames: int = field(default=16, metadata={"help": "frames shown to the teacher (count)"})
    frames_per_second: float = field(default=2.0, metadata={"help": "frame sampling rate in the clip (fps)"})
    pixels_per_frame: int = field(default=448 * 448, metadata={"help": "pixel budget per frame (pixels)"})


def run(options: Options) -> int:
    from love_r1.data import AnswerCotConfig, RunStats, StepInterrupted, export_cot, judge_answer, run_answer_cot

    items = load_work_items(options)
    config = AnswerCotConfig(num_samples=options.num_samples, max_calls=options.max_calls,
                             pad_seconds=options.pad_seconds, max_frames=options.max_frames,
                             frames_per_second=options.frames_per_second, pixels_per_frame=options.pixels_per_frame,
                             sampling=sampling_from(options, AnswerCotConfig().sampling),
                             backend_label=options.backend_label())
    backend = make_backend_from(options)
    status = 0
    with open_store(options) as store:
        digest = store.register_config("answer-cot", config.call_config())
        try:
            with progress_bar(None, "answer-cot") as update:
                digest, stats = run_answer_cot(backend, items, video_root=video_root_of(options), store=store,
                                               config=config, workers=options.workers,
                                               batch_size=options.batch_size, progress=update)
        except StepInterrupted as error:
            print(f"interrupted: {error}")
            stats, status = error.stats or RunStats(), 3

        def judge(item, text):
            return judge_answer(text, letters=item.letters, gold=item.answer)

        counts = export_cot(store, step="answer-cot", config_hash=digest, items=items, judge=judge,
                            out_path=options.work_dir / "answer_cot.jsonl")
        print(run_summary(stats))
        print(format_table(("verdict", "replies"), sorted(counts.items())))
        print(usage_table("answer-cot", stats, store.usage("answer-cot", digest), options))
    return status
