"""Teacher-call throughput of the data steps: parallel workers vs one at a time, and resume cost.

Launch (from the repository root, CPU only, about 10 s):

    python benchmarks/data_teacher_calls.py
    python benchmarks/data_teacher_calls.py --num-items 200 --latency-seconds 0.05 --workers 1 4 16

A fake teacher answers every request after ``--latency-seconds`` (a stand-in for an API's
round trip; it sleeps, so it uses no CPU). ``love_r1.data.run_zoom_cot`` asks it for one zoom
reply per item, with the store on disk (SQLite, WAL), for each ``--workers`` value, each in a
fresh store. Then the same step is re-run on the filled store (the resume path: every call is
found stored, none is sent).

Prints a table (seconds, calls per second, speed-up over one worker), then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from love_r1.backends import Generation, TokenUsage
from love_r1.data import CallStore, QAItem, ZoomCotConfig, run_zoom_cot
from love_r1.data._captions import caption_file_name
from love_r1.interval import Interval


class SleepyTeacher:
    def __init__(self, latency_seconds: float) -> None:
        self.latency_seconds = latency_seconds
        self.num_requests = 0

    def generate(self, requests):
        time.sleep(self.latency_seconds)
        self.num_requests += len(requests)
        return [Generation("I look there. \\boxed{[10, 20]}", TokenUsage(prompt_tokens=500, completion_tokens=50))
                for _ in requests]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-items", type=int, default=96, help="questions (count)")
    parser.add_argument("--latency-seconds", type=float, default=0.02, help="fake API round trip (seconds)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16], help="worker counts to compare")
    args = parser.parse_args()

    items = [QAItem(qid=f"q{i}", video_path=f"v{i % 8}.mp4", question=f"Question {i}?", options=("A. x", "B. y"),
                    gold="A", evidence=(Interval(12, 18),), duration_seconds=60.0) for i in range(args.num_items)]
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        captions = Path(tmp) / "captions"
        captions.mkdir()
        for v in {i.video_path for i in items}:
            lines = [json.dumps({"start_seconds": s, "end_seconds": s + 10, "text": f"scene {s}"})
                     for s in range(0, 60, 10)]
            (captions / caption_file_name(v)).write_text("\n".join(lines) + "\n")
        for workers in args.workers:
            store = CallStore(Path(tmp) / f"store_{workers}.sqlite")
            teacher = SleepyTeacher(args.latency_seconds)
            began = time.perf_counter()
            run_zoom_cot(teacher, items, captions_dir=captions, store=store, config=ZoomCotConfig(), workers=workers)
            seconds = time.perf_counter() - began
            results[f"workers_{workers}"] = seconds
            if workers == args.workers[-1]:
                began = time.perf_counter()
                resume = SleepyTeacher(args.latency_seconds)
                run_zoom_cot(resume, items, captions_dir=captions, store=store, config=ZoomCotConfig(),
                             workers=workers)
                results["resume_all_stored"] = time.perf_counter() - began
                results["resume_requests"] = resume.num_requests
            store.close()
    base = results[f"workers_{args.workers[0]}"]
    print(f"{'run':<22} {'seconds':>8} {'calls/s':>8} {'speed-up':>8}")
    for workers in args.workers:
        seconds = results[f"workers_{workers}"]
        print(f"{'workers=' + str(workers):<22} {seconds:>8.3f} {args.num_items / seconds:>8.1f} "
              f"{base / seconds:>8.2f}")
    print(f"{'resume (all stored)':<22} {results['resume_all_stored']:>8.3f} {'-':>8} "
          f"{base / results['resume_all_stored']:>8.2f}")
    print(json.dumps({"num_items": args.num_items, "latency_seconds": args.latency_seconds, **{
        k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()},
        "speedup_max_workers": round(base / results[f"workers_{args.workers[-1]}"], 2)}))


if __name__ == "__main__":
    main()
