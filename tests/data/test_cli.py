"""The ``love-r1 data`` leaf commands end to end (scripted teacher), parsed like the real CLI."""

import argparse
import dataclasses
import json

import pytest

from love_r1.backends.scripted import ScriptedBackend
from love_r1.cli._args import add_dataclass_arguments
from love_r1.cli.data import answer_cot as data_answer_cot
from love_r1.cli.data import assemble as data_assemble
from love_r1.cli.data import caption as data_caption
from love_r1.cli.data import clue_check as data_clue_check
from love_r1.cli.data import contamination as data_contamination
from love_r1.cli.data import mine_hard as data_mine_hard
from love_r1.cli.data import zoom_cot as data_zoom_cot
from love_r1.synth import write_needle_dataset
from tests.helpers.data import prompt_text

LEAVES = [data_caption, data_zoom_cot, data_answer_cot, data_clue_check, data_assemble, data_mine_hard,
          data_contamination]


def _run(module, argv):
    """Run a leaf through the real console-script parser (``love-r1 data <leaf> ...``)."""
    from love_r1.cli import main

    return main(["data", module.COMMAND.name, *argv])


@pytest.mark.parametrize("module", LEAVES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_option_has_help_and_help_renders(module, capsys):
    for field in dataclasses.fields(module.Options):
        assert field.metadata.get("help"), f"{module.__name__}.Options.{field.name} has no help"
    parser = argparse.ArgumentParser(prog="love-r1 data x")
    add_dataclass_arguments(parser, module.Options)
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    assert "--annotations" in capsys.readouterr().out
    assert module.COMMAND.help


def _teacher(items):
    def reply(request):
        text = prompt_text(request)
        if text.startswith("Describe what happens"):
            return "A grey screen with a moving pattern."
        item = next(i for i in items if i["question"] in text and all(o in text for o in i["options"]))
        if "Correct answer:" in text:
            return "Yes."
        if "Hint" in text:
            return f"It is shown clearly. \\boxed{{{item['answer']}}}"
        start, end = item["evidence"][0]
        return f"The moment comes there. \\boxed{{[{int(start)}, {int(end) + 1}]}}"
    return reply


def test_cli_chain_prints_tables_and_writes_records(tmp_path, monkeypatch, capsys):
    root = tmp_path / "needle"
    annotations = write_needle_dataset(root, duration_seconds=30.0, num_videos=2, num_questions_per_video=2,
                                       width=128, height=96, fps=4.0, seed=1)
    items = [json.loads(line) for line in annotations.read_text().splitlines()]
    backend = ScriptedBackend(_teacher(items))
    for module in LEAVES:
        monkeypatch.setattr(module, "make_backend_from", lambda options: backend, raising=False)
    work = tmp_path / "work"
    common = ["--annotations", str(annotations), "--work-dir", str(work), "--backend", "scripted",
              "--price-per-1k-input", "2.5", "--price-per-1k-output", "10"]
    assert _run(data_caption, common + ["--segment-seconds", "15"]) == 0
    out = capsys.readouterr().out
    assert "captions: 2/2 videos complete, 4 segments" in out and "caption (this run)" in out
    assert _run(data_zoom_cot, common + ["--num-samples", "2", "--max-calls", "3"]) == 0
    out = capsys.readouterr().out
    assert "accepted" in out and "new calls: 8" in out
    assert _run(data_answer_cot, common) == 0
    assert _run(data_clue_check, common) == 0
    out = capsys.readouterr().out
    assert "yes" in out
    manifest = tmp_path / "eval.jsonl"
    manifest.write_text(json.dumps({"video_id": "x", "video_path": str(root / items[0]["video"]),
                                    "benchmark": "videomme"}) + "\n")
    # an evaluation benchmark (read with the eval adapters) holding only the first video
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "annotations.jsonl").write_text(json.dumps(items[0]) + "\n")
    (bench / "videos").mkdir()
    (bench / items[0]["video"]).write_bytes((root / items[0]["video"]).read_bytes())
    assert _run(data_contamination, ["--annotations", str(annotations), "--work-dir", str(work),
                                     "--eval-manifest", str(manifest), "--benchmark", "needle",
                                     "--benchmark-root", str(bench)]) == 0
    out = capsys.readouterr().out
    rows = dict(line.rsplit(None, 1) for line in out.splitlines()[2:9])
    assert rows["id matches"] == "1" and rows["near duplicates"] == "2" and rows["evaluation videos"] == "2"
    report = json.loads((work / "contamination.json").read_text())
    assert report["contaminated_videos"] == [items[0]["video"]]
    assert report["contaminated_qids"] == [i["qid"] for i in items if i["video"] == items[0]["video"]]
    capsys.readouterr()
    assert _run(data_assemble, ["--annotations", str(annotations), "--work-dir", str(work),
                                "--val-fraction", "0", "--max-per-item", "2"]) == 0
    out = capsys.readouterr().out
    assert "contaminated_dropped" in out
    sft = [json.loads(line) for line in (work / "records" / "sft_stage2.train.jsonl").read_text().splitlines()]
    kept = [i for i in items if i["video"] != items[0]["video"]]
    assert len(sft) == len(kept) * 3  # two zoom samples + one answer per item
    assert {r["qid"] for r in sft} == {i["qid"] for i in kept}
    # a re-run of a teacher step calls nothing and says so
    assert _run(data_zoom_cot, common + ["--num-samples", "2", "--max-calls", "3"]) == 0
    out = capsys.readouterr().out
    assert "new calls: 0   already stored (skipped): 8" in out
    print(out)


