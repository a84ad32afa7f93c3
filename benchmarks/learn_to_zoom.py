"""Learn to zoom on a laptop: does a tiny Qwen2.5-VL trained from random weights on CPU learn to zoom and beat uniform?

Launch (from the repository root; 4,357 s for ``--seed 2`` on 2 CPU cores shared with other work, 4,562 CPU-seconds):

    PYTHONPATH=src python benchmarks/learn_to_zoom.py --out runs/learn --seed 0
    PYTHONPATH=src python benchmarks/learn_to_zoom.py --out runs/learn-s1 --seed 1      # other videos, questions, weights
    PYTHONPATH=src python benchmarks/learn_to_zoom.py --out runs/learn-smoke --smoke    # 60-s videos, SFT only

The pipeline is the one users run, one CLI command per stage (each stage's output is cached under
``--out``; re-running skips the finished stages, so a killed run resumes):

==========  ====================================================================================
data        ``love-r1 synth learn-to-zoom``: training videos and held-out videos (other seeds), and the
            training records (the ideal episode of each question, in the published record formats)
premise     the resolution premise on the held-out frames the model is given (an oracle reader of the
            stripes' direction in each view, a presence detector on the fast view)
check       ``love-r1 data check`` on every records file; ``love-r1 data contamination`` of the held-out
            videos against the training videos
model       ``love-r1 synth tiny-model --size medium --phrase-tokens`` (random weights)
sft1        ``love-r1 train sft --config configs/learn/sft_stage1.yaml``: read the stripes in a clip
sft2_zoom   ``... sft_stage2_zoom.yaml``: stage 2a, the zoom step alone (localise the card)
sft2        ``... sft_stage2.yaml``: stage 2, both steps of the ideal episode (zoom, then answer)
grpo        ``love-r1 train grpo --config configs/learn/grpo.yaml``
uniform     ``love-r1 train sft --config configs/learn/sft_uniform.yaml``: the single-pass baseline, trained
            on its own inputs (stage-1 QA records: the whole video as the clip) with the same questions
            and as many samples as stages 1, 2a and 2 together
eval-*      ``love-r1 eval --config configs/learn/eval_zoom.yaml`` (SFT, GRPO) and ``eval_uniform.yaml``
report      ``love-r1 report --format json`` and ``--format csv`` of each run, and the statistics below
==========  ====================================================================================

Budgets. A zoom episode shows the fast view (60 frames at 28x28 px: 30 visual tokens) and at most one
zoom clip (6 frames at 112x112 px: 48 tokens), i.e. at most 78 visual tokens. The uniform baseline
(``--method stage1``, the reference's single pass) shows the same fast view and one clip of the same
6 frames at 112x112 px spread over the whole video: exactly the same 78 tokens, only where the clip's
frames fall differs.

Printed: a table, then (last line) one JSON object with ``chance``, ``accuracy_uniform``,
``accuracy_sft``, ``accuracy_grpo`` (held-out, with 95 % Wilson intervals ``*_ci95``), ``zoom_iou_sft``,
``zoom_iou_grpo`` (mean IoU of the applied zoom clip with the card's interval, 0 without a zoom),
``zoom_iou_random`` (a policy zooming at random with the ideal request's length), ``zoom_fraction_*``,
``accuracy_*_zoom_hit`` / ``_zoom_miss`` (the applied clip overlaps the interval or not), the uniform
baseline's ``uniform_coverage`` (share of questions whose whole-video clip has a frame showing the card)
and ``uniform_reader_bound`` (the accuracy a perfect reader of those frames would get), ``premise``,
``grpo_rewards`` (first vs last updates, per reward and step), ``seconds`` (total wall time),
``stage_seconds`` and ``stage_cpu_seconds`` (per stage; CPU time of the stage's processes).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs" / "learn"
# The budgets of configs/learn/*.yaml (the premise and the coverage are measured at these).
FAST_MAX_FRAMES, FAST_PIXELS, CLIP_MAX_FRAMES, CLIP_PIXELS = 60, 28 * 28, 6, 112 * 112
NUM_OPTIONS = 4
DURATION_SECONDS = 120  # each video (seconds): a zoom clip spans >= 15 s, so the uniform clip's frames rarely hit

# --smoke: a few minutes on 2 cores (the slow CI test): fewer videos, stage-2 SFT only, no GRPO / uniform.
SMOKE = {"train_videos": 96, "eval_videos": 32}
SMOKE_DURATION_SECONDS = 60  # four shots that may hold the card instead of ten: learnable in a few minutes
# stage 2 straight from random weights (no stage 1 to learn the vision tower): the tower learns here
SMOKE_SFT2 = ["--num-train-epochs", "4", "--learning-rate", "2e-3", "--logging-steps", "20", "--no-freeze-vision-tower"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "love_r1.cli", *args]


def fingerprint(name: str, commands: list[list[Any]], upstream: list[str]) -> str:
    """What a finished stage's marker holds (with the time it finished): a hash of its command lines, the
    settings of every config file they name (parsed YAML, so comments do not count) and the markers of the
    stages it reads. A stage whose fingerprint changed (another recipe, or an upstream stage that ran again)
    runs again. Changes to the package's code do not count: delete ``--out`` (or the stage's marker) after
    changing it."""
    import yaml

    from love_r1.eval.store import config_hash

    configs = {str(c): yaml.safe_load(c.read_text(encoding="utf-8"))
               for command in commands for c in command
               if isinstance(c, Path) and c.suffix == ".yaml" and c.is_file()}
    return config_hash({"name": name, "commands": [[str(c) for c in command] for command in commands],
                        "configs": configs, "upstream": upstream})


class Pipeline:
    """Runs the stages in order, each once: a marker per stage under ``out/stages/`` holds its
    :func:`fingerprint`; a stage runs again when its fingerprint changed."""

    def __init__(self, out: Path, *, seed: int, smoke: bool, train_videos: int, eval_videos: int,
                 log: Any) -> None:
        self.out, self.seed, self.smoke = out, seed, smoke
        self.duration_seconds = SMOKE_DURATION_SECONDS if smoke else DURATION_SECONDS
        self.train_videos, self.eval_videos = train_videos, eval_videos
        self.log = log
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        (out / "stages").mkdir(parents=True, exist_ok=True)
        timing = out / "stages" / "timing.json"
        if timing.is_file():
            saved = json.loads(timing.read_text())
            self.seconds, self.cpu_seconds = saved["seconds"], saved["cpu_seconds"]

    # paths
    @property
    def train(self) -> Path:
        return self.out / "data" / "train"

    @property
    def heldout(self) -> Path:
        return self.out / "data" / "heldout"

    def run(self, name: str, commands: list[list[Any]] | None = None, function: Any = None,
            after: tuple[str, ...] = (), outputs: tuple[Path, ...] = ()) -> None:
        """Run stage ``name`` (its ``commands``, then ``function``) unless its marker holds the same fingerprint;
        ``after``: the stages whose outputs it reads (run before it); ``outputs``: the folders it writes, removed
        before it runs (an evaluation resumes from the results in its folder: a stale one would be reused)."""
        marker = self.out / "stages" / f"{name}.done"
        upstream = [(self.out / "stages" / f"{stage}.done").read_text(encoding="utf-8").strip() for stage in after]
        key = fingerprint(name, commands or [], upstream)
        if marker.is_file() and marker.read_text(encoding="utf-8").split()[0] == key:
            self.log(f"[{name}] cached")
            return
        self.log(f"[{name}] running" if not marker.is_file() else f"[{name}] running again (recipe or input changed)")
        marker.unlink(missing_ok=True)
        (self.out / "stages" / f"{name}.log").unlink(missing_ok=True)
        for folder in outputs:
            shutil.rmtree(folder, ignore_errors=True)
        started, cpu, own = time.perf_counter(), _children_cpu(), time.process_time()
        for command in commands or []:
            self.log("  $ " + " ".join(str(c) for c in command))
            with (self.out / "stages" / f"{name}.log").open("a", encoding="utf-8") as handle:
                result = subprocess.run([str(c) for c in command], stdout=handle, stderr=subprocess.STDOUT,
                                        env=_env(), cwd=REPO, check=False)
            if result.returncode != 0:
                tail = (self.out / "stages" / f"{name}.log").read_text(encoding="utf-8")[-3000:]
                raise SystemExit(f"stage {name} failed (exit {result.returncode}):\n{tail}")
        if function is not None:
            function()
        self.seconds[name] = time.perf_counter() - started
        self.cpu_seconds[name] = _children_cpu() - cpu + (time.process_time() - own if function is not None else 0.0)
        (self.out / "stages" / "timing.json").write_text(json.dumps(
            {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds}, indent=1))
        # the completion time too: a stage that ran again (same fingerprint, new outputs) changes its readers'
        marker.write_text(f"{key} {time.time_ns()}\n", encoding="utf-8")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- statistics


def wilson(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    """95 % Wilson score interval of a proportion (``None`` when ``n == 0``)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]


