"""Decode benchmark: LOVE-R1 fast view and zoom clips, ours (PyAV exact / keyframe) vs decord and torchcodec.

Launch:
    python benchmarks/decode.py --make-video /tmp/bench_10min.mp4 --duration-seconds 600 --gop-seconds 8
    python benchmarks/decode.py --video /tmp/bench_10min.mp4 --repeats 3 --threads 2
  (add ``--bframes 0`` to ``--make-video`` for a stream without B-frames, where every frame is a
  reference and disposable-packet skipping has nothing to skip)

``--make-video`` writes a 1280x720, 30 fps H.264 test pattern (ffmpeg ``testsrc2``, libx264
ultrafast, fixed GOP, no scene cuts, ``--bframes`` B-frames with b-pyramid: 3 = x264's default
layout, 0 = ultrafast's) and exits; use ``--duration-seconds 3600`` for the
60-minute input and ``--gop-seconds 2`` for the short-GOP variant.

Measured (median of ``--repeats`` runs, seconds, one process, same machine):
- fast_exact / fast_keyframe: open + packet scan + ``sample_fast_view`` (overlay + resize
  included) in ``exact`` / ``keyframe`` mode; fast_exact_noskip / zoom_noskip: the same with
  ``skip_disposable=False`` (every packet decoded; the engine before disposable-packet skipping);
- zoom: one 32-frame, 20-s ``sample_clip`` on an open reader; four_zooms: four different ones;
- decord_fast / decord_zoom: ``decord.VideoReader(path)`` + ``get_batch`` of the same indices (the
  reference path; raw full-resolution frames, no overlay or resize) / ``get_batch`` on an open reader;
- torchcodec_fast / torchcodec_zoom: ``VideoDecoder(seek_mode="exact")`` + ``get_frames_at``;
- sequential_floor: PyAV decode of every frame with ``--threads`` threads, no conversion;
- keyframe_floor: PyAV demux of every packet, decoding keyframes only (``skip_frame="NONKEY"``).

Prints a table, then one JSON line (the last line).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from love_r1.video import clip_indices, fast_view_indices, open_video, sample_clip, sample_fast_view


def make_video(path: Path, *, duration_seconds: float, gop_seconds: float, bframes: int, fps: int = 30) -> None:
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is not installed; it is needed for --make-video")
    gop = int(round(gop_seconds * fps))
    cmd = ["ffmpeg", "-y", "-loglevel", "error", "-stats", "-f", "lavfi", "-i",
           f"testsrc2=size=1280x720:rate={fps}", "-t", str(duration_seconds), "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(gop), "-keyint_min", str(gop),
           "-sc_threshold", "0", "-x264-params", f"bframes={bframes}:b-pyramid={'normal' if bframes > 1 else 'none'}",
           str(path)]
    print(" ".join(cmd))
    subprocess.run(cmd, check=True)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, help="input video (make one with --make-video)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--threads", type=int, default=2, help="decoder threads for ours and the sequential floor")
    parser.add_argument("--zoom-seconds", type=float, default=20.0, help="length of each zoom clip (seconds)")
    parser.add_argument("--make-video", type=Path, help="write a 1280x720 30 fps test video here and exit")
    parser.add_argument("--duration-seconds", type=float, default=600.0, help="length for --make-video (seconds)")
    parser.add_argument("--gop-seconds", type=float, default=8.0, help="keyframe interval for --make-video (seconds)")
    parser.add_argument("--bframes", type=int, default=3,
                        help="B-frames between reference frames for --make-video (count; 3 with b-pyramid = x264's "
                             "default; 0 = ultrafast's default, every frame a reference)")
    args = parser.parse_args(argv)
    if args.make_video:
        make_video(args.make_video, duration_seconds=args.duration_seconds, gop_seconds=args.gop_seconds,
                   bframes=args.bframes)
        return 0
    if args.video is None:
        parser.error("--video is required (or --make-video)")
    path, repeats, threads = args.video, args.repeats, args.threads

    with open_video(path, num_threads=threads) as reader:
        meta = reader.metadata
    n_total, fps, duration = meta.num_frames, meta.fps, meta.duration_seconds
    fast = fast_view_indices(num_frames_total=n_total, fps=fps).frame_indices
    zoom_starts = [duration * f for f in (0.5, 0.2, 0.7, 0.35, 0.85)]
    zooms = [(s, s + args.zoom_seconds) for s in zoom_starts]
    zoom_idx = [clip_indices(start_seconds=s, end_seconds=e, num_frames_total=n_total, fps=fps).frame_indices
                for s, e in zooms]
    print(f"video {path}: {meta.width}x{meta.height}, {n_total} frames, {fps:g} fps, {duration:.1f} s, "
          f"{meta.num_keyframes} keyframes; fast view {len(fast)} frames; threads {threads}; repeats {repeats}",
          flush=True)

    def ours_fast(mode, skip=True):
        with open_video(path, num_threads=threads, skip_disposable=skip) as r:
            return sample_fast_view(r, mode=mode)

    def ours_zoom(skip=True):
        with open_video(path, num_threads=threads, skip_disposable=skip) as r:
            start = time.perf_counter()
            sample_clip(r, *zooms[0])
            return time.perf_counter() - start

    def ours_four():
        with open_video(path, num_threads=threads) as r:
            start = time.perf_counter()
            for s, e in zooms[1:5]:
                sample_clip(r, s, e)
            return time.perf_counter() - start

    # name -> callable returning None (timed from outside) or its own elapsed seconds (float)
    cases: dict[str, Callable[[], object]] = {
        "open_s": lambda: open_video(path, num_threads=threads).close(),
        "fast_exact_s": lambda: ours_fast("exact"),
        "fast_exact_noskip_s": lambda: ours_fast("exact", skip=False),
        "fast_keyframe_s": lambda: ours_fast("keyframe"),
        "zoom_s": ours_zoom,
        "zoom_noskip_s": lambda: ours_zoom(skip=False),
        "four_zooms_s": ours_four,
        "sequential_floor_s": lambda: sequential_floor(path, threads),
        "keyframe_floor_s": lambda: keyframe_floor(path),
    }
    try:
        import decord

        def decord_zooms(which):
            vr = decord.VideoReader(str(path), ctx=decord.cpu(0))
            start = time.perf_counter()
            for z in which:
                vr.get_batch(z.tolist()).asnumpy()
            return time.perf_counter() - start

        cases["decord_fast_s"] = lambda: decord.VideoReader(str(path), ctx=decord.cpu(0)).get_batch(
            fast.tolist()).asnumpy()
        cases["decord_zoom_s"] = lambda: decord_zooms(zoom_idx[:1])
        cases["decord_four_zooms_s"] = lambda: decord_zooms(zoom_idx[1:5])
    except ImportError:
        print("decord not installed: skipped", file=sys.stderr)
    try:
        from torchcodec.decoders import VideoDecoder

        def tc_zoom():
            dec = VideoDecoder(str(path), seek_mode="exact", num_ffmpeg_threads=threads)
            start = time.perf_counter()
            dec.get_frames_at(zoom_idx[0].tolist())
            return time.perf_counter() - start

        cases["torchcodec_fast_s"] = lambda: VideoDecoder(
            str(path), seek_mode="exact", num_ffmpeg_threads=threads).get_frames_at(fast.tolist())
        cases["torchcodec_zoom_s"] = tc_zoom
    except ImportError:
        print("torchcodec not installed: skipped", file=sys.stderr)

    # Interleaved rounds: every case runs once per round, so load drift on a shared machine
    # hits all cases alike; the median over rounds is reported.
    samples: dict[str, list[float]] = {name: [] for name in cases}
    exact = keyf = None
    decoded = 0
    for round_index in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            out = fn()
            elapsed = time.perf_counter() - start
            samples[name].append(out if isinstance(out, float) else elapsed)
            if name == "fast_exact_s":
                exact = out
            elif name == "fast_keyframe_s":
                keyf = out
            elif name == "sequential_floor_s":
                decoded = out
        print(f"round {round_index + 1}/{repeats} done", flush=True)
    rows = {name: statistics.median(values) for name, values in samples.items()}
    key_error = float(np.mean(np.abs(keyf.timestamps_seconds - exact.timestamps_seconds)))

    print()
    print(f"{'measurement':<24}{'seconds':>10}  note")
    notes = {
        "fast_exact_s": f"/ sequential floor = {rows['fast_exact_s'] / rows['sequential_floor_s']:.2f}x",
        "fast_keyframe_s": f"mean |t - exact t| = {key_error:.2f} s",
        "fast_exact_noskip_s": f"skip_disposable=False; / sequential floor = "
                               f"{rows['fast_exact_noskip_s'] / rows['sequential_floor_s']:.2f}x",
        "zoom_noskip_s": f"skip_disposable=False; / zoom = {rows['zoom_noskip_s'] / rows['zoom_s']:.2f}x",
        "four_zooms_s": f"/ one zoom = {rows['four_zooms_s'] / rows['zoom_s']:.2f}x",
    }
    if "decord_fast_s" in rows:
        notes["decord_fast_s"] = (f"ours exact {rows['decord_fast_s'] / rows['fast_exact_s']:.2f}x faster, "
                                  f"keyframe {rows['decord_fast_s'] / rows['fast_keyframe_s']:.1f}x faster")
        notes["decord_zoom_s"] = f"ours {rows['decord_zoom_s'] / rows['zoom_s']:.2f}x faster"
    notes["sequential_floor_s"] = f"{decoded} frames"
    for name, value in rows.items():
        print(f"{name:<24}{value:>10.3f}  {notes.get(name, '')}")
    result = {k: round(v, 4) for k, v in rows.items()}
    result.update(keyframe_mean_abs_error_s=round(key_error, 4), num_fast_frames=int(len(fast)),
                  video=str(path), duration_seconds=round(duration, 3), width=meta.width, height=meta.height,
                  num_keyframes=meta.num_keyframes, threads=threads, repeats=repeats)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
