"""Run a benchmark through a backend: pre-flight, resume, shard, prefetch, store every trajectory.

:func:`evaluate` is the whole pipeline behind ``love-r1 eval``:

1. the benchmark's samples (optionally the first ``limit``), this shard's share (round-robin by index);
2. skip the qids already finished under the same configuration hash (any shard file of the run);
3. pre-flight: every referenced video must exist and open (``love_r1.video.open_video``); missing or
   corrupt videos are reported up front and their items stored as errors without a model call;
4. questions on the same video run together; a background pool decodes the fast views of the
   next videos into a shared :class:`~love_r1.video.FrameCache` while the model works;
5. ``method="zoom"``: the LOVE-R1 loop (:func:`love_r1.agent.loop.run_episodes`), ``concurrency``
   episodes per batched ``generate``; ``method="stage1"``: the reference's stage-1 path
   (:func:`love_r1.agent.single_pass.run_single_pass`: fast view + one whole-video slow clip, no
   decision instruction, one call); ``method="uniform"``: one call per question on ``num_frames``
   uniformly sampled frames (the single-pass baseline), ``concurrency`` requests per call;
6. one committed row per item (trajectory JSON), a broken video failing only its own items.

With ``benchmark.subtitles`` each question's subtitle file is read once per video
(:mod:`love_r1.eval.subtitles`) and every prompt gets the lines active at its fast view's frame
times before the question (``subtitle_mode="fast+clips"``: also the lines inside each zoom clip),
through :attr:`love_r1.agent.loop.EpisodeTask.context_text`. A missing or unreadable file means no
subtitles for that item, recorded in the stored sample's ``"subtitles"`` entry, never an error.

``probe`` (:mod:`love_r1.eval.probes`) runs a robustness probe instead of the normal input:
``"no-visual"`` (black frames, or no video for ``uniform``) or ``"shuffled-options"``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from love_r1.agent.grammar import ParsedReply
from love_r1.agent.ledger import frames_from_cache
from love_r1.agent.loop import EpisodeTask, run_episodes
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import AnswerStep, Episode, FastViewInfo, VideoInfo
from love_r1.backends import Backend, BackendError, GenerationRequest, Message, TextPart, VideoPart
from love_r1.eval.benchmarks import Benchmark
from love_r1.eval.extract import extract_choice
from love_r1.eval.probes import blank_sampler, check_probe
from love_r1.eval.records import Sample, order_by_video
from love_r1.eval.store import RunStore, collect_provenance, config_hash, finished_in_run, shard_db_name
from love_r1.eval.subtitles import SubtitleProvider

logger = logging.getLogger(__name__)

Method = Literal["zoom", "stage1", "uniform"]
METHODS: tuple[str, ...] = ("zoom", "stage1", "uniform")
PROMPT_TEXT_VERSION = 1  # bump when any benchmark's question text changes


@dataclass
class PreflightReport:
    """Videos that cannot be used: ``missing`` (no file) and ``corrupt`` (``open_video`` failed)."""

    num_videos: int = 0
    missing: dict[str, str] = field(default_factory=dict)
    corrupt: dict[str, str] = field(default_factory=dict)

    @property
    def bad(self) -> dict[str, str]:
        return {**self.missing, **self.corrupt}


def preflight(samples: Sequence[Sample], *, open_video: Callable[..., Any] | None = None, decode: bool = True,
              progress: bool = False) -> PreflightReport:
    """Check every distinct video of ``samples``: exists, and (``decode``) opens with the video engine."""
    if open_video is None and decode:
        from love_r1.video import open_video
    errors = _video_errors()
    paths = list(dict.fromkeys(str(s.video_path) for s in samples))
    report = PreflightReport(num_videos=len(paths))
    iterator: Any = paths
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(paths, desc="pre-flight", unit="video")
    for path in iterator:
        if not (Path(path).is_file() or Path(path).is_dir()):  # a directory = a frame folder (MVBench TVQA)
            report.missing[path] = "missing video file"
            continue
        if decode:
            try:
                with open_video(path) as reader:
                    if not (reader.metadata.duration_seconds or 0) > 0:
                        raise ValueError("no usable duration")
            except errors as error:
                report.corrupt[path] = f"corrupt video: {type(error).__name__}: {error}"
    return report


def select_samples(samples: Sequence[Sample], *, limit: int | None = None, shard_index: int = 0,
                   num_shards: int = 1) -> list[Sample]:
    """The first ``limit`` samples, then every ``num_shards``-th from ``shard_index`` (round-robin)."""
    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise ValueError(f"shard {shard_index}/{num_shards} is invalid; need 0 <= index < count")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 questions, got {limit}")
    chosen = list(samples[:limit] if limit is not None else samples)
    return chosen[shard_index::num_shards]


def run_config(*, benchmark: Benchmark, policy: ZoomPolicy, model: str, method: Method, num_frames: int,
               pixels_per_frame: int, probe: str = "none", probe_seed: int = 0,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The configuration whose hash keys the run store (what changes results).

    ``probe`` is recorded (and hashed) only when it is not ``"none"``, and ``subtitle_mode`` only when
    subtitles are on, so runs without them keep their hash.
    """
    config = {
        "benchmark": benchmark.name, "prompt_preset": benchmark.prompt_preset, "subtitles": benchmark.subtitles,
        "prompt_text_version": PROMPT_TEXT_VERSION, "data_revision": benchmark.data_revision(), "model": model,
        "method": method,
    }
    if benchmark.subtitles:
        config["subtitle_mode"] = benchmark.subtitle_mode
    if probe != "none":
        config["probe"] = probe
        if probe == "shuffled-options":
            config["probe_seed"] = probe_seed
    if method in ("zoom", "stage1"):
        config["policy"] = policy.to_dict()
    else:
        config.update(num_frames=num_frames, pixels_per_frame=pixels_per_frame,
                      sampling={"max_new_tokens": policy.sampling.max_new_tokens,
                                "temperature": policy.sampling.temperature})
    config.update(extra or {})
    return config


