"""Step ``contamination``: overlap between training videos and evaluation benchmark videos.

Two checks:

* **video id**: the same file stem (``abc123.mp4`` in both) is a match;
* **near duplicate**: each video gets a fingerprint of ``num_frames`` 64-bit perceptual
  hashes (dHash of the grey image box-averaged to 9x8, or aHash at 8x8) of frames at the midpoints of
  equal parts of the video, decoded in keyframe mode (fast; re-encodes and resizes keep the
  hash within a few bits). Two videos are near duplicates when at least
  ``min_matching_fraction`` of the training video's frame hashes are within
  ``max_hamming_bits`` of some hash of the evaluation video.

Fingerprints are cached in the call store keyed by path, size and modification time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from love_r1.data._clips import default_open_video
from love_r1.data._engine import item_errors
from love_r1.data._items import jsonl_rows
from love_r1.data._store import CallStore
from love_r1.errors import DataError

logger = logging.getLogger(__name__)
HashKind = Literal["dhash", "ahash"]
STEP = "fingerprint"


def _grey(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected an RGB frame [H, W, 3], got shape {rgb.shape}")
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).convert("L").resize(size, Image.BOX)
    return np.asarray(image, dtype=np.float32)


def _pack(bits: np.ndarray) -> int:
    value = 0
    for bit in bits.reshape(-1):
        value = (value << 1) | int(bool(bit))
    return value


def dhash64(rgb: np.ndarray) -> int:
    """Difference hash: 8 rows x 8 comparisons of horizontally adjacent pixels of a 9x8 grey image."""
    grey = _grey(rgb, (9, 8))
    return _pack(grey[:, 1:] > grey[:, :-1])


def ahash64(rgb: np.ndarray) -> int:
    """Average hash: which of the 8x8 grey pixels are brighter than their mean."""
    grey = _grey(rgb, (8, 8))
    return _pack(grey > grey.mean())


_HASHES: dict[str, Callable[[np.ndarray], int]] = {"dhash": dhash64, "ahash": ahash64}


def hamming_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two arrays of uint64 hashes, shape ``[len(a), len(b)]``."""
    x = np.bitwise_xor(a.astype(np.uint64)[:, None], b.astype(np.uint64)[None, :])
    as_bytes = x.view(np.uint8).reshape(x.shape + (8,))
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1)


def fingerprint_video(path: str | Path, *, num_frames: int = 4, hash_kind: HashKind = "dhash",
                      open_video: Callable[[str], Any] = default_open_video) -> np.ndarray:
    """``num_frames`` perceptual hashes (uint64) of keyframe-decoded frames spread over the video."""
    if hash_kind not in _HASHES:
        raise ValueError(f"hash_kind={hash_kind!r}; expected one of {sorted(_HASHES)}")
    with open_video(str(path)) as reader:
        duration = float(reader.metadata.duration_seconds)
        timestamps = [(k + 0.5) * duration / num_frames for k in range(num_frames)]
        frames = reader.get_frames_played_at(timestamps, max_pixels=160 * 120, mode="keyframe")
    function = _HASHES[hash_kind]
    return np.array([function(frame) for frame in frames.data], dtype=np.uint64)


@dataclass(frozen=True)
class VideoRef:
    """A video to check: an id (file stem by default), its path, and where it comes from."""

    video_id: str
    path: str
    origin: str = ""


@dataclass
class ContaminationReport:
    id_matches: list[dict[str, str]] = field(default_factory=list)
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def contaminated_paths(self) -> set[str]:
        return {m["train_path"] for m in self.id_matches} | {m["train_path"] for m in self.near_duplicates}

    def to_dict(self, *, path_to_qids: dict[str, list[str]] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id_matches": self.id_matches, "near_duplicates": self.near_duplicates,
                               "unreadable": self.unreadable, "contaminated_videos": sorted(self.contaminated_paths)}
        if path_to_qids is not None:
            out["contaminated_qids"] = sorted({q for p in self.contaminated_paths for q in path_to_qids.get(p, [])})
        return out


