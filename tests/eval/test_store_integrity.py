"""A damaged results store gives a typed error naming the file and the way back (exit 2 from the CLI),
``--rebuild-store`` recovers from the readable rows and results.jsonl, and one shard has one writer."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from love_r1.cli import main
from love_r1.eval.store import (
    RunStore,
    StoreDamagedError,
    StoreLockedError,
    export_jsonl,
    finished_in_run,
    read_run,
    rebuild_store,
)

NUM_ITEMS = 160


def _store(run_dir: Path, *, n: int = NUM_ITEMS) -> Path:
    path = run_dir / "results.sqlite"
    with RunStore(path) as store:
        store.register("cfg", {"benchmark": "x"})
        for i in range(n):
            store.put("cfg", f"q{i:04d}", sample={"qid": f"q{i:04d}", "pad": "s" * 400},
                      episode={"answer": "A", "steps": [{"raw_text": "r" * 600}]}, error=None)
    export_jsonl(read_run(run_dir), run_dir / "results.jsonl")
    return path


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    size = len(data)
    if how == "garbage mid-file":
        data[size // 2: size // 2 + 8192] = random.Random(0).randbytes(8192)
    elif how == "truncated":
        data = data[: size // 2]
    elif how == "header overwritten":
        data[:100] = b"\0" * 100
    path.write_bytes(bytes(data))


DAMAGE = ["garbage mid-file", "truncated", "header overwritten"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_store_is_a_typed_error_naming_the_file_and_the_recovery(tmp_path, how):
    path = _store(tmp_path)
    _damage(path, how)
    for read in (lambda: read_run(tmp_path), lambda: finished_in_run(tmp_path, "cfg"), lambda: RunStore(path)):
        with pytest.raises(StoreDamagedError) as caught:  # before: sqlite3.DatabaseError tracebacks
            read()
        message = str(caught.value)
        assert str(path) in message and "--rebuild-store" in message and "results.jsonl" in message
        assert caught.value.path == path
    from love_r1._sqlite import WriterLock

    WriterLock(path).acquire().release()  # the failed writer open released its lock


@pytest.mark.parametrize("how", DAMAGE)
def test_rebuild_recovers_every_item_and_keeps_the_damaged_file(tmp_path, how):
    path = _store(tmp_path)
    original = path.read_bytes()
    _damage(path, how)
    damaged_bytes = path.read_bytes()
    report = rebuild_store(path)
    assert report.rebuilt and report.from_store + report.from_jsonl == NUM_ITEMS
    assert report.damaged_copy.read_bytes() == damaged_bytes and original != damaged_bytes
    data = read_run(tmp_path)
    assert [row.qid for row in data.items] == [f"q{i:04d}" for i in range(NUM_ITEMS)]
    assert data.items[7].episode == {"answer": "A", "steps": [{"raw_text": "r" * 600}]}
    assert finished_in_run(tmp_path, "cfg") == {f"q{i:04d}" for i in range(NUM_ITEMS)}
    assert not rebuild_store(path).rebuilt  # healthy now: left alone


def test_rebuild_without_jsonl_keeps_what_the_store_still_holds(tmp_path):
    path = _store(tmp_path)
    (tmp_path / "results.jsonl").unlink()
    _damage(path, "garbage mid-file")
    report = rebuild_store(path)
    assert report.rebuilt and 0 < report.from_store < NUM_ITEMS and report.from_jsonl == 0
    assert read_run(tmp_path).config == {"benchmark": "x"}  # configuration rows salvaged too


def test_a_second_writer_of_a_shard_is_refused_and_told_who_holds_it(tmp_path):
    path = tmp_path / "results.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from love_r1.eval.store import RunStore
            store = RunStore({str(path)!r})
            print("locked", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError) as caught:
            RunStore(path)
        assert caught.value.holder["pid"] == child.pid
        assert f"pid {child.pid} on host" in str(caught.value) and "started" in str(caught.value)
        with RunStore(path, writer=False) as reader:  # readers (report, resume checks) are not blocked
            assert reader.count() == 0
    finally:
        child.kill()
        child.wait()
    with RunStore(path) as store:  # the OS released the lock of the killed holder: no stale lock
        assert store.count() == 0


def _eval_argv(tmp_path: Path) -> list[str]:
    """``love-r1 eval`` over a 3-question needle set with the scripted backend."""
    from love_r1.synth import write_needle_dataset

    root = tmp_path / "needle"
    write_needle_dataset(root, duration_seconds=12.0, num_videos=1, num_questions_per_video=3, width=96, height=64,
                         fps=5.0, seed=5)
    return ["eval", "--benchmark", "needle", "--data-root", str(root), "--out", str(tmp_path / "run"),
            "--backend", "scripted", "--model", "dummy", "--no-progress"]


def test_cli_exit_2_on_a_damaged_store_then_rebuild_store_resumes(tmp_path, capsys):
    argv, out = _eval_argv(tmp_path), tmp_path / "run"
    assert main(argv) == 0
    capsys.readouterr()
    path = out / "results.sqlite"
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text("\n".join(lines[:2]) + "\n{not json\n")  # an export that lags one item
    _damage(path, "header overwritten")
    assert main(argv) == 2  # before: exit 1 with a raw sqlite3 traceback
    captured = capsys.readouterr()
    assert str(path) in captured.err and "--rebuild-store" in captured.err and "already done" not in captured.out
    assert main([*argv, "--rebuild-store"]) == 0
    captured = capsys.readouterr()
    assert "1 run, 2 already done" in captured.out and "2 from results.jsonl" in captured.err
    assert len(read_run(out).items) == 3 and all(row.status == "done" for row in read_run(out).items)
    assert "benchmark" in read_run(out).config  # the placeholder configuration was replaced by the real one


def test_cli_exit_2_when_the_shard_is_being_written(tmp_path, capsys):
    argv, out = _eval_argv(tmp_path), tmp_path / "run"
    with RunStore(out / "results.sqlite"):  # another run of this shard holds it
        assert main(argv) == 2
    captured = capsys.readouterr()
    assert "being written by another process" in captured.err and f"pid {os.getpid()}" in captured.err
    assert "run," not in captured.out  # nothing ran twice