class _LockedCache:
    """A thread-safe wrapper of :class:`love_r1.video.FrameCache` (prefetch threads share it)."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: str, frames: Any) -> None:
        with self._lock:
            self._cache.put(key, frames)


def _video_errors() -> tuple[type[BaseException], ...]:
    from love_r1.video import VideoError

    return (OSError, ValueError, VideoError)


class _Prefetcher:
    """Decodes each video's frames once, ahead of the model, in a small thread pool."""

    def __init__(self, job: Callable[[str], Any], *, workers: int, lookahead: int) -> None:
        self._job = job
        self._pool = ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="prefetch") if workers else None
        self._futures: dict[str, Future] = {}
        self.lookahead = lookahead

    def schedule(self, paths: Sequence[str]) -> None:
        if self._pool is None:
            return
        for path in paths[: self.lookahead]:
            if path not in self._futures:
                self._futures[path] = self._pool.submit(self._job, path)

    def wait(self, path: str) -> None:
        future = self._futures.pop(path, None)
        if future is not None:
            try:
                future.result()
            except _video_errors() as error:  # the loop decodes again and records the error on the item
                logger.debug("prefetch of %s failed (%s); decoding in the loop", path, error)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class EvalProgress:
    """Running totals shown in the progress bar and returned by :func:`evaluate`."""

    done: int = 0
    correct: int = 0
    errors: int = 0
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


