"""The resolution premise of a learn-to-zoom dataset, measured on the frames a model is given.

:func:`check_resolution_premise` samples every video exactly as the zoom loop does (the fast view,
and the zoom clip that inference applies to the ideal request), then asks two questions per view:

* **identity**: can the stripes' direction be read from a frame that shows the card? :func:`read_stripes`
  is an *oracle* reader, stronger than any model: it knows the stripe period and measures, for each
  candidate direction, the energy of the frame at that direction's stripe frequency (the squared magnitude
  of its projection on the complex sinusoid, i.e. both quadratures, so the unknown phase does not matter);
  the direction with the most energy wins (among all directions, and among the question's options; a tie,
  as on a flat frame, counts as a guess among the tied);
* **presence**: is a fast-view frame with the card told apart from one without, with no knowledge of
  where the card is? A frame's score is the largest, over pixels, of the smaller deviation from the
  fast-view frames three before and three after it (a card differs from both, a shot cut from one);
  the balanced accuracy (mean of the hit rates on frames with and without the card) of the best
  threshold is reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114])
# The timestamp overlay is drawn near the bottom-right corner: the reader ignores the last 30 % of both the
# width and the height.
_OVERLAY_FRACTION = 0.3


def read_stripes(observed: np.ndarray, *, source_size: int, period_pixels: float,
                 directions: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Energy of one observed frame at each candidate direction's stripe frequency (larger: more likely).

    Args:
        observed: the frame as the model sees it, ``uint8 [h, w, 3]`` (any size; resized from a square
            ``source_size`` frame).
        source_size: side of the source video's frames (pixels).
        period_pixels: the stripes' period in the source frames (pixels).
        directions: each candidate's unit vector ``(x, y)`` (the dataset card's ``directions``).

    Pixel centres of the observed frame are mapped back to source coordinates, so the frequency is the
    one the stripes have after the resize; the corner under the timestamp overlay is left out.
    """
    height, width = observed.shape[:2]
    luma = observed.astype(np.float64) @ _LUMA
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
    keep = ~((xs > width * (1 - _OVERLAY_FRACTION)) & (ys > height * (1 - _OVERLAY_FRACTION)))
    values = luma[keep] - luma[keep].mean()
    xs, ys = xs[keep] * source_size / width, ys[keep] * source_size / height
    energies = {}
    for name, (vx, vy) in directions.items():
        phase = 2 * np.pi * (vx * xs + vy * ys) / period_pixels
        energies[name] = float(np.abs((values * np.exp(-1j * phase)).sum()) ** 2) / values.size
    return energies


def _credit(energies: dict[str, float], candidates: list[str], truth: str) -> float:
    """The reader's expected score among ``candidates``: 1 / (number of tied best) when ``truth`` is one of the
    candidates with the most energy (a flat frame ties them all: a guess), else 0."""
    best = max(energies[c] for c in candidates)
    tied = [c for c in candidates if energies[c] >= best - 1e-9 * max(best, 1.0)]
    return 1.0 / len(tied) if truth in tied else 0.0


def _best_balanced_accuracy(positive: list[float], negative: list[float]) -> float:
    """The best ``(hit rate on positives + hit rate on negatives) / 2`` over thresholds ``score >= t``."""
    if not positive or not negative:
        return float("nan")
    pos, neg = np.sort(positive), np.sort(negative)
    best = 0.5
    for threshold in np.unique(np.concatenate([pos, neg])):
        hits = (len(pos) - np.searchsorted(pos, threshold, side="left")) / len(pos)
        rejects = np.searchsorted(neg, threshold, side="left") / len(neg)
        best = max(best, (hits + rejects) / 2)
    return float(best)


def _presence_scores(frames: np.ndarray, *, gap: int = 3) -> np.ndarray:
    """Per frame: the largest, over pixels, of the smaller luma difference to the frames ``gap`` before and
    ``gap`` after it (NaN at the ends): a card differs from both, a shot cut from one side only."""
    luma = frames.astype(np.float64) @ _LUMA
    out = np.full(len(luma), np.nan)
    for i in range(gap, len(luma) - gap):
        out[i] = float(np.minimum(np.abs(luma[i] - luma[i - gap]), np.abs(luma[i] - luma[i + gap])).max())
    return out


