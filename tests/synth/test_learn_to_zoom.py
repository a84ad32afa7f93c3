"""Learn-to-zoom datasets: determinism, the striped card on exactly its frames, answers read from the pixels,
records that match the evaluation prompt, and the resolution premise on the frames a model is given."""

from __future__ import annotations

import json

import numpy as np
import pytest

from love_r1.cli import main
from love_r1.data import check_resolution_premise, write_learn_to_zoom_records
from love_r1.data._learn_to_zoom import requested_interval
from love_r1.data._learn_to_zoom_check import read_stripes
from love_r1.synth import write_learn_to_zoom_dataset
from love_r1.synth._learn_to_zoom import DIRECTIONS, card_envelope, card_frame, scene_colour

av = pytest.importorskip("av")

SMALL = dict(duration_seconds=24.0, size=128, fps=2.0, margin_seconds=3.0)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("learn")
    annotations = write_learn_to_zoom_dataset(out, num_videos=4, seed=5, **SMALL)
    write_learn_to_zoom_records(out)
    rows = [json.loads(line) for line in annotations.read_text().splitlines()]
    card = json.loads((out / "dataset.json").read_text())
    return out, rows, card


def _decode(path):
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return np.stack([f.to_ndarray(format="rgb24") for f in frames]), np.array([float(f.time) for f in frames])


def test_same_seed_same_bytes_other_seed_other_videos(tmp_path, dataset):
    out, rows, _ = dataset
    again = tmp_path / "again"
    write_learn_to_zoom_dataset(again, num_videos=4, seed=5, workers=2, **SMALL)
    for name in ("annotations.jsonl", "dataset.json", "videos/learn_5_0000.mp4", "videos/learn_5_0003.mp4"):
        assert (again / name).read_bytes() == (out / name).read_bytes()
    other = tmp_path / "other"
    write_learn_to_zoom_dataset(other, num_videos=4, seed=6, **SMALL)
    others = [json.loads(line) for line in (other / "annotations.jsonl").read_text().splitlines()]
    assert [r["evidence"] for r in others] != [r["evidence"] for r in rows]
    assert (other / "videos/learn_6_0000.mp4").read_bytes() != (out / "videos/learn_5_0000.mp4").read_bytes()


def test_annotations_are_needle_mcqs(dataset):
    _, rows, card = dataset
    assert [r["qid"] for r in rows] == [f"learn_5_{i:04d}_q0" for i in range(4)]
    for row, video in zip(rows, card["videos"], strict=True):
        assert set(row) == {"qid", "video", "question", "options", "answer", "duration_seconds", "evidence", "category"}
        assert row["duration_seconds"] == 24.0 and row["category"] == "stripes"
        # the recipe: all four directions, always in this order
        assert row["options"] == ["A. horizontal", "B. vertical", "C. rising diagonal", "D. falling diagonal"]
        assert DIRECTIONS["ABCD".index(row["answer"])] == video["card"]["direction"]
        (start, end), = row["evidence"]
        assert 3.5 <= end - start <= 4.5 and start >= 3.0 and end <= 21.0


def test_card_is_on_screen_exactly_during_its_evidence(dataset):
    out, rows, card = dataset
    for row, video in zip(rows, card["videos"], strict=True):
        frames, times = _decode(out / row["video"])
        planted = video["card"]
        expected = card_frame(planted["direction"], size=128,
                              period_pixels=card["params"]["stripe_period_pixels"]).astype(float)
        start, end = row["evidence"][0]
        for frame, t in zip(frames, times, strict=True):
            scene = scene_colour(seconds=t, duration_seconds=24.0, shot_seconds=card["params"]["shot_seconds"])
            # the scene is the drifting colour +- 15 (offset) +- 14 (texture), green near 90; the card is grey 200
            off_scene = np.abs(frame.astype(float).mean(axis=(0, 1)) - scene).max() > 45
            assert off_scene == (start <= t < end), (row["qid"], t)
            if start <= t < end:  # the decoded card is the drawn one, up to the encoder's error
                assert np.abs(frame.astype(float) - expected).mean() < 4.0