def evaluate(
    benchmark: Benchmark,
    backend: Backend,
    *,
    run_dir: str | Path,
    model: str,
    policy: ZoomPolicy | None = None,
    method: Method = "zoom",
    num_frames: int = 128,
    pixels_per_frame: int = 256 * 28 * 28,
    limit: int | None = None,
    shard_index: int = 0,
    num_shards: int = 1,
    concurrency: int = 8,
    prefetch_workers: int = 2,
    check_videos: bool = True,
    cache_bytes: int = 2 * 1024**3,
    progress: bool = True,
    extra_config: dict[str, Any] | None = None,
    on_item: Callable[[str], None] | None = None,
    probe: str = "none",
    probe_seed: int = 0,
) -> tuple[str, EvalProgress]:
    """Run (or resume) this shard of ``benchmark``; returns ``(config_hash, progress)``. See the module docstring.

    ``method="stage1"`` with the ``love_r1`` prompt preset switches to ``love_r1_stage1`` (the text
    of the reference's stage-1 script) and defaults to the ``reference`` policy (that script has no
    per-benchmark presets). ``probe="shuffled-options"`` re-reads the benchmark with its options
    permuted by ``probe_seed``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_probe(probe)
    if method == "stage1" and benchmark.prompt_preset == "love_r1":
        benchmark = benchmark.reconfigured(prompt_preset="love_r1_stage1")
    if probe == "shuffled-options" and benchmark.shuffle_options_seed != probe_seed:
        benchmark = benchmark.reconfigured(shuffle_options_seed=probe_seed)
    elif probe != "shuffled-options" and benchmark.shuffle_options_seed is not None:
        raise ValueError("the benchmark was built with shuffle_options_seed; pass probe='shuffled-options' "
                         "(and probe_seed) to evaluate instead, so that the probe is recorded")
    if benchmark.subtitles and probe == "no-visual":
        raise ValueError("--subtitles cannot be combined with --probe no-visual: the subtitle lines shown "
                         "depend on the frames shown")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1 questions in flight, got {concurrency}")
    if method == "uniform" and num_frames < 1:
        raise ValueError(f"num_frames must be >= 1 for --method uniform, got {num_frames}")
    policy = policy or ZoomPolicy.preset("reference" if method == "stage1" else benchmark.policy_preset)
    began = time.perf_counter()
    run_dir = Path(run_dir)
    loaded = benchmark.load()
    samples = select_samples(loaded, limit=limit, shard_index=shard_index, num_shards=num_shards)
    config = run_config(benchmark=benchmark, policy=policy, model=model, method=method, num_frames=num_frames,
                        pixels_per_frame=pixels_per_frame, probe=probe, probe_seed=probe_seed, extra=extra_config)
    key = config_hash(config)
    state = EvalProgress()
    if benchmark.expected_count is not None and len(loaded) != benchmark.expected_count:
        state.count_warning = (f"{benchmark.name}: the annotations hold {len(loaded)} questions, the official set has "
                               f"{benchmark.expected_count}; scores are not comparable with published numbers")
        logger.warning(state.count_warning)
    with RunStore(run_dir / shard_db_name(shard_index, num_shards)) as store:
        store.register(key, config)
        store.add_provenance(key, {**collect_provenance(), "shard": f"{shard_index}/{num_shards}", "limit": limit,
                                   "concurrency": concurrency})
        finished = finished_in_run(run_dir, key)
        todo = [s for s in samples if s.qid not in finished]
        state.skipped_finished = len(samples) - len(todo)
        report = preflight(todo, decode=check_videos, progress=progress and len(todo) > 50)
        state.preflight = report
        for path, reason in report.bad.items():
            logger.warning("pre-flight: %s: %s", path, reason)
        label = method if probe == "none" else f"{method}, probe {probe}"
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
            else:
                letter = extract_choice(final_text(episode or {}), sample.options)
                state.correct += int(letter == sample.answer_letter)
                state.extraction_failures += int(letter is None)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(acc=f"{state.accuracy:.3f}", errors=state.errors, refresh=False)
            if on_item is not None:
                on_item(qid)

        runnable = []
        for sample in order_by_video(todo):
            reason = report.bad.get(str(sample.video_path))
            if reason is not None:
                record(sample.qid, None, f"{reason}: {sample.video_path}")
            else:
                runnable.append(sample)
        visual = probe != "no-visual"
        try:
            if method == "zoom":
                _run_zoom(runnable, backend, policy, record=record, concurrency=concurrency,
                          prefetch_workers=prefetch_workers, cache_bytes=cache_bytes, visual=visual,
                          subtitles=subtitles)
            elif method == "stage1":
                _run_stage1(runnable, backend, policy, record=record, concurrency=concurrency,
                            prefetch_workers=prefetch_workers, cache_bytes=cache_bytes, visual=visual,
                            subtitles=subtitles)
            else:
                _run_uniform(runnable, backend, policy, record=record, concurrency=concurrency,
                             num_frames=num_frames, pixels_per_frame=pixels_per_frame,
                             prefetch_workers=prefetch_workers, cache_bytes=cache_bytes, visual=visual,
                             subtitles=subtitles)
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


def _video_engine(cache_bytes: int) -> tuple[Any, Callable[..., Any]]:
    from love_r1.video import FrameCache, open_video

    cache = _LockedCache(FrameCache(max_bytes=cache_bytes))

    def opener(path: str | Path, **kwargs: Any) -> Any:
        return open_video(path, cache=cache, **kwargs)  # type: ignore[arg-type]

    return cache, opener


def _upcoming(samples: Sequence[Sample], start: int) -> list[str]:
    return list(dict.fromkeys(str(s.video_path) for s in samples[start:]))


def _samplers(visual: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(sample_fast_view, sample_clip)`` of the video engine, blacked out for the no-visual probe."""
    from love_r1.video import sample_clip, sample_fast_view

    if visual:
        return sample_fast_view, sample_clip
    return blank_sampler(sample_fast_view), blank_sampler(sample_clip)


def _subtitle_hook(subtitles: SubtitleProvider | None, sample: Sample) -> Callable[..., str] | None:
    if subtitles is None:
        return None
    return subtitles.hook(item_id=sample.qid, path=sample.subtitle_path, offset_seconds=sample.subtitle_offset_seconds)


