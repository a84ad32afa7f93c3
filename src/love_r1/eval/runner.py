"""Run a benchmark through a backend: pre-flight, resume, shard, store every trajectory.

:func:`evaluate` is the whole pipeline behind ``love-r1 eval``:

1. the benchmark's samples (optionally the first ``limit``), this shard's share (round-robin by index);
2. skip the qids already finished under the same configuration hash (any shard file of the run);
3. items whose annotation is unusable (``Sample.data_error``) are stored as ``data error`` items;
4. pre-flight (:mod:`love_r1.eval.preflight`): every referenced video must exist and open; missing
   or corrupt videos are reported up front and their items stored as errors without a model call;
5. questions on the same video run together through the method's runner
   (:mod:`love_r1.eval.methods`: ``zoom``, ``stage1``, ``uniform``), which prefetches the next
   videos' frames into a shared cache while the model works;
6. one committed row per item (trajectory JSON), a broken video failing only its own items.

With ``benchmark.subtitles`` each question's subtitle file is read once per video
(:mod:`love_r1.eval.subtitles`) and every prompt gets the lines active at its fast view's frame
times before the question (``subtitle_mode="fast+clips"``: also the lines inside each zoom clip),
through :attr:`love_r1.agent.loop.EpisodeTask.context_text`. A missing or unreadable file means no
subtitles for that item, recorded in the stored sample's ``"subtitles"`` entry, never an error.

``config.probe`` (:mod:`love_r1.eval.probes`) runs a robustness probe instead of the normal input:
``"no-visual"`` (black frames, or no video for ``uniform``) or ``"shuffled-options"``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from love_r1.backends import Backend
from love_r1.eval.benchmarks import Benchmark
from love_r1.eval.config import EvalConfig, run_config, select_samples
from love_r1.eval.extract import extract_choice
from love_r1.eval.methods import MethodRun, run_method
from love_r1.eval.preflight import PreflightReport, preflight
from love_r1.eval.records import DATA_ERROR, Sample, order_by_video
from love_r1.eval.store import (
    RunStore,
    check_same_model,
    collect_provenance,
    config_hash,
    finished_in_run,
    model_fingerprint,
    shard_db_name,
)
from love_r1.eval.subtitles import SubtitleProvider

logger = logging.getLogger(__name__)


@dataclass
class EvalProgress:
    """Running totals shown in the progress bar and returned by :func:`evaluate`."""

    done: int = 0
    correct: int = 0
    errors: int = 0
    data_errors: int = 0
    extraction_failures: int = 0
    skipped_finished: int = 0
    preflight: PreflightReport | None = None
    subtitles: dict[str, int] = field(default_factory=dict)  # items per subtitle status (subtitles on)
    count_warning: str | None = None
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.done if self.done else 0.0


def final_text(episode: dict[str, Any]) -> str:
    """The text to extract the answer from: the last step's full reply, else the recorded answer."""
    steps = episode.get("steps") or []
    if steps:
        last = steps[-1]
        return (last.get("assistant_prefix") or "") + (last.get("raw_text") or "")
    return episode.get("answer") or ""


def _prepared(benchmark: Benchmark, config: EvalConfig) -> Benchmark:
    """The adapter as the configuration asks: the stage-1 text for ``stage1``, shuffled options for the probe."""
    if config.method == "stage1" and benchmark.prompt_preset == "love_r1":
        benchmark = benchmark.reconfigured(prompt_preset="love_r1_stage1")
    if config.probe == "shuffled-options" and benchmark.shuffle_options_seed != config.probe_seed:
        benchmark = benchmark.reconfigured(shuffle_options_seed=config.probe_seed)
    elif config.probe != "shuffled-options" and benchmark.shuffle_options_seed is not None:
        raise ValueError("the benchmark was built with shuffle_options_seed; pass probe='shuffled-options' "
                         "(and probe_seed) to evaluate instead, so that the probe is recorded")
    if benchmark.subtitles and config.probe == "no-visual":
        raise ValueError("--subtitles cannot be combined with --probe no-visual: the subtitle lines shown "
                         "depend on the frames shown")
    return benchmark


