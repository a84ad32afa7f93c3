"""Robustness probes (benchmarks.md §4 "Shortcuts", §6.10): how much of a score needs the video or the option order.

* ``"none"``: the normal run.
* ``"no-visual"``: the model gets no visual information.

  - ``--method zoom`` and ``--method stage1``: every video part of every prompt (fast view and each
    zoom clip) is replaced by ONE black frame of the same size (:func:`blank_frames`), so the prompt
    layout the checkpoint was trained on (labels, clip order, zoom arithmetic on the real duration)
    is unchanged; only one frame per clip is decoded (to get the frame size).
  - ``--method uniform``: the video is dropped entirely; the prompt is the question text alone
    (the "no video" setting of published shortcut numbers, e.g. Qwen2.5-VL-7B's 40.1 on Video-MME).

* ``"shuffled-options"``: every question's option texts are permuted by :func:`option_permutation`
  (seeded, deterministic per qid), re-lettered ``A, B, ...`` in the new order, and the gold letter
  follows the gold text. The benchmark adapter renders the question text from the permuted options,
  so every prompt preset stays well formed.

The probe (and its seed) is part of the run configuration hash and shown in the report.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from love_r1.video import Frames

Probe = Literal["none", "no-visual", "shuffled-options"]
PROBES: tuple[str, ...] = get_args(Probe)


def check_probe(probe: str) -> str:
    if probe not in PROBES:
        raise ValueError(f"probe must be one of {PROBES}, got {probe!r}")
    return probe


def option_permutation(qid: str, num_options: int, *, seed: int = 0) -> tuple[int, ...]:
    """The shown order of ``num_options`` options for question ``qid``: ``order[i]`` is the original
    index of the option shown at position ``i``.

    Recipe (stable across processes and platforms): ``random.Random(int.from_bytes(sha256(
    f"{seed}:{qid}")[:8], "big")).shuffle(list(range(num_options)))``. A uniform permutation, so
    about ``1/num_options`` of the questions keep their gold position.
    """
    if not isinstance(qid, str):
        raise TypeError(f"qid must be a str, got {type(qid).__name__}")
    if not isinstance(num_options, int) or num_options < 0:
        raise ValueError(f"num_options must be an int >= 0, got {num_options!r}")
    digest = hashlib.sha256(f"{seed}:{qid}".encode()).digest()
    order = list(range(num_options))
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return tuple(order)


def blank_frames(frames: Frames) -> Frames:
    """One black frame with the size, first timestamp and rate of ``frames`` (``key=None``: never cached
    together with the real clip's vision features)."""
    import numpy as np  # lazy: importing love_r1.eval stays free of numpy

    data = np.zeros((1, frames.height, frames.width, 3), dtype=np.uint8)
    indices = None if frames.frame_indices is None else frames.frame_indices[:1]
    return replace(frames, data=data, timestamps_seconds=frames.timestamps_seconds[:1], frame_indices=indices,
                   key=None)


def blank_sampler(sample: Callable[..., Frames]) -> Callable[..., Frames]:
    """Wrap ``sample_fast_view`` / ``sample_clip``: decode a single frame (``max_frames=1``) and black it out."""

    def blanked(reader: Any, *args: Any, **kwargs: Any) -> Frames:
        return blank_frames(sample(reader, *args, **{**kwargs, "max_frames": 1}))

    blanked.__name__ = f"blank_{getattr(sample, '__name__', 'sampler')}"
    return blanked


__all__ = ["PROBES", "Probe", "blank_frames", "blank_sampler", "check_probe", "option_permutation"]
