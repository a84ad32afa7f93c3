import sqlite3

import pytest

from love_r1.backends import GenerationRequest, Message
from love_r1.data import CallStore, StepInterrupted
from love_r1.data._engine import CallJob, run_jobs
from love_r1.data._store import CallRecord, config_hash
from tests.helpers.data import CountingBackend, prompt_text


def _jobs(n):
    def build(i):
        return lambda: GenerationRequest(messages=(Message("user", f"item {i}"),))
    return [CallJob(item_id=f"item{i}", sample_index=0, build=build(i), payload={"i": i}) for i in range(n)]


def test_store_is_append_only_and_wal(tmp_path):
    with CallStore(tmp_path / "s.sqlite") as store:
        digest = store.register_config("step", {"a": 1})
        assert digest == store.register_config("step", {"a": 1}) != store.register_config("step", {"a": 2})
        assert store.add(CallRecord("step", digest, "x", 0, "first", {"k": 1}, 10, 2))
        assert not store.add(CallRecord("step", digest, "x", 0, "second", {}, 99, 99))
        (row,) = store.calls("step", digest)
        assert (row.text, row.payload, row.prompt_tokens) == ("first", {"k": 1}, 10)
        assert store.usage("step").requests == 1
    mode = sqlite3.connect(tmp_path / "s.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert config_hash({"b": 1, "a": 2}) == config_hash({"a": 2, "b": 1})


@pytest.mark.parametrize(("workers", "batch_size"), [(1, 1), (3, 2)])
def test_run_jobs_resumes_after_a_backend_failure_without_repeating_calls(tmp_path, workers, batch_size):
    store = CallStore(tmp_path / "s.sqlite")
    digest = store.register_config("step", {})
    failing = CountingBackend(lambda r: prompt_text(r).upper(), fail_after=5)
    with pytest.raises(StepInterrupted, match="re-run the same command to resume"):
        run_jobs(failing, _jobs(12), store=store, step="step", config_hash=digest, workers=workers,
                 batch_size=batch_size)
    stored_first = {r.item_id for r in store.calls("step", digest)}
    assert 0 < len(stored_first) <= 5
    healthy = CountingBackend(lambda r: prompt_text(r).upper())
    stats = run_jobs(healthy, _jobs(12), store=store, step="step", config_hash=digest, workers=workers,
                     batch_size=batch_size)
    sent_again = {prompt_text(r) for r in healthy.requests}
    assert not sent_again & {f"item {r[4:]}" for r in stored_first}  # nothing stored was re-sent
    assert stats.new_calls == 12 - len(stored_first) and stats.skipped_calls == len(stored_first)
    records = store.calls("step", digest)
    assert len(records) == 12 and all(r.text == f"ITEM {r.payload['i']}" for r in records)
    # a third run makes no call at all
    third = CountingBackend(lambda r: "x")
    assert run_jobs(third, _jobs(12), store=store, step="step", config_hash=digest).new_calls == 0
    assert third.requests == []


def test_a_broken_item_fails_alone(tmp_path):
    store = CallStore(tmp_path / "s.sqlite")
    jobs = _jobs(3)

    def broken():
        raise FileNotFoundError("videos/missing.mp4")

    jobs[1] = CallJob(item_id="item1", sample_index=0, build=broken)
    stats = run_jobs(CountingBackend(lambda r: "ok"), jobs, store=store, step="s", config_hash="h", batch_size=3)
    assert stats.new_calls == 2 and "missing.mp4" in stats.failed_items["item1"]


def test_an_interrupt_keeps_the_replies_already_received(tmp_path):
    import threading

    store = CallStore(tmp_path / "s.sqlite")
    gate = threading.Event()

    def replies(request):
        if prompt_text(request) == "item 3":
            gate.wait(5)
            raise KeyboardInterrupt  # Ctrl-C surfacing through a worker
        if prompt_text(request) == "item 2":
            gate.set()
        return "ok"

    with pytest.raises(KeyboardInterrupt):
        run_jobs(CountingBackend(replies), _jobs(8), store=store, step="s", config_hash="h", workers=2)
    stored = {r.item_id for r in store.calls("s", "h")}
    assert {"item0", "item1", "item2"} <= stored and "item3" not in stored
