"""``love-r1 data contamination``: training videos that also appear in evaluation benchmarks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from love_r1.cli._command import Leaf
from love_r1.cli._errors import CliError
from love_r1.cli.data._shared import WorkOptions, format_table, load_work_items, open_store, progress_bar, video_root_of
from love_r1.data._contamination import HashKind
from love_r1.eval.benchmarks import BenchmarkName

DESCRIPTION = """Compares the videos of the training annotations with evaluation videos of benchmarks
(--benchmark NAME --benchmark-root DIR, read with the eval adapters) or listed in manifests
(--eval-manifest, JSONL of {video_id, video_path[, benchmark]}): same file stem, or near-duplicate
content by 64-bit perceptual hashes of a few keyframe-decoded frames. Writes W/contamination.json,
which `data assemble` reads to refuse contaminated items."""


@dataclass(kw_only=True)
class Options(WorkOptions):
    benchmark: list[BenchmarkName] = field(default_factory=list, metadata={
        "help": "evaluation benchmark read with love_r1.eval.benchmarks (videomme, lvbench, mlvu, longvideobench, "
                "mvbench, cgbench, needle); repeatable, paired in order with --benchmark-root", "repeat": True})
    benchmark_root: list[Path] = field(default_factory=list, metadata={
        "help": "data root of the matching --benchmark (annotations + videos); repeatable", "repeat": True})
    eval_manifest: list[Path] = field(default_factory=list, metadata={
        "help": "JSONL of evaluation videos {video_id, video_path[, benchmark]} (repeatable)", "repeat": True})
    eval_video_root: Path | None = field(default=None, metadata={
        "help": "folder relative manifest paths are resolved against (None: each manifest's folder)"})
    num_frames: int = field(default=4, metadata={"help": "frames hashed per video (count)"})
    hash_kind: HashKind = field(default="dhash", metadata={"help": "perceptual hash: dhash or ahash"})
    max_hamming_bits: int = field(default=10, metadata={"help": "frames match within this many bits (of 64)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    min_matching_fraction: float = field(default=0.5, metadata={
        "help": "near duplicate when this share of frames match (fraction)"})


def _benchmark_videos(name: str, data_root: Path) -> list:
    """One reference per distinct video of a benchmark (id = the video file's stem)."""
    from love_r1.data import VideoRef
    from love_r1.eval.benchmarks import make_benchmark

    try:
        samples = make_benchmark(name, data_root).load()
    except ValueError as error:
        raise CliError(f"--benchmark {name}: {error}") from None
    paths = dict.fromkeys(str(sample.video_path) for sample in samples if sample.video_path is not None)
    return [VideoRef(video_id=Path(path).stem, path=path, origin=name) for path in paths]


def run(options: Options) -> int:
    from love_r1.data import VideoRef, find_contamination, read_eval_manifest

    if not options.eval_manifest and not options.benchmark:
        raise CliError("give at least one --benchmark NAME --benchmark-root DIR or --eval-manifest FILE")
    if len(options.benchmark) != len(options.benchmark_root):
        raise CliError(f"{len(options.benchmark)} --benchmark but {len(options.benchmark_root)} "
                         "--benchmark-root; give one root per benchmark, in the same order")
    items = load_work_items(options)
    root = video_root_of(options)
    path_to_qids: dict[str, list[str]] = {}
    train = []
    for item in items:
        if item.video_path not in path_to_qids:
            train.append(VideoRef(video_id=item.video_id, path=str(Path(root) / item.video_path), origin="train"))
        path_to_qids.setdefault(item.video_path, []).append(item.qid)
    evaluation = [ref for manifest in options.eval_manifest
                  for ref in read_eval_manifest(manifest, video_root=options.eval_video_root)]
    for name, data_root in zip(options.benchmark, options.benchmark_root, strict=True):
        evaluation.extend(_benchmark_videos(name, data_root))
    with open_store(options) as store, progress_bar(len(train) + len(evaluation), "fingerprint",
                                                        enabled=options.progress) as update:
        report = find_contamination(train, evaluation, num_frames=options.num_frames,
                                    hash_kind=options.hash_kind,
                                    max_hamming_bits=options.max_hamming_bits,
                                    min_matching_fraction=options.min_matching_fraction, store=store,
                                    progress=update)
    # report paths are absolute-ish; map them back to the annotation's relative video paths
    rel = {str(Path(root) / video): video for video in path_to_qids}
    data = report.to_dict(path_to_qids={str(Path(root) / v): q for v, q in path_to_qids.items()})
    data["contaminated_videos"] = sorted(rel.get(p, p) for p in report.contaminated_paths)
    out = Path(options.work_dir) / "contamination.json"
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    rows = [("training videos", len(train)), ("evaluation videos", len(evaluation)),
            ("id matches", len(report.id_matches)), ("near duplicates", len(report.near_duplicates)),
            ("contaminated videos", len(data["contaminated_videos"])),
            ("contaminated qids", len(data["contaminated_qids"])), ("unreadable", len(report.unreadable))]
    print(format_table(("contamination", "count"), rows))
    for match in report.near_duplicates[:10]:
        print(f"  near duplicate: {match['train_path']} ~ {match['eval_path']} ({match['benchmark']}, "
              f"{match['matching_fraction']:.0%} frames)")
    print(f"report: {out}")
    return 0


COMMAND = Leaf(
    name="contamination",
    help="report training videos that match evaluation videos by id or by perceptual hash",
    description=DESCRIPTION,
    options=Options,
    function=run,
)