def _iou(a: list[float], b: list[float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if inter > 0 and union > 0 else 0.0


def run_statistics(run_dir: Path) -> dict[str, Any]:
    """Accuracy (CI), zoom fraction, applied-zoom IoU, accuracy on hits and misses, from ``love-r1 report``'s files."""
    summary = json.loads((run_dir / "report.json").read_text())
    with (run_dir / "items.csv").open(encoding="utf-8") as handle:
        items = list(csv.DictReader(handle))
    n = len(items)
    correct = [int(row["correct"] or 0) for row in items]
    zooms = [int(row["zooms"] or 0) for row in items]
    ious = [float(row["best_iou"] or 0.0) for row in items]
    hits = [i for i in range(n) if zooms[i] and ious[i] > 0]
    misses = [i for i in range(n) if not (zooms[i] and ious[i] > 0)]
    requested = []
    for line in (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        steps = (row.get("episode") or {}).get("steps") or []
        evidence = (row.get("sample") or {}).get("evidence") or []
        interval = next((s.get("requested_interval") for s in steps if s.get("requested_interval")), None)
        requested.append(max((_iou(interval, e) for e in evidence), default=0.0) if interval else 0.0)
    k = sum(correct)
    return {
        "n": n, "accuracy": round(k / n, 4) if n else None, "accuracy_ci95": wilson(k, n),
        "report_accuracy_percent": summary.get("accuracy"),
        "zoom_fraction": round(sum(z > 0 for z in zooms) / n, 4) if n else None,
        "zoom_iou": round(sum(ious) / n, 4) if n else None,
        "requested_iou": round(sum(requested) / len(requested), 4) if requested else None,
        "zoom_hit_rate": round(len(hits) / n, 4) if n else None,
        "accuracy_zoom_hit": round(sum(correct[i] for i in hits) / len(hits), 4) if hits else None,
        "accuracy_zoom_hit_ci95": wilson(sum(correct[i] for i in hits), len(hits)),
        "accuracy_zoom_miss": round(sum(correct[i] for i in misses) / len(misses), 4) if misses else None,
        "accuracy_zoom_miss_ci95": wilson(sum(correct[i] for i in misses), len(misses)),
        "num_zoom_hit": len(hits), "num_zoom_miss": len(misses),
        "extraction_failures": summary.get("num_extraction_failures"), "errors": summary.get("num_errors"),
    }


def random_policy_iou(dataset: Path, *, draws: int = 50, seed: int = 0) -> float:
    """Mean IoU with the card's interval of the clip the reference policy applies to a random request of the
    ideal request's length (uniform start), over the held-out questions."""
    from love_r1.agent.loop import resolve_zoom
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.data._learn_to_zoom import requested_interval

    policy, rng, total, count = ZoomPolicy(), random.Random(seed), 0.0, 0
    shot_seconds = float(json.loads((dataset / "dataset.json").read_text())["params"].get("shot_seconds", 0.0))
    for line in (dataset / "annotations.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        duration = float(row["duration_seconds"])
        ideal = requested_interval(row["evidence"], duration_seconds=duration, shot_seconds=shot_seconds)
        length = ideal[1] - ideal[0]
        for _ in range(draws):
            start = rng.randint(0, int(duration) - length)
            clip, _ = resolve_zoom(start_seconds=start, end_seconds=start + length, duration_seconds=duration,
                                   existing=(), policy=policy)
            if clip is not None:
                total += max((_iou(clip.as_list(), e) for e in row["evidence"]), default=0.0)
            count += 1
    return round(total / count, 4)


def uniform_coverage(dataset: Path) -> float:
    """Share of questions whose stage-1 whole-video clip (CLIP_MAX_FRAMES frames) has a frame showing the card."""
    from love_r1.video import clip_selection, open_video, timeline

    card = json.loads((dataset / "dataset.json").read_text(encoding="utf-8"))
    covered = 0
    for video in card["videos"]:
        start, end = video["card"]["evidence"]
        with open_video(dataset / video["video"]) as reader:
            line = timeline(reader, time_base="presentation")
            selection = clip_selection(timeline=line, start_seconds=0.0, end_seconds=float(int(line.duration_seconds)),
                                       max_frames=CLIP_MAX_FRAMES)
            times = line.seconds_of(selection.frame_indices)
        covered += any(start <= t < end for t in times)
    return round(covered / len(card["videos"]), 4)


def grpo_rewards(metrics_path: Path) -> dict[str, Any]:
    """Mean of each reward (and the combined reward) per step over the first and the last fifth of the updates."""
    rows = [json.loads(line) for line in metrics_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        return {}
    k = max(1, len(rows) // 5)
    keys = [key for key in rows[0] if key.startswith(("reward_step", "accuracy_step", "format_step", "zoom_step"))]

    def mean(block: list[dict], key: str) -> float | None:
        values = [r[key] for r in block if r.get(key) is not None and r[key] == r[key]]
        return round(sum(values) / len(values), 4) if values else None

    return {"updates": len(rows), "window": k,
            "first": {key: mean(rows[:k], key) for key in keys}, "last": {key: mean(rows[-k:], key) for key in keys}}


# --------------------------------------------------------------------------- stages


def build(pipeline: Pipeline) -> dict[str, Path]:
    out, seed = pipeline.out, pipeline.seed
    train_seed, heldout_seed = 2 * seed + 1, 2 * seed + 2  # disjoint for every --seed
    pipeline.run("data", [
        _cli("synth", "learn-to-zoom", "--out", pipeline.train, "--num-videos", str(pipeline.train_videos),
             "--duration-seconds", str(pipeline.duration_seconds), "--seed", str(train_seed), "--encode-processes", "2",
             "--no-progress"),
        _cli("synth", "learn-to-zoom", "--out", pipeline.heldout, "--num-videos", str(pipeline.eval_videos),
             "--duration-seconds", str(pipeline.duration_seconds), "--seed", str(heldout_seed), "--encode-processes", "2",
             "--no-records", "--no-progress"),
    ], outputs=(pipeline.train, pipeline.heldout))

    def premise() -> None:
        from love_r1.data import check_resolution_premise

        result = check_resolution_premise(
            pipeline.heldout, fast_max_frames=FAST_MAX_FRAMES, fast_pixels_per_frame=FAST_PIXELS,
            clip_max_frames=CLIP_MAX_FRAMES, clip_pixels_per_frame=CLIP_PIXELS, extra_fast_pixels=(56 * 56,),
            max_videos=24 if pipeline.smoke else 100)
        result["uniform_coverage"] = uniform_coverage(pipeline.heldout)
        result["zoom_iou_random"] = random_policy_iou(pipeline.heldout, seed=seed)
        (out / "premise.json").write_text(json.dumps(result, indent=1))

    pipeline.run("premise", function=premise, after=("data",))
    records = pipeline.train / "records"
    pipeline.run("check", [
        *[_cli("data", "check", records / f"{name}.jsonl", "--video-root", pipeline.train,
               "--json-out", out / "stages" / f"check-{name}.jsonl")
          for name in ("sft_stage1_grounding", "sft_stage1_qa", "sft_stage2_zoom", "sft_stage2", "grpo")],
        _cli("data", "contamination", "--annotations", pipeline.train / "annotations.jsonl", "--work-dir",
             out / "data" / "work", "--benchmark", "needle", "--benchmark-root", pipeline.heldout),
    ], after=("data",), outputs=(out / "data" / "work",))
    model = out / "model"
    pipeline.run("model", [_cli("synth", "tiny-model", "--out", model, "--size", "medium", "--phrase-tokens",
                                     "--seed", str(seed))], outputs=(model,))

    def train(stage: str, config: str, start: Path, train_file: Path, extra: list[str] = ()) -> Path:
        target = out / stage
        pipeline.run(stage, [_cli("train", "sft" if "sft" in config else "grpo", "--config", CONFIGS / config,
                                  "--model-name-or-path", start, "--train-file", train_file,
                                  "--video-root", pipeline.train, "--output-dir", target, "--seed", str(seed),
                                  *extra)], after=("data", start.name), outputs=(target,))
        return target

    def evaluate(name: str, config: str, checkpoint: Path) -> Path:
        run_dir = out / f"eval-{name}"
        pipeline.run(f"eval-{name}", [
            _cli("eval", "--config", CONFIGS / config, "--model", checkpoint, "--data-root", pipeline.heldout,
                 "--out", run_dir),
            _cli("report", run_dir, "--format", "json", "--output", run_dir / "report.json"),
            _cli("report", run_dir, "--format", "csv", "--output", run_dir / "items.csv"),
        ], after=("data", checkpoint.name), outputs=(run_dir,))
        return run_dir

    runs = {}
    if pipeline.smoke:
        sft2 = train("sft2", "sft_stage2.yaml", model, records / "sft_stage2.jsonl", SMOKE_SFT2)
        runs["sft"] = evaluate("sft", "eval_zoom.yaml", sft2)
        return runs
    sft1 = train("sft1", "sft_stage1.yaml", model, records / "sft_stage1_grounding.jsonl")
    sft2_zoom = train("sft2_zoom", "sft_stage2_zoom.yaml", sft1, records / "sft_stage2_zoom.jsonl")
    sft2 = train("sft2", "sft_stage2.yaml", sft2_zoom, records / "sft_stage2.jsonl")
    grpo = train("grpo", "grpo.yaml", sft2, records / "grpo.jsonl")
    uniform = train("uniform", "sft_uniform.yaml", model, records / "sft_stage1_qa.jsonl")
    runs["uniform"] = evaluate("uniform", "eval_uniform.yaml", uniform)
    runs["sft"] = evaluate("sft", "eval_zoom.yaml", sft2)
    runs["grpo"] = evaluate("grpo", "eval_zoom.yaml", grpo)
    return runs


def summarise(pipeline: Pipeline, runs: dict[str, Path], started: float) -> dict[str, Any]:
    premise = json.loads((pipeline.out / "premise.json").read_text())
    stats = {name: run_statistics(path) for name, path in runs.items()}
    coverage = premise["uniform_coverage"]
    result: dict[str, Any] = {"seed": pipeline.seed, "smoke": pipeline.smoke, "chance": round(1 / NUM_OPTIONS, 4),
                              "train_videos": pipeline.train_videos, "eval_videos": pipeline.eval_videos}
    for name, s in stats.items():
        result[f"accuracy_{name}"] = s["accuracy"]
        result[f"accuracy_{name}_ci95"] = s["accuracy_ci95"]
        if name != "uniform":  # e.g. zoom_iou_sft, accuracy_sft_zoom_hit, accuracy_sft_zoom_hit_ci95
            for key in ("zoom_iou", "zoom_fraction", "requested_iou", "zoom_hit_rate", "num_zoom_hit", "num_zoom_miss"):
                result[f"{key}_{name}"] = s[key]
            for key in ("zoom_hit", "zoom_hit_ci95", "zoom_miss", "zoom_miss_ci95"):
                result[f"accuracy_{name}_{key}"] = s[f"accuracy_{key}"]
    result["zoom_iou_random"] = premise["zoom_iou_random"]
    result["uniform_coverage"] = coverage
    result["uniform_reader_bound"] = round(coverage + (1 - coverage) / NUM_OPTIONS, 4)
    result["premise"] = premise["views"]
    grpo_metrics = pipeline.out / "grpo" / "metrics.jsonl"
    if grpo_metrics.is_file():
        result["grpo_rewards"] = grpo_rewards(grpo_metrics)
    result["seconds"] = round(sum(pipeline.seconds.values()), 1)
    result["stage_seconds"] = {k: round(v, 1) for k, v in pipeline.seconds.items()}
    result["stage_cpu_seconds"] = {k: round(v, 1) for k, v in pipeline.cpu_seconds.items()}
    result["runs"] = {name: str(path) for name, path in runs.items()}
    result["this_invocation_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(result: dict[str, Any]) -> str:
    lines = [f"{'run':<10} {'accuracy':>9} {'95% CI':>17} {'zooms':>6} {'zoom IoU':>9} {'acc hit':>8} {'acc miss':>9}"]
    for name in ("uniform", "sft", "grpo"):
        if f"accuracy_{name}" not in result:
            continue
        ci = result[f"accuracy_{name}_ci95"]
        zooms = result.get(f"zoom_fraction_{name}")
        iou = result.get(f"zoom_iou_{name}")
        hit, miss = result.get(f"accuracy_{name}_zoom_hit"), result.get(f"accuracy_{name}_zoom_miss")
        lines.append(f"{name:<10} {result[f'accuracy_{name}']:>9.3f} {f'[{ci[0]:.3f}, {ci[1]:.3f}]':>17} "
                     f"{_fmt(zooms):>6} {_fmt(iou):>9} {_fmt(hit):>8} {_fmt(miss):>9}")
    lines.append(f"chance {result['chance']:.3f}; random-policy zoom IoU {result['zoom_iou_random']:.3f}; uniform "
                 f"clip shows the card on {result['uniform_coverage']:.3f} of the questions (a perfect reader: "
                 f"{result['uniform_reader_bound']:.3f})")
    for view, v in result["premise"].items():
        presence = f", presence {v['presence_accuracy']:.3f}" if "presence_accuracy" in v else ""
        lines.append(f"premise {view} ({v['pixels']}): oracle direction {v['direction_accuracy']:.3f}, "
                     f"MCQ {v['mcq_accuracy']:.3f}{presence}")
    stages = ", ".join(f"{k} {v:.0f}" for k, v in result["stage_seconds"].items())
    lines.append(f"seconds: {result['seconds']:.0f} ({stages})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the cached stages (reused to resume)")
    parser.add_argument("--seed", type=int, default=0, help="changes every generated video and question and the "
                                                            "weights (integer)")
    parser.add_argument("--train-videos", type=int, default=None, help="training videos = questions (count)")
    parser.add_argument("--eval-videos", type=int, default=None, help="held-out videos = questions (count)")
    parser.add_argument("--smoke", action="store_true", help="a few minutes: fewer videos, stage-2 SFT only")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else {"train_videos": 600, "eval_videos": 200}
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(args.out, seed=args.seed, smoke=args.smoke,
                        train_videos=args.train_videos or sizes["train_videos"],
                        eval_videos=args.eval_videos or sizes["eval_videos"],
                        log=lambda text: print(text, file=sys.stderr, flush=True))
    runs = build(pipeline)
    result = summarise(pipeline, runs, started)
    (args.out / "result.json").write_text(json.dumps(result, indent=1))
    print(_table(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
