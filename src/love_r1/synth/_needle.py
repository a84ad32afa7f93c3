"""``write_needle_dataset``: long videos with small, briefly shown details and MCQs about them.

Each video is the frame-index pattern (top-left) on a seeded background, plus one "needle"
per question: a small detail (a digit in a bordered box, a coloured shape, a letter on a
yellow tile) about 4 % of the frame height tall, shown during a known interval. Needles live
in disjoint time slots (one per question, slots in random order) and outside the pattern and
the bottom-right corner (where a timestamp overlay goes). A digit is legible at full
resolution and not at a fast-view resolution of ~200 px wide, so the questions need zooming.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from love_r1.synth._encode import VideoWriter, background, check_video_args, num_frames_for
from love_r1.synth._glyphs import GLYPH_HEIGHT, GLYPH_WIDTH, glyph, scaled, shape_mask
from love_r1.synth._pattern import draw_frame_index

logger = logging.getLogger(__name__)

DATASET_NAME = "love-r1-synthetic-needle"
DATASET_VERSION = 1
CATEGORIES = ("digit", "colour", "timing")
LETTERS = "ABCD"
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 230),
    "yellow": (240, 220, 40),
    "magenta": (220, 50, 220),
    "cyan": (40, 210, 220),
    "orange": (250, 140, 20),
}
_BORDERS = ("red", "blue", "green")  # identity of digit needles
_SHAPES = ("square", "circle", "triangle")  # identity of colour needles
_TILE_LETTERS = ("X", "T", "H")  # identity of timing needles
MAX_QUESTIONS_PER_VIDEO = len(CATEGORIES) * 3
# Where needles may go, as fractions (x0, y0, x1, y1): right of the pattern, or below it.
_NEEDLE_AREAS = ((0.62, 0.03, 0.97, 0.72), (0.03, 0.62, 0.58, 0.97))


@dataclass(frozen=True)
class Needle:
    """One planted detail. ``bbox_pixels`` is ``(x0, y0, x1, y1)``, half-open; frames
    ``start_frame <= i < end_frame`` show it, i.e. the half-open interval ``evidence``."""

    qid: str
    category: str
    identity: str
    target: str
    bbox_pixels: tuple[int, int, int, int]
    start_frame: int
    end_frame: int
    evidence: tuple[float, float]


def needle_unit_pixels(*, height: int) -> int:
    """Pixels per bitmap cell: glyphs are 7 cells (about 4 % of the frame height) tall."""
    return max(1, round(0.04 * height / GLYPH_HEIGHT))


def _needle_patch(category: str, identity: str, target: str, *, unit: int) -> tuple[np.ndarray, np.ndarray]:
    """RGB patch and its opacity mask for one needle."""
    if category == "digit":
        ink = scaled(glyph(target), scale=unit)
        h, w = (GLYPH_HEIGHT + 4) * unit, (GLYPH_WIDTH + 4) * unit
        patch = np.empty((h, w, 3), np.uint8)
        patch[:] = COLOURS[identity]
        patch[unit:-unit, unit:-unit] = 255
        patch[2 * unit:2 * unit + ink.shape[0], 2 * unit:2 * unit + ink.shape[1]][ink] = 0
        return patch, np.ones((h, w), dtype=bool)
    if category == "colour":
        mask = shape_mask(identity, size=GLYPH_HEIGHT * unit)
        patch = np.empty((*mask.shape, 3), np.uint8)
        patch[:] = COLOURS[target]
        return patch, mask
    ink = scaled(glyph(identity), scale=unit)
    h, w = (GLYPH_HEIGHT + 2) * unit, (GLYPH_WIDTH + 2) * unit
    patch = np.empty((h, w, 3), np.uint8)
    patch[:] = COLOURS["yellow"]
    patch[unit:unit + ink.shape[0], unit:unit + ink.shape[1]][ink] = 0
    return patch, np.ones((h, w), dtype=bool)


def _clock(seconds: float, *, duration_seconds: float) -> str:
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if duration_seconds >= 3600 else f"{minutes:02d}:{secs:02d}"


def _identity_phrase(category: str, identity: str) -> str:
    if category == "digit":
        return f"the small white box with a {identity} border"
    if category == "colour":
        return f"the small {identity}"
    return f"the small yellow tile with the letter {identity}"


def _question(needle: Needle, *, rng: np.random.Generator, duration_seconds: float) -> dict:
    phrase = _identity_phrase(needle.category, needle.identity)
    if needle.category == "digit":
        question = f"Which digit is written in {phrase} that appears briefly in the video?"
        others = [d for d in "0123456789" if d != needle.target]
        choices = [needle.target, *rng.choice(others, size=3, replace=False).tolist()]
        rng.shuffle(choices)
    elif needle.category == "colour":
        question = f"What colour is {phrase} that appears briefly in the video?"
        others = [c for c in COLOURS if c != needle.target]
        choices = [needle.target, *rng.choice(others, size=3, replace=False).tolist()]
        rng.shuffle(choices)
    else:
        question = f"When does {phrase} first appear? (time from the start of the video)"
        choices = [_clock(float(t), duration_seconds=duration_seconds)
                   for t in _timing_choices(needle, rng=rng, duration_seconds=duration_seconds)]
    answer = LETTERS[choices.index(needle.target)]
    return {
        "qid": needle.qid,
        "question": question,
        "options": [f"{letter}. {choice}" for letter, choice in zip(LETTERS, choices, strict=True)],
        "answer": answer,
        "evidence": [list(needle.evidence)],
        "category": needle.category,
    }


def _timing_gap_seconds(duration_seconds: float) -> int:
    return max(1, round(duration_seconds / 10))


def _timing_choices(needle: Needle, *, rng: np.random.Generator, duration_seconds: float) -> list[int]:
    """The true start (whole seconds) plus 3 distractors, pairwise >= gap apart, in time order."""
    truth = int(round(needle.evidence[0]))
    gap = _timing_gap_seconds(duration_seconds)
    candidates = [t for t in range(int(np.floor(duration_seconds))) if abs(t - truth) >= gap]
    for _ in range(200):
        picked = [truth]
        for t in rng.permutation(candidates).tolist():
            if all(abs(t - p) >= gap for p in picked):
                picked.append(int(t))
                if len(picked) == 4:
                    return sorted(picked)
    raise ValueError(
        f"duration_seconds={duration_seconds} is too short for timing options {gap} s apart "
        "(hint: use a longer video, e.g. >= 12 s)"
    )


def _plan_video(
    video_id: str, *, rng: np.random.Generator, num_frames: int, fps: float, width: int, height: int,
    num_questions: int, needle_seconds: tuple[float, float],
) -> list[Needle]:
    unit = needle_unit_pixels(height=height)
    slots = rng.permutation(num_questions)
    needles = []
    for q in range(num_questions):
        category = CATEGORIES[q % len(CATEGORIES)]
        identity = (_BORDERS, _SHAPES, _TILE_LETTERS)[q % len(CATEGORIES)][q // len(CATEGORIES)]
        if category == "digit":
            target = str(rng.integers(0, 10))
        elif category == "colour":
            target = str(rng.choice(list(COLOURS)))
        else:
            target = ""  # the start time, filled below
        patch, _ = _needle_patch(category, identity, target or "0", unit=unit)
        ph, pw = patch.shape[:2]
        areas = [(round(ax0 * width), round(ay0 * height), round(ax1 * width) - pw, round(ay1 * height) - ph)
                 for ax0, ay0, ax1, ay1 in _NEEDLE_AREAS]
        areas = [a for a in areas if a[2] > a[0] and a[3] > a[1]]
        if not areas:
            raise ValueError(f"frame {width}x{height} is too small for a needle of {pw}x{ph} px; use a larger size")
        weights = np.array([(a[2] - a[0]) * (a[3] - a[1]) for a in areas], dtype=np.float64)
        ax0, ay0, ax1, ay1 = areas[int(rng.choice(len(areas), p=weights / weights.sum()))]
        x0, y0 = int(rng.integers(ax0, ax1)), int(rng.integers(ay0, ay1))
        slot = int(slots[q])
        slot_start, slot_end = slot * num_frames // num_questions, (slot + 1) * num_frames // num_questions
        low, high = needle_seconds
        length_seconds = rng.uniform(low, min(high, (slot_end - slot_start) / fps))
        length = int(np.clip(round(length_seconds * fps), 1, slot_end - slot_start))
        start = int(rng.integers(slot_start, slot_end - length + 1))
        evidence = (round(start / fps, 6), round((start + length) / fps, 6))
        if category == "timing":
            target = _clock(evidence[0], duration_seconds=num_frames / fps)
        needles.append(Needle(qid=f"{video_id}_q{q}", category=category, identity=identity, target=target,
                              bbox_pixels=(x0, y0, x0 + pw, y0 + ph), start_frame=start,
                              end_frame=start + length, evidence=evidence))
    return needles


def check_needle_args(
    *, duration_seconds: float, num_videos: int, num_questions_per_video: int, width: int, height: int,
    fps: float, gop_seconds: float, needle_seconds: tuple[float, float],
) -> None:
    """Raise ValueError naming the first bad argument of :func:`write_needle_dataset`."""
    check_video_args(duration_seconds=duration_seconds, fps=fps, width=width, height=height, gop_seconds=gop_seconds)
    if not isinstance(num_videos, (int, np.integer)) or num_videos < 1:
        raise ValueError(f"num_videos must be an integer >= 1; got {num_videos!r}")
    if not isinstance(num_questions_per_video, (int, np.integer)) or not 1 <= num_questions_per_video <= MAX_QUESTIONS_PER_VIDEO:
        raise ValueError(
            f"num_questions_per_video must be an integer in [1, {MAX_QUESTIONS_PER_VIDEO}]; got {num_questions_per_video!r}"
        )
    low, high = needle_seconds
    if not 0 < low <= high:
        raise ValueError(f"needle_seconds must be (min, max) with 0 < min <= max (seconds); got {needle_seconds!r}")
    if low * fps < 1:
        raise ValueError(f"needle_seconds min={low} s is shorter than one frame at fps={fps}")
    slot_seconds = duration_seconds / num_questions_per_video
    if slot_seconds < low:
        raise ValueError(
            f"duration_seconds={duration_seconds} is too short for {num_questions_per_video} needles of at least "
            f"{low} s each in separate time slots (needs >= {num_questions_per_video * low:g} s); use a longer "
            "duration, fewer questions per video or a shorter minimum needle length"
        )
    if num_questions_per_video >= 3 and duration_seconds < 4 * _timing_gap_seconds(duration_seconds):
        raise ValueError(f"duration_seconds={duration_seconds} is too short for a timing question (needs >= 4 s)")
    if height < 64:
        raise ValueError(f"height must be >= 64 px for legible needles; got {height}")


def write_needle_dataset(
    out_dir: str | Path,
    *,
    duration_seconds: float,
    num_videos: int = 1,
    num_questions_per_video: int = 3,
    width: int = 640,
    height: int = 360,
    fps: float = 10.0,
    gop_seconds: float = 2.0,
    seed: int = 0,
    needle_seconds: tuple[float, float] = (4.0, 10.0),
    progress: bool = False,
) -> Path:
    """Write a needle-in-a-haystack MCQ dataset and return the path of its ``annotations.jsonl``.

    Layout of ``out_dir``: ``videos/needle_XXXX.mp4`` (H.264), ``annotations.jsonl`` (one
    question per line: ``qid``, ``video`` (relative to ``out_dir``), ``question``, ``options``
    (``"A. ..."``), ``answer`` (letter), ``duration_seconds``, ``evidence`` (list of half-open
    ``[start_seconds, end_seconds]``), ``category`` (``digit``/``colour``/``timing``)) and
    ``dataset.json`` (name, version, seed, generator parameters and every needle's position).

    Args:
        duration_seconds: length of each video.
        num_videos: number of videos.
        num_questions_per_video: needles (= questions) per video, 1 to 9; categories cycle digit, colour, timing.
        width, height: frame size in pixels (even).
        fps: frame rate (frames per second).
        gop_seconds: keyframe interval (seconds).
        seed: the same arguments and seed give identical files.
        needle_seconds: (min, max) time each needle stays visible (seconds).
        progress: show a tqdm progress bar over all frames.

    Raises:
        ValueError: on a bad argument, naming it and the limit it breaks.
    """
    needle_seconds = (float(needle_seconds[0]), float(needle_seconds[1]))
    check_needle_args(duration_seconds=duration_seconds, num_videos=num_videos,
                      num_questions_per_video=num_questions_per_video, width=width, height=height, fps=fps,
                      gop_seconds=gop_seconds, needle_seconds=needle_seconds)
    out_dir = Path(out_dir)
    (out_dir / "videos").mkdir(parents=True, exist_ok=True)
    num_frames = num_frames_for(duration_seconds=duration_seconds, fps=fps)
    true_duration = round(num_frames / fps, 6)
    unit = needle_unit_pixels(height=height)
    plans = []
    for v in range(num_videos):
        rng = np.random.default_rng([seed, v])
        video_id = f"needle_{v:04d}"
        needles = _plan_video(video_id, rng=rng, num_frames=num_frames, fps=fps, width=width, height=height,
                              num_questions=num_questions_per_video, needle_seconds=needle_seconds)
        questions = [_question(n, rng=rng, duration_seconds=true_duration) for n in needles]
        plans.append((video_id, int(rng.integers(0, 2**31)), needles, questions))

    annotations, videos = [], []
    bar = tqdm(total=num_frames * num_videos, desc="needle videos", unit="frame", ascii=True, disable=not progress)
    with bar:
        for video_id, background_seed, needles, questions in plans:
            relative = f"videos/{video_id}.mp4"
            base = background(width=width, height=height, seed=background_seed)
            patches = [_needle_patch(n.category, n.identity, n.target or "0", unit=unit) for n in needles]
            with VideoWriter(out_dir / relative, width=width, height=height, fps=fps,
                             gop_seconds=gop_seconds) as writer:
                for index in range(num_frames):
                    frame = draw_frame_index(base, frame_index=index)
                    for needle, (patch, mask) in zip(needles, patches, strict=True):
                        if needle.start_frame <= index < needle.end_frame:
                            x0, y0, x1, y1 = needle.bbox_pixels
                            frame[y0:y1, x0:x1][mask] = patch[mask]
                    writer.write(frame)
                    bar.update(1)
            for q in questions:
                annotations.append({"qid": q["qid"], "video": relative, "question": q["question"],
                                    "options": q["options"], "answer": q["answer"],
                                    "duration_seconds": true_duration, "evidence": q["evidence"],
                                    "category": q["category"]})
            videos.append({"id": video_id, "video": relative, "duration_seconds": true_duration,
                           "num_frames": num_frames, "width": width, "height": height, "fps": fps,
                           "needles": [asdict(n) for n in needles]})
            logger.info("wrote %s with %d needles", relative, len(needles))

    annotations_path = out_dir / "annotations.jsonl"
    annotations_path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in annotations),
                                encoding="utf-8")
    from love_r1 import __version__

    card = {
        "name": DATASET_NAME,
        "version": DATASET_VERSION,
        "generator": f"love_r1.synth.write_needle_dataset (love-r1 {__version__})",
        "seed": seed,
        "params": {"duration_seconds": duration_seconds, "num_videos": num_videos,
                   "num_questions_per_video": num_questions_per_video, "width": width, "height": height,
                   "fps": fps, "gop_seconds": gop_seconds, "needle_seconds": list(needle_seconds),
                   "codec": "libx264"},
        "description": (
            "Synthetic needle-in-a-haystack MCQs. Every frame shows its index as a block pattern in the "
            "top-left (love_r1.synth.read_frame_index). Each question is about one small detail (about 4% of "
            "the frame height) shown only during its evidence interval [start_seconds, end_seconds) "
            "(half-open, seconds). bbox_pixels are (x0, y0, x1, y1), half-open."
        ),
        "files": {"annotations": "annotations.jsonl", "videos": "videos/"},
        "num_questions": len(annotations),
        "videos": videos,
    }
    (out_dir / "dataset.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return annotations_path
