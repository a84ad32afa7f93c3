"""``love-r1 sample``: decode the LOVE-R1 fast view (and optionally one zoom clip) of a video.

Prints the video's metadata, samples the fast view and the zoom clip exactly as the model
sees them (timestamp overlay, pixel budget, frame counts), reports sizes, sample rates and
timings, and writes contact sheets (PNG grids) of both to ``--out``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.video import Decoder
from love_r1.video._reader import Mode

DESCRIPTION = """Decode the LOVE-R1 inputs of one video and show what the model would see.

  love-r1 sample video.mp4 --out sheets/
  love-r1 sample video.mp4 --start-seconds 120 --end-seconds 140 --out sheets/ --mode keyframe

The fast view covers the whole video: min(int(2*D), 768) frames at 32*28*28 pixels (x2 below
60 s). The zoom clip covers [--start-seconds, --end-seconds]: min(int(2*(e-s)), 32) frames at
256*28*28 pixels. Red numbers are the timestamp overlay (integer seconds).
"""


@dataclass(kw_only=True)
class Options:
    video: Path = field(metadata={"help": "the video file", "positional": True})
    start_seconds: float | None = field(default=None, metadata={
        "help": "zoom clip start, given together with --end-seconds (seconds; None: no zoom clip)"})
    end_seconds: float | None = field(default=None, metadata={
        "help": "zoom clip end, exclusive (seconds; None: no zoom clip)"})
    out: Path | None = field(default=None, metadata={"help": "folder for contact-sheet PNGs (none: no files)"})
    mode: Mode = field(
        default="exact", metadata={"help": "fast-view decoding: exact frames, or nearest keyframes (faster)"})
    overlay: bool = field(default=True, metadata={"help": "draw the red timestamp overlay (--no-overlay: off)"})
    decoder: Decoder = field(default="pyav", metadata={
        "help": "decoding library: pyav, torchcodec (where installed) or frames (a folder of images; picked "
                "automatically for a folder)"})
    threads: int = field(default=0, metadata={"help": "decoder threads (count; 0 = automatic)"})
    columns: int = field(default=16, metadata={"help": "contact-sheet columns (frames per row)"})


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


def _contact_sheet(data: np.ndarray, *, columns: int) -> np.ndarray:
    n, h, w, _ = data.shape
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    sheet = np.full((rows * (h + 2), columns * (w + 2), 3), 32, np.uint8)
    for i, frame in enumerate(data):
        r, c = divmod(i, columns)
        sheet[r * (h + 2) + 1:r * (h + 2) + 1 + h, c * (w + 2) + 1:c * (w + 2) + 1 + w] = frame
    return sheet


def _describe(name: str, frames, seconds: float) -> list[tuple[str, str]]:
    ts = frames.timestamps_seconds
    return [
        (f"{name} frames", f"{frames.num_frames} at {frames.width}x{frames.height} px"),
        (f"{name} sample_fps", f"{frames.sample_fps} (rate given to the processor)"),
        (f"{name} span", f"{ts[0]:.3f} .. {ts[-1]:.3f} s (true presentation times)"),
        (f"{name} decode", f"{seconds:.3f} s"),
    ]


def run(options: Options) -> int:
    from PIL import Image

    from love_r1.video import OVERLAY_FONT_NAME, VideoError, open_video, sample_clip, sample_fast_view

    if (options.start_seconds is None) != (options.end_seconds is None):
        raise CliError("give both --start-seconds and --end-seconds for a zoom clip")
    try:
        start = time.perf_counter()
        with open_video(options.video, decoder=options.decoder, num_threads=options.threads) as reader:
            open_seconds = time.perf_counter() - start
            m = reader.metadata
            print(f"video {m.path}")
            print(_table([
                ("duration", f"{m.duration_seconds:.3f} s (header {m.duration_seconds_from_header}, "
                             f"packets {m.duration_seconds_from_content:.3f})"),
                ("frames", f"{m.num_frames} (header {m.num_frames_from_header})"),
                ("fps", f"{m.fps:.3f}"),
                ("size", f"{m.width}x{m.height} px, rotation {m.rotation_degrees} deg"),
                ("codec", f"{m.codec}, {m.num_keyframes} keyframes, {reader.disposable_share:.0%} disposable "
                          f"packets (skipping {'on' if reader.skips_disposable else 'off'})"),
                *(("quirk", quirk) for quirk in reader.quirks),
                ("open + index", f"{open_seconds:.3f} s (packet scan, no decode)"),
            ]))
            start = time.perf_counter()
            fast = sample_fast_view(reader, mode=options.mode, overlay=options.overlay)
            rows = _describe("fast view", fast, time.perf_counter() - start)
            clip = None
            if options.start_seconds is not None:
                start = time.perf_counter()
                clip = sample_clip(reader, options.start_seconds, options.end_seconds, overlay=options.overlay)
                rows += _describe("zoom clip", clip, time.perf_counter() - start)
            stats = reader.stats
            rows.append(("frames decoded", f"{stats.frames_decoded}, packets skipped {stats.packets_skipped}, "
                                           f"in {stats.seeks} seeks (mode {options.mode}, decoder {options.decoder})"))
            rows.append(("overlay font", OVERLAY_FONT_NAME if options.overlay else "off"))
    except VideoError as error:
        raise CliError(str(error), status=1) from None
    print(_table(rows))
    if options.out is not None:
        options.out.mkdir(parents=True, exist_ok=True)
        stem = options.video.stem
        outputs = [(f"{stem}_fast.png", fast)]
        if clip is not None:
            outputs.append((f"{stem}_zoom_{options.start_seconds:g}-{options.end_seconds:g}.png", clip))
        for name, frames in outputs:
            path = options.out / name
            Image.fromarray(_contact_sheet(frames.data, columns=options.columns)).save(path)
            print(f"wrote {path}")
    return 0


COMMAND = Leaf(
    name="sample",
    help="decode a video's fast view and a zoom clip; print metadata and timings; write contact sheets",
    description=DESCRIPTION,
    options=Options,
    function=run,
)
