"""Decode benchmark: LOVE-R1 fast view and zoom clips, ours (PyAV exact / keyframe) vs decord and torchcodec.

Launch (both kinds of content, one column each; 10-minute 1280x720 30 fps inputs, GOP 8 s):
    python benchmarks/decode.py --make-video vbench/testsrc2_10min.mp4 --content testsrc2 --duration-seconds 600
    python benchmarks/decode.py --make-video vbench/needle_10min.mp4 --content needle --duration-seconds 600
    python benchmarks/decode.py --video vbench/testsrc2_10min.mp4 vbench/needle_10min.mp4 --repeats 3

``--make-video`` writes one 1280x720, 30 fps H.264 input and exits:
- ``--content testsrc2``: ffmpeg's ``testsrc2`` pattern (every pixel moves every frame), libx264
  ``ultrafast``, fixed GOP, no scene cuts, ``--bframes`` B-frames with b-pyramid (3 = x264's default
  layout, half of all packets disposable; 0 = ultrafast's own layout, every frame a reference);
- ``--content needle``: the project's needle-in-a-haystack video (``love-r1 synth needle``: a mostly
  static scene with small needles, libx264 ``veryfast``), the content of the issue's figures.
Each column's header says what the file holds, read from the file itself (codec, the x264 settings
x264 writes into the stream: B-frames, b-pyramid, keyint) and the share of disposable packets.

Measured (median of ``--repeats`` interleaved rounds, seconds, one process, same machine):
- fast_exact / fast_keyframe: open + packet scan + ``sample_fast_view`` (overlay + resize
  included) in ``exact`` / ``keyframe`` mode, disposable-packet skipping decided per stream (the
  default); fast_exact_skip / fast_exact_noskip: the same with ``skip_disposable=True`` / ``False``;
- zoom: one 32-frame, 20-s ``sample_clip`` on a freshly opened reader (open not timed), the mean
  over four intervals (at 20 %, 35 %, 70 %, 85 % of the video); four_zooms: the same four on one reader;
- decord_fast / decord_zoom / decord_four_zooms: ``decord.VideoReader(path)`` + ``get_batch`` of the
  same indices (the reference path; raw full-resolution frames, no overlay or resize), the zoom
  the same way (mean of four, each on a fresh reader, open not timed);
- torchcodec_fast / torchcodec_zoom: ``VideoDecoder(seek_mode="exact")`` + ``get_frames_at``;
- sequential_floor: PyAV decode of every frame with ``--threads`` threads, no conversion;
- keyframe_floor: PyAV demux of every packet, decoding keyframes only (``skip_frame="NONKEY"``).

Each case also reports its CPU seconds (``*_cpu_s``: user + system time of this process, decoder
threads included), which other jobs on a shared machine disturb far less than wall time.
Prints one table (a column per video) with the target ratios, then one JSON line (the last line).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from love_r1.video import clip_indices, fast_view_indices, open_video, sample_clip, sample_fast_view

ZOOM_POSITIONS = (0.2, 0.35, 0.7, 0.85)  # zoom starts, as fractions of the duration


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads, decoder threads included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Span:
    """Accumulates wall and CPU seconds of the timed regions of one case."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Span:
        self._wall, self._cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += cpu_seconds() - self._cpu


def make_video(path: Path, *, content: str, duration_seconds: float, gop_seconds: float, bframes: int,
               fps: int = 30) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == "needle":
        from love_r1.synth import write_needle_dataset

        with tempfile.TemporaryDirectory() as tmp:
            write_needle_dataset(tmp, duration_seconds=duration_seconds, width=1280, height=720, fps=float(fps),
                                 gop_seconds=gop_seconds, progress=True)
            shutil.move(str(Path(tmp) / "videos" / "needle_0000.mp4"), path)
        print(f"wrote {path} (love-r1 synth needle, 1280x720, {fps} fps, GOP {gop_seconds:g} s)")
        return
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is not installed; it is needed for --make-video --content testsrc2")
    gop = int(round(gop_seconds * fps))
    cmd = ["ffmpeg", "-y", "-loglevel", "error", "-stats", "-f", "lavfi", "-i",
           f"testsrc2=size=1280x720:rate={fps}", "-t", str(duration_seconds), "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(gop), "-keyint_min", str(gop),
           "-sc_threshold", "0", "-x264-params", f"bframes={bframes}:b-pyramid={'normal' if bframes > 1 else 'none'}",
           str(path)]
    print(" ".join(cmd))
    subprocess.run(cmd, check=True)