def check_resolution_premise(
    dataset_dir: str | Path, *, fast_max_frames: int, fast_pixels_per_frame: int, clip_max_frames: int,
    clip_pixels_per_frame: int, extra_fast_pixels: tuple[int, ...] = (), policy: Any = None,
    max_videos: int | None = None,
) -> dict[str, Any]:
    """Identity and presence of the card in each view of every video (see the module docstring).

    ``extra_fast_pixels``: further fast-view budgets to read at (the frames the fast view would have at
    other resolutions), to show where the stripes become readable. ``policy`` (default: the reference
    ``ZoomPolicy``) turns the ideal request into the zoom clip, as inference does.

    Returns ``{"views": {name: {"frames_with_card", "pixels", "direction_accuracy", "mcq_accuracy",
    "presence_accuracy"}}, "videos": n}`` (``direction_accuracy`` picks among all the directions, ``mcq_accuracy``
    among the question's options, ``presence_accuracy`` for fast views only).
    """
    from love_r1.agent.loop import resolve_zoom
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.data._learn_to_zoom import requested_interval
    from love_r1.video import open_video, sample_clip, sample_fast_view

    dataset_dir = Path(dataset_dir)
    policy = policy if policy is not None else ZoomPolicy()
    card = json.loads((dataset_dir / "dataset.json").read_text(encoding="utf-8"))
    questions = {}
    for line in (dataset_dir / "annotations.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            questions[row["qid"]] = row
    budgets = {f"fast view {fast_pixels_per_frame} px": fast_pixels_per_frame}
    budgets.update({f"fast view {p} px": p for p in extra_fast_pixels})
    directions = {name: tuple(vector) for name, vector in card["directions"].items()}
    period = float(card["params"]["stripe_period_pixels"])
    stats: dict[str, dict[str, Any]] = {}
    for video in card["videos"][:max_videos]:
        planted = video["card"]
        question = questions[planted["qid"]]
        start, end = planted["evidence"]
        options = [option.split(". ", 1)[1] for option in question["options"]]
        views = {}
        with open_video(dataset_dir / video["video"]) as reader:
            for name, pixels in budgets.items():
                views[name] = sample_fast_view(reader, max_frames=fast_max_frames, pixels_per_frame=pixels,
                                               short_video_seconds=policy.short_video_seconds,
                                               short_video_factor=policy.short_video_factor)
            request = requested_interval(question["evidence"], duration_seconds=question["duration_seconds"],
                                         shot_seconds=float(card["params"].get("shot_seconds", 0.0)))
            clip, _ = resolve_zoom(start_seconds=request[0], end_seconds=request[1],
                                   duration_seconds=question["duration_seconds"], existing=(), policy=policy)
            if clip is not None:
                views[f"zoom clip {clip_pixels_per_frame} px"] = sample_clip(
                    reader, clip.start_seconds, clip.end_seconds, max_frames=clip_max_frames,
                    pixels_per_frame=clip_pixels_per_frame,
                    resolution_factor=policy.resolution_factor(question["duration_seconds"]))
        for name, frames in views.items():
            entry = stats.setdefault(name, {"frames": 0, "direction": 0, "mcq": 0, "present": [], "absent": [],
                                            "pixels": f"{frames.width}x{frames.height}"})
            shown = [(start <= t < end) for t in frames.timestamps_seconds]
            for frame, on in zip(frames.data, shown, strict=True):
                if on:
                    energies = read_stripes(frame, source_size=int(video["size"]), period_pixels=period,
                                            directions=directions)
                    entry["frames"] += 1
                    entry["direction"] += _credit(energies, list(directions), planted["direction"])
                    entry["mcq"] += _credit(energies, options, planted["direction"])
            if name.startswith("fast"):
                for value, on in zip(_presence_scores(frames.data).tolist(), shown, strict=True):
                    if value == value:  # not NaN
                        entry["present" if on else "absent"].append(value)
    out = {}
    for name, entry in stats.items():
        n = entry["frames"]
        view = {"frames_with_card": n, "pixels": entry["pixels"],
                "direction_accuracy": entry["direction"] / n if n else float("nan"),
                "mcq_accuracy": entry["mcq"] / n if n else float("nan")}
        if name.startswith("fast"):
            view["presence_accuracy"] = _best_balanced_accuracy(entry["present"], entry["absent"])
        out[name] = view
    return {"views": out, "videos": len(card["videos"][:max_videos])}


__all__ = ["check_resolution_premise", "read_stripes"]
