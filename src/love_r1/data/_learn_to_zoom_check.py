"""The resolution premise of a learn-to-zoom dataset, measured on the frames a model is given.

:func:`check_resolution_premise` samples every video exactly as the zoom loop does (the fast view,
and the zoom clip that inference applies to the ideal request), then asks two questions per view:

* **identity**: can the digit be read from a frame that shows the sign? :func:`read_sign` is an
  *oracle* reader, stronger than any model: it knows where the sign is and what the scene behind it
  looks like, renders each candidate digit through the same resize, fits the unknown paper and ink
  brightness by least squares and picks the digit with the smallest residual (among the dataset's
  digits, and among the question's options);
* **presence**: is a fast-view frame with the sign told apart from one without, with no knowledge of
  where the sign is? A frame's score is the largest, over pixels, of the smaller deviation from the
  fast-view frames three before and three after it (a sign differs from both, a shot cut from one);
  the balanced accuracy (mean of the hit rates on frames with and without the sign) of the best
  threshold is reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114])


def _resize(plane: np.ndarray, *, height: int, width: int) -> np.ndarray:
    from PIL import Image

    image = Image.fromarray(plane.astype(np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.BICUBIC), dtype=np.float64)


def read_sign(
    observed: np.ndarray, *, background: np.ndarray, bbox_pixels: tuple[int, int, int, int],
    glyphs: dict[str, np.ndarray],
) -> dict[str, float]:
    """Least-squares residual of each candidate digit for one observed frame (smaller: more likely).

    Args:
        observed: the frame as the model sees it, ``uint8 [h, w, 3]`` (any size).
        background: the same scene at the source size without the sign, ``uint8 [H, W, 3]``.
        bbox_pixels: the sign's box ``(x0, y0, x1, y1)`` at the source size (half-open).
        glyphs: each candidate digit's ink mask at the source size (``bool [h, w]``; the dataset card's
            ``glyphs`` scaled by its ``glyph_scale``: :func:`sign_glyphs`).

    The model of a frame is ``resize(scene outside the sign) + paper * resize(sign minus glyph) +
    ink * resize(glyph) + offset``, with the resize the video engine's (bicubic, antialiased); the
    fit is over the observed pixels that overlap the sign.
    """
    height, width = observed.shape[:2]
    src_h, src_w = background.shape[:2]
    x0, y0, x1, y1 = bbox_pixels
    sy, sx = height / src_h, width / src_w
    rows = slice(int(np.floor(y0 * sy)), int(np.ceil(y1 * sy)))
    cols = slice(int(np.floor(x0 * sx)), int(np.ceil(x1 * sx)))
    target = (observed.astype(np.float64) @ _LUMA)[rows, cols].ravel()
    scene = background.astype(np.float64) @ _LUMA
    panel = np.zeros((src_h, src_w))
    panel[y0:y1, x0:x1] = 1.0
    outside = _resize(scene * (1.0 - panel), height=height, width=width)[rows, cols].ravel()
    residuals = {}
    for digit, mask in glyphs.items():  # paper and ink are fitted: the same model holds for any sign colour
        cells = mask.astype(np.float64)
        ink = np.zeros((src_h, src_w))
        gy, gx = y0 + (y1 - y0 - cells.shape[0]) // 2, x0 + (x1 - x0 - cells.shape[1]) // 2
        ink[gy:gy + cells.shape[0], gx:gx + cells.shape[1]] = cells
        design = np.stack([outside, _resize(panel - ink, height=height, width=width)[rows, cols].ravel(),
                           _resize(ink, height=height, width=width)[rows, cols].ravel(), np.ones_like(target)], 1)
        coef, *_ = np.linalg.lstsq(design, target, rcond=None)
        residuals[digit] = float(((design @ coef - target) ** 2).sum())
    return residuals


def sign_glyphs(card: dict[str, Any]) -> dict[str, np.ndarray]:
    """The ink mask of each digit of a dataset card (``dataset.json``), at the source size."""
    scale = int(card["params"]["glyph_scale"])
    cell = np.ones((scale, scale), dtype=bool)
    return {digit: np.kron(np.array([[c == "#" for c in row] for row in rows], dtype=bool), cell).astype(bool)
            for digit, rows in card["glyphs"].items()}


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
    ``gap`` after it (NaN at the ends): a sign differs from both, a shot cut from one side only."""
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
    """Identity and presence of the sign in each view of every video (see the module docstring).

    ``extra_fast_pixels``: further fast-view budgets to read at (the frames the fast view would have at
    other resolutions), to show where the digit becomes readable. ``policy`` (default: the reference
    ``ZoomPolicy``) turns the ideal request into the zoom clip, as inference does.

    Returns ``{"views": {name: {"frames_with_sign", "pixels", "digit_accuracy", "mcq_accuracy",
    "presence_accuracy"}}, "videos": n}`` (``digit_accuracy`` picks among the dataset's digits, ``mcq_accuracy``
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
    stats: dict[str, dict[str, Any]] = {}
    glyphs = sign_glyphs(card)
    for video in card["videos"][:max_videos]:
        sign = video["sign"]
        question = questions[sign["qid"]]
        start, end = sign["evidence"]
        options = [option.split(". ", 1)[1] for option in question["options"]]
        views = {}
        with open_video(dataset_dir / video["video"]) as reader:
            before = max(sign["start_frame"] - 1, 0)
            background = reader.get_frames_at(np.array([before]), overlay=False).data[0]
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
            entry = stats.setdefault(name, {"frames": 0, "digit": 0, "mcq": 0, "present": [], "absent": [],
                                            "pixels": f"{frames.width}x{frames.height}"})
            shown = [(start <= t < end) for t in frames.timestamps_seconds]
            for frame, on in zip(frames.data, shown, strict=True):
                if on:
                    residuals = read_sign(frame, background=background, bbox_pixels=tuple(sign["bbox_pixels"]),
                                          glyphs=glyphs)
                    entry["frames"] += 1
                    entry["digit"] += min(residuals, key=residuals.__getitem__) == sign["digit"]
                    entry["mcq"] += min(options, key=residuals.__getitem__) == sign["digit"]
            if name.startswith("fast"):
                for value, on in zip(_presence_scores(frames.data).tolist(), shown, strict=True):
                    if value == value:  # not NaN
                        entry["present" if on else "absent"].append(value)
    out = {}
    for name, entry in stats.items():
        n = entry["frames"]
        view = {"frames_with_sign": n, "pixels": entry["pixels"],
                "digit_accuracy": entry["digit"] / n if n else float("nan"),
                "mcq_accuracy": entry["mcq"] / n if n else float("nan")}
        if name.startswith("fast"):
            view["presence_accuracy"] = _best_balanced_accuracy(entry["present"], entry["absent"])
        out[name] = view
    return {"views": out, "videos": len(card["videos"][:max_videos])}


__all__ = ["check_resolution_premise", "read_sign", "sign_glyphs"]
