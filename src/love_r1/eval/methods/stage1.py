"""``method="stage1"``: the reference's stage-1 path (fast view + one whole-video zoom clip, one call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from love_r1.eval.methods._common import MethodRun, episode_tasks, video_access
from love_r1.interval import Interval


def run_stage1(run: MethodRun) -> None:
    """Run every sample through :func:`love_r1.agent.single_pass.run_single_pass`; record each episode."""
    from love_r1.agent.single_pass import run_single_pass, whole_video_clip
    from love_r1.video import timeline

    policy = run.policy

    def whole_clip(reader: Any, sample_clip: Callable[..., Any], window: Interval | None) -> None:  # prefetched
        duration = float(timeline(reader, time_base=policy.time_base, window=window).duration_seconds)
        clip = whole_video_clip(duration)
        sample_clip(reader, clip.start_seconds, clip.end_seconds, **policy.clip_arguments(duration_seconds=duration),
                    window=window)

    video = video_access(run, lookahead=run.config.prefetch_workers + run.config.concurrency, also=whole_clip)
    try:
        for episode in run_single_pass(run.backend, episode_tasks(run.samples, video.prefetcher, run.subtitles),
                                       policy, batch_size=run.config.concurrency, open_video=video.opener,
                                       sample_fast_view=video.fast_view, sample_clip=video.sample_clip):
            run.record(episode.episode_id, episode.to_dict(), episode.error, episode.ledger.total_seconds)
    finally:
        video.prefetcher.close()
