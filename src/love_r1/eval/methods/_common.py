"""What the method runners share: the run handed to them, the frame cache, prefetching, task building."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from love_r1.agent.loop import EpisodeTask
from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import Backend
from love_r1.eval.config import EvalConfig
from love_r1.eval.preflight import video_errors
from love_r1.eval.probes import blank_sampler
from love_r1.eval.records import Sample
from love_r1.eval.subtitles import SubtitleProvider
from love_r1.interval import Interval

logger = logging.getLogger(__name__)

# record(qid, episode_dict | None, error | None, seconds): store one finished item
Record = Callable[..., None]


@dataclass(frozen=True)
class MethodRun:
    """One method's share of an ``evaluate`` call: the samples that passed the pre-flight, in video order.

    Attributes:
        visual: ``False`` for the no-visual probe (black frames; ``uniform``: no video at all).
        subtitles: the run's subtitle provider (``None``: subtitles off).
    """

    samples: Sequence[Sample]
    backend: Backend
    policy: ZoomPolicy
    config: EvalConfig
    record: Record
    visual: bool = True
    subtitles: SubtitleProvider | None = None


class LockedCache:
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


# What one prefetch decodes: a video path and the item's window (``None``: the whole file). Items that
# share both share the decoded frames; MVBench's bounded items each have their own window.
PrefetchKey = tuple[str, Interval | None]


class Prefetcher:
    """Decodes each (video, window)'s frames once, ahead of the model, in a small thread pool."""

    def __init__(self, job: Callable[[PrefetchKey], Any], *, workers: int, lookahead: int) -> None:
        self._job = job
        self._pool = ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="prefetch") if workers else None
        self._futures: dict[PrefetchKey, Future] = {}
        self.lookahead = lookahead

    def schedule(self, keys: Sequence[PrefetchKey]) -> None:
        if self._pool is None:
            return
        for key in keys[: self.lookahead]:
            if key not in self._futures:
                self._futures[key] = self._pool.submit(self._job, key)

    def wait(self, key: PrefetchKey) -> None:
        future = self._futures.pop(key, None)
        if future is not None:
            try:
                future.result()
            except video_errors() as error:  # the loop decodes again and records the error on the item
                logger.debug("prefetch of %s failed (%s); decoding in the loop", key, error)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def video_opener(cache_bytes: int) -> Callable[..., Any]:
    """``open_video`` bound to one shared, thread-safe frame cache of ``cache_bytes`` bytes."""
    from love_r1.video import FrameCache, open_video

    cache = LockedCache(FrameCache(max_bytes=cache_bytes))

    def opener(path: str | Path, **kwargs: Any) -> Any:
        return open_video(path, cache=cache, **kwargs)  # type: ignore[arg-type]

    return opener


def prefetch_key(sample: Sample) -> PrefetchKey:
    return str(sample.video_path), sample.window


def upcoming(samples: Sequence[Sample], start: int) -> list[PrefetchKey]:
    """The distinct (video path, window) pairs of ``samples[start:]``, in order (what to prefetch next)."""
    return list(dict.fromkeys(prefetch_key(s) for s in samples[start:]))


def samplers(visual: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(sample_fast_view, sample_clip)`` of the video engine, blacked out for the no-visual probe."""
    from love_r1.video import sample_clip, sample_fast_view

    if visual:
        return sample_fast_view, sample_clip
    return blank_sampler(sample_fast_view), blank_sampler(sample_clip)


@dataclass(frozen=True)
class VideoAccess:
    """The video side of a loop method: a cached opener, the (possibly blacked-out) samplers and a prefetcher
    whose decoded fast views the loop picks up through :meth:`fast_view`."""

    opener: Callable[..., Any]
    sample_fast_view: Callable[..., Any]
    sample_clip: Callable[..., Any]
    prefetcher: Prefetcher

    def fast_view(self, reader: Any, **kwargs: Any) -> Any:
        self.prefetcher.wait((str(reader.path), kwargs.get("window")))
        return self.sample_fast_view(reader, **kwargs)


def video_access(run: MethodRun, *, lookahead: int,
                 also: Callable[[Any, Callable[..., Any], Interval | None], None] | None = None) -> VideoAccess:
    """Opener, samplers and a prefetcher decoding each upcoming (video, window)'s fast view (and
    ``also(reader, sample_clip, window)``, e.g. stage 1's whole-video clip) ``lookahead`` items ahead."""
    opener = video_opener(run.config.cache_bytes)
    sample_fast_view, sample_clip = samplers(run.visual)

    def job(key: PrefetchKey) -> None:
        path, window = key
        with opener(path) as reader:
            sample_fast_view(reader, **run.policy.fast_view_arguments(), window=window)  # the loop's arguments
            if also is not None:
                also(reader, sample_clip, window)

    prefetcher = Prefetcher(job, workers=run.config.prefetch_workers, lookahead=lookahead)
    return VideoAccess(opener=opener, sample_fast_view=sample_fast_view, sample_clip=sample_clip, prefetcher=prefetcher)


def subtitle_hook(subtitles: SubtitleProvider | None, sample: Sample) -> Callable[..., str] | None:
    if subtitles is None:
        return None
    return subtitles.hook(item_id=sample.qid, path=sample.subtitle_path, offset_seconds=sample.subtitle_offset_seconds,
                          duration_seconds=sample.duration_seconds)


def episode_tasks(samples: Sequence[Sample], prefetcher: Prefetcher,
                  subtitles: SubtitleProvider | None = None) -> Iterator[EpisodeTask]:
    """One loop task per sample, scheduling the prefetch of the next videos as the loop pulls them."""
    for index, sample in enumerate(samples):
        prefetcher.schedule(upcoming(samples, index + 1))
        yield EpisodeTask(
            episode_id=sample.qid, video_path=sample.video_path, question=sample.question_text, options=(),
            answer_instruction="", evidence=sample.evidence or None, gold=sample.gold,
            context_text=subtitle_hook(subtitles, sample), window=sample.window,
        )