def test_direction_read_back_from_native_frames_is_the_answer(dataset):
    out, rows, card = dataset
    assert card["directions"] == {"horizontal": [0.0, 1.0], "vertical": [1.0, 0.0],
                                  "rising diagonal": [0.5 ** 0.5, 0.5 ** 0.5],
                                  "falling diagonal": [0.5 ** 0.5, -(0.5 ** 0.5)]}
    directions = {name: tuple(v) for name, v in card["directions"].items()}
    for row, video in zip(rows, card["videos"], strict=True):
        frames, _ = _decode(out / row["video"])
        planted = video["card"]
        for index in (planted["start_frame"], planted["end_frame"] - 1):
            energies = read_stripes(frames[index], source_size=128, period_pixels=8.0, directions=directions)
            gold = row["options"]["ABCD".index(row["answer"])].split(". ")[1]
            assert max(energies, key=energies.get) == gold
            assert sorted(energies.values())[-2] < 0.05 * energies[gold]  # the others hold almost no energy
        flat = np.full((28, 28, 3), 198, np.uint8)  # a frame with no stripes: every direction ties at zero
        assert set(read_stripes(flat, source_size=128, period_pixels=8.0, directions=directions).values()) == {0.0}


def test_card_envelope_fades_the_stripes_at_the_edges():
    envelope = card_envelope(256)
    assert envelope[0, 0] < 1e-3 and envelope[128, 128] == 1.0 and envelope[128, 32] == 1.0
    assert 0.0 < envelope[128, 16] < 1.0 and np.allclose(envelope, envelope.T) and np.allclose(envelope, envelope[::-1])
    frame = card_frame("vertical", size=256, period_pixels=8.0).astype(float)
    assert np.abs(frame[:, :1] - 200).max() <= 1 and frame[100:150, 100:150].std() > 35


def test_records_are_the_ideal_episode_with_the_evaluation_prompt(dataset):
    from love_r1.agent.loop import resolve_zoom
    from love_r1.agent.policy import ZoomPolicy
    from love_r1.eval.benchmarks import make_benchmark
    from love_r1.train.records import load_records

    out, rows, card = dataset
    assert card["params"]["shot_seconds"] == 10.0  # the default: shots of 10 s, the request is the card's shot
    samples = {s.qid: s for s in make_benchmark("needle", out).load()}
    stage2 = [json.loads(line) for line in (out / "records/sft_stage2.jsonl").read_text().splitlines()]
    assert len(stage2) == 2 * len(rows)
    for row, zoom, answer in zip(rows, stage2[::2], stage2[1::2], strict=True):
        user = zoom["messages"][0]["content"][0]["text"]
        assert user == samples[row["qid"]].question_text  # byte-equal to what love-r1 eval renders
        start, end = row["evidence"][0]
        request = [int(np.floor(start / 10) * 10), int(np.ceil(end / 10) * 10)]
        assert request[1] - request[0] == 10
        assert zoom["messages"][1]["content"][0]["text"] == f"I need to zoom in on the video.\n\n\\boxed{{{request}}}"
        assert zoom["zoomin_intervals"] == []
        clip, _ = resolve_zoom(start_seconds=request[0], end_seconds=request[1], duration_seconds=24.0,
                               existing=(), policy=ZoomPolicy())
        assert answer["zoomin_intervals"] == [[int(clip.start_seconds), int(clip.end_seconds)]]
        assert clip.start_seconds <= start and end <= clip.end_seconds
        assert answer["messages"][1]["content"][0]["text"] == f"I get the answer.\n\n\\boxed{{{row['answer']}}}"
    # stage 2a's records: the zoom step of each pair, byte-equal
    assert (out / "records/sft_stage2_zoom.jsonl").read_text().splitlines() == \
        (out / "records/sft_stage2.jsonl").read_text().splitlines()[::2]
    kinds = {}
    for name in ("sft_stage1_grounding", "sft_stage1_qa", "sft_stage2_zoom", "sft_stage2", "grpo"):
        records, issues = load_records(out / "records" / f"{name}.jsonl")
        assert not issues
        kinds[name] = sorted({r.kind for r in records})
    assert kinds == {"sft_stage1_grounding": ["grounding"], "sft_stage1_qa": ["qa"], "sft_stage2_zoom": ["cot"],
                     "sft_stage2": ["cot"], "grpo": ["grpo"]}
    grpo, _ = load_records(out / "records/grpo.jsonl")
    assert [[i.as_list() for i in r.evidence] for r in grpo] == [r["evidence"] for r in rows]
    # the GRPO prompt is the evaluation's too (no "Options:" header): byte-equal question text, the gold letter
    assert [r.question_text for r in grpo] == [samples[row["qid"]].question_text for row in rows]
    assert [r.gold for r in grpo] == [row["answer"] for row in rows]
    assert not any(r.grounding for r in grpo)  # QA records: the evidence only feeds the zoom reward


