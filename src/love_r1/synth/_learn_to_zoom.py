"""``write_learn_to_zoom_dataset``: short videos where zooming is necessary and sufficient.

Each two-minute video shows a scene and, for a few seconds, one small yellow sign with
a digit on it; the question asks for the digit. The sizes are chosen against the frame budgets of the
learn-to-zoom recipe (``configs/learn/``; 256x256 px videos):

* **fast view** (28x28 px per frame): the 32 px sign is a 3.5 px yellow blob, so its *presence* (and,
  with the scene's colour, *when* it is shown) is visible, but the 5x7-pixel digit is half a pixel wide
  and its *identity* is not;
* **zoom clip** (112x112 px per frame): the digit is 2.2x3.1 px, readable.

Each video is a sequence of shots (``shot_seconds``, 10 s by default) whose colour goes from blue (the
first) to red (the last), the same way on every video: a global cue that gives a small model trained
for minutes a sense of time it can learn (the burned-in timestamps of the fast view are too small to
read at 28 px). The sign lies inside one shot, and the ideal zoom request is that shot: one of about ten
intervals, so a model that sees *when* the sign is there can say it in a few tokens. Each sign sits on a grid of
``sign_pixels`` (32 px by default: at the zoom clip's 112 px, one vision-tower patch), in a random cell
away from the bottom-right corner where the timestamp is drawn. The recipe's digits (2, 3, 4, 9) have
the same amount of ink, so a blurred sign does not tell them apart by its darkness; the ink is only 70
levels darker than the paper and every frame of the sign gets fresh grain. ``love_r1.data.
check_resolution_premise`` measures both premises on decoded, resized frames.

Files written to ``out_dir``:

* ``videos/learn_SEED_XXXX.mp4`` (H.264) and ``annotations.jsonl``, one multiple-choice question per
  video in the needle format that ``love-r1 eval --benchmark needle`` reads (``qid``, ``video``,
  ``question``, ``options``, ``answer``, ``duration_seconds``, ``evidence``, ``category``);
* ``dataset.json``: parameters and every sign's digit, box and frames.

:func:`love_r1.data.write_learn_to_zoom_records` turns the annotations into training records in the
published formats.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from love_r1.synth._encode import VideoWriter, check_video_args, num_frames_for
from love_r1.synth._glyphs import GLYPH_HEIGHT, GLYPH_WIDTH, glyph, scaled

logger = logging.getLogger(__name__)

DATASET_NAME = "love-r1-learn-to-zoom"
DATASET_VERSION = 1
LETTERS = "ABCDEFGHIJ"
DIGITS = "0123456789"
# The recipe's digits: four shapes with (nearly) the same ink (14, 14, 14 and 15 of the 35 glyph cells), so a
# blurred sign does not tell them apart by how dark it is.
RECIPE_DIGITS = "2349"
QUESTION = "Which digit is written on the small sign that appears for a few seconds in the video?"
# Scene colour at the start and at the end of every video (RGB); linear in between.
START_COLOUR = (40.0, 90.0, 210.0)
END_COLOUR = (210.0, 90.0, 40.0)
# The timestamp overlay is drawn near the bottom-right corner: no sign whose box reaches into the
# last `_OVERLAY_FRACTION` of both the width and the height.
_OVERLAY_FRACTION = 0.3
_SCENE_OFFSET = 15.0  # per-video grey offset of the scene (+-, levels)
_TEXTURE = 14.0  # amplitude of the per-video static texture (levels)
# The sign: yellow paper (the scene's green stays near 90, so the sign stands out even when it is a few
# pixels wide) and an ink only 70 levels darker on every channel, so the digit fades when the sign is shrunk.
_PAPER = (235, 225, 70)
_INK = (165, 155, 0)
_GRAIN = 10.0  # standard deviation of the sign's per-frame grain (levels)


@dataclass(frozen=True)
class Sign:
    """One planted sign: ``digit`` in the box ``bbox_pixels = (x0, y0, x1, y1)`` (half-open), on frames
    ``start_frame <= i < end_frame``, i.e. the half-open ``evidence`` interval in seconds."""

    qid: str
    digit: str
    bbox_pixels: tuple[int, int, int, int]
    start_frame: int
    end_frame: int
    evidence: tuple[float, float]
    paper_rgb: tuple[int, int, int]
    ink_rgb: tuple[int, int, int]


def sign_patch(digit: str, *, sign_pixels: int, glyph_scale: int, paper: tuple[int, int, int],
               ink: tuple[int, int, int]) -> np.ndarray:
    """The ``uint8 [sign_pixels, sign_pixels, 3]`` sign: ``paper`` (RGB) with the digit's 5x7 glyph centred in ``ink``."""
    cells = scaled(glyph(digit), scale=glyph_scale)
    patch = np.empty((sign_pixels, sign_pixels, 3), np.uint8)
    patch[:] = paper
    y0 = (sign_pixels - cells.shape[0]) // 2
    x0 = (sign_pixels - cells.shape[1]) // 2
    patch[y0:y0 + cells.shape[0], x0:x0 + cells.shape[1]][cells] = ink
    return patch


