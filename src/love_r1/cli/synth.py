"""``love-r1 synth``: write synthetic videos with machine-checkable content.

Leaves: ``synth needle`` (a needle-in-a-haystack MCQ dataset), ``synth needle-records`` (its
training records), ``synth learn-to-zoom`` (short videos where zooming is necessary, with their
training records), ``synth indexed`` (one video whose frames show their own index) and
``synth tiny-model`` (a tiny random Qwen-VL checkpoint for runs without a GPU).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli._command import Group, Leaf
from love_r1.synth._encode import Codec, Rotation
from love_r1.synth._tiny_model import TinyModelSize, TinyModelType

DESCRIPTION = """Write synthetic videos whose content is known exactly.

Every frame shows its own frame index as a block pattern in the top-left of the frame
(read it back with love_r1.synth.read_frame_index), so decoders and samplers can be checked
frame by frame.

  love-r1 synth needle --out data/needle --duration-seconds 600 --num-videos 4
  love-r1 synth indexed --out clip.mp4 --duration-seconds 10 --variable-frame-rate
  love-r1 synth needle-records --needle data/needle
  love-r1 synth learn-to-zoom --out data/learn/train --duration-seconds 120 --num-videos 600 --seed 1
  love-r1 synth tiny-model --out runs/tiny-qwen2.5-vl --model-type qwen2_5_vl