def test_random_option_subsets_when_fewer_options_than_directions(tmp_path):
    annotations = write_learn_to_zoom_dataset(tmp_path / "d", num_videos=8, seed=2, num_options=3, **SMALL)
    rows = [json.loads(line) for line in annotations.read_text().splitlines()]
    card = json.loads((tmp_path / "d" / "dataset.json").read_text())
    orders = set()
    for row, video in zip(rows, card["videos"], strict=True):
        choices = [o.split(". ")[1] for o in row["options"]]
        assert len(choices) == len(set(choices)) == 3 and set(choices) <= set(DIRECTIONS)
        assert choices["ABC".index(row["answer"])] == video["card"]["direction"]
        orders.add(tuple(choices))
    assert len(orders) > 1


def test_requested_interval_rounds_outward_inside_the_video():
    assert requested_interval([[12.5, 16.0]], duration_seconds=60.0) == [12, 16]
    assert requested_interval([[57.5, 59.5]], duration_seconds=59.2) == [57, 59]
    assert requested_interval([[3.2, 3.4], [7.0, 8.5]], duration_seconds=60.0) == [3, 9]
    # to whole shots: the shot that holds the card
    assert requested_interval([[12.5, 16.0]], duration_seconds=60.0, shot_seconds=10.0) == [10, 20]
    assert requested_interval([[20.0, 24.5]], duration_seconds=60.0, shot_seconds=10.0) == [20, 30]
    assert requested_interval([[51.0, 55.0]], duration_seconds=57.0, shot_seconds=10.0) == [50, 57]


