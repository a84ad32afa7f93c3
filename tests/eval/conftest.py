"""Fixture datasets in each benchmark's real file format, with tiny generated videos (writers: tests/helpers/eval.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.eval import VIDEO_SECONDS, make_video, place, write_json


@pytest.fixture(scope="session")
def video_bank(tmp_path_factory) -> dict[str, Path]:
    """Two small videos, generated once per session and copied into fixture layouts."""
    root = tmp_path_factory.mktemp("videos")
    return {"v1": make_video(root / "v1.mp4", seed=1), "v2": make_video(root / "v2.mp4", seed=2)}


MLVU_ROWS = {
    # task file -> [(video, question, candidates, answer text)]
    "1_plotQA.json": [("p1.mp4", "What happens first?", ["a cat", "a dog", "a cow", "a pig"], "a dog"),
                      ("p1.mp4", "Who talks?", ["Ann", "Bob", "Cid", "Dan"], "Ann"),
                      ("p2.mp4", "Where?", ["home", "park", "shop", "road"], "home"),
                      ("p2.mp4", "When?", ["dawn", "noon", "dusk", "night"], "dawn")],
    "2_needle.json": [("n1.mp4", "Which object?", ["cup", "pen", "key", "box"], "cup")],
}


@pytest.fixture
def mlvu_root(tmp_path, video_bank) -> Path:
    """MLVU upstream layout: MLVU/json/<n_task>.json + MLVU/video/<n_task>/<video>."""
    root = tmp_path / "MLVU_root"
    for name, rows in MLVU_ROWS.items():
        task_dir = name[:-5]
        records = []
        for index, (video, question, candidates, answer) in enumerate(rows):
            records.append({"video": video, "duration": VIDEO_SECONDS, "question": question,
                            "candidates": candidates, "answer": answer, "question_type": task_dir[2:]})
            place(video_bank["v1" if index % 2 == 0 else "v2"], root / "MLVU" / "video" / task_dir / video)
        write_json(root / "MLVU" / "json" / name, records)
    return root


@pytest.fixture
def needle_root(tmp_path) -> Path:
    from love_r1.synth import write_needle_dataset

    root = tmp_path / "needle"
    write_needle_dataset(root, duration_seconds=12.0, num_videos=2, num_questions_per_video=2, width=96, height=64,
                         fps=5.0, seed=3)
    return root
