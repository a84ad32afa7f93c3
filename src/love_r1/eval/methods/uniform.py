"""``method="uniform"``: one call per question on ``num_frames`` uniformly sampled frames (the baseline).

``concurrency`` requests go into each ``generate`` call. With the no-visual probe the prompt is
the question text alone (no video). Subtitles: the lines active at the uniform frames' times,
before the question.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from love_r1.agent.grammar import ParsedReply
from love_r1.agent.ledger import frames_from_cache
from love_r1.agent.loop import video_failure, video_info
from love_r1.agent.steps import AnswerStep, Episode, FastViewInfo, VideoInfo
from love_r1.backends import BackendError, GenerationRequest, Message, TextPart, VideoPart
from love_r1.eval.methods._common import (
    MethodRun,
    Prefetcher,
    PrefetchKey,
    prefetch_key,
    subtitle_hook,
    upcoming,
    video_opener,
)
from love_r1.eval.preflight import video_errors
from love_r1.eval.records import Sample


def uniform_frames(reader: Any, *, num_frames: int, pixels_per_frame: int, time_base: str = "presentation",
                   window: Any = None) -> Any:
    """``num_frames`` frames spread uniformly over the video (or ``window``), both ends included (qwen-vl-utils
    style), on ``time_base`` (:func:`love_r1.video.uniform_selection`)."""
    from love_r1.video import timeline

    return _frames_on(reader, timeline(reader, time_base=time_base, window=window), num_frames=num_frames,
                      pixels_per_frame=pixels_per_frame)


def _frames_on(reader: Any, line: Any, *, num_frames: int, pixels_per_frame: int) -> Any:
    """:func:`uniform_frames` on the timeline ``line``."""
    from love_r1.video import uniform_selection

    selection = uniform_selection(timeline=line, num_frames=num_frames)
    frames = reader.get_frames_at(selection.frame_indices, max_pixels=pixels_per_frame, overlay=False)
    return replace(frames, timestamps_seconds=line.seconds_of(frames.frame_indices), sample_fps=selection.sample_fps)


def run_uniform(run: MethodRun) -> None:
    """One request per sample, ``concurrency`` per ``generate`` call; record each as a one-step episode."""
    config = run.config
    num_frames, pixels = config.uniform_frames, config.uniform_pixels_per_frame
    opener = video_opener(config.cache_bytes)

    def job(key: PrefetchKey) -> None:
        path, window = key
        with opener(path) as reader:
            uniform_frames(reader, num_frames=num_frames, pixels_per_frame=pixels, time_base=run.policy.time_base,
                           window=window)

    prefetcher = Prefetcher(job, workers=config.prefetch_workers if run.visual else 0,
                            lookahead=config.prefetch_workers + config.concurrency)
    samples = run.samples
    try:
        for start in range(0, len(samples), config.concurrency):
            prefetcher.schedule(upcoming(samples, start))
            ready = [item for sample in samples[start:start + config.concurrency]
                     if (item := _request(run, sample, opener, prefetcher)) is not None]
            if ready:
                _generate(run, ready)
    finally:
        prefetcher.close()


def _request(run: MethodRun, sample: Sample, opener: Any,
             prefetcher: Prefetcher) -> tuple[Sample, Episode, GenerationRequest] | None:
    """The sample's episode and request (``None`` when its video fails: that item is recorded as an error)."""
    config, sampling = run.config, run.policy.sampling
    began = time.perf_counter()
    prefetcher.wait(prefetch_key(sample))
    episode = Episode(episode_id=sample.qid, video=VideoInfo(path=str(sample.video_path)),
                      question=sample.question_text, answer_instruction="",
                      policy={"name": "uniform", "num_frames": config.uniform_frames,
                              "pixels_per_frame": config.uniform_pixels_per_frame},
                      evidence=None, gold=sample.gold)
    if not run.visual:
        message = Message(role="user", content=(TextPart(text=sample.question_text),))
        return sample, episode, GenerationRequest(messages=(message,), sampling=sampling, session_id=sample.qid)
    from love_r1.video import timeline

    try:
        with opener(sample.video_path) as reader:
            line = timeline(reader, time_base=run.policy.time_base, window=sample.window)
            frames = _frames_on(reader, line, num_frames=config.uniform_frames,
                                pixels_per_frame=config.uniform_pixels_per_frame)
            episode.video = video_info(sample.video_path, reader.metadata, line, window=sample.window)
            cached = frames_from_cache(reader)
    except video_errors() as error:
        run.record(sample.qid, episode.to_dict(), video_failure(sample.video_path, error))
        return None
    episode.fast_view = FastViewInfo(num_frames=frames.num_frames, width=frames.width, height=frames.height,
                                     sample_fps=frames.sample_fps,
                                     timestamps_seconds=tuple(float(t) for t in frames.timestamps_seconds))
    episode.ledger.add_decode(num_frames=frames.num_frames, seconds=time.perf_counter() - began, num_cached=cached)
    text = sample.question_text
    hook = subtitle_hook(run.subtitles, sample)
    if hook is not None:
        text = hook(episode.fast_view.timestamps_seconds, ()) + text
    message = Message(role="user", content=(VideoPart(frames=frames), TextPart(text=text)))
    return sample, episode, GenerationRequest(messages=(message,), sampling=sampling, session_id=sample.qid)


def _generate(run: MethodRun, ready: list[tuple[Sample, Episode, GenerationRequest]]) -> None:
    """One batched call for ``ready``; a backend fault fails exactly these items."""
    began = time.perf_counter()
    try:
        generations = run.backend.generate([request for _, _, request in ready])
        if len(generations) != len(ready):
            raise BackendError(f"backend returned {len(generations)} generations for {len(ready)} requests")
    except BackendError as error:
        for sample, episode, _ in ready:
            run.record(sample.qid, episode.to_dict(), f"backend: {error}")
        return
    seconds = time.perf_counter() - began
    for (sample, episode, _), generation in zip(ready, generations, strict=True):
        episode.ledger.add_usage(generation.usage)
        episode.steps.append(AnswerStep(
            index=0, raw_text=generation.text, parsed=ParsedReply(kind="answer", answer=generation.text),
            stop_reason="answered", usage=generation.usage, seconds=seconds, finish_reason=generation.finish_reason,
        ))
        episode.answer = generation.text
        episode.ledger.total_seconds = seconds
        error = None if generation.finish_reason != "error" else f"backend: {generation.text}"
        run.record(sample.qid, episode.to_dict(), error, seconds)
