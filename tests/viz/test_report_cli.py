"""``love-r1 report`` in every format with ``--items`` and two runs, a closed pipe, and ``love-r1 trace``."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from love_r1.cli import main
from love_r1.eval.report import FLIP_NAMES, item_rows, render_markdown, summarize
from love_r1.eval.store import read_run
from tests.viz.runs import expected_status
from tests.viz.test_explorer import expected_flips, page_data


def test_markdown_comparison_names_both_runs(needle_runs):
    _, run_a, run_b = needle_runs
    a, b = summarize(read_run(run_a)), summarize(read_run(run_b))
    text = render_markdown(a, b)
    lines = text.splitlines()
    acc_a, acc_b = 100 * a["accuracy"], 100 * b["accuracy"]
    assert lines[0] == f"# needle: A {acc_a:.1f} vs B {acc_b:.1f} ({acc_b - acc_a:+.1f} points; micro)"
    assert lines[2] == f"- A: scripted-a (zoom, {a['config_hash'][:8]}), {run_a}"
    assert lines[3] == f"- B: scripted-b (zoom, {b['config_hash'][:8]}), {run_b}"
    header = next(line for line in lines if line.startswith("|  "))
    assert [c.strip() for c in header.strip("|").split("|")] == ["", "A", "B", "Δ (B − A)"]
    accuracy = next(line for line in lines if line.startswith("| accuracy (official)"))
    assert [c.strip() for c in accuracy.strip("|").split("|")][1:] == [f"{acc_a:.1f}", f"{acc_b:.1f}",
                                                                       f"{acc_b - acc_a:+.1f}"]
    assert "| category | A acc (n) | B acc (n) | Δ (B − A) |" in text
    # errors are listed with the item and the message (which names the file)
    errors = [line for line in lines if line.startswith("- needle_0002_q")]
    assert len(errors) == 6 and all("needle_0002.mp4" in line for line in errors)
    # one run: the title and columns stay as they were
    assert render_markdown(a).splitlines()[0] == f"# needle: {acc_a:.1f} (micro)"


def test_items_in_every_format(needle_runs, tmp_path, capsys):
    _, run_a, run_b = needle_runs
    rows = item_rows(read_run(run_a))
    assert main(["report", str(run_a), "--items", "2"]) == 0
    text = capsys.readouterr().out
    assert "## items (2 of 12)" in text and f"| {rows[1]['qid']} " in text and f"| {rows[2]['qid']} " not in text
    assert main(["report", str(run_a), "--format", "json", "--items", "3"]) == 0
    assert [r["qid"] for r in json.loads(capsys.readouterr().out)["items"]] == [r["qid"] for r in rows[:3]]
    assert main(["report", str(run_a), "--format", "json"]) == 0
    assert "items" not in json.loads(capsys.readouterr().out)
    assert main(["report", str(run_a), "--format", "csv", "--items", "4"]) == 0
    assert [r["qid"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))] == [r["qid"] for r in rows[:4]]
    assert main(["report", str(run_a), "--format", "html", "--items", "5", "--frame-items", "0",
                 "--output", str(tmp_path / "r.html")]) == 0
    assert len(page_data((tmp_path / "r.html").read_text())["items"]) == 5
    capsys.readouterr()
    assert main(["report", str(run_a), "--items", "-2"]) == 2
    assert "--items must be" in capsys.readouterr().err


def test_comparison_formats_list_the_flips(needle_runs, capsys):
    _, run_a, run_b = needle_runs
    flips = expected_flips(run_a, run_b)
    assert main(["report", str(run_a), str(run_b), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["qid"]: r["flip"] for r in rows} == flips
    assert list(rows[0])[:5] == ["qid", "video", "gold", "pred_a", "correct_a"] and list(rows[0])[-1] == "flip"
    for r in rows:
        broken = r["error_a"] != ""
        assert r["correct_a"] == str(int(expected_status(r["qid"], salt="a", broken=broken) == "correct"))
    assert main(["report", str(run_a), str(run_b), "--format", "json", "--items", "-1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["flips"] == {kind: [q for q, f in flips.items() if f == kind]
                                for kind in ("right_to_wrong", "wrong_to_right")}
    assert len(payload["items"]) == len(payload["compare"]["items"]) == 12
    assert main(["report", str(run_a), str(run_b), "--items", "-1"]) == 0
    text = capsys.readouterr().out
    table = text[text.index("## items (12 of 12)"):].splitlines()[4:]
    assert {line.split("|")[1].strip(): line.split("|")[-2].strip() for line in table} == {
        q: FLIP_NAMES[f] for q, f in flips.items()}


def test_closed_pipe_is_quiet(needle_runs):
    _, run_a, _ = needle_runs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"),
                                                         os.environ.get("PYTHONPATH", "")])}
    command = f'"{sys.executable}" -m love_r1.cli report "{run_a}" --format html --frame-items 0 | head -c 10'
    done = subprocess.run(command, shell=True, capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout == "<!DOCTYPE " and done.stderr == ""


def test_trace_command(needle_runs, tmp_path, capsys, monkeypatch):
    _, run_a, _ = needle_runs
    qid = "needle_0000_q1"
    import love_r1.eval.report as report

    extracted = []
    extract = report.extract_choice
    monkeypatch.setattr(report, "extract_choice", lambda *a, **k: extracted.append(a) or extract(*a, **k))
    assert main(["trace", str(run_a), qid, "--clip-frames", "2", "--num-thumbnails", "5"]) == 0
    assert len(extracted) == 1  # the page's item is scored, not the 12 items of the run
    out = run_a / "traces" / f"{qid}.html"
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    page = out.read_text()
    episode = next(r for r in read_run(run_a).items if r.qid == qid).episode
    clips = {tuple(c) for s in episode["steps"] for c in s["clips_in_prompt"]}
    assert page.count("zoom-clip frame at") == 2 * len(clips) and page.count("keyframe at") == 5
    assert f"LOVE-R1 trace · {qid}" in page and "extracted (default)" in page

    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    target = tmp_path / "sub" / "t.html"
    assert main(["trace", str(run_a), qid, "--output", str(target), "--open", "--clip-frames", "0"]) == 0
    assert opened == [target.resolve().as_uri()] and "zoom-clip frame at" not in target.read_text()

    # an errored item still has a page: its error, video and question
    assert main(["trace", str(run_a), "needle_0002_q0", "--output", str(tmp_path / "e.html")]) == 0
    error_page = (tmp_path / "e.html").read_text()
    assert "episode failed:" in error_page and "needle_0002.mp4" in error_page
    capsys.readouterr()


@pytest.mark.parametrize(("args", "message"), [
    (["needle_000_q1"], "close ids: "),
    (["zzz"], "no item 'zzz' in"),
])
def test_trace_unknown_qid(needle_runs, capsys, args, message):
    _, run_a, _ = needle_runs
    assert main(["trace", str(run_a), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "12 items" in err and "--format csv" in err
    if args[0] == "needle_000_q1":
        assert "needle_0000_q1" in err.split("close ids: ")[1]


def test_trace_and_report_reject_a_folder_that_is_not_a_run(needle_runs, tmp_path, capsys):
    data, run_a, _ = needle_runs
    assert main(["trace", str(data), "x"]) == 2
    assert "no results*.sqlite in" in capsys.readouterr().err
    assert main(["trace", str(tmp_path / "missing"), "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", str(run_a / "results.sqlite")]) == 2
    assert "is a file, not a run directory" in capsys.readouterr().err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.sqlite").write_text("not a database")
    assert main(["report", str(tmp_path / "bad")]) == 2
    assert "is damaged" in capsys.readouterr().err  # the store's integrity check names the file and the recovery


def test_an_item_that_failed_with_a_partial_record_is_listed(needle_runs, tmp_path, capsys):
    """A bad record fails alone (stored with whatever sample it has); every format lists it with its message."""
    import shutil

    from love_r1.eval.store import RunStore

    _, run_a, _ = needle_runs
    run = tmp_path / "run"
    shutil.copytree(run_a, run, ignore=shutil.ignore_patterns("traces"))
    message = "DataError: annotations.jsonl:13: field 'answer' is missing <here>"
    with RunStore(run / "results.sqlite") as store:
        store.put(read_run(run).config_hash, "zz_bad", sample={"qid": "zz_bad"}, episode=None, error=message)
    assert main(["report", str(run)]) == 0
    assert f"- zz_bad: {message}" in capsys.readouterr().out
    assert main(["report", str(run), "--format", "csv"]) == 0
    bad = [r for r in csv.DictReader(io.StringIO(capsys.readouterr().out)) if r["qid"] == "zz_bad"]
    assert [(r["error"], r["correct"], r["video"]) for r in bad] == [(message, "0", "")]
    assert main(["report", str(run), "--format", "html", "--frame-items", "0", "--output", str(tmp_path / "r.html")]) == 0
    data = page_data((tmp_path / "r.html").read_text())
    assert {"run": 0, "qid": "zz_bad", "video": "", "message": message} in data["errors"]
    assert data["runs"][0]["num_items"] == 13 and data["runs"][0]["num_errors"] == 4
    assert main(["trace", str(run), "zz_bad", "--output", str(tmp_path / "t.html")]) == 0
    assert "DataError: annotations.jsonl:13: field &#x27;answer&#x27; is missing &lt;here&gt;" in (
        tmp_path / "t.html").read_text()


def test_synth_eval_report_trace_from_the_command_line(tmp_path, capsys):
    data, run = tmp_path / "demo", tmp_path / "run"
    assert main(["synth", "needle", "--out", str(data), "--duration-seconds", "30", "--num-videos", "1",
                 "--questions-per-video", "2", "--width", "128", "--height", "72", "--fps", "5", "--no-progress"]) == 0
    assert main(["eval", "--benchmark", "needle", "--data-root", str(data), "--out", str(run), "--backend", "scripted",
                 "--no-progress"]) == 0
    assert main(["report", str(run), "--format", "html", "--output", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    rows = item_rows(read_run(run))
    results = {i["q"]: i["r"][0]["s"] for i in page_data(page)["items"]}
    assert results == {r["qid"]: "correct" if r["gold"] == "A" else "wrong" for r in rows}  # the dummy answers A
    qid = rows[0]["qid"]
    assert main(["trace", str(run), qid]) == 0
    trace = (run / "traces" / f"{qid}.html").read_text()
    episode = read_run(run).items[0].episode
    ledger = episode["ledger"]  # frames the episode sampled, decoded or served by the frame cache
    frames_seen = ledger["frames_decoded"] + ledger["frames_cached"]
    assert trace.count("zoom-clip frame at") == frames_seen - episode["fast_view"]["num_frames"]
    # under the no-visual probe the model saw black frames: no zoom-clip pictures, and the page says why
    assert main(["eval", "--benchmark", "needle", "--data-root", str(data), "--out", str(tmp_path / "nv"), "--backend",
                 "scripted", "--probe", "no-visual", "--no-progress"]) == 0
    assert main(["trace", str(tmp_path / "nv"), qid, "--output", str(tmp_path / "nv.html")]) == 0
    blind = (tmp_path / "nv.html").read_text()
    assert "zoom-clip frame at" not in blind and "no-visual probe: the model saw one black frame per clip" in blind
    capsys.readouterr()
