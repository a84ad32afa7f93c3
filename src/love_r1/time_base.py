"""The time base of a run: which clock gives D, frame selection, clip bounds, labels and the overlay.

A closed choice (``docs/protocol.md`` "Time base"; the video engine implements it in
``love_r1.video.timeline``). Kept in this dependency-free module so configs can name it without
importing the video engine.

* ``"presentation"`` (default): each frame's presentation time measured from the first frame.
* ``"index"``: the LOVE-R1 reference's ``frame_index / fps`` with the header's average rate, ``D = N / fps``.

Both are the same clock on a constant-frame-rate file.
"""

from __future__ import annotations

from typing import Literal, get_args

TimeBase = Literal["presentation", "index"]
TIME_BASES: tuple[str, ...] = get_args(TimeBase)
DEFAULT_TIME_BASE: TimeBase = "presentation"


def check_time_base(value: object, *, name: str = "time_base") -> None:
    """Raise ``ValueError`` naming ``name``, the value and the valid time bases when ``value`` is not one."""
    if value not in TIME_BASES:
        raise ValueError(f"{name} must be one of {list(TIME_BASES)}; got {value!r} (hint: 'presentation' measures "
                         "frame times from the first frame's presentation time, 'index' is the reference's "
                         "frame_index / fps)")


__all__ = ["DEFAULT_TIME_BASE", "TIME_BASES", "TimeBase", "check_time_base"]
