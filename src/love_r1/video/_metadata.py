"""``VideoMetadata``: what the header claims and what the packet scan found, kept apart."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class VideoMetadata:
    """Metadata of one video stream.

    Values read from the container header (``*_from_header``) can lie or be missing; the
    ``*_from_content`` values come from a scan of every video packet (demux only, no decode).
    The resolved properties prefer content over header, like torchcodec.

    Attributes:
        path: the file.
        codec: codec name (e.g. ``"h264"``).
        width, height: DISPLAY size in pixels, after the rotation is applied (what frames have).
        rotation_degrees: counter-clockwise display rotation stored in the file (0, 90, 180, 270);
            returned frames are already upright.
        average_fps_from_header: the stream's average frame rate (what decord's ``get_avg_fps`` reports).
        duration_seconds_from_header: stream (or container) duration from the header, or ``None``.
        num_frames_from_header: frame count from the header, or ``None`` when absent.
        num_frames_from_content: number of video packets with a timestamp (one frame each).
        begin_stream_seconds: presentation time of the first frame.
        end_stream_seconds: presentation time at which the last frame stops being shown.
        num_keyframes: number of keyframes (from the packet flags).
    """

    path: Path
    codec: str
    width: int
    height: int
    rotation_degrees: int
    average_fps_from_header: float | None
    duration_seconds_from_header: float | None
    num_frames_from_header: int | None
    num_frames_from_content: int
    begin_stream_seconds: float
    end_stream_seconds: float
    num_keyframes: int

    @property
    def duration_seconds_from_content(self) -> float:
        return self.end_stream_seconds - self.begin_stream_seconds

    @property
    def num_frames(self) -> int:
        """Frame count: the packet scan's count (exact), falling back to nothing else."""
        return self.num_frames_from_content

    @property
    def duration_seconds(self) -> float:
        """Duration in seconds: from the packet scan when positive, else the header's."""
        content = self.duration_seconds_from_content
        if content > 0 or self.duration_seconds_from_header is None:
            return content
        return self.duration_seconds_from_header

    @property
    def fps(self) -> float:
        """Average frame rate: the header's (as decord reports it), else frames / content duration."""
        if self.average_fps_from_header:
            return self.average_fps_from_header
        duration = self.duration_seconds_from_content
        return self.num_frames / duration if duration > 0 else 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["path"] = str(self.path)
        out.update(duration_seconds=self.duration_seconds, fps=self.fps, num_frames=self.num_frames,
                   duration_seconds_from_content=self.duration_seconds_from_content)
        return out