def scene_colour(*, seconds: float, duration_seconds: float, shot_seconds: float = 0.0) -> np.ndarray:
    """The scene's RGB colour at ``seconds``: linear from :data:`START_COLOUR` to :data:`END_COLOUR`; with
    ``shot_seconds > 0`` constant within each shot ``[k * shot_seconds, (k + 1) * shot_seconds)`` (the colour of
    the shot's middle), so the video is a sequence of shots whose colour tells the time."""
    if shot_seconds > 0:
        seconds = (np.floor(seconds / shot_seconds) + 0.5) * shot_seconds
    f = min(max(seconds / duration_seconds, 0.0), 1.0)
    return np.array(START_COLOUR) * (1 - f) + np.array(END_COLOUR) * f


def _texture(*, rng: np.random.Generator, size: int) -> np.ndarray:
    """A static, smooth per-video texture in ``[-1, 1]`` (``float32 [size, size]``): a few random waves."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    out = np.zeros((size, size), np.float32)
    for _ in range(6):
        fx, fy = rng.uniform(-6, 6, size=2)
        out += np.cos(2 * np.pi * (fx * xs + fy * ys) + rng.uniform(0, 2 * np.pi)).astype(np.float32)
    return out / np.abs(out).max()


def sign_cells(*, size: int, sign_pixels: int) -> list[tuple[int, int]]:
    """The ``(x0, y0)`` grid cells a sign may occupy: clear of the bottom-right overlay corner."""
    steps = range(0, size - sign_pixels + 1, sign_pixels)
    limit = size * (1 - _OVERLAY_FRACTION)
    return [(x, y) for y in steps for x in steps if not (x + sign_pixels > limit and y + sign_pixels > limit)]


def check_learn_to_zoom_args(
    *, duration_seconds: float, num_videos: int, size: int, fps: float, gop_seconds: float,
    detail_seconds: tuple[float, float], margin_seconds: float, sign_pixels: int, glyph_scale: int,
    num_options: int, digits: str, shot_seconds: float = 0.0,
) -> None:
    """Raise ValueError naming the first bad argument of :func:`write_learn_to_zoom_dataset`."""
    check_video_args(duration_seconds=duration_seconds, fps=fps, width=size, height=size, gop_seconds=gop_seconds)
    if not isinstance(num_videos, (int, np.integer)) or num_videos < 1:
        raise ValueError(f"num_videos must be an integer >= 1; got {num_videos!r}")
    low, high = detail_seconds
    if not 0 < low <= high:
        raise ValueError(f"detail_seconds must be (min, max) with 0 < min <= max (seconds); got {detail_seconds!r}")
    if low * fps < 1:
        raise ValueError(f"detail_seconds min={low} s is shorter than one frame at fps={fps}")
    if margin_seconds < 0 or high + 2 * margin_seconds >= duration_seconds:
        raise ValueError(f"margin_seconds={margin_seconds} must be >= 0 and leave room for a {high} s sign in a "
                         f"{duration_seconds} s video (needs duration > max + 2 * margin)")
    if shot_seconds < 0 or (shot_seconds > 0 and not _shots(duration_seconds=duration_seconds, shot_seconds=shot_seconds,
                                                             margin_seconds=margin_seconds, length_seconds=high)):
        raise ValueError(f"shot_seconds={shot_seconds} must be 0 (no shots) or leave at least one shot that holds a "
                         f"{high} s sign with 0.5 s to spare on each side, at least margin_seconds={margin_seconds} "
                         f"from the ends of a {duration_seconds} s video")
    cells = scaled(glyph("0"), scale=glyph_scale).shape if glyph_scale >= 1 else (0, 0)
    if glyph_scale < 1 or cells[0] > sign_pixels or cells[1] > sign_pixels:
        raise ValueError(f"glyph_scale={glyph_scale} must be >= 1 and the {GLYPH_WIDTH}x{GLYPH_HEIGHT} glyph at that "
                         f"scale must fit the {sign_pixels} px sign")
    if not sign_cells(size=size, sign_pixels=sign_pixels):
        raise ValueError(f"sign_pixels={sign_pixels} leaves no grid cell in a {size}x{size} frame; use smaller signs")
    if not digits or len(set(digits)) != len(digits) or any(d not in DIGITS for d in digits):
        raise ValueError(f"digits must be distinct characters of {DIGITS!r}; got {digits!r}")
    if not isinstance(num_options, (int, np.integer)) or not 2 <= num_options <= len(digits):
        raise ValueError(f"num_options must be an integer in [2, len(digits) = {len(digits)}]; got {num_options!r}")


_SHOT_SPARE_SECONDS = 0.5  # a sign starts and ends at least this far inside its shot


def _shots(*, duration_seconds: float, shot_seconds: float, margin_seconds: float, length_seconds: float) -> list[int]:
    """The shots ``k`` that may hold a sign of ``length_seconds``: inside the margins, with the spare time."""
    count = int(np.floor(duration_seconds / shot_seconds + 1e-9))
    return [k for k in range(count) if k * shot_seconds >= margin_seconds - 1e-9
            and (k + 1) * shot_seconds <= duration_seconds - margin_seconds + 1e-9
            and length_seconds + 2 * _SHOT_SPARE_SECONDS <= shot_seconds]


def _plan(qid: str, *, rng: np.random.Generator, num_frames: int, fps: float, size: int,
          detail_seconds: tuple[float, float], margin_seconds: float, sign_pixels: int, digits: str,
          shot_seconds: float = 0.0) -> Sign:
    digit = digits[int(rng.integers(0, len(digits)))]
    cells = sign_cells(size=size, sign_pixels=sign_pixels)
    x0, y0 = cells[int(rng.integers(0, len(cells)))]
    length = max(1, round(rng.uniform(*detail_seconds) * fps))
    if shot_seconds > 0:  # inside one shot, chosen uniformly
        shots = _shots(duration_seconds=num_frames / fps, shot_seconds=shot_seconds, margin_seconds=margin_seconds,
                       length_seconds=length / fps)
        shot = shots[int(rng.integers(0, len(shots)))]
        first = int(np.ceil((shot * shot_seconds + _SHOT_SPARE_SECONDS) * fps))
        last = int(np.floor(((shot + 1) * shot_seconds - _SHOT_SPARE_SECONDS) * fps)) - length
    else:
        first = int(np.ceil(margin_seconds * fps))
        last = num_frames - length - first
    start = int(rng.integers(first, max(first, last) + 1))
    paper, ink = _PAPER, _INK
    return Sign(qid=qid, digit=digit, bbox_pixels=(x0, y0, x0 + sign_pixels, y0 + sign_pixels), start_frame=start,
                end_frame=start + length, evidence=(round(start / fps, 6), round((start + length) / fps, 6)),
                paper_rgb=paper, ink_rgb=ink)


def _question(sign: Sign, *, rng: np.random.Generator, num_options: int, digits: str,
              duration_seconds: float) -> dict:
    if num_options == len(digits):  # every digit is an option, always in the same order
        choices = list(digits)
    else:
        others = [d for d in digits if d != sign.digit]
        choices = [sign.digit, *rng.choice(others, size=num_options - 1, replace=False).tolist()]
        rng.shuffle(choices)
    return {"qid": sign.qid, "question": QUESTION,
            "options": [f"{letter}. {c}" for letter, c in zip(LETTERS, choices, strict=False)],
            "answer": LETTERS[choices.index(sign.digit)], "duration_seconds": duration_seconds,
            "evidence": [list(sign.evidence)], "category": "digit"}


@dataclass(frozen=True)
class _Spec:
    """Everything one video needs (picklable, for worker processes)."""

    out_dir: Path
    seed: int
    num_frames: int
    duration_seconds: float
    size: int
    fps: float
    gop_seconds: float
    detail_seconds: tuple[float, float]
    margin_seconds: float
    sign_pixels: int
    glyph_scale: int
    num_options: int
    digits: str
    shot_seconds: float


def _write_video(spec: _Spec, index: int) -> tuple[dict, dict]:
    """Write video ``index``; returns its annotation line and its ``dataset.json`` entry."""
    rng = np.random.default_rng([spec.seed, index])
    video_id = f"learn_{spec.seed}_{index:04d}"  # the seed in the name: no two datasets share a video id
    sign = _plan(f"{video_id}_q0", rng=rng, num_frames=spec.num_frames, fps=spec.fps, size=spec.size,
                 detail_seconds=spec.detail_seconds, margin_seconds=spec.margin_seconds, sign_pixels=spec.sign_pixels,
                 digits=spec.digits, shot_seconds=spec.shot_seconds)
    question = _question(sign, rng=rng, num_options=spec.num_options, digits=spec.digits,
                         duration_seconds=spec.duration_seconds)
    texture = _texture(rng=rng, size=spec.size)[..., None] * np.float32(_TEXTURE)
    offset = rng.uniform(-_SCENE_OFFSET, _SCENE_OFFSET)
    patch = sign_patch(sign.digit, sign_pixels=spec.sign_pixels, glyph_scale=spec.glyph_scale, paper=sign.paper_rgb,
                       ink=sign.ink_rgb)
    relative = f"videos/{video_id}.mp4"
    x0, y0, x1, y1 = sign.bbox_pixels
    with VideoWriter(spec.out_dir / relative, width=spec.size, height=spec.size, fps=spec.fps,
                     gop_seconds=spec.gop_seconds) as writer:
        for frame_index in range(spec.num_frames):
            colour = scene_colour(seconds=frame_index / spec.fps, duration_seconds=spec.duration_seconds,
                                  shot_seconds=spec.shot_seconds) + offset
            frame = np.clip(np.rint(texture + colour.astype(np.float32)), 0, 255).astype(np.uint8)
            if sign.start_frame <= frame_index < sign.end_frame:
                grain = rng.normal(0.0, _GRAIN, size=patch.shape[:2])[..., None]
                frame[y0:y1, x0:x1] = np.clip(np.rint(patch + grain), 0, 255).astype(np.uint8)
            writer.write(frame)
    logger.info("wrote %s (digit %s at %s s)", relative, sign.digit, sign.evidence)
    annotation = {"qid": question["qid"], "video": relative, **{k: question[k] for k in (
        "question", "options", "answer", "duration_seconds", "evidence", "category")}}
    entry = {"id": video_id, "video": relative, "duration_seconds": spec.duration_seconds,
             "num_frames": spec.num_frames, "size": spec.size, "fps": spec.fps, "sign": asdict(sign)}
    return annotation, entry


def write_learn_to_zoom_dataset(
    out_dir: str | Path,
    *,
    num_videos: int,
    seed: int = 0,
    duration_seconds: float = 120.0,
    size: int = 256,
    fps: float = 2.0,
    gop_seconds: float = 2.0,
    detail_seconds: tuple[float, float] = (3.5, 4.5),
    margin_seconds: float = 6.0,
    sign_pixels: int = 32,
    glyph_scale: int = 1,
    digits: str = RECIPE_DIGITS,
    num_options: int = 4,
    shot_seconds: float = 10.0,
    workers: int = 1,
    progress: bool = False,
) -> Path:
    """Write the videos, ``annotations.jsonl`` and ``dataset.json``; return the path of ``annotations.jsonl``.

    Args:
        num_videos: videos = questions.
        seed: every video, sign and question derives from it; the same arguments give identical files
            (whatever ``workers``). Byte-identical videos need a ``size`` that is a multiple of 128: the
            encoder reads past the end of each line, and such sizes leave no padding there.
        duration_seconds: length of each video.
        size: frame width and height (pixels, even).
        fps: frame rate (frames per second).
        gop_seconds: keyframe interval (seconds).
        detail_seconds: (min, max) time the sign is shown (seconds).
        margin_seconds: no sign in the first or last ``margin_seconds`` of a video.
        sign_pixels: side of the square sign and of the grid it sits on (pixels).
        glyph_scale: pixels per cell of the 5x7 digit glyph.
        digits: the digits a sign may show.
        num_options: options per question, one of them the sign's digit; when it equals ``len(digits)``
            every question lists all the digits, in the order given, otherwise a random subset, shuffled.
        shot_seconds: the video is a sequence of shots this long, each of one scene colour (the k-th shot of
            every video has the same colour, from blue to red), and the sign lies inside one shot; the ideal zoom
            request is that shot. 0: one continuous colour drift and a sign anywhere between the margins.
        workers: processes writing videos at once (1: in this process).
        progress: show a tqdm progress bar over the videos.

    Raises:
        ValueError: on a bad argument, naming it and the limit it breaks.
    """
    detail_seconds = (float(detail_seconds[0]), float(detail_seconds[1]))
    check_learn_to_zoom_args(duration_seconds=duration_seconds, num_videos=num_videos, size=size, fps=fps,
                             gop_seconds=gop_seconds, detail_seconds=detail_seconds, margin_seconds=margin_seconds,
                             sign_pixels=sign_pixels, glyph_scale=glyph_scale, num_options=num_options,
                             digits=digits, shot_seconds=shot_seconds)
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1 (processes); got {workers!r}")
    out_dir = Path(out_dir)
    (out_dir / "videos").mkdir(parents=True, exist_ok=True)
    num_frames = num_frames_for(duration_seconds=duration_seconds, fps=fps)
    spec = _Spec(out_dir=out_dir, seed=seed, num_frames=num_frames, duration_seconds=round(num_frames / fps, 6),
                 size=size, fps=fps, gop_seconds=gop_seconds, detail_seconds=detail_seconds,
                 margin_seconds=margin_seconds, sign_pixels=sign_pixels, glyph_scale=glyph_scale,
                 num_options=num_options, digits=digits, shot_seconds=float(shot_seconds))
    bar = tqdm(total=num_videos, desc="learn-to-zoom videos", unit="video", ascii=True, disable=not progress)
    with bar:
        if workers == 1:
            results = []
            for index in range(num_videos):
                results.append(_write_video(spec, index))
                bar.update(1)
        else:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_write_video, spec, index) for index in range(num_videos)]
                results = []
                for future in futures:
                    results.append(future.result())
                    bar.update(1)
    annotations = [annotation for annotation, _ in results]
    videos = [entry for _, entry in results]
    path = out_dir / "annotations.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in annotations), encoding="utf-8")
    from love_r1 import __version__

    card = {
        "name": DATASET_NAME, "version": DATASET_VERSION,
        "generator": f"love_r1.synth.write_learn_to_zoom_dataset (love-r1 {__version__})", "seed": seed,
        "params": {"num_videos": num_videos, "duration_seconds": duration_seconds, "size": size, "fps": fps,
                   "gop_seconds": gop_seconds, "detail_seconds": list(detail_seconds),
                   "margin_seconds": margin_seconds, "sign_pixels": sign_pixels, "glyph_scale": glyph_scale,
                   "digits": digits, "num_options": num_options, "shot_seconds": float(shot_seconds),
                   "codec": "libx264"},
        "description": (
            "One multiple-choice question per video: which digit is on the small sign shown during the evidence "
            "interval [start_seconds, end_seconds) (half-open, seconds). The scene colour drifts linearly from "
            f"{list(START_COLOUR)} to {list(END_COLOUR)} (RGB) over each video, in steps of shot_seconds (constant "
            "within a shot; continuous when 0), and the sign lies inside one shot. bbox_pixels are (x0, y0, x1, "
            "y1), half-open. glyphs: each digit's 5x7 bitmap (#: ink), one cell per glyph_scale pixels."),
        "glyphs": {d: ["".join("#" if cell else "." for cell in row) for row in glyph(d)] for d in digits},
        "files": {"annotations": "annotations.jsonl", "videos": "videos/"},
        "videos": videos,
    }
    (out_dir / "dataset.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path