def evaluate(benchmark: Benchmark, backend: Backend, config: EvalConfig, *, progress: bool = True,
             on_item: Callable[[str], None] | None = None) -> tuple[str, EvalProgress]:
    """Run (or resume) this shard of ``benchmark``; returns ``(config_hash, progress)``. See the module docstring.

    ``method="stage1"`` with the ``love_r1`` prompt preset switches to ``love_r1_stage1`` (the text
    of the reference's stage-1 script) and defaults to the ``reference`` policy (that script has no
    per-benchmark presets). ``probe="shuffled-options"`` re-reads the benchmark with its options
    permuted by ``probe_seed``. ``progress`` shows a bar; ``on_item(qid)`` is called after each stored item.
    """
    benchmark = _prepared(benchmark, config)
    policy = config.resolved_policy(benchmark)
    began = time.perf_counter()
    loaded = benchmark.load()
    samples = select_samples(loaded, config)
    hashed = run_config(benchmark, config)
    key = config_hash(hashed)
    state = EvalProgress()
    if benchmark.expected_count is not None and len(loaded) != benchmark.expected_count:
        state.count_warning = (f"{benchmark.name}: the annotations hold {len(loaded)} questions, the official set has "
                               f"{benchmark.expected_count}; scores are not comparable with published numbers")
        logger.warning(state.count_warning)
    run_dir = config.run_dir
    finished = finished_in_run(run_dir, key)
    fingerprint = model_fingerprint(config.model)
    check_same_model(run_dir, key, model=config.model, fingerprint=fingerprint, num_finished=len(finished))
    with RunStore(run_dir / shard_db_name(config.shard_index, config.num_shards)) as store:
        store.register(key, hashed)
        store.add_provenance(key, {**collect_provenance(), "shard": f"{config.shard_index}/{config.num_shards}",
                                   "limit": config.limit, "concurrency": config.concurrency,
                                   **({"model_fingerprint": fingerprint} if fingerprint else {})})
        todo = [s for s in samples if s.qid not in finished]
        state.skipped_finished = len(samples) - len(todo)
        valid = [s for s in todo if s.data_error is None]
        report = preflight(valid, decode=config.check_videos, progress=progress and len(valid) > 50,
                           tried=benchmark.video_lookups)
        state.preflight = report
        for path, reason in report.bad.items():
            logger.warning("pre-flight: %s: %s", path, reason)
        label = config.method if config.probe == "none" else f"{config.method}, probe {config.probe}"
        bar = _bar(total=len(todo), enabled=progress, desc=f"{benchmark.name} [{label}]")
        by_qid = {s.qid: s for s in todo}
        subtitles = SubtitleProvider(mode=benchmark.subtitle_mode) if benchmark.subtitles else None

        def record(qid: str, episode: dict[str, Any] | None, error: str | None, seconds: float = 0.0) -> None:
            sample = by_qid[qid]
            stored = sample.to_dict()
            if subtitles is not None:
                stored["subtitles"] = subtitles.items.get(qid) or {"mode": subtitles.mode, "status": "not_run"}
                status = stored["subtitles"]["status"]
                state.subtitles[status] = state.subtitles.get(status, 0) + 1
            store.put(key, qid, sample=stored, episode=episode, error=error, seconds=seconds)
            state.done += 1
            if error is not None:
                state.errors += 1
                state.data_errors += int(sample.data_error is not None)
            else:
                letter = extract_choice(final_text(episode or {}), sample.options)
                state.correct += int(letter == sample.gold)
                state.extraction_failures += int(letter is None)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(acc=f"{state.accuracy:.3f}", errors=state.errors, refresh=False)
            if on_item is not None:
                on_item(qid)

        runnable: list[Sample] = []
        for sample in order_by_video(todo):
            if sample.data_error is not None:
                record(sample.qid, None, f"{DATA_ERROR}: {sample.data_error}")
            elif str(sample.video_path) in report.bad:
                record(sample.qid, None, report.item_error(str(sample.video_path)))
            else:
                runnable.append(sample)
        try:
            run_method(config.method, MethodRun(samples=runnable, backend=backend, policy=policy, config=config,
                                                record=record, visual=config.probe != "no-visual",
                                                subtitles=subtitles))
        finally:
            if bar is not None:
                bar.close()
    state.seconds = time.perf_counter() - began
    return key, state


def _bar(*, total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="q", dynamic_ncols=True)


__all__ = ["EvalProgress", "evaluate", "final_text"]
