"""Typed errors of the video engine.

Every message names the file, the offending value and a hint. All errors derive from
:class:`VideoError`; the ones about a bad argument also derive from :class:`ValueError`
and the missing-file one from :class:`FileNotFoundError`, so generic handlers still work.
"""

from __future__ import annotations


class VideoError(Exception):
    """Base class of every error raised by ``love_r1.video``."""


class VideoNotFoundError(VideoError, FileNotFoundError):
    """The path does not exist or is not a regular file."""


class NotAVideoError(VideoError, ValueError):
    """The file cannot be opened as a media container (not a video, or truncated before its index)."""


class NoVideoStreamError(NotAVideoError):
    """The container opens but holds no video stream (e.g. audio only)."""


class EmptyVideoError(VideoError, ValueError):
    """The video stream holds no frame."""


class CorruptVideoError(VideoError):
    """Frames that the container index promises cannot be decoded (truncated or damaged data)."""


class IntervalError(VideoError, ValueError):
    """A time interval or timestamp is outside the video, reversed or empty."""


class FrameCountError(VideoError, ValueError):
    """A frame count is absurd (zero, negative, or more than the request limit)."""


class UnsupportedVideoError(VideoError, ValueError):
    """A valid file that the chosen decoder cannot read (the message names the decoder that can)."""

