"""Size and load time of the results explorer (``love-r1 report --format html``) on a generated 2,700-item run.

Launch (from the repository root; needs the ``dev`` extra and Chromium for the load times):

    python benchmarks/report_page.py                        # 2,700 items, Video-MME's size (about 6 min on 2 cores)
    python benchmarks/report_page.py --copies 1             # 270 items, a quicker check

What it does: writes a needle dataset (``love-r1 synth needle``'s generator: ``--num-videos`` videos of 400 s at
128x72, 5 fps, 9 questions each; 400 s so the fast view is full, 768 frames, as on long benchmark videos),
evaluates it twice with the real eval runner and the scripted policy of ``tests/viz/runs.py`` (a mix of right,
wrong, unanswered and forced answers; each reply padded with ``--reasoning-words`` words, about the length of a
LOVE-R1 reply, so the embedded traces weigh what real ones do). Each run's stored items are then written
``--copies`` times under new ids (``<k>~<qid>``) into a new run store: 30 videos x 9 questions x 10 copies =
2,700 real trajectories without evaluating 2,700 episodes. Then it renders the explorer of run A and the
comparison A vs B with the default ``frame_items`` (40 items with pictures). Reported: render seconds, page
size (MB), and in headless Chromium (``tests/browser.py``) from file:// (median of 3 loads): time to
DOMContentLoaded, time until the explorer has drawn itself, time to apply one filter (in the page), and time
to open one item's trace (decompression included). Prints a table, then one JSON line (the last line).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers (the scripted policy, the browser)


# in the page: one filter chip click (the table, counts and plots redrawn synchronously), then opening the
# first row's trace until it is in the document (chunk decompression included); milliseconds
_INTERACT_JS = """async () => {
  let t0 = performance.now();
  document.querySelector(".facet[data-facet-id='resultA'] .chip").click();
  const filter = performance.now() - t0;
  t0 = performance.now();
  document.querySelector('#items tbody tr.item').click();
  await new Promise(done => { const check = () => document.querySelector('#panel .trace') ? done() :
                                                   requestAnimationFrame(check); check(); });
  return {filter, open: performance.now() - t0};
}"""


def measure_page(path: Path, *, loads: int = 3) -> dict[str, float]:
    from statistics import median

    from tests.browser import browser_page

    samples: dict[str, list[float]] = {"dom_content_loaded_ms": [], "ready_ms": [], "filter_ms": [],
                                       "open_trace_ms": []}
    with browser_page(viewport=(1280, 900)) as (page, errors):
        for _ in range(loads):
            page.goto(path.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            samples["dom_content_loaded_ms"].append(page.evaluate(
                "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))
            samples["ready_ms"].append(float(page.evaluate("document.body.dataset.readyMs")))
            timing = page.evaluate(_INTERACT_JS)
            samples["filter_ms"].append(timing["filter"])
            samples["open_trace_ms"].append(timing["open"])
        if errors:
            raise RuntimeError(f"console errors: {errors}")
    return {key: median(values) for key, values in samples.items()}


def copy_run(source, run_dir: Path, *, copies: int) -> None:
    """Store every item of ``source`` ``copies`` times under the ids ``<k>~<qid>`` in a new run store."""
    from love_r1.eval.store import RunStore

    with RunStore(run_dir / "results.sqlite") as store:
        store.register(source.config_hash, source.config)
        for k in range(copies):
            for row in source.items:
                qid = f"{k}~{row.qid}"  # copy first: sorted ids keep different trajectories side by side
                episode = None if row.episode is None else {**row.episode, "episode_id": qid}
                store.put(source.config_hash, qid, sample={**row.sample, "qid": qid}, episode=episode,
                          error=row.error, seconds=row.seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-videos", type=int, default=30, help="needle videos, 9 questions each (count)")
    parser.add_argument("--copies", type=int, default=10, help="times each evaluated item is stored (count)")
    parser.add_argument("--reasoning-words", type=int, default=120, help="words of reasoning per reply (count)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data and runs here (default: a temp dir)")
    parser.add_argument("--no-browser", action="store_true", help="skip the load-time measurements")
    args = parser.parse_args()

    from love_r1.eval.explorer import render_explorer
    from love_r1.eval.store import read_run
    from love_r1.synth import write_needle_dataset
    from tests.viz.runs import evaluate_run

    with tempfile.TemporaryDirectory() as scratch:
        root = args.workdir or Path(scratch)
        data = root / "data"
        started = time.perf_counter()
        if not (data / "annotations.jsonl").is_file():
            write_needle_dataset(data, duration_seconds=400.0, num_videos=args.num_videos, num_questions_per_video=9,
                                 width=128, height=72, fps=5.0, gop_seconds=2.0, seed=0)
        synth_seconds = time.perf_counter() - started
        started = time.perf_counter()
        runs = []
        for salt in ("a", "b"):
            run_dir = root / f"run-{salt}"
            if not any(run_dir.glob("results*.sqlite")):
                evaluate_run(data, run_dir, salt=salt, reasoning_words=args.reasoning_words)
            copied = root / f"run-{salt}-x{args.copies}"
            if not any(copied.glob("results*.sqlite")):
                copy_run(read_run(run_dir), copied, copies=args.copies)
            runs.append(read_run(copied))
        eval_seconds = time.perf_counter() - started
        results = {"items": len(runs[0].items), "reasoning_words": args.reasoning_words,
                   "synth_seconds": synth_seconds, "eval_seconds": eval_seconds}
        for name, pair in (("explorer", (runs[0], None)), ("comparison", (runs[0], runs[1]))):
            started = time.perf_counter()
            text = render_explorer(*pair)
            seconds = time.perf_counter() - started
            path = root / f"{name}.html"
            path.write_text(text, encoding="utf-8")
            results[name] = {"render_seconds": seconds, "size_mb": path.stat().st_size / 1e6}
            if not args.no_browser:
                results[name].update(measure_page(path))
    print(f"{results['items']} items ({results['items'] // args.copies} evaluated, stored {args.copies} times; "
          f"{results['reasoning_words']} words of reasoning per reply); synth {synth_seconds:.0f} s, "
          f"two evals {eval_seconds:.0f} s")
    print(f"{'page':<11} {'size (MB)':>9} {'render (s)':>10} {'DOM loaded (ms)':>15} {'drawn (ms)':>10} "
          f"{'filter (ms)':>11} {'open trace (ms)':>15}")
    for name in ("explorer", "comparison"):
        r = results[name]
        cells = [f"{r.get(k, float('nan')):.0f}" for k in ("dom_content_loaded_ms", "ready_ms", "filter_ms",
                                                              "open_trace_ms")]
        print(f"{name:<11} {r['size_mb']:>9.2f} {r['render_seconds']:>10.1f} {cells[0]:>15} {cells[1]:>10} "
              f"{cells[2]:>11} {cells[3]:>15}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