"""


@dataclass(kw_only=True)
class NeedleOptions:
    out: Path = field(metadata={"help": "output folder (videos/, annotations.jsonl, dataset.json)"})
    duration_seconds: float = field(metadata={"help": "length of each video (seconds)"})
    num_videos: int = field(default=1, metadata={"help": "number of videos (count)"})
    questions_per_video: int = field(
        default=3, metadata={"help": "needles = questions per video, 1 to 9; categories cycle digit, colour, timing (count)"})
    width: int = field(default=640, metadata={"help": "frame width (pixels, even)"})
    height: int = field(default=360, metadata={"help": "frame height (pixels, even)"})
    fps: float = field(default=10.0, metadata={"help": "frame rate (frames per second)"})
    gop_seconds: float = field(default=2.0, metadata={"help": "keyframe interval (seconds)"})
    seed: int = field(default=0, metadata={"help": "random seed; the same seed gives identical files (integer)"})
    needle_min_seconds: float = field(default=4.0, metadata={"help": "shortest time a needle stays visible (seconds)"})
    needle_max_seconds: float = field(default=10.0, metadata={"help": "longest time a needle stays visible (seconds)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})


@dataclass(kw_only=True)
class IndexedOptions:
    out: Path = field(metadata={"help": "output video file (.mp4)"})
    duration_seconds: float = field(metadata={"help": "length of each video (seconds)"})
    fps: float = field(default=30.0, metadata={"help": "frame rate (frames per second)"})
    width: int = field(default=320, metadata={"help": "frame width (pixels, even)"})
    height: int = field(default=240, metadata={"help": "frame height (pixels, even)"})
    gop_seconds: float = field(default=2.0, metadata={"help": "keyframe interval (seconds)"})
    seed: int = field(default=0, metadata={"help": "random seed for the background (integer)"})
    variable_frame_rate: bool = field(
        default=False, metadata={"help": "irregular frame durations alternating 2/(3*fps) and 4/(3*fps) seconds (--fps is then "
                                  "the average rate; --width and --height the displayed size with --rotation-degrees)"})
    rotation_degrees: Rotation = field(
        default=0, metadata={"help": "display-matrix rotation, counter-clockwise (degrees)"})
    codec: Codec = field(default="libx264", metadata={"help": "video encoder"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})


@dataclass(kw_only=True)
class TinyModelOptions:
    out: Path = field(metadata={"help": "output checkpoint folder (model, processor, chat template)"})
    model_type: TinyModelType = field(default="qwen2_5_vl", metadata={
        "help": "model family: Qwen2.5-VL or Qwen3-VL classes and processors"})
    size: TinyModelSize = field(default="default", metadata={
        "help": "default: ~0.3 M parameters (1.2 MB); medium: ~1 M parameters (the learn-to-zoom recipe); larger: "
                "~4 M parameters (benchmarks)"})
    phrase_tokens: bool = field(default=False, metadata={
        "help": "make each of the LOVE-R1 protocol's fixed sentences (system message, decision and single-letter "
                "instructions, control phrases) one token: prompts keep their text but a learn-to-zoom training "
                "sample costs ~130-145 text tokens instead of ~410 (the learn-to-zoom recipe)"})
    seed: int = field(default=0, metadata={"help": "random seed of the weights; the same seed gives the same files"})


@dataclass(kw_only=True)
class LearnToZoomOptions:
    out: Path = field(metadata={"help": "output folder (videos/, annotations.jsonl, dataset.json, records/)"})
    duration_seconds: float = field(metadata={"help": "length of each video (seconds)"})
    num_videos: int = field(default=1, metadata={"help": "number of videos (count)"})
    seed: int = field(default=0, metadata={
        "help": "random seed of every video, card and question; the same seed gives identical files (integer)"})
    frame_size: int = field(default=256, metadata={
        "help": "frame width and height of a square video (pixels; a multiple of 128 keeps the files byte-identical "
                "for a seed)"})
    fps: float = field(default=2.0, metadata={"help": "frame rate (frames per second)"})
    detail_min_seconds: float = field(default=3.5, metadata={"help": "shortest time the striped card is shown (seconds)"})
    detail_max_seconds: float = field(default=4.5, metadata={"help": "longest time the striped card is shown (seconds)"})
    stripe_period_pixels: float = field(default=8.0, metadata={
        "help": "period of the card's stripes (pixels at --frame-size): finer than two fast-view pixels (gone in "
                "the fast view), coarser than two zoom-clip pixels (readable in a zoom clip)"})
    num_options: int = field(default=4, metadata={
        "help": "options per question (count, 2-4); 4: every question lists the four stripe directions in the same "
                "order; fewer: a random subset with the answer, shuffled"})
    shot_seconds: float = field(default=10.0, metadata={
        "help": "length of each shot (seconds): every video is a sequence of shots whose colour tells the time "
                "(blue to red), the card lies inside one shot and the ideal zoom request is that shot; 0: one "
                "continuous colour drift, a card anywhere and requests in whole seconds"})
    records: bool = field(default=True, metadata={
        "help": "also write the training records (records/*.jsonl: stage-1 grounding and QA, stage-2 CoT, "
                "its zoom steps alone, GRPO)"})
    encode_processes: int = field(default=1, metadata={
        "help": "processes encoding videos at once (count; the files do not depend on it)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})


@dataclass(kw_only=True)
class NeedleRecordsOptions:
    needle: Path = field(metadata={"help": "a dataset folder written by `love-r1 synth needle` (annotations.jsonl)"})
    out: Path | None = field(default=None, metadata={
        "help": "where to write train_sft.jsonl and train_grpo.jsonl (None = the --needle folder)"})


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def _size(num_bytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if num_bytes < 1024 or unit == "GiB":
            return f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024
    return ""


def run_needle(options: NeedleOptions) -> int:
    import json
    from collections import Counter

    from love_r1.synth import write_needle_dataset

    started = time.perf_counter()
    try:
        annotations = write_needle_dataset(
            options.out, duration_seconds=options.duration_seconds, num_videos=options.num_videos,
            num_questions_per_video=options.questions_per_video, width=options.width, height=options.height,
            fps=options.fps, gop_seconds=options.gop_seconds, seed=options.seed,
            needle_seconds=(options.needle_min_seconds, options.needle_max_seconds), progress=options.progress,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    records = [json.loads(line) for line in annotations.read_text(encoding="utf-8").splitlines()]
    size = sum(p.stat().st_size for p in (options.out / "videos").glob("*.mp4"))
    categories = Counter(r["category"] for r in records)
    print(f"needle dataset written to {options.out}")
    print(_table([
        ("videos", str(options.num_videos)),
        ("questions", f"{len(records)} ({', '.join(f'{k} {v}' for k, v in sorted(categories.items()))})"),
        ("duration per video", f"{records[0]['duration_seconds']:g} s"),
        ("frames per video", f"{round(records[0]['duration_seconds'] * options.fps)} ({options.width}x{options.height} "
                             f"at {options.fps:g} fps)"),
        ("size on disk", _size(size)),
        ("wall time", f"{seconds:.1f} s"),
        ("annotations", str(annotations)),
    ]))
    return 0


def run_learn_to_zoom(options: LearnToZoomOptions) -> int:
    import json

    from love_r1.data import write_learn_to_zoom_records
    from love_r1.synth import write_learn_to_zoom_dataset

    started = time.perf_counter()
    try:
        annotations = write_learn_to_zoom_dataset(
            options.out, num_videos=options.num_videos, seed=options.seed, duration_seconds=options.duration_seconds,
            size=options.frame_size, fps=options.fps,
            detail_seconds=(options.detail_min_seconds, options.detail_max_seconds),
            stripe_period_pixels=options.stripe_period_pixels, num_options=options.num_options,
            shot_seconds=options.shot_seconds, workers=options.encode_processes, progress=options.progress)
        records = write_learn_to_zoom_records(options.out) if options.records else {}
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    first = json.loads(annotations.read_text(encoding="utf-8").splitlines()[0])
    size = sum(p.stat().st_size for p in (options.out / "videos").glob("*.mp4"))
    print(f"learn-to-zoom dataset written to {options.out}")
    print(_table([
        ("videos", f"{options.num_videos} (one question each)"),
        ("duration per video", f"{first['duration_seconds']:g} s ({options.frame_size}x{options.frame_size} at {options.fps:g} fps)"),
        ("card shown for", f"{options.detail_min_seconds:g}-{options.detail_max_seconds:g} s"),
        ("size on disk", _size(size)),
        ("wall time", f"{time.perf_counter() - started:.1f} s"),
        ("annotations", str(annotations)),
        *((f"records: {name}", str(path)) for name, path in records.items()),
    ]))
    return 0


def run_indexed(options: IndexedOptions) -> int:
    from love_r1.synth import write_indexed_video

    started = time.perf_counter()
    try:
        path = write_indexed_video(
            options.out, duration_seconds=options.duration_seconds, fps=options.fps, width=options.width,
            height=options.height, gop_seconds=options.gop_seconds, seed=options.seed,
            variable_frame_rate=options.variable_frame_rate, rotation_degrees=options.rotation_degrees,
            codec=options.codec, progress=options.progress,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(f"indexed video written to {path}")
    print(_table([
        ("frames", f"{round(options.duration_seconds * options.fps)} ({options.width}x{options.height}, "
                   f"{options.fps:g} fps {'variable' if options.variable_frame_rate else 'constant'})"),
        ("keyframe every", f"{round(options.gop_seconds * options.fps)} frames ({options.gop_seconds:g} s)"),
        ("rotation", f"{options.rotation_degrees} degrees"),
        ("codec", options.codec),
        ("size on disk", _size(path.stat().st_size)),
        ("wall time", f"{seconds:.1f} s"),
    ]))
    return 0


def run_tiny_model(options: TinyModelOptions) -> int:
    from love_r1.synth import write_tiny_model

    started = time.perf_counter()
    path = write_tiny_model(options.out, model_type=options.model_type, seed=options.seed, size=options.size,
                            phrase_tokens=options.phrase_tokens)
    size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    print(f"tiny {options.model_type} checkpoint written to {path} (random weights: outputs are meaningless)")
    print(_table([
        ("files", ", ".join(sorted(p.name for p in path.iterdir()))),
        ("size on disk", _size(size)),
        ("wall time", f"{time.perf_counter() - started:.1f} s"),
        ("use it", f"love-r1 ask VIDEO QUESTION --model {path} --device cpu --max-new-tokens 64"),
    ]))
    return 0


def run_needle_records(options: NeedleRecordsOptions) -> int:
    from love_r1.synth import write_needle_training_records

    try:
        sft, grpo = write_needle_training_records(options.needle, out=options.out)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"training records written (video_root: {options.needle})")
    print(_table([("SFT (stage 2)", str(sft)), ("GRPO (stage 3)", str(grpo))]))
    return 0


COMMAND = Group(
    name="synth", help="write synthetic test videos, needle-in-a-haystack datasets and tiny checkpoints",
    description=DESCRIPTION,
    subcommands=(
        Leaf(name="needle", help="needle-in-a-haystack MCQ dataset: small details shown briefly in long videos",
             options=NeedleOptions, function=run_needle),
        Leaf(name="indexed", help="one video whose every frame shows its frame index (for decoder and sampler tests)",
             options=IndexedOptions, function=run_indexed),
        Leaf(name="needle-records", help="SFT and GRPO training records for a needle dataset (the ideal "
                                         "zoom-then-answer steps)", options=NeedleRecordsOptions,
             function=run_needle_records),
        Leaf(name="learn-to-zoom", help="short videos with a striped card shown for a few seconds (its stripes "
                                        "readable only in a zoom clip), one MCQ each, and their training records",
             options=LearnToZoomOptions, function=run_learn_to_zoom),
        Leaf(name="tiny-model", help="a tiny random Qwen2.5-VL / Qwen3-VL checkpoint folder (runs without a GPU in "
                                     "seconds)", options=TinyModelOptions, function=run_tiny_model),
    ),
)
