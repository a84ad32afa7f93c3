"""Append-only SQLite store of model calls, one row per (step, config, item, sample).

Every data step writes each reply as soon as it arrives, keyed by a hash of the step
configuration (the settings that change what the model is asked). Re-running a step
with the same configuration skips every stored call, so a crash, a kill or a rate-limit
stop resumes without repeating a single request. Rows are never updated or deleted.

Every open checks the file (SQLite header, ``PRAGMA quick_check``): a damaged store raises
``StoreDamagedError`` naming it, before any call is made. :func:`recover_call_store` moves a
damaged file aside (``<name>.damaged-<time>``) and copies every row still readable into a new
store; the calls it could not recover are made (and billed) again by the next run of the step.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from love_r1._sqlite import StoreDamagedError, WriterLock, connect_checked, guarded, move_aside, salvage_rows

_WHAT = "data store"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS configs (
    config_hash TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    step TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    item_id TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    payload TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finish_reason TEXT NOT NULL,
    created_unix_seconds REAL NOT NULL,
    PRIMARY KEY (step, config_hash, item_id, sample_index)
);
CREATE TABLE IF NOT EXISTS derived (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
"""


def config_hash(config: Mapping[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable step configuration."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CallRecord:
    """One stored model call."""

    step: str
    config_hash: str
    item_id: str
    sample_index: int
    text: str
    payload: dict[str, Any]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"


@dataclass(frozen=True)
class UsageTotals:
    """API usage: requests and tokens, with a cost estimate from per-1k-token prices."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def cost(self, *, price_per_1k_input: float, price_per_1k_output: float) -> float:
        return self.prompt_tokens / 1000 * price_per_1k_input + self.completion_tokens / 1000 * price_per_1k_output

    def __add__(self, other: UsageTotals) -> UsageTotals:
        return UsageTotals(self.requests + other.requests, self.prompt_tokens + other.prompt_tokens,
                           self.completion_tokens + other.completion_tokens)


def _hint(path: Path) -> str:
    return (f"recover with `python -c \"from love_r1.data import recover_call_store; "
            f"recover_call_store('{path}')\"`: it moves the file to '{path.name}.damaged-<time>' and keeps every "
            "readable call; the calls it cannot recover are made (and billed) again by the next run")


class CallStore:
    """The SQLite file (WAL mode). Safe to share between threads; one writer at a time.

    Raises:
        StoreDamagedError: the file is damaged (the message names it and how to recover).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._hint = _hint(self.path)
        self._db = connect_checked(self.path, what=_WHAT, hint=self._hint, schema=_SCHEMA, check_same_thread=False,
                                   isolation_level=None)

    def _guard(self):  # noqa: ANN202 - a context manager
        return guarded(self.path, what=_WHAT, hint=self._hint)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> CallStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register_config(self, step: str, config: Mapping[str, Any]) -> str:
        """Record ``config`` for ``step`` and return its hash."""
        digest = config_hash({"step": step, **config})
        blob = json.dumps(config, sort_keys=True, default=str)
        with self._lock, self._guard():
            self._db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?, ?)", (digest, step, blob))
        return digest

    def add(self, record: CallRecord) -> bool:
        """Append one call; returns False when that key is already stored (the row is kept as it was)."""
        row = (record.step, record.config_hash, record.item_id, int(record.sample_index), record.text,
               json.dumps(record.payload, sort_keys=True), int(record.prompt_tokens),
               int(record.completion_tokens), record.finish_reason, time.time())
        with self._lock, self._guard():
            cursor = self._db.execute("INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return cursor.rowcount == 1

    def calls(self, step: str, config_hash: str, item_id: str | None = None) -> list[CallRecord]:
        """Stored calls of one step configuration (optionally one item), ordered by item and sample."""
        query = "SELECT * FROM calls WHERE step = ? AND config_hash = ?"
        args: list[Any] = [step, config_hash]
        if item_id is not None:
            query += " AND item_id = ?"
            args.append(item_id)
        with self._lock, self._guard():
            rows = self._db.execute(query + " ORDER BY item_id, sample_index", args).fetchall()
        try:
            return [_record(r) for r in rows]
        except (TypeError, ValueError) as error:
            raise StoreDamagedError(f"{_WHAT} {str(self.path)!r} is damaged (a stored call cannot be read: {error}); "
                                    f"{self._hint}", path=self.path) from None

    def iter_calls_by_item(self, step: str, config_hash: str) -> Iterator[tuple[str, list[CallRecord]]]:
        grouped: dict[str, list[CallRecord]] = {}
        for record in self.calls(step, config_hash):
            grouped.setdefault(record.item_id, []).append(record)
        yield from grouped.items()

    def get_derived(self, kind: str, key: str) -> str | None:
        """A cached non-model result (e.g. a video fingerprint), or None."""
        with self._lock, self._guard():
            row = self._db.execute("SELECT value FROM derived WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return None if row is None else row[0]

    def put_derived(self, kind: str, key: str, value: str) -> None:
        with self._lock, self._guard():
            self._db.execute("INSERT OR IGNORE INTO derived VALUES (?, ?, ?)", (kind, key, value))

    def usage(self, step: str | None = None, config_hash: str | None = None) -> UsageTotals:
        """Totals over stored calls (all steps when ``step`` is None)."""
        query = "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) FROM calls"
        clauses, args = [], []
        if step is not None:
            clauses.append("step = ?")
            args.append(step)
        if config_hash is not None:
            clauses.append("config_hash = ?")
            args.append(config_hash)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        with self._lock, self._guard():
            count, prompt, completion = self._db.execute(query, args).fetchone()
        return UsageTotals(int(count), int(prompt), int(completion))


def _record(row: tuple) -> CallRecord:
    step, digest, item_id, sample_index, text, payload, prompt, completion, finish, _created = row
    return CallRecord(step=step, config_hash=digest, item_id=item_id, sample_index=int(sample_index), text=text,
                      payload=json.loads(payload), prompt_tokens=int(prompt), completion_tokens=int(completion),
                      finish_reason=finish)


def recover_call_store(path: str | Path) -> dict[str, int]:
    """Move a damaged data store to ``<name>.damaged-<time>`` and copy its readable rows into a new one.

    Returns the number of rows recovered per table (``{}`` when the store is healthy and left alone).
    """
    path = Path(path)
    with WriterLock(path, what=_WHAT):
        try:
            CallStore(path).close()
        except StoreDamagedError:
            pass
        else:
            return {}
        tables = {name: salvage_rows(path, name)[0] for name in ("configs", "calls", "derived")}
        move_aside(path)
        store = CallStore(path)
        try:
            with store._guard():
                store._db.execute("BEGIN")
                for name, rows in tables.items():
                    width = {"configs": 3, "calls": 10, "derived": 3}[name]
                    rows = [r for r in rows if len(r) == width]
                    tables[name] = rows
                    marks = ", ".join("?" * width)
                    store._db.executemany(f"INSERT OR IGNORE INTO {name} VALUES ({marks})", rows)  # noqa: S608
                store._db.execute("COMMIT")
        finally:
            store.close()
    return {name: len(rows) for name, rows in tables.items()}