def _tasks(samples: Sequence[Sample], prefetcher: _Prefetcher,
           subtitles: SubtitleProvider | None = None) -> Iterator[EpisodeTask]:
    for index, sample in enumerate(samples):
        prefetcher.schedule(_upcoming(samples, index + 1))
        yield EpisodeTask(
            episode_id=sample.qid, video_path=sample.video_path, question=sample.question_text, options=(),
            answer_instruction="", evidence=sample.evidence or None, gold=sample.answer_letter,
            context_text=_subtitle_hook(subtitles, sample), window=sample.window,
        )


def _run_zoom(samples: Sequence[Sample], backend: Backend, policy: ZoomPolicy, *, record: Callable[..., None],
              concurrency: int, prefetch_workers: int, cache_bytes: int, visual: bool = True,
              subtitles: SubtitleProvider | None = None) -> None:
    _, opener = _video_engine(cache_bytes)
    sample_fast_view, sample_clip = _samplers(visual)

    def fast_view_kwargs() -> dict[str, Any]:
        return dict(max_frames=policy.fast_max_frames, frames_per_second=policy.frames_per_second,
                    pixels_per_frame=policy.fast_pixels_per_frame, short_video_seconds=policy.short_video_seconds,
                    short_video_factor=policy.short_video_factor, overlay=policy.overlay, time_base=policy.time_base)

    def job(path: str) -> None:
        with opener(path) as reader:
            sample_fast_view(reader, **fast_view_kwargs())

    prefetcher = _Prefetcher(job, workers=prefetch_workers, lookahead=prefetch_workers + 1)

    def fast_view(reader: Any, **kwargs: Any) -> Any:
        prefetcher.wait(str(reader.path))
        return sample_fast_view(reader, **kwargs)

    try:
        for event in run_episodes(backend, _tasks(samples, prefetcher, subtitles), policy, open_video=opener,
                                  sample_fast_view=fast_view, sample_clip=sample_clip,
                                  max_active_episodes=concurrency):
            if event.episode_done:
                episode = event.episode
                record(event.episode_id, episode.to_dict(), episode.error, episode.ledger.total_seconds)
    finally:
        prefetcher.close()


def _run_stage1(samples: Sequence[Sample], backend: Backend, policy: ZoomPolicy, *, record: Callable[..., None],
                concurrency: int, prefetch_workers: int, cache_bytes: int, visual: bool = True,
                subtitles: SubtitleProvider | None = None) -> None:
    from love_r1.agent.single_pass import run_single_pass, whole_video_clip
    from love_r1.video import timeline

    _, opener = _video_engine(cache_bytes)
    sample_fast_view, sample_clip = _samplers(visual)
    fast_kwargs = dict(max_frames=policy.fast_max_frames, frames_per_second=policy.frames_per_second,
                       pixels_per_frame=policy.fast_pixels_per_frame, short_video_seconds=policy.short_video_seconds,
                       short_video_factor=policy.short_video_factor, overlay=policy.overlay, time_base=policy.time_base)

    def job(path: str) -> None:
        with opener(path) as reader:
            sample_fast_view(reader, **fast_kwargs)
            duration = float(timeline(reader, time_base=policy.time_base).duration_seconds)
            clip = whole_video_clip(duration)
            sample_clip(reader, clip.start_seconds, clip.end_seconds, max_frames=policy.slow_max_frames,
                        frames_per_second=policy.frames_per_second, pixels_per_frame=policy.slow_pixels_per_frame,
                        resolution_factor=policy.resolution_factor(duration), overlay=policy.overlay,
                        time_base=policy.time_base)

    prefetcher = _Prefetcher(job, workers=prefetch_workers, lookahead=prefetch_workers + concurrency)

    def fast_view(reader: Any, **kwargs: Any) -> Any:
        prefetcher.wait(str(reader.path))
        return sample_fast_view(reader, **kwargs)

    try:
        for episode in run_single_pass(backend, _tasks(samples, prefetcher, subtitles), policy, batch_size=concurrency,
                                       open_video=opener, sample_fast_view=fast_view, sample_clip=sample_clip):
            record(episode.episode_id, episode.to_dict(), episode.error, episode.ledger.total_seconds)
    finally:
        prefetcher.close()


def uniform_frames(reader: Any, *, num_frames: int, pixels_per_frame: int, time_base: str = "presentation",
                   window: Any = None) -> Any:
    """``num_frames`` frames spread uniformly over the video (or ``window``), both ends included (qwen-vl-utils
    style), on ``time_base`` (:func:`love_r1.video.uniform_selection`)."""
    from dataclasses import replace

    from love_r1.video import timeline, uniform_selection

    line = timeline(reader, time_base=time_base, window=window)
    selection = uniform_selection(timeline=line, num_frames=num_frames)
    frames = reader.get_frames_at(selection.frame_indices, max_pixels=pixels_per_frame, overlay=False)
    return replace(frames, timestamps_seconds=line.seconds_of(frames.frame_indices), sample_fps=selection.sample_fps)