def test_shots_hold_the_card_and_tell_the_time(tmp_path):
    out = tmp_path / "shots"
    write_learn_to_zoom_dataset(out, num_videos=12, seed=4, duration_seconds=60.0, size=128, margin_seconds=6.0)
    rows = [json.loads(line) for line in (out / "annotations.jsonl").read_text().splitlines()]
    shots = set()
    for row in rows:
        (start, end), = row["evidence"]
        shot = int(start // 10)
        assert shot * 10 + 0.5 <= start and end <= shot * 10 + 9.5  # inside one shot, 0.5 s to spare
        assert 1 <= shot <= 4  # margins of 6 s: shots 1 to 4 of 0..5
        shots.add(shot)
    assert len(shots) >= 3
    colours = [scene_colour(seconds=t, duration_seconds=60.0, shot_seconds=10.0) for t in (10.0, 14.0, 19.9, 20.0)]
    assert np.array_equal(colours[0], colours[1]) and np.array_equal(colours[1], colours[2])
    assert np.abs(colours[3] - colours[2]).max() > 20  # a cut: the next shot's colour


def test_premise_stripes_readable_in_the_zoom_clip_not_in_the_fast_view(tmp_path):
    out = tmp_path / "premise"
    write_learn_to_zoom_dataset(out, num_videos=10, seed=11, duration_seconds=60.0, margin_seconds=6.0)
    result = check_resolution_premise(out, fast_max_frames=30, fast_pixels_per_frame=28 * 28, clip_max_frames=6,
                                      clip_pixels_per_frame=112 * 112)
    views = result["views"]
    fast, clip = views["fast view 784 px"], views["zoom clip 12544 px"]
    assert fast["pixels"] == "28x28" and clip["pixels"] == "112x112"
    assert fast["frames_with_card"] >= 10 and clip["frames_with_card"] >= 10
    assert clip["direction_accuracy"] >= 0.9  # an oracle reader: knows the stripes' period
    assert fast["direction_accuracy"] <= 0.8  # flat to a grey level or two: the oracle reads rounding patterns
    assert fast["presence_accuracy"] >= 0.9  # presence is visible in the fast view without knowing the place
    # identity: the card's fast-view frames are flat (the stripes averaged away), its zoom-clip frames striped
    from love_r1.video import open_video, sample_clip, sample_fast_view

    card = json.loads((out / "dataset.json").read_text())
    video = card["videos"][0]
    start, end = video["card"]["evidence"]
    with open_video(out / video["video"]) as reader:
        fast_view = sample_fast_view(reader, max_frames=30, pixels_per_frame=28 * 28)
        clip_frames = sample_clip(reader, start, end, max_frames=2, pixels_per_frame=112 * 112)
    luma = np.array([0.299, 0.587, 0.114])
    shown = [f @ luma for f, t in zip(fast_view.data.astype(float), fast_view.timestamps_seconds, strict=True)
             if start <= t < end]
    assert shown and max(float(f[4:-4, 4:-4].std()) for f in shown) < 1.0
    striped = [f @ luma for f, t in zip(clip_frames.data.astype(float), clip_frames.timestamps_seconds, strict=True)
               if start <= t < end]
    assert striped and min(float(f[16:-16, 16:-16].std()) for f in striped) > 20.0


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(num_videos=0), "num_videos"),
    (dict(num_videos=1, detail_seconds=(5.0, 4.0)), "detail_seconds"),
    (dict(num_videos=1, duration_seconds=10.0, margin_seconds=3.0), "margin_seconds"),
    (dict(num_videos=1, size=30), "width"),
    (dict(num_videos=1, stripe_period_pixels=2.0), "stripe_period_pixels"),
    (dict(num_videos=1, size=64, stripe_period_pixels=40.0), "stripe_period_pixels"),
    (dict(num_videos=1, num_options=5), "num_options"),
    (dict(num_videos=1, num_options=1), "num_options"),
    (dict(num_videos=1, workers=0), "workers"),
    (dict(num_videos=1, shot_seconds=-1.0), "shot_seconds"),
    (dict(num_videos=1, shot_seconds=5.0), "shot_seconds"),  # a 4.5 s card + 2 x 0.5 s does not fit
])
def test_bad_arguments_name_the_argument(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_learn_to_zoom_dataset(tmp_path / "x", **kwargs)


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(["synth", "learn-to-zoom", "--out", str(out), "--num-videos", "2", "--duration-seconds", "30",
               "--shot-seconds", "8", "--seed", "3", "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "2 (one question each)" in printed and "records: grpo" in printed
    assert sorted(p.name for p in (out / "records").iterdir()) == [
        "grpo.jsonl", "sft_stage1_grounding.jsonl", "sft_stage1_qa.jsonl", "sft_stage2.jsonl",
        "sft_stage2_zoom.jsonl"]
    card = json.loads((out / "dataset.json").read_text())
    assert card["seed"] == 3 and card["params"]["shot_seconds"] == 8.0
    assert main(["synth", "learn-to-zoom", "--out", str(out), "--num-videos", "1", "--duration-seconds", "5",
                 "--no-progress"]) == 2
    assert "margin_seconds" in capsys.readouterr().err
