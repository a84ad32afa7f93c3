"""Materialise a miniature copy of a benchmark's published layout (``tests/eval/real_layouts/<case>/``).

Each case folder holds ``SOURCE.md`` (the public files it mirrors), ``root/`` (the annotation
files at their real relative paths; ``*.parquet.json`` specs become parquet files, written with
pyarrow using the declared column types) and ``videos.txt`` (the relative paths of the videos to
generate, optionally followed by a length in seconds: a tiny H.264 clip of that length, default 4 s,
copied to each path; a path ending in ``/`` becomes a folder of JPEG frames at 3 fps).
``synth.json`` instead of ``root/`` means the layout is written by ``love_r1.synth``.
No media is committed: everything is generated at test time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES: tuple[str, ...] = tuple(sorted(d.name for d in HERE.iterdir() if (d / "SOURCE.md").is_file()))
VIDEO_SECONDS = 4.0
VIDEO_FPS = 5.0
FRAME_FOLDER_FPS = 3.0  # TVQA's frame folders


def _arrow_type(name: str) -> Any:
    import pyarrow as pa

    simple = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    if name in simple:
        return simple[name]
    if name.startswith("list<") and name.endswith(">"):
        return pa.list_(_arrow_type(name[5:-1]))
    raise ValueError(f"unknown column type {name!r} in a .parquet.json spec")


def write_parquet_spec(spec_path: Path) -> Path:
    """``x.parquet.json`` (``{"schema": {column: type}, "rows": [...]}``) -> ``x.parquet`` with exactly those types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    schema = pa.schema([(column, _arrow_type(kind)) for column, kind in spec["schema"].items()])
    out = spec_path.with_name(spec_path.name[: -len(".json")])
    pq.write_table(pa.Table.from_pylist(spec["rows"], schema=schema), out)
    spec_path.unlink()
    return out


def tiny_video(path: Path, seconds: float = VIDEO_SECONDS) -> Path:
    from love_r1.synth import write_indexed_video

    return write_indexed_video(path, duration_seconds=seconds, fps=VIDEO_FPS, width=64, height=48,
                               gop_seconds=1.0, seed=1)


class VideoBank:
    """Generates one tiny clip per length (seconds) in ``folder`` and reuses it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: dict[float, Path] = {}

    def __call__(self, seconds: float = VIDEO_SECONDS) -> Path:
        if seconds not in self._made:
            self._made[seconds] = tiny_video(self.folder / f"tiny-{seconds:g}s.mp4", seconds)
        return self._made[seconds]


def frame_folder(path: Path, seconds: float = VIDEO_SECONDS) -> Path:
    import numpy as np
    from PIL import Image

    from love_r1.synth import draw_frame_index

    path.mkdir(parents=True, exist_ok=True)
    for i in range(1, round(seconds * FRAME_FOLDER_FPS) + 1):  # TVQA names its frames 1.jpg, 2.jpg, ...
        Image.fromarray(draw_frame_index(np.zeros((48, 64, 3), dtype=np.uint8), frame_index=i - 1)).save(
            path / f"{i}.jpg", quality=90)
    return path


def video_paths(case: str) -> list[tuple[str, float]]:
    """The relative video paths of a case and their lengths in seconds (``#`` starts a comment)."""
    listing = HERE / case / "videos.txt"
    if not listing.is_file():
        return []
    out = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            out.append((fields[0], float(fields[1]) if len(fields) > 1 else VIDEO_SECONDS))
    return out


def materialise(case: str, dest: Path, *, videos: VideoBank) -> Path:
    """Copy case ``case`` under ``dest``, write its parquet files and videos; returns the data root."""
    root = dest / case
    source = HERE / case
    if (source / "synth.json").is_file():
        from love_r1.synth import write_needle_dataset

        write_needle_dataset(root, **json.loads((source / "synth.json").read_text(encoding="utf-8")))
        return root
    shutil.copytree(source / "root", root)
    for spec in sorted(root.rglob("*.parquet.json")):
        write_parquet_spec(spec)
    for relative, seconds in video_paths(case):
        target = root / relative
        if relative.endswith("/"):
            frame_folder(target, seconds)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(videos(seconds), target)
    return root
