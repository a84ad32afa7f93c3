"""Shared encoding helpers: frame timing, seeded backgrounds and an H.264/HEVC/MPEG-4 writer."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from love_r1._imports import require

logger = logging.getLogger(__name__)

Codec = Literal["libx264", "libx265", "mpeg4"]
_CODECS: dict[str, str] = {"libx264": "H.264", "libx265": "HEVC", "mpeg4": "MPEG-4 Part 2"}
Rotation = Literal[0, 90, 180, 270]  # display-matrix rotation, counter-clockwise (degrees)
_ROTATIONS: tuple[int, ...] = get_args(Rotation)


def check_video_args(*, duration_seconds: float, fps: float, width: int, height: int, gop_seconds: float) -> None:
    """Raise ValueError naming the first bad argument."""
    if not duration_seconds > 0:
        raise ValueError(f"duration_seconds must be > 0; got {duration_seconds!r}")
    if not fps > 0:
        raise ValueError(f"fps must be > 0 (frames per second); got {fps!r}")
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, (int, np.integer)) or value < 32 or value % 2:
            raise ValueError(
                f"{name} must be an even integer >= 32 (yuv420p needs even sizes); got {value!r} "
                f"(hint: use {max(32, int(value) // 2 * 2) if isinstance(value, (int, float)) else 320})"
            )
    if not gop_seconds > 0:
        raise ValueError(f"gop_seconds must be > 0 (keyframe interval in seconds); got {gop_seconds!r}")
    if round(duration_seconds * fps) < 1:
        raise ValueError(
            f"duration_seconds={duration_seconds} at fps={fps} gives no frame; use a longer duration or higher fps"
        )


def num_frames_for(*, duration_seconds: float, fps: float) -> int:
    """The number of frames written for a video of ``duration_seconds`` at ``fps``: ``round(duration * fps)``."""
    return max(1, round(duration_seconds * fps))


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001) if not float(fps).is_integer() else Fraction(int(fps))


def frame_time_base(*, fps: float, variable_frame_rate: bool) -> Fraction:
    """Time base (seconds per tick) of the written stream."""
    rate = _rate(fps)
    return Fraction(2, 3) / rate if variable_frame_rate else 1 / rate


def frame_pts(*, num_frames: int, variable_frame_rate: bool) -> np.ndarray:
    """Presentation timestamps in ticks of :func:`frame_time_base`.

    Constant frame rate: ``0, 1, 2, ...``. Variable frame rate: durations alternate 1 and 2
    ticks (``0, 1, 3, 4, 6, ...``), so the average rate is still ``fps``.
    """
    return np.array([_pts_ticks(k, variable_frame_rate=variable_frame_rate) for k in range(num_frames)], np.int64)


def _pts_ticks(k: int, *, variable_frame_rate: bool) -> int:
    return (3 * k) // 2 if variable_frame_rate else k


def indexed_video_timestamps_seconds(
    *, duration_seconds: float, fps: float = 30.0, variable_frame_rate: bool = False
) -> np.ndarray:
    """The presentation time (seconds) of every frame that ``write_indexed_video`` writes.

    Frame ``i`` of the video shows index ``i`` and is played at ``timestamps[i]``. Values are
    exact multiples of the stream time base, computed without going through a decoder.
    """
    n = num_frames_for(duration_seconds=duration_seconds, fps=fps)
    tb = frame_time_base(fps=fps, variable_frame_rate=variable_frame_rate)
    pts = frame_pts(num_frames=n, variable_frame_rate=variable_frame_rate)
    return np.array([float(int(p) * tb) for p in pts], dtype=np.float64)


def background(*, width: int, height: int, seed: int) -> np.ndarray:
    """A seeded, smooth, low-saturation RGB gradient (``uint8 [height, width, 3]``)."""
    rng = np.random.default_rng(seed)
    grey = rng.uniform(80.0, 170.0, size=2)
    tint = rng.uniform(-18.0, 18.0, size=(2, 3))
    colours = grey[:, None] + tint
    angle = rng.uniform(0.0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (np.cos(angle) * xs / width + np.sin(angle) * ys / height)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    image = colours[0][None, None, :] * (1 - t[..., None]) + colours[1][None, None, :] * t[..., None]
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


class VideoWriter:
    """Owns an output container and one video stream; frames are given in display orientation.

    ``rotation_degrees`` (counter-clockwise, as ffprobe's display-matrix ``rotation`` and
    PyAV's ``VideoFrame.rotation`` report it) is written as display-matrix side data, and the
    frames are stored rotated the other way so that a player that honours the matrix shows
    them upright at ``width x height``.
    """

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        fps: float,
        gop_seconds: float,
        variable_frame_rate: bool = False,
        rotation_degrees: int = 0,
        codec: Codec = "libx264",
    ) -> None:
        av = require("av", extra="video", purpose="writing synthetic videos")
        if codec not in _CODECS:
            raise ValueError(f"codec must be one of {sorted(_CODECS)}; got {codec!r}")
        if rotation_degrees not in _ROTATIONS:
            raise ValueError(f"rotation_degrees must be one of {_ROTATIONS} (counter-clockwise); got {rotation_degrees!r}")
        self._av = av
        self._quarter_turns = rotation_degrees // 90
        coded_w, coded_h = (height, width) if self._quarter_turns % 2 else (width, height)
        self.width, self.height = width, height
        self._time_base = frame_time_base(fps=fps, variable_frame_rate=variable_frame_rate)
        self._variable = variable_frame_rate
        self._count = 0
        self._durations: dict[int, int] = {}
        gop = max(1, round(gop_seconds * fps))
        self._container = av.open(str(path), mode="w")
        try:
            stream = self._container.add_stream(codec, rate=_rate(fps))
            stream.width, stream.height, stream.pix_fmt = coded_w, coded_h, "yuv420p"
            stream.codec_context.time_base = self._time_base
            stream.time_base = self._time_base
            stream.codec_context.gop_size = gop
            # One thread: x264/x265 output depends on the thread count, so this keeps bytes identical across machines.
            options = {"threads": "1", "sc_threshold": "0", "g": str(gop), "keyint_min": str(gop)}
            if codec == "libx264":
                options.update(preset="veryfast", crf="20",
                               **{"x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"})
            elif codec == "libx265":
                options.update(preset="ultrafast", crf="22",
                               **{"x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:log-level=error"})
            else:
                stream.codec_context.bit_rate = 4_000_000  # the MPEG-4 default (200 kb/s) smears the pattern cells
            stream.codec_context.options = options
            if rotation_degrees:
                stream.set_display_rotation(rotation_degrees)
        except Exception:
            self._container.close()
            raise
        self._stream = stream

    def write(self, rgb: np.ndarray) -> None:
        """Encode one display-orientation RGB frame (``uint8 [height, width, 3]``)."""
        if rgb.shape != (self.height, self.width, 3):
            raise ValueError(f"frame shape {rgb.shape} != ({self.height}, {self.width}, 3)")
        coded = np.ascontiguousarray(np.rot90(rgb, k=-self._quarter_turns)) if self._quarter_turns else rgb
        frame = self._av.VideoFrame.from_ndarray(coded, format="rgb24")
        k = self._count
        frame.pts = _pts_ticks(k, variable_frame_rate=self._variable)
        frame.time_base = self._time_base
        self._durations[frame.pts] = _pts_ticks(k + 1, variable_frame_rate=self._variable) - frame.pts
        self._mux(self._stream.encode(frame))
        self._count += 1

    def _mux(self, packets) -> None:
        # The libx264 wrapper gives every packet a one-tick duration; store the true frame
        # duration so that the last frame of a variable-frame-rate video ends where it should.
        for packet in packets:
            if packet.pts is not None and packet.time_base:
                ticks = Fraction(packet.pts) * packet.time_base / self._time_base
                duration = self._durations.pop(int(ticks), None) if ticks.denominator == 1 else None
                if duration is not None:
                    packet.duration = int(round(duration * self._time_base / packet.time_base))
            self._container.mux(packet)

    def close(self) -> None:
        try:
            self._mux(self._stream.encode(None))
        finally:
            self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._container.close()
