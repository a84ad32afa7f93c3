"""``method="zoom"``: the LOVE-R1 multi-step loop, ``concurrency`` episodes per batched ``generate``."""

from __future__ import annotations

from love_r1.agent.loop import run_episodes
from love_r1.eval.methods._common import MethodRun, episode_tasks, video_access


def run_zoom(run: MethodRun) -> None:
    """Run every sample through :func:`love_r1.agent.loop.run_episodes`; record each finished episode."""
    video = video_access(run, lookahead=run.config.prefetch_workers + 1)
    try:
        for event in run_episodes(run.backend, episode_tasks(run.samples, video.prefetcher, run.subtitles), run.policy,
                                  open_video=video.opener, sample_fast_view=video.fast_view,
                                  sample_clip=video.sample_clip, max_active_episodes=run.config.concurrency):
            if event.episode_done:
                episode = event.episode
                run.record(event.episode_id, episode.to_dict(), episode.error, episode.ledger.total_seconds)
    finally:
        video.prefetcher.close()