def _cached_fingerprint(ref: VideoRef, *, store: CallStore | None, num_frames: int, hash_kind: HashKind,
                        open_video: Callable[[str], Any]) -> np.ndarray:
    if store is None:
        return fingerprint_video(ref.path, num_frames=num_frames, hash_kind=hash_kind, open_video=open_video)
    stat = os.stat(ref.path)
    key = f"{os.path.abspath(ref.path)}|{stat.st_size}|{stat.st_mtime_ns}|{num_frames}|{hash_kind}"
    cached = store.get_derived(STEP, key)
    if cached is not None:
        return np.array([int(h, 16) for h in cached.split()], dtype=np.uint64)
    hashes = fingerprint_video(ref.path, num_frames=num_frames, hash_kind=hash_kind, open_video=open_video)
    store.put_derived(STEP, key, " ".join(f"{int(h):016x}" for h in hashes))
    return hashes


def find_contamination(
    train: Sequence[VideoRef],
    evaluation: Sequence[VideoRef],
    *,
    num_frames: int = 4,
    hash_kind: HashKind = "dhash",
    max_hamming_bits: int = 10,
    min_matching_fraction: float = 0.5,
    store: CallStore | None = None,
    open_video: Callable[[str], Any] = default_open_video,
    progress: Callable[[int], None] | None = None,
) -> ContaminationReport:
    """Compare every training video with every evaluation video by id and by fingerprint."""
    if not 0 < min_matching_fraction <= 1:
        raise ValueError(f"min_matching_fraction must be in (0, 1], got {min_matching_fraction}")
    report = ContaminationReport()
    eval_by_id: dict[str, list[VideoRef]] = {}
    for ref in evaluation:
        eval_by_id.setdefault(ref.video_id, []).append(ref)
    for ref in train:
        for match in eval_by_id.get(ref.video_id, []):
            report.id_matches.append({"train_path": ref.path, "eval_path": match.path, "video_id": ref.video_id,
                                      "benchmark": match.origin})
    prints: dict[str, np.ndarray] = {}
    for ref in [*train, *evaluation]:
        if ref.path in prints or ref.path in report.unreadable:
            continue
        try:
            prints[ref.path] = _cached_fingerprint(ref, store=store, num_frames=num_frames, hash_kind=hash_kind,
                                                   open_video=open_video)
        except item_errors() as error:
            report.unreadable[ref.path] = f"{type(error).__name__}: {error}"
        if progress is not None:
            progress(1)
    eval_refs = [r for r in evaluation if r.path in prints]
    if not eval_refs:
        return report
    for ref in train:
        if ref.path not in prints:
            continue
        mine = prints[ref.path]
        for other in eval_refs:
            distances = hamming_bits(mine, prints[other.path])
            best = distances.min(axis=1)
            fraction = float((best <= max_hamming_bits).mean())
            if fraction >= min_matching_fraction:
                report.near_duplicates.append({
                    "train_path": ref.path, "eval_path": other.path, "benchmark": other.origin,
                    "matching_fraction": round(fraction, 4), "mean_min_bits": round(float(best.mean()), 2),
                })
    return report


def read_eval_manifest(path: str | Path, *, video_root: str | Path | None = None) -> list[VideoRef]:
    """A JSONL of ``{video_id, video_path[, benchmark]}``; relative paths are resolved against ``video_root``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"evaluation manifest {str(path)!r} does not exist")
    root = Path(video_root) if video_root is not None else path.parent
    refs = []
    for number, row in jsonl_rows(path):
        if not isinstance(row, dict) or "video_path" not in row:
            raise DataError("is missing (each line is {video_id, video_path[, benchmark]})", path=path, line=number,
                            field="'video_path'")
        video_path = Path(row["video_path"])
        if not video_path.is_absolute():
            video_path = root / video_path
        refs.append(VideoRef(video_id=str(row.get("video_id", video_path.stem)), path=str(video_path),
                             origin=str(row.get("benchmark", path.stem))))
    return refs
