"""``love-r1 data caption``: caption fixed-length segments of every video with a local VLM."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from love_r1.cli.data._shared import (
    ModelStepOptions,
    load_work_items,
    make_backend_from,
    option_errors,
    run_model_step,
    step_command,
    video_root_of,
)
from love_r1.data import CaptionConfig

DESCRIPTION = """Caption every --segment-seconds segment of each video named in the annotations.
Each caption is stored as soon as it is made (W/store.sqlite); re-running skips stored ones.
Writes W/captions/<video>.jsonl ({video, start_seconds, end_seconds, text} per line)."""


@dataclass(kw_only=True)
class Options(ModelStepOptions):
    segment_seconds: float = field(default=10.0, metadata={"help": "length of one captioned segment (seconds)"})
    min_segment_seconds: float = field(default=1.0, metadata={
        "help": "a last segment shorter than this is dropped (seconds)"})
    frames_per_second: float = field(default=2.0, metadata={"help": "frames sampled per segment second (fps)"})
    max_frames_per_segment: int = field(default=32, metadata={"help": "cap on frames per segment (count)"})
    pixels_per_frame: int = field(default=512 * 28 * 28, metadata={"help": "pixel budget per frame (pixels)"})


def run(options: Options) -> int:
    from love_r1.data import CaptionConfig, export_captions, run_captions

    items = load_work_items(options)
    videos = list(dict.fromkeys(item.video_path for item in items))
    with option_errors():
        config = CaptionConfig(
            segment_seconds=options.segment_seconds, min_segment_seconds=options.min_segment_seconds,
            frames_per_second=options.frames_per_second, max_frames_per_segment=options.max_frames_per_segment,
            pixels_per_frame=options.pixels_per_frame, sampling=options.sampling(CaptionConfig().sampling),
            backend_label=options.backend_label(),
        )

    def report(store, digest: str) -> str:
        written = export_captions(store, digest, options.work_dir / "captions")
        return (f"captions: {len(written)}/{len(videos)} videos complete, {sum(written.values())} segments "
                f"-> {options.work_dir / 'captions'}")

    run_step = functools.partial(run_captions, video_paths=videos, video_root=video_root_of(options), config=config)
    return run_model_step(options, backend=make_backend_from(options), step="caption",
                          call_config=config.to_dict(), total=None, run_step=run_step, report=report)


COMMAND = step_command(
    name="caption",
    help="caption fixed-length video segments with a VLM (resumable)",
    description=DESCRIPTION,
    options=Options,
    function=run,
    sampling=CaptionConfig().sampling,
)
