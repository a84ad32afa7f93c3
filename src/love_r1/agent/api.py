"""``ask``: one question about one video, as a library call."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from love_r1.agent.loop import EpisodeTask, run_episode
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import Episode
from love_r1.backends import DEFAULT_MODEL_ID, Backend


def ask(
    video_path: str | Path,
    question: str,
    *,
    options: Sequence[str] | None = None,
    backend: Backend | None = None,
    model: str = DEFAULT_MODEL_ID,
    policy: ZoomPolicy | None = None,
    answer_instruction: str | None = None,
    episode_id: str | None = None,
    open_video: Callable[..., Any] | None = None,
) -> Episode:
    """Ask one question about one video and return the whole episode (``episode.answer``).

    Args:
        video_path: the video file.
        question: the question; ``options`` (e.g. ``["A. red", "B. blue"]``) go one per line after it.
        backend: the model; ``None`` loads ``model`` with the transformers backend
            (``love_r1.backends.hf.HFBackend.from_pretrained``, extra ``hf``).
        model: checkpoint for the default backend (a Hub id or a local folder).
        policy: loop settings (default ``ZoomPolicy()``: the reference inference settings).
        answer_instruction: appended after the options; ``None`` uses ``policy.answer_instruction``.
        episode_id: id of the episode (default: a random one).
        open_video: video opener override (default ``love_r1.video.open_video``).

    A video that cannot be read gives an episode with ``error`` set (no exception); a
    ``BackendError`` likewise. Check ``episode.error``.
    """
    if backend is None:
        from love_r1.backends.hf import HFBackend

        backend = HFBackend.from_pretrained(model)
    task = EpisodeTask(
        episode_id=episode_id or uuid.uuid4().hex[:12], video_path=video_path, question=question,
        options=tuple(options or ()), answer_instruction=answer_instruction,
    )
    return run_episode(backend, task, policy, open_video=open_video)
