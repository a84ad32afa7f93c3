"""Writers of benchmark fixture files (each benchmark's real file format) and their tiny generated videos."""

from __future__ import annotations

import json
from pathlib import Path

VIDEO_SECONDS = 4.0


def make_video(path: Path, *, seconds: float = VIDEO_SECONDS, seed: int = 0) -> Path:
    from love_r1.synth import write_indexed_video

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_indexed_video(path, duration_seconds=seconds, fps=5.0, width=64, height=48, gop_seconds=1.0,
                               seed=seed)


def place(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes())
    return dst


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
