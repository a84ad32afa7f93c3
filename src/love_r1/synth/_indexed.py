"""``write_indexed_video``: a video whose every frame shows its own frame index."""

from __future__ import annotations

import logging
from pathlib import Path

from tqdm.auto import tqdm

from love_r1.synth._encode import Codec, VideoWriter, background, check_video_args, num_frames_for
from love_r1.synth._pattern import MAX_FRAME_INDEX, draw_frame_index

logger = logging.getLogger(__name__)


def write_indexed_video(
    path: str | Path,
    *,
    duration_seconds: float,
    fps: float = 30.0,
    width: int = 320,
    height: int = 240,
    gop_seconds: float = 2.0,
    seed: int = 0,
    variable_frame_rate: bool = False,
    rotation_degrees: int = 0,
    codec: Codec = "libx264",
    progress: bool = False,
) -> Path:
    """Write an MP4 whose frame ``i`` shows ``i`` as a block pattern (see :func:`read_frame_index`).

    Args:
        path: output file (``.mp4``); parent folders are created.
        duration_seconds: length; ``round(duration_seconds * fps)`` frames are written.
        fps: average frame rate (frames per second).
        width, height: displayed size in pixels (even numbers, at least 32).
        gop_seconds: keyframe interval; every ``round(gop_seconds * fps)``-th frame is a
            keyframe and there are no scene-cut keyframes.
        seed: chooses the background; the same arguments give the same bytes.
        variable_frame_rate: when true, frame durations alternate ``2/(3*fps)`` and
            ``4/(3*fps)`` seconds (see :func:`indexed_video_timestamps_seconds`).
        rotation_degrees: display-matrix rotation, counter-clockwise (0, 90, 180, 270) as
            ffprobe reports it; content is stored so that a player that honours the matrix shows
            an upright pattern at ``width x height`` (the coded frame is ``height x width`` for 90/270).
        codec: ``"libx264"`` (H.264, default), ``"libx265"`` (HEVC) or ``"mpeg4"``; always yuv420p.
        progress: show a tqdm progress bar over frames.

    Returns:
        ``Path(path)``.

    Raises:
        ValueError: on a bad argument (named in the message) or more than ``2**20`` frames.
    """
    check_video_args(duration_seconds=duration_seconds, fps=fps, width=width, height=height, gop_seconds=gop_seconds)
    num_frames = num_frames_for(duration_seconds=duration_seconds, fps=fps)
    if num_frames - 1 > MAX_FRAME_INDEX:
        raise ValueError(
            f"duration_seconds={duration_seconds} at fps={fps} gives {num_frames} frames; the index pattern holds "
            f"at most {MAX_FRAME_INDEX + 1} (hint: lower fps)"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = background(width=width, height=height, seed=seed)
    logger.info("writing %s: %d frames %dx%d at %.3f fps", path, num_frames, width, height, fps)
    with VideoWriter(path, width=width, height=height, fps=fps, gop_seconds=gop_seconds,
                     variable_frame_rate=variable_frame_rate, rotation_degrees=rotation_degrees,
                     codec=codec) as writer:
        for index in tqdm(range(num_frames), desc=path.name, unit="frame", ascii=True, disable=not progress):
            writer.write(draw_frame_index(base, frame_index=index))
    return path