def _run_uniform(samples: Sequence[Sample], backend: Backend, policy: ZoomPolicy, *, record: Callable[..., None],
                 concurrency: int, num_frames: int, pixels_per_frame: int, prefetch_workers: int,
                 cache_bytes: int, visual: bool = True, subtitles: SubtitleProvider | None = None) -> None:
    """One call per question; ``visual=False`` (no-visual probe): the question text alone, no video.
    Subtitles: the lines active at the uniform frames' times, before the question."""
    _, opener = _video_engine(cache_bytes)
    if not visual:
        prefetch_workers = 0

    def job(path: str) -> None:
        with opener(path) as reader:
            uniform_frames(reader, num_frames=num_frames, pixels_per_frame=pixels_per_frame,
                           time_base=policy.time_base)

    prefetcher = _Prefetcher(job, workers=prefetch_workers, lookahead=prefetch_workers + concurrency)
    sampling = policy.sampling
    try:
        for start in range(0, len(samples), concurrency):
            batch = samples[start:start + concurrency]
            prefetcher.schedule(_upcoming(samples, start))
            ready: list[tuple[Sample, Episode, GenerationRequest]] = []
            for sample in batch:
                began = time.perf_counter()
                prefetcher.wait(str(sample.video_path))
                episode = Episode(episode_id=sample.qid, video=VideoInfo(path=str(sample.video_path)),
                                  question=sample.question_text, answer_instruction="",
                                  policy={"name": "uniform", "num_frames": num_frames,
                                          "pixels_per_frame": pixels_per_frame},
                                  evidence=None, gold=sample.answer_letter)
                if not visual:
                    message = Message(role="user", content=(TextPart(text=sample.question_text),))
                    ready.append((sample, episode, GenerationRequest(messages=(message,), sampling=sampling,
                                                                     session_id=sample.qid)))
                    continue
                try:
                    with opener(sample.video_path) as reader:
                        frames = uniform_frames(reader, num_frames=num_frames, pixels_per_frame=pixels_per_frame,
                                                time_base=policy.time_base, window=sample.window)
                        meta = reader.metadata
                        cached = frames_from_cache(reader)
                except _video_errors() as error:
                    record(sample.qid, episode.to_dict(), f"video {sample.video_path}: {type(error).__name__}: {error}")
                    continue
                episode.video = VideoInfo(path=str(sample.video_path), duration_seconds=float(meta.duration_seconds),
                                          fps=float(meta.fps), num_frames=int(meta.num_frames),
                                          width=int(meta.width), height=int(meta.height))
                episode.fast_view = FastViewInfo(num_frames=frames.num_frames, width=frames.width,
                                                 height=frames.height, sample_fps=frames.sample_fps,
                                                 timestamps_seconds=tuple(float(t) for t in frames.timestamps_seconds))
                episode.ledger.add_decode(num_frames=frames.num_frames, seconds=time.perf_counter() - began,
                                          num_cached=cached)
                text = sample.question_text
                hook = _subtitle_hook(subtitles, sample)
                if hook is not None:
                    text = hook(episode.fast_view.timestamps_seconds, ()) + text
                message = Message(role="user", content=(VideoPart(frames=frames), TextPart(text=text)))
                ready.append((sample, episode, GenerationRequest(messages=(message,), sampling=sampling,
                                                                 session_id=sample.qid)))
            if not ready:
                continue
            began = time.perf_counter()
            try:
                generations = backend.generate([request for _, _, request in ready])
                if len(generations) != len(ready):
                    raise BackendError(f"backend returned {len(generations)} generations for {len(ready)} requests")
            except BackendError as error:
                for sample, episode, _ in ready:
                    record(sample.qid, episode.to_dict(), f"backend: {error}")
                continue
            seconds = time.perf_counter() - began
            for (sample, episode, _), generation in zip(ready, generations, strict=True):
                episode.ledger.add_usage(generation.usage)
                episode.steps.append(AnswerStep(
                    index=0, raw_text=generation.text, parsed=ParsedReply(kind="answer", answer=generation.text),
                    stop_reason="answered", usage=generation.usage, seconds=seconds,
                    finish_reason=generation.finish_reason,
                ))
                episode.answer = generation.text
                episode.ledger.total_seconds = seconds
                error = None if generation.finish_reason != "error" else f"backend: {generation.text}"
                record(sample.qid, episode.to_dict(), error, seconds)
    finally:
        prefetcher.close()
