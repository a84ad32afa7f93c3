"""The whole data chain on generated needle videos with a fake teacher (no network, no model)."""

import json

import numpy as np
import pytest

from love_r1.backends import GenerationRequest
from love_r1.backends.scripted import ScriptedBackend
from love_r1.data import (
    AnswerCotConfig,
    CallStore,
    CaptionConfig,
    VideoRef,
    ZoomCotConfig,
    assemble,
    export_captions,
    export_cot,
    find_contamination,
    judge_answer,
    judge_zoom,
    load_items,
    run_answer_cot,
    run_captions,
    run_zoom_cot,
)
from love_r1.data._captions import read_captions, segments_of
from love_r1.synth import write_needle_dataset
from tests.helpers.data import CountingBackend, prompt_text

DURATION_SECONDS = 40.0


@pytest.fixture(scope="module")
def needle(tmp_path_factory):
    root = tmp_path_factory.mktemp("needle")
    annotations = write_needle_dataset(root, duration_seconds=DURATION_SECONDS, num_videos=2,
                                       num_questions_per_video=2, width=160, height=120, fps=5.0, seed=3)
    return root, load_items(annotations)


class Teacher:
    """Caption: the frame timestamps; zoom: the evidence (known from the question); answer: the hint."""

    def __init__(self, items):
        self.items = items
        self.frames_seen: list[np.ndarray] = []
        self.num_calls = 0

    def __call__(self, request: GenerationRequest) -> str:
        self.num_calls += 1
        text = prompt_text(request)
        videos = [v for m in request.messages for v in m.videos]
        if text.startswith("Describe what happens"):
            (frames,) = videos
            return f"{len(frames)} frames from {frames.timestamps_seconds[0]:.1f} s"
        item = next(i for i in self.items if i.question in text and all(o in text for o in i.options))
        if "Hint" in text:
            (frames,) = videos
            self.frames_seen.append(frames.timestamps_seconds)
            return f"The clip shows it. \\boxed{{{item.gold}}}"
        start, end = item.evidence[0].start_seconds, item.evidence[0].end_seconds
        return f"It happens mid-way. \\boxed{{[{int(start)}, {int(end) + 1}]}}"


def test_chain_from_videos_to_records(needle, tmp_path):
    root, items = needle
    store = CallStore(tmp_path / "store.sqlite")
    teacher = Teacher(items)
    backend = ScriptedBackend(teacher)
    videos = sorted({i.video_path for i in items})

    caption_config = CaptionConfig(segment_seconds=10.0)
    digest, stats = run_captions(backend, videos, video_root=root, store=store, config=caption_config, workers=2,
                                 batch_size=2)
    assert stats.new_calls == 8 and not stats.failed_items
    assert export_captions(store, digest, tmp_path / "captions") == {v: 4 for v in videos}
    lines = read_captions(tmp_path / "captions", videos[0])
    assert [(r["start_seconds"], r["end_seconds"]) for r in lines] == [(0, 10), (10, 20), (20, 30), (30, 40)]
    assert lines[1]["text"].startswith("20 frames from 10.")  # 2 fps over 10 s, starting in the segment

    zoom_config = ZoomCotConfig(num_samples=1, max_calls=2)
    zoom_digest, zoom_stats = run_zoom_cot(backend, items, captions_dir=tmp_path / "captions", store=store,
                                           config=zoom_config)
    assert zoom_stats.new_calls == len(items)
    answer_config = AnswerCotConfig(num_samples=1, max_calls=2, pad_seconds=5.0)
    answer_digest, answer_stats = run_answer_cot(backend, items, video_root=root, store=store,
                                                 config=answer_config, workers=2)
    assert answer_stats.new_calls == len(items)
    # the answer teacher saw at most 16 frames, all inside a padded evidence clip (whole seconds, outward)
    for timestamps in teacher.frames_seen:
        assert 0 < len(timestamps) <= 16
        assert any(i.evidence[0].start_seconds - 6 <= timestamps.min()
                   and timestamps.max() <= i.evidence[0].end_seconds + 6 for i in items)

    zoom_counts = export_cot(store, step="zoom-cot", config_hash=zoom_digest, items=items,
                             out_path=tmp_path / "zoom.jsonl",
                             judge=lambda item, text: judge_zoom(text, evidence=item.evidence,
                                                                 max_interval_seconds=60, min_iou=0.0))
    answer_counts = export_cot(store, step="answer-cot", config_hash=answer_digest, items=items,
                               out_path=tmp_path / "answer.jsonl",
                               judge=lambda item, text: judge_answer(text, letters=item.letters, gold=item.gold))
    assert zoom_counts == answer_counts == {"accepted": len(items)}
    answer_rows = [json.loads(line) for line in (tmp_path / "answer.jsonl").read_text().splitlines()]
    for row in answer_rows:
        item = next(i for i in items if i.qid == row["qid"])
        start, end = row["clip"]
        assert start == max(0, int(item.evidence[0].start_seconds - 5))
        assert end == min(int(DURATION_SECONDS), int(np.ceil(item.evidence[0].end_seconds + 5)))

    # contamination: the first training video is "also" in an evaluation set under another name
    evaluation = [VideoRef("renamed", str(root / videos[0]), "videomme")]
    train = [VideoRef(v.split("/")[-1][:-4], str(root / v)) for v in videos]
    report = find_contamination(train, evaluation, store=store)
    assert [m["train_path"] for m in report.near_duplicates] == [str(root / videos[0])]
    contaminated = {i.qid for i in items if i.video_path == videos[0]}

    result = assemble(items, zoom_rows=[json.loads(x) for x in (tmp_path / "zoom.jsonl").read_text().splitlines()],
                      answer_rows=answer_rows, contaminated_qids=contaminated, val_fraction=0.0)
    kept = [i for i in items if i.qid not in contaminated]
    assert len(result.sft["train"]) == 2 * len(kept) and len(result.grpo["train"]) == len(kept)
    assert {r["qid"] for r in result.sft["train"]} == {i.qid for i in kept}
    assert teacher.num_calls == 8 + 2 * len(items)
    assert store.usage().requests == 8 + 2 * len(items)
    assert store.usage("caption").prompt_tokens > 0  # the scripted backend reports synthetic usage

    # running every step again sends nothing
    run_captions(backend, videos, video_root=root, store=store, config=caption_config)
    run_zoom_cot(backend, items, captions_dir=tmp_path / "captions", store=store, config=zoom_config)
    run_answer_cot(backend, items, video_root=root, store=store, config=answer_config)
    assert teacher.num_calls == 8 + 2 * len(items)


