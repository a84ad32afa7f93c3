"""``love-r1 data clue-check``: ask a vision teacher whether the evidence clip shows the answer's clue."""

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

HELP = "strict yes/no check that the evidence clip shows the clue (assemble drops the 'no' items)"
DESCRIPTION = """A vision teacher sees frames of the first evidence interval +- --pad-seconds, the question
and the correct answer, and must reply Yes or No first. Anything else is recorded as
'unparsed' (never read as a no). Writes W/clue_check.jsonl; `data assemble` drops items whose
verdict is 'no'."""


@dataclass(kw_only=True)
class Options(BackendOptions, WorkOptions):
    pad_seconds: float = field(default=5.0, metadata={"help": "seconds added on each side of the evidence"})
    max_frames: int = field(default=16, metadata={"help": "frames shown to the teacher (count)"})
    frames_per_second: float = field(default=2.0, metadata={"help": "frame sampling rate in the clip (fps)"})
    pixels_per_frame: int = field(default=448 * 448, metadata={"help": "pixel budget per frame (pixels)"})


def run(options: Options) -> int:
    from love_r1.data import ClueCheckConfig, RunStats, StepInterrupted, export_clue_check, run_clue_check

    items = load_work_items(options)
    config = ClueCheckConfig(pad_seconds=options.pad_seconds, max_frames=options.max_frames,
                             frames_per_second=options.frames_per_second, pixels_per_frame=options.pixels_per_frame,
                             sampling=sampling_from(options, ClueCheckConfig().sampling),
                             backend_label=options.backend_label())
    backend = make_backend_from(options)
    status = 0
    with open_store(options) as store:
        digest = store.register_config("clue-check", config.call_config())
        try:
            with progress_bar(len(items), "clue-check") as update:
                digest, stats = run_clue_check(backend, items, video_root=video_root_of(options), store=store,
                                               config=config, workers=options.workers,
                                               batch_size=options.batch_size, progress=update)
        except StepInterrupted as error:
            print(f"interrupted: {error}")
            stats, status = error.stats or RunStats(), 3
        counts = export_clue_check(store, digest, options.work_dir / "clue_check.jsonl")
        print(run_summary(stats))
        print(format_table(("verdict", "items"), sorted(counts.items())))
        print(usage_table("clue-check", stats, store.usage("clue-check", digest), options))
    return status
