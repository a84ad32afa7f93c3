"""The loop driving the real transformers backend on a tiny random Qwen2.5-VL and a real video.

A random model writes no box, so the episode goes through a free step and the forced answer:
this checks the plumbing (messages, videos, prefixes, usage) between the loop and ``HFBackend``.
"""

from __future__ import annotations

from love_r1.agent.loop import EpisodeTask, run_episodes
from love_r1.agent.policy import ZoomPolicy
from love_r1.backends import SamplingParams
from love_r1.interval import Interval
from tests.helpers.markers import requires_av, requires_torch

pytestmark = [requires_torch, requires_av]


def test_loop_with_tiny_hf_backend(tmp_path):
    from love_r1.backends.hf import HFBackend
    from love_r1.synth import write_indexed_video
    from tests.fixtures import tiny_qwen as tq

    video = write_indexed_video(tmp_path / "v.mp4", duration_seconds=8.0, fps=10.0, width=224, height=168)
    model, processor = tq.build_tiny("qwen2_5_vl")
    backend = HFBackend(model, processor)
    policy = ZoomPolicy(
        fast_max_frames=8, fast_pixels_per_frame=56 * 56, clip_max_frames=4, clip_pixels_per_frame=56 * 56,
        short_video_factor=1, sampling=SamplingParams(max_new_tokens=6), overlay=False,
    )
    tasks = [EpisodeTask(episode_id=f"e{i}", video_path=video, question="Which colour?",
                         options=("A. red", "B. blue")) for i in range(2)]
    done = [e.episode for e in run_episodes(backend, tasks, policy) if e.episode_done]
    assert len(done) == 2
    for episode in done:
        assert episode.error is None, episode.error
        # seeded random weights write no box: a rejected free step, then the forced answer on the whole video
        assert [(s.kind, s.stop_reason) for s in episode.steps] == [("zoom", "no_box"), ("forced_answer", "no_box")]
        free, forced = episode.steps
        assert forced.clips_in_prompt == (Interval(0.0, 8.0),)
        assert episode.ledger.num_model_calls == 2
        assert episode.ledger.prompt_tokens == free.usage.prompt_tokens + forced.usage.prompt_tokens
        assert episode.ledger.frames_decoded == 8 + 4  # fast view + the whole-video clip, once each
        # same session and the same fast-view Frames: the backend reuses the fast view and the prompt prefix.
        # Both episodes ask about the same video, so the whole-video clip (4 frames) may also come from the
        # other session's features (the backend shares clip features across sessions by Frames.key).
        assert forced.usage.vision_frames_cached in (8, 8 + 4)
        assert forced.usage.vision_frames_encoded + forced.usage.vision_frames_cached == 8 + 4
        assert forced.usage.prompt_tokens_cached > 0
