"""The data teacher store checks its integrity on open like the eval store, and can be recovered."""

from __future__ import annotations

import random

import pytest

from love_r1.data import CallStore, recover_call_store
from love_r1.data._store import CallRecord, StoreDamagedError


def _fill(path, n=150):
    with CallStore(path) as store:
        digest = store.register_config("caption", {"model": "m"})
        for i in range(n):
            store.add(CallRecord(step="caption", config_hash=digest, item_id=f"v{i:04d}", sample_index=0,
                                 text="a caption " * 60, payload={"video": f"v{i}.mp4"}))
    return digest


@pytest.mark.parametrize("how", ["garbage mid-file", "truncated", "header overwritten"])
def test_damaged_data_store_names_the_file_and_recovers(tmp_path, how):
    path = tmp_path / "store.sqlite"
    digest = _fill(path)
    data = bytearray(path.read_bytes())
    if how == "garbage mid-file":
        data[len(data) // 2: len(data) // 2 + 8192] = random.Random(1).randbytes(8192)
    elif how == "truncated":
        data = data[: len(data) // 2]
    else:
        data[:64] = b"\0" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(StoreDamagedError) as caught:  # before: raw sqlite3.DatabaseError
        CallStore(path)
    assert str(path) in str(caught.value) and "recover_call_store" in str(caught.value)
    counts = recover_call_store(path)
    damaged_copies = [p for p in tmp_path.glob("store.sqlite.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(damaged_copies) == 1 and damaged_copies[0].read_bytes() == bytes(data)
    with CallStore(path) as store:  # healthy again; what was readable is kept, the rest is re-asked
        kept = store.calls("caption", digest)
        assert len(kept) == counts["calls"]
        assert all(r.text == "a caption " * 60 for r in kept)
    assert recover_call_store(path) == {}  # a healthy store is left alone
