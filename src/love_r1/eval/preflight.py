"""Pre-flight: every referenced video must exist and open before any model call.

A missing or corrupt video is reported up front (its items are stored as errors by the runner);
the message of a missing one lists the paths the benchmark adapter tried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from love_r1.eval.records import Sample

_MAX_TRIED_SHOWN = 8


@dataclass
class PreflightReport:
    """Videos that cannot be used: ``missing`` (no file) and ``corrupt`` (``open_video`` failed).

    ``looked_for`` holds, per missing path, every path the adapter tried (when it tried several).
    """

    num_videos: int = 0
    missing: dict[str, str] = field(default_factory=dict)
    corrupt: dict[str, str] = field(default_factory=dict)
    looked_for: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def bad(self) -> dict[str, str]:
        return {**self.missing, **self.corrupt}

    def item_error(self, path: str) -> str:
        """The error stored with each item of a bad video: ``"<kind>: <path>[; looked for ...]"``."""
        text = f"{self.bad[path]}: {path}"
        tried = [t for t in self.looked_for.get(path, ()) if t != path]
        if tried:
            shown = ", ".join(tried[:_MAX_TRIED_SHOWN])
            more = len(tried) - _MAX_TRIED_SHOWN
            text += f"; also looked for {shown}{f' and {more} more' if more > 0 else ''}"
        return text


def video_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "this video cannot be read" (they fail one item, never the run)."""
    from love_r1.video import VideoError

    return (OSError, ValueError, VideoError)


def preflight(samples: Sequence[Sample], *, open_video: Callable[..., Any] | None = None, decode: bool = True,
              progress: bool = False, tried: Mapping[str, Sequence[str]] | None = None) -> PreflightReport:
    """Check every distinct video of ``samples``: exists, and (``decode``) opens with the video engine.

    ``tried`` maps a missing path to every path the adapter looked at (``Benchmark.video_lookups``).
    """
    if open_video is None and decode:
        from love_r1.video import open_video
    errors = video_errors()
    tried = tried or {}
    paths = list(dict.fromkeys(str(s.video_path) for s in samples if s.video_path is not None))
    report = PreflightReport(num_videos=len(paths))
    iterator: Any = paths
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(paths, desc="pre-flight", unit="video")
    for path in iterator:
        if not (Path(path).is_file() or Path(path).is_dir()):  # a directory = a frame folder (MVBench TVQA)
            report.missing[path] = "missing video file"
            if tried.get(path):
                report.looked_for[path] = tuple(tried[path])
            continue
        if decode:
            try:
                with open_video(path) as reader:
                    if not (reader.metadata.duration_seconds or 0) > 0:
                        raise ValueError("no usable duration")
            except errors as error:
                report.corrupt[path] = f"corrupt video: {type(error).__name__}: {error}"
    return report


__all__ = ["PreflightReport", "preflight", "video_errors"]
