"""``EvalConfig``: the settings of one ``evaluate`` run, validated, and the configuration that keys the run store.

:func:`run_config` is the dict whose hash (:func:`love_r1.eval.store.config_hash`) keys every stored
item: what changes results (benchmark, prompt preset, data revision, model, method, policy or
frames, probe, ...), never how fast they are computed (concurrency, prefetch, cache size, shards).
Its composition is unchanged since the first release, so existing runs resume: keys are only added
when a setting is used (``subtitle_mode`` with subtitles, ``probe`` when not ``"none"``,
``benchmark_settings`` for the adapters that have any, e.g. CG-Bench's question set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from love_r1.backends import SamplingParams
from love_r1.eval.probes import PROBES, Probe
from love_r1.time_base import DEFAULT_TIME_BASE

if TYPE_CHECKING:
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.eval.benchmarks import Benchmark
    from love_r1.eval.records import Sample

Method = Literal["zoom", "stage1", "uniform"]
METHODS: tuple[str, ...] = get_args(Method)
PROMPT_TEXT_VERSION = 1  # bump when any benchmark's question text changes
DEFAULT_UNIFORM_FRAMES = 128
DEFAULT_UNIFORM_PIXELS_PER_FRAME = 256 * 28 * 28
_OWN_KEYS = frozenset({"benchmark", "prompt_preset", "subtitles", "prompt_text_version", "data_revision", "model",
                       "method", "subtitle_mode", "probe", "probe_seed", "policy", "num_frames", "pixels_per_frame",
                       "sampling", "benchmark_settings", "time_base"})


@dataclass(frozen=True)
class EvalConfig:
    """What to run and where to store it (every field is read by :func:`love_r1.eval.evaluate`).

    Attributes:
        run_dir: run directory (SQLite shard files, JSONL export); reused to resume.
        model: the model recorded in the configuration (checkpoint, served name, ``"scripted"``).
        method: ``"zoom"`` (the LOVE-R1 loop), ``"stage1"`` (the reference's one-pass stage-1 path)
            or ``"uniform"`` (one pass over ``num_frames`` uniform frames).
        policy: the zoom policy (``zoom``, ``stage1``; ``uniform`` reads only its sampling settings and time base);
            ``None``: the benchmark's preset (``reference`` for ``stage1``).
        num_frames: frames per video, ``uniform`` only (count; ``None``: 128).
        pixels_per_frame: pixel budget per frame, ``uniform`` only (pixels; ``None``: 256*28*28).
        limit: only the first ``limit`` questions (before sharding); ``None``: all.
        shard_index, num_shards: this process takes every ``num_shards``-th question from ``shard_index``.
        concurrency: questions in flight per batched ``generate`` call (count).
        prefetch_workers: background threads decoding the next videos (count; 0: off).
        check_videos: pre-flight opens every video (``False``: only checks that the files exist).
        cache_bytes: size of the shared decoded-frame cache (bytes).
        probe: ``"none"``, ``"no-visual"`` or ``"shuffled-options"`` (:mod:`love_r1.eval.probes`).
        probe_seed: seed of ``"shuffled-options"`` (integer; only with that probe).
        backend: how the backend is recorded in the configuration: its kind and the settings that change
            its outputs, e.g. ``{"backend": "hf", "position_rule": "max_plus_one"}`` (``love-r1 eval``
            passes ``{"backend": KIND, **cli._backends.backend_settings(backend)}``); ``{}``: not recorded.
    """

    run_dir: Path
    model: str
    method: Method = "zoom"
    policy: ZoomPolicy | None = None
    num_frames: int | None = None
    pixels_per_frame: int | None = None
    limit: int | None = None
    shard_index: int = 0
    num_shards: int = 1
    concurrency: int = 8
    prefetch_workers: int = 2
    check_videos: bool = True
    cache_bytes: int = 2 * 1024**3
    probe: Probe = "none"
    probe_seed: int = 0
    backend: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_dir", Path(self.run_dir))
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(f"EvalConfig.model must be a non-empty string, got {self.model!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.probe not in PROBES:
            raise ValueError(f"probe must be one of {PROBES}, got {self.probe!r}")
        if isinstance(self.probe_seed, bool) or not isinstance(self.probe_seed, int):
            raise TypeError(f"probe_seed must be an int, got {self.probe_seed!r}")
        if self.probe_seed != 0 and self.probe != "shuffled-options":
            raise ValueError(f"probe_seed={self.probe_seed} is only used by probe='shuffled-options', "
                             f"got probe={self.probe!r}")
        for name in ("num_frames", "pixels_per_frame"):
            value = getattr(self, name)
            if value is None:
                continue
            if self.method != "uniform":
                raise ValueError(f"{name}={value} is only used by method='uniform' (got method={self.method!r}); "
                                 "the zoom policy sets the frames of the other methods")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            raise ValueError(f"shard {self.shard_index}/{self.num_shards} is invalid; need 0 <= index < count")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit must be >= 0 questions, got {self.limit}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1 questions in flight, got {self.concurrency}")
        if self.prefetch_workers < 0:
            raise ValueError(f"prefetch_workers must be >= 0 threads, got {self.prefetch_workers}")
        if self.cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0 bytes, got {self.cache_bytes}")
        clashes = sorted(set(self.backend) & _OWN_KEYS)
        if clashes:
            raise ValueError(f"EvalConfig.backend must not set the configuration's own keys {clashes}; "
                             f"got {dict(self.backend)!r}")
        object.__setattr__(self, "backend", dict(self.backend))

    @property
    def uniform_frames(self) -> int:
        """Frames per video of ``method="uniform"``."""
        return self.num_frames if self.num_frames is not None else DEFAULT_UNIFORM_FRAMES

    @property
    def uniform_pixels_per_frame(self) -> int:
        """Pixel budget per frame of ``method="uniform"``."""
        return self.pixels_per_frame if self.pixels_per_frame is not None else DEFAULT_UNIFORM_PIXELS_PER_FRAME

    def resolved_policy(self, benchmark: Benchmark) -> ZoomPolicy:
        """``policy``, else the benchmark's preset (``reference`` for ``method="stage1"``)."""
        from love_r1.agent.policy import ZoomPolicy

        if self.policy is not None:
            return self.policy
        return ZoomPolicy.preset("reference" if self.method == "stage1" else benchmark.policy_preset)


def run_config(benchmark: Benchmark, config: EvalConfig) -> dict[str, Any]:
    """The configuration whose hash keys the run store (what changes results); see the module docstring."""
    policy = config.resolved_policy(benchmark)
    out: dict[str, Any] = {
        "benchmark": benchmark.name, "prompt_preset": benchmark.prompt_preset, "subtitles": benchmark.subtitles,
        "prompt_text_version": PROMPT_TEXT_VERSION, "data_revision": benchmark.data_revision(),
        "model": config.model, "method": config.method,
    }
    if benchmark.subtitles:
        out["subtitle_mode"] = benchmark.subtitle_mode
    if config.probe != "none":
        out["probe"] = config.probe
        if config.probe == "shuffled-options":
            out["probe_seed"] = config.probe_seed
    if config.method in ("zoom", "stage1"):
        out["policy"] = policy.to_dict()
    else:
        out.update(num_frames=config.uniform_frames, pixels_per_frame=config.uniform_pixels_per_frame,
                   sampling=_uniform_sampling(policy.sampling))
        if policy.time_base != DEFAULT_TIME_BASE:  # it picks the frames; absent at the default (hashes unchanged)
            out["time_base"] = policy.time_base
    settings = benchmark.run_settings()
    if settings:
        out["benchmark_settings"] = settings
    out.update(config.backend)
    return out


def _uniform_sampling(sampling: SamplingParams) -> dict[str, Any]:
    """The sampling keys of a ``uniform`` run: always the first two, the others only when changed from the
    defaults (so the hashes of runs made before they could be set stay the same)."""
    out: dict[str, Any] = {"max_new_tokens": sampling.max_new_tokens, "temperature": sampling.temperature}
    default = SamplingParams()
    for name in ("top_p", "top_k", "repetition_penalty", "seed"):
        if getattr(sampling, name) != getattr(default, name):
            out[name] = getattr(sampling, name)
    return out


def select_samples(samples: list[Sample], config: EvalConfig) -> list[Sample]:
    """The first ``limit`` samples, then every ``num_shards``-th from ``shard_index`` (round-robin)."""
    chosen = samples[: config.limit] if config.limit is not None else samples
    return chosen[config.shard_index::config.num_shards]


__all__ = ["DEFAULT_UNIFORM_FRAMES", "DEFAULT_UNIFORM_PIXELS_PER_FRAME", "METHODS", "PROMPT_TEXT_VERSION",
           "EvalConfig", "Method", "run_config", "select_samples"]
