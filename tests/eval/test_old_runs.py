"""Run stores written before the vocabulary rename (issue 11) still load: report and trace
read the old field names (`iou_stop`, `slow_max_frames`, `slow_pixels_per_frame` in the stored policy;
`answer_letter` for the gold)."""

from __future__ import annotations

import json
import sqlite3

from love_r1.cli import main

_OLD_POLICY_NAMES = {"repeat_iou": "iou_stop", "clip_max_frames": "slow_max_frames",
                     "clip_pixels_per_frame": "slow_pixels_per_frame"}


def _old_policy(policy: dict) -> dict:
    return {_OLD_POLICY_NAMES.get(key, key): value for key, value in policy.items()}


def _rewrite_as_before_the_rename(run_dir):
    with sqlite3.connect(run_dir / "results.sqlite") as db:
        for config_hash, blob in db.execute("SELECT config_hash, config_json FROM configs").fetchall():
            config = json.loads(blob)
            config["policy"] = _old_policy(config["policy"])
            db.execute("UPDATE configs SET config_json = ? WHERE config_hash = ?", (json.dumps(config), config_hash))
        for config_hash, qid, sample, episode in db.execute(
                "SELECT config_hash, qid, sample_json, episode_json FROM items").fetchall():
            sample = json.loads(sample)
            sample["answer_letter"] = sample.pop("gold")
            episode = json.loads(episode)
            episode["policy"] = _old_policy(episode["policy"])
            db.execute("UPDATE items SET sample_json = ?, episode_json = ? WHERE config_hash = ? AND qid = ?",
                       (json.dumps(sample), json.dumps(episode), config_hash, qid))


def test_a_run_stored_with_the_old_names_reports_and_traces_the_same(needle_root, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["eval", "--benchmark", "needle", "--data-root", str(needle_root), "--out", str(run),
                 "--backend", "scripted", "--model", "dummy", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--format", "json"]) == 0
    before = json.loads(capsys.readouterr().out)
    qid = json.loads((run / "results.jsonl").read_text().splitlines()[0])["qid"]
    assert main(["trace", str(run), qid, "--output", str(tmp_path / "new.html"), "--clip-frames", "2"]) == 0

    _rewrite_as_before_the_rename(run)
    with sqlite3.connect(run / "results.sqlite") as db:  # the rewrite really holds the old names
        (episode,) = db.execute("SELECT episode_json FROM items WHERE qid = ?", (qid,)).fetchone()
    assert "iou_stop" in json.loads(episode)["policy"] and "repeat_iou" not in json.loads(episode)["policy"]

    capsys.readouterr()
    assert main(["report", str(run), "--format", "json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert (after["accuracy"], after["num_items"], after["breakdowns"]) == (
        before["accuracy"], before["num_items"], before["breakdowns"])
    assert main(["trace", str(run), qid, "--output", str(tmp_path / "old.html"), "--clip-frames", "2"]) == 0
    old_page = (tmp_path / "old.html").read_text()
    for new_name, old_name in _OLD_POLICY_NAMES.items():  # the page embeds the stored episode as it is
        old_page = old_page.replace(f"&quot;{old_name}&quot;", f"&quot;{new_name}&quot;")
    assert old_page == (tmp_path / "new.html").read_text()  # same frames, same pictures, same steps
