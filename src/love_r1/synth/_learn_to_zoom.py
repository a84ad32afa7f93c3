"""``write_learn_to_zoom_dataset``: short videos where zooming is necessary and sufficient.

Each two-minute video shows a scene and, for a few seconds, a bright card with fine stripes that fills the
frame; the question asks which way the stripes run (horizontal, vertical, rising or falling diagonal). The
sizes are chosen against the frame budgets of the learn-to-zoom recipe (``configs/learn/``; 256x256 px videos):

* **fast view** (28x28 px per frame): the card turns the whole frame bright, so its *presence* (and, with the
  scene's colour, *when* it is shown) is plain, but the stripes (a period of 8 px, i.e. 0.9 px at 28 px) are
  averaged away by the resize: all four directions give the same flat grey, so the *identity* is not there;
* **zoom clip** (112x112 px per frame): the stripes have a period of 3.5 px, readable.

Stripes, not a small digit: the zoom clip has only 4x the fast view's pixels per side, and a digit glyph big and
sharp enough for a tiny model to learn at 112 px is also readable at 28 px, while a grating finer than two
fast-view pixels vanishes there whatever its contrast (``docs/training.md``, "Learn to zoom on a laptop").

Each video is a sequence of shots (``shot_seconds``, 10 s by default) whose colour goes from blue (the
first) to red (the last), the same way on every video: a global cue that gives a small model trained
for minutes a sense of time it can learn (the burned-in timestamps of the fast view are too small to
read at 28 px). The card lies inside one shot, and the ideal zoom request is that shot: one of about ten
intervals, so a model that sees *when* the card is there can say it in a few tokens. The four cards are four
fixed pictures (the stripes always start at the same place), like printed cards: a model trained for minutes
from random weights reads a fixed picture, while stripes at a random phase (which need an energy detector)
stayed at chance in stage-2 SFT. ``love_r1.data.check_resolution_premise`` measures both premises on decoded,
resized frames.

Files written to ``out_dir``:

* ``videos/learn_SEED_XXXX.mp4`` (H.264) and ``annotations.jsonl``, one multiple-choice question per
  video in the needle format that ``love-r1 eval --benchmark needle`` reads (``qid``, ``video``,
  ``question``, ``options``, ``answer``, ``duration_seconds``, ``evidence``, ``category``);
* ``dataset.json``: parameters and every card's direction and frames.

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

logger = logging.getLogger(__name__)

DATASET_NAME = "love-r1-learn-to-zoom"
DATASET_VERSION = 2
LETTERS = "ABCDEFGHIJ"
# The stripe directions, in the order every question lists them. A direction is the unit vector (x, y) (pixels,
# y down) along which the card's brightness varies: horizontal stripes vary along y, a rising diagonal ("/")
# along x + y.
_DIRECTION_VECTORS = {"horizontal": (0.0, 1.0), "vertical": (1.0, 0.0), "rising diagonal": (0.5 ** 0.5, 0.5 ** 0.5),
                      "falling diagonal": (0.5 ** 0.5, -(0.5 ** 0.5))}
DIRECTIONS = tuple(_DIRECTION_VECTORS)
QUESTION = "Which way do the stripes run on the striped card that fills the screen for a few seconds in the video?"
# Scene colour at the start and at the end of every video (RGB); linear in between.
START_COLOUR = (40.0, 90.0, 210.0)
END_COLOUR = (210.0, 90.0, 40.0)
_SCENE_OFFSET = 15.0  # per-video grey offset of the scene (+-, levels)
_TEXTURE = 14.0  # amplitude of the per-video static texture (levels)
# The card: grey CARD_MEAN +- CARD_AMPLITUDE levels (a sine), brighter than any scene, so the fast view sees it.
CARD_MEAN = 200.0
CARD_AMPLITUDE = 55.0
CARD_RAMP_FRACTION = 0.125  # the stripes fade out over the outer eighth of the frame (card_envelope)


@dataclass(frozen=True)
class Card:
    """One planted card: stripes running ``direction``, on frames ``start_frame <= i <
    end_frame``, i.e. the half-open ``evidence`` interval in seconds."""

    qid: str
    direction: str
    start_frame: int
    end_frame: int
    evidence: tuple[float, float]


def stripe_coordinate(direction: str, *, width: int, height: int, period_pixels: float) -> np.ndarray:
    """``float64 [height, width]``: the card's phase ``2 pi (x, y) . v / period_pixels`` at each pixel centre, for
    the unit vector ``v`` of ``direction`` (one of :data:`DIRECTIONS`)."""
    vx, vy = _DIRECTION_VECTORS[direction]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
    return 2 * np.pi * (vx * xs + vy * ys) / period_pixels


def card_envelope(size: int) -> np.ndarray:
    """``float64 [size, size]``: the stripes' amplitude, 1 inside and rising from 0 at the frame's edges over the
    outer :data:`CARD_RAMP_FRACTION` of the side (a raised cosine). Without it the resize to the fast view, whose
    filter is cut and renormalised at the edges, leaves a few grey levels of the stripes in the border pixels."""
    ramp = size * CARD_RAMP_FRACTION
    distance = np.minimum(np.arange(size) + 0.5, size - np.arange(size) - 0.5)
    rise = 0.5 - 0.5 * np.cos(np.pi * np.clip(distance / ramp, 0.0, 1.0))
    return rise[:, None] * rise[None, :]


def card_frame(direction: str, *, size: int, period_pixels: float) -> np.ndarray:
    """The ``uint8 [size, size, 3]`` card: grey :data:`CARD_MEAN` + :data:`CARD_AMPLITUDE` * envelope * sin(stripe
    phase), with the edge envelope of :func:`card_envelope`."""
    phase = stripe_coordinate(direction, width=size, height=size, period_pixels=period_pixels)
    grey = CARD_MEAN + CARD_AMPLITUDE * card_envelope(size) * np.sin(phase)
    return np.repeat(np.clip(np.rint(grey), 0, 255).astype(np.uint8)[..., None], 3, axis=2)


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


def check_learn_to_zoom_args(
    *, duration_seconds: float, num_videos: int, size: int, fps: float, gop_seconds: float,
    detail_seconds: tuple[float, float], margin_seconds: float, stripe_period_pixels: float, num_options: int,
    shot_seconds: float = 0.0,
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
        raise ValueError(f"margin_seconds={margin_seconds} must be >= 0 and leave room for a {high} s card in a "
                         f"{duration_seconds} s video (needs duration > max + 2 * margin)")
    if shot_seconds < 0 or (shot_seconds > 0 and not _shots(duration_seconds=duration_seconds, shot_seconds=shot_seconds,
                                                             margin_seconds=margin_seconds, length_seconds=high)):
        raise ValueError(f"shot_seconds={shot_seconds} must be 0 (no shots) or leave at least one shot that holds a "
                         f"{high} s card with 0.5 s to spare on each side, at least margin_seconds={margin_seconds} "
                         f"from the ends of a {duration_seconds} s video")
    if not 2 < stripe_period_pixels <= size / 2:
        raise ValueError(f"stripe_period_pixels={stripe_period_pixels} must be in (2, size / 2 = {size / 2}]: finer "
                         "stripes alias in the source video, coarser ones show less than two periods")
    if not isinstance(num_options, (int, np.integer)) or not 2 <= num_options <= len(DIRECTIONS):
        raise ValueError(f"num_options must be an integer in [2, {len(DIRECTIONS)}] (the stripe directions); "
                         f"got {num_options!r}")


_SHOT_SPARE_SECONDS = 0.5  # a card starts and ends at least this far inside its shot


def _shots(*, duration_seconds: float, shot_seconds: float, margin_seconds: float, length_seconds: float) -> list[int]:
    """The shots ``k`` that may hold a card of ``length_seconds``: inside the margins, with the spare time."""
    count = int(np.floor(duration_seconds / shot_seconds + 1e-9))
    return [k for k in range(count) if k * shot_seconds >= margin_seconds - 1e-9
            and (k + 1) * shot_seconds <= duration_seconds - margin_seconds + 1e-9
            and length_seconds + 2 * _SHOT_SPARE_SECONDS <= shot_seconds]


def _plan(qid: str, *, rng: np.random.Generator, num_frames: int, fps: float,
          detail_seconds: tuple[float, float], margin_seconds: float, shot_seconds: float = 0.0) -> Card:
    direction = DIRECTIONS[int(rng.integers(0, len(DIRECTIONS)))]
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
    return Card(qid=qid, direction=direction, start_frame=start, end_frame=start + length,
                evidence=(round(start / fps, 6), round((start + length) / fps, 6)))


def _question(card: Card, *, rng: np.random.Generator, num_options: int, duration_seconds: float) -> dict:
    if num_options == len(DIRECTIONS):  # every direction is an option, always in the same order
        choices = list(DIRECTIONS)
    else:
        others = [d for d in DIRECTIONS if d != card.direction]
        choices = [card.direction, *rng.choice(others, size=num_options - 1, replace=False).tolist()]
        rng.shuffle(choices)
    return {"qid": card.qid, "question": QUESTION,
            "options": [f"{letter}. {c}" for letter, c in zip(LETTERS, choices, strict=False)],
            "answer": LETTERS[choices.index(card.direction)], "duration_seconds": duration_seconds,
            "evidence": [list(card.evidence)], "category": "stripes"}


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
    stripe_period_pixels: float
    num_options: int
    shot_seconds: float


def _write_video(spec: _Spec, index: int) -> tuple[dict, dict]:
    """Write video ``index``; returns its annotation line and its ``dataset.json`` entry."""
    rng = np.random.default_rng([spec.seed, index])
    video_id = f"learn_{spec.seed}_{index:04d}"  # the seed in the name: no two datasets share a video id
    card = _plan(f"{video_id}_q0", rng=rng, num_frames=spec.num_frames, fps=spec.fps,
                 detail_seconds=spec.detail_seconds, margin_seconds=spec.margin_seconds, shot_seconds=spec.shot_seconds)
    question = _question(card, rng=rng, num_options=spec.num_options, duration_seconds=spec.duration_seconds)
    texture = _texture(rng=rng, size=spec.size)[..., None] * np.float32(_TEXTURE)
    offset = rng.uniform(-_SCENE_OFFSET, _SCENE_OFFSET)
    stripes = card_frame(card.direction, size=spec.size, period_pixels=spec.stripe_period_pixels)
    relative = f"videos/{video_id}.mp4"
    with VideoWriter(spec.out_dir / relative, width=spec.size, height=spec.size, fps=spec.fps,
                     gop_seconds=spec.gop_seconds) as writer:
        for frame_index in range(spec.num_frames):
            if card.start_frame <= frame_index < card.end_frame:
                writer.write(stripes)
                continue
            colour = scene_colour(seconds=frame_index / spec.fps, duration_seconds=spec.duration_seconds,
                                  shot_seconds=spec.shot_seconds) + offset
            writer.write(np.clip(np.rint(texture + colour.astype(np.float32)), 0, 255).astype(np.uint8))
    logger.info("wrote %s (%s stripes at %s s)", relative, card.direction, card.evidence)
    annotation = {"qid": question["qid"], "video": relative, **{k: question[k] for k in (
        "question", "options", "answer", "duration_seconds", "evidence", "category")}}
    entry = {"id": video_id, "video": relative, "duration_seconds": spec.duration_seconds,
             "num_frames": spec.num_frames, "size": spec.size, "fps": spec.fps, "card": asdict(card)}
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
    stripe_period_pixels: float = 8.0,
    num_options: int = 4,
    shot_seconds: float = 10.0,
    workers: int = 1,
    progress: bool = False,
) -> Path:
    """Write the videos, ``annotations.jsonl`` and ``dataset.json``; return the path of ``annotations.jsonl``.

    Args:
        num_videos: videos = questions.
        seed: every video, card and question derives from it; the same arguments give identical files
            (whatever ``workers``). Byte-identical videos need a ``size`` that is a multiple of 128: the
            encoder reads past the end of each line, and such sizes leave no padding there.
        duration_seconds: length of each video.
        size: frame width and height (pixels, even).
        fps: frame rate (frames per second).
        gop_seconds: keyframe interval (seconds).
        detail_seconds: (min, max) time the card is shown (seconds).
        margin_seconds: no card in the first or last ``margin_seconds`` of a video.
        stripe_period_pixels: period of the card's stripes (pixels at ``size``): it must vanish in the fast view
            (below two fast-view pixels) and be readable in a zoom clip (above two of its pixels).
        num_options: options per question, one of them the card's direction; when it equals
            ``len(DIRECTIONS)`` every question lists all the directions, in the order of :data:`DIRECTIONS`,
            otherwise a random subset, shuffled.
        shot_seconds: the video is a sequence of shots this long, each of one scene colour (the k-th shot of
            every video has the same colour, from blue to red), and the card lies inside one shot; the ideal zoom
            request is that shot. 0: one continuous colour drift and a card anywhere between the margins.
        workers: processes writing videos at once (1: in this process).
        progress: show a tqdm progress bar over the videos.

    Raises:
        ValueError: on a bad argument, naming it and the limit it breaks.
    """
    detail_seconds = (float(detail_seconds[0]), float(detail_seconds[1]))
    check_learn_to_zoom_args(duration_seconds=duration_seconds, num_videos=num_videos, size=size, fps=fps,
                             gop_seconds=gop_seconds, detail_seconds=detail_seconds, margin_seconds=margin_seconds,
                             stripe_period_pixels=stripe_period_pixels, num_options=num_options,
                             shot_seconds=shot_seconds)
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1 (processes); got {workers!r}")
    out_dir = Path(out_dir)
    (out_dir / "videos").mkdir(parents=True, exist_ok=True)
    num_frames = num_frames_for(duration_seconds=duration_seconds, fps=fps)
    spec = _Spec(out_dir=out_dir, seed=seed, num_frames=num_frames, duration_seconds=round(num_frames / fps, 6),
                 size=size, fps=fps, gop_seconds=gop_seconds, detail_seconds=detail_seconds,
                 margin_seconds=margin_seconds, stripe_period_pixels=float(stripe_period_pixels),
                 num_options=num_options, shot_seconds=float(shot_seconds))
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
                   "margin_seconds": margin_seconds, "stripe_period_pixels": float(stripe_period_pixels),
                   "card_mean": CARD_MEAN, "card_amplitude": CARD_AMPLITUDE,
                   "card_ramp_fraction": CARD_RAMP_FRACTION, "num_options": num_options,
                   "shot_seconds": float(shot_seconds), "codec": "libx264"},
        "description": (
            "One multiple-choice question per video: which way the stripes run on the full-frame card shown during "
            "the evidence interval [start_seconds, end_seconds) (half-open, seconds). The card's grey is card_mean "
            "+ card_amplitude * envelope * sin(2 pi (x, y) . v / stripe_period_pixels) at pixel "
            "centres (x + 0.5, y + 0.5), y down, with v the direction's unit vector (directions) and envelope a "
            "raised cosine rising from 0 at each edge to 1 at card_ramp_fraction of the side. The scene colour drifts "
            f"linearly from {list(START_COLOUR)} to {list(END_COLOUR)} (RGB) over each video, in steps of "
            "shot_seconds (constant within a shot; continuous when 0), and the card lies inside one shot."),
        "directions": {d: list(v) for d, v in _DIRECTION_VECTORS.items()},
        "files": {"annotations": "annotations.jsonl", "videos": "videos/"},
        "videos": videos,
    }
    (out_dir / "dataset.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path