def test_segments_cover_the_video_and_drop_a_short_tail():
    segments = segments_of(duration_seconds=25.5, segment_seconds=10.0, min_segment_seconds=1.0)
    assert [(s.start_seconds, s.end_seconds) for s in segments] == [(0, 10), (10, 20), (20, 25.5)]
    segments = segments_of(duration_seconds=20.4, segment_seconds=10.0, min_segment_seconds=1.0)
    assert [(s.start_seconds, s.end_seconds) for s in segments] == [(0, 10), (10, 20)]


def test_an_unreadable_video_fails_only_its_items(needle, tmp_path):
    root, items = needle
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "broken.mp4").write_bytes(b"not a video")
    for item in items:
        target = tmp_path / item.video_path
        if not target.exists():
            target.symlink_to(root / item.video_path)
    broken = items[0].__class__(**{**items[0].__dict__, "qid": "broken", "video_path": "videos/broken.mp4"})
    store = CallStore(tmp_path / "s.sqlite")
    backend = CountingBackend(Teacher(items))
    _, stats = run_answer_cot(backend, [broken, items[1]], video_root=tmp_path, store=store,
                              config=AnswerCotConfig())
    assert set(stats.failed_items) == {"broken"} and stats.new_calls == 1
    assert "Error" in stats.failed_items["broken"]


def test_reencoded_copy_is_a_near_duplicate(needle, tmp_path):
    import subprocess

    root, items = needle
    videos = sorted({i.video_path for i in items})
    copy = tmp_path / "copy.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(root / videos[0]), "-vf", "scale=96:72",
                    "-c:v", "libx264", "-crf", "30", str(copy)], check=True)
    train = [VideoRef("a", str(root / videos[0])), VideoRef("b", str(root / videos[1]))]
    report = find_contamination(train, [VideoRef("copy", str(copy), "lvbench")])
    assert [(m["train_path"], m["eval_path"]) for m in report.near_duplicates] == [(str(root / videos[0]),
                                                                                    str(copy))]
    assert report.id_matches == []


def test_clue_check_is_strict_and_assemble_drops_the_no_items(needle, tmp_path):
    from love_r1.data import ClueCheckConfig, export_clue_check, run_clue_check

    root, items = needle
    replies = {items[0].qid: "Yes, the box is visible.", items[1].qid: "No.", items[2].qid: "I know it is there",
               items[3].qid: "not sure"}

    def teacher(request):
        text = prompt_text(request)
        assert "Correct answer: " in text and len(request.messages[0].videos[0]) <= 16
        return next(reply for qid, reply in replies.items()
                    if next(i for i in items if i.qid == qid).question in text
                    and all(o in text for o in next(i for i in items if i.qid == qid).options))

    store = CallStore(tmp_path / "s.sqlite")
    digest, stats = run_clue_check(ScriptedBackend(teacher), items, video_root=root, store=store,
                                   config=ClueCheckConfig())
    assert stats.new_calls == 4
    counts = export_clue_check(store, digest, tmp_path / "clue.jsonl")
    assert counts == {"yes": 1, "no": 1, "unparsed": 2}
    rows = [json.loads(line) for line in (tmp_path / "clue.jsonl").read_text().splitlines()]
    rejected = {r["qid"] for r in rows if r["verdict"] == "no"}
    assert rejected == {items[1].qid}
    result = assemble(items, clue_rejected_qids=rejected, val_fraction=0.0)
    assert [r["qid"] for r in result.grpo["train"]] == [i.qid for i in items if i.qid != items[1].qid]