def describe(path: Path) -> str:
    """What the file holds, read from the file: codec, size, the x264 settings it records, disposable share."""
    import av

    with open_video(path) as reader:
        meta, share = reader.metadata, reader.disposable_share
        skips = reader.skips_disposable
    settings = ""
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            data = bytes(packet)
            at = data.find(b"options: ")
            if at >= 0:
                options = dict(kv.split("=", 1) for kv in data[at + 9:at + 2000].split(b"\x00")[0].decode(
                    "ascii", "replace").split() if "=" in kv)
                settings = (f", x264 bframes={options.get('bframes')} b_pyramid={options.get('b_pyramid')} "
                            f"keyint={options.get('keyint')}")
            break
    return (f"{path.name}: {meta.codec} {meta.width}x{meta.height}, {meta.fps:g} fps, {meta.duration_seconds:.0f} s, "
            f"{meta.num_keyframes} keyframes{settings}; disposable packets {share:.0%} "
            f"(skipping {'on' if skips else 'off'} by default)")


def sequential_floor(path: Path, threads: int) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        return sum(1 for _ in container.decode(stream))


def keyframe_floor(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        return sum(1 for _ in container.decode(stream))


def measure(path: Path, *, repeats: int, threads: int, zoom_seconds: float) -> dict:
    with open_video(path, num_threads=threads) as reader:
        meta = reader.metadata
    n_total, fps, duration = meta.num_frames, meta.fps, meta.duration_seconds
    fast = fast_view_indices(num_frames_total=n_total, fps=fps).frame_indices
    zooms = [(duration * f, duration * f + zoom_seconds) for f in ZOOM_POSITIONS]
    zoom_idx = [clip_indices(start_seconds=s, end_seconds=e, num_frames_total=n_total, fps=fps).frame_indices
                for s, e in zooms]
    print(f"video {path}: {n_total} frames, fast view {len(fast)} frames; threads {threads}; repeats {repeats}",
          flush=True)

    def ours_fast(mode, skip=None):
        with open_video(path, num_threads=threads, skip_disposable=skip) as r:
            return sample_fast_view(r, mode=mode)

    def ours_zooms(each_fresh: bool) -> Span:
        span = Span()
        reader = None
        for s, e in zooms:
            if reader is None or each_fresh:
                if reader is not None:
                    reader.close()
                reader = open_video(path, num_threads=threads)
            with span:
                sample_clip(reader, s, e)
        reader.close()
        return per_zoom(span, len(zooms)) if each_fresh else span

    def per_zoom(span: Span, count: int) -> Span:
        span.wall /= count
        span.cpu /= count
        return span

    # name -> callable whose result is timed from outside, or a Span with its own timed regions
    cases: dict[str, Callable[[], object]] = {
        "open_s": lambda: open_video(path, num_threads=threads).close(),
        "fast_exact_s": lambda: ours_fast("exact"),
        "fast_exact_skip_s": lambda: ours_fast("exact", skip=True),
        "fast_exact_noskip_s": lambda: ours_fast("exact", skip=False),
        "fast_keyframe_s": lambda: ours_fast("keyframe"),
        "zoom_s": lambda: ours_zooms(each_fresh=True),
        "four_zooms_s": lambda: ours_zooms(each_fresh=False),
        "sequential_floor_s": lambda: sequential_floor(path, threads),
        "keyframe_floor_s": lambda: keyframe_floor(path),
    }
    try:
        import decord

        def decord_zooms(each_fresh: bool) -> Span:
            span = Span()
            vr = None
            for z in zoom_idx:
                if vr is None or each_fresh:
                    vr = decord.VideoReader(str(path), ctx=decord.cpu(0))
                with span:
                    vr.get_batch(z.tolist()).asnumpy()
            return per_zoom(span, len(zoom_idx)) if each_fresh else span

        cases["decord_fast_s"] = lambda: decord.VideoReader(str(path), ctx=decord.cpu(0)).get_batch(
            fast.tolist()).asnumpy()
        cases["decord_zoom_s"] = lambda: decord_zooms(each_fresh=True)
        cases["decord_four_zooms_s"] = lambda: decord_zooms(each_fresh=False)
    except ImportError:
        print("decord not installed: skipped", file=sys.stderr)
    try:
        from torchcodec.decoders import VideoDecoder

        def tc_zoom() -> Span:
            span = Span()
            for z in zoom_idx:
                dec = VideoDecoder(str(path), seek_mode="exact", num_ffmpeg_threads=threads)
                with span:
                    dec.get_frames_at(z.tolist())
            return per_zoom(span, len(zoom_idx))

        cases["torchcodec_fast_s"] = lambda: VideoDecoder(
            str(path), seek_mode="exact", num_ffmpeg_threads=threads).get_frames_at(fast.tolist())
        cases["torchcodec_zoom_s"] = tc_zoom
    except ImportError:
        print("torchcodec not installed: skipped", file=sys.stderr)

    # Interleaved rounds: every case runs once per round, so load drift on a shared machine
    # hits all cases alike; the median over rounds is reported.
    samples: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    exact = keyf = None
    for round_index in range(repeats):
        for name, fn in cases.items():
            with Span() as outside:
                out = fn()
            span = out if isinstance(out, Span) else outside
            samples[name].append(span.wall)
            cpu[name].append(span.cpu)
            if name == "fast_exact_s":
                exact = out
            elif name == "fast_keyframe_s":
                keyf = out
        print(f"round {round_index + 1}/{repeats} done", flush=True)
    rows = {name: statistics.median(values) for name, values in samples.items()}
    cpu_rows = {name: statistics.median(values) for name, values in cpu.items()}
    rows["keyframe_mean_abs_error_s"] = float(np.mean(np.abs(keyf.timestamps_seconds - exact.timestamps_seconds)))
    ratios = {
        "fast exact / sequential floor (target <= 1.1)": rows["fast_exact_s"] / rows["sequential_floor_s"],
        "  in CPU seconds": cpu_rows["fast_exact_s"] / cpu_rows["sequential_floor_s"],
        "  skipping forced on / off": (rows["fast_exact_skip_s"] / rows["sequential_floor_s"],
                                       rows["fast_exact_noskip_s"] / rows["sequential_floor_s"]),
        "four zooms / one zoom (target <= 4)": rows["four_zooms_s"] / rows["zoom_s"],
    }
    if "decord_zoom_s" in rows:
        ratios["decord zoom / ours zoom (target >= 2)"] = rows["decord_zoom_s"] / rows["zoom_s"]
        ratios["  in CPU seconds "] = cpu_rows["decord_zoom_s"] / cpu_rows["zoom_s"]
        ratios["decord fast / ours exact"] = rows["decord_fast_s"] / rows["fast_exact_s"]
        ratios["decord fast / ours keyframe (target >= 10)"] = rows["decord_fast_s"] / rows["fast_keyframe_s"]
    rows.update({f"{name.removesuffix('_s')}_cpu_s": value for name, value in cpu_rows.items()})
    return {"description": describe(path), "rows": rows, "ratios": ratios, "num_fast_frames": int(len(fast)),
            "duration_seconds": round(duration, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, nargs="+", help="input videos, one column each (make them with "
                                                             "--make-video)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--threads", type=int, default=2, help="decoder threads for ours and the sequential floor")
    parser.add_argument("--zoom-seconds", type=float, default=20.0, help="length of each zoom clip (seconds)")
    parser.add_argument("--make-video", type=Path, help="write a 1280x720 30 fps test video here and exit")
    parser.add_argument("--content", choices=["testsrc2", "needle"], default="testsrc2",
                        help="what --make-video writes: ffmpeg testsrc2 with x264 ultrafast, or the project's "
                             "needle video (love-r1 synth needle, x264 veryfast)")
    parser.add_argument("--duration-seconds", type=float, default=600.0, help="length for --make-video (seconds)")
    parser.add_argument("--gop-seconds", type=float, default=8.0, help="keyframe interval for --make-video (seconds)")
    parser.add_argument("--bframes", type=int, default=3,
                        help="testsrc2 only: B-frames between reference frames (count; 3 with b-pyramid = x264's "
                             "default; 0 = ultrafast's default, every frame a reference)")
    args = parser.parse_args(argv)
    if args.make_video:
        make_video(args.make_video, content=args.content, duration_seconds=args.duration_seconds,
                   gop_seconds=args.gop_seconds, bframes=args.bframes)
        return 0
    if not args.video:
        parser.error("--video is required (or --make-video)")
    results = {str(path): measure(path, repeats=args.repeats, threads=args.threads, zoom_seconds=args.zoom_seconds)
               for path in args.video}

    print()
    names = list(results)
    for i, name in enumerate(names):
        print(f"[{i + 1}] {results[name]['description']}")
    header = f"{'measurement (median, s)':<46}" + "".join(f"{f'[{i + 1}]':>14}" for i in range(len(names)))
    print(header)
    for row in results[names[0]]["rows"]:
        print(f"{row:<46}" + "".join(f"{results[n]['rows'].get(row, float('nan')):>14.3f}" for n in names))
    for ratio in results[names[0]]["ratios"]:
        cells = []
        for n in names:
            value = results[n]["ratios"].get(ratio)
            cells.append(" / ".join(f"{v:.2f}" for v in value) if isinstance(value, tuple) else
                         ("-" if value is None else f"{value:.2f}"))
        print(f"{ratio:<46}" + "".join(f"{c:>14}" for c in cells))
    print(json.dumps({"threads": args.threads, "repeats": args.repeats, "videos": {
        n: {"description": r["description"], **{k: round(v, 4) for k, v in r["rows"].items()},
            **{k: (list(v) if isinstance(v, tuple) else v) for k, v in r["ratios"].items()}}
        for n, r in results.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