def test_cli_mine_hard_with_the_scripted_dummy_policy(tmp_path, capsys):
    root = tmp_path / "needle"
    annotations = write_needle_dataset(root, duration_seconds=20.0, num_videos=1, num_questions_per_video=2,
                                       width=128, height=96, fps=4.0, seed=2)
    items = [json.loads(line) for line in annotations.read_text().splitlines()]
    work = tmp_path / "work"
    argv = ["--annotations", str(annotations), "--work-dir", str(work), "--backend", "scripted",
            "--num-rollouts", "2", "--temperature", "0.7"]
    assert _run(data_mine_hard, argv) == 0
    out = capsys.readouterr().out
    # the dummy policy always answers "A": every item is all-right or all-wrong, none is mixed
    all_correct = sum(i["answer"] == "A" for i in items)
    table = dict(line.split() for line in out.splitlines()
                 if line.split()[:1] in (["all_correct"], ["all_wrong"], ["mixed"]))
    assert table == {"all_correct": str(all_correct), "all_wrong": str(len(items) - all_correct), "mixed": "0"}
    assert "hard items: 0" in out and (work / "hard.jsonl").read_text() == ""
    assert _run(data_mine_hard, argv) == 0
    assert "new calls: 0   already stored (skipped): 4" in capsys.readouterr().out


def test_cli_step_interrupted_by_the_backend_reports_and_resumes(tmp_path, monkeypatch, capsys):
    from love_r1.backends import BackendError

    annotations = write_needle_dataset(tmp_path / "needle", duration_seconds=30.0, num_videos=1,
                                       num_questions_per_video=1, width=128, height=96, fps=4.0, seed=3)
    scripted = ScriptedBackend(lambda request: "A caption.")

    class FailsAfterOneCall:
        calls = 0

        def generate(self, requests):
            FailsAfterOneCall.calls += 1
            if FailsAfterOneCall.calls > 1:
                raise BackendError("server down")
            return scripted.generate(requests)

    argv = ["--annotations", str(annotations), "--work-dir", str(tmp_path / "work"), "--backend", "scripted",
            "--segment-seconds", "10", "--workers", "1"]
    monkeypatch.setattr(data_caption, "make_backend_from", lambda options: FailsAfterOneCall())
    assert _run(data_caption, argv) == 3
    out = capsys.readouterr().out
    assert "interrupted: step 'caption' stopped after 1 new calls: server down" in out
    assert "new calls: 1   already stored (skipped): 0" in out
    assert "captions: 0/1 videos complete, 0 segments" in out
    assert [line.split()[3] for line in out.splitlines() if line.startswith("caption (")] == ["1", "1"]
    # the re-run with a working backend makes only the two missing calls
    monkeypatch.setattr(data_caption, "make_backend_from", lambda options: scripted)
    assert _run(data_caption, argv) == 0
    out = capsys.readouterr().out
    assert "new calls: 2   already stored (skipped): 1" in out
    assert "captions: 1/1 videos complete, 3 segments" in out
