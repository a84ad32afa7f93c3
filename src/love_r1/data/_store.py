"""Append-only SQLite store of model calls, one row per (step, config, item, sample).

Every data step writes each reply as soon as it arrives, keyed by a hash of the step
configuration (the settings that change what the model is asked). Re-running a step
with the same configuration skips every stored call, so a crash, a kill or a rate-limit
stop resumes without repeating a single request. Rows are never updated or deleted.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


class CallStore:
    """The SQLite file (WAL mode). Safe to share between threads; one writer at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

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
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?, ?)", (digest, step, blob))
        return digest

    def add(self, record: CallRecord) -> bool:
        """Append one call; returns False when that key is already stored (the row is kept as it was)."""
        row = (record.step, record.config_hash, record.item_id, int(record.sample_index), record.text,
               json.dumps(record.payload, sort_keys=True), int(record.prompt_tokens),
               int(record.completion_tokens), record.finish_reason, time.time())
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return cursor.rowcount == 1

    def calls(self, step: str, config_hash: str, item_id: str | None = None) -> list[CallRecord]:
        """Stored calls of one step configuration (optionally one item), ordered by item and sample."""
        query = "SELECT * FROM calls WHERE step = ? AND config_hash = ?"
        args: list[Any] = [step, config_hash]
        if item_id is not None:
            query += " AND item_id = ?"
            args.append(item_id)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY item_id, sample_index", args).fetchall()
        return [_record(r) for r in rows]

    def iter_calls_by_item(self, step: str, config_hash: str) -> Iterator[tuple[str, list[CallRecord]]]:
        grouped: dict[str, list[CallRecord]] = {}
        for record in self.calls(step, config_hash):
            grouped.setdefault(record.item_id, []).append(record)
        yield from grouped.items()

    def get_derived(self, kind: str, key: str) -> str | None:
        """A cached non-model result (e.g. a video fingerprint), or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM derived WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return None if row is None else row[0]

    def put_derived(self, kind: str, key: str, value: str) -> None:
        with self._lock:
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
        with self._lock:
            count, prompt, completion = self._db.execute(query, args).fetchone()
        return UsageTotals(int(count), int(prompt), int(completion))


def _record(row: tuple) -> CallRecord:
    step, digest, item_id, sample_index, text, payload, prompt, completion, finish, _created = row
    return CallRecord(step=step, config_hash=digest, item_id=item_id, sample_index=int(sample_index), text=text,
                      payload=json.loads(payload), prompt_tokens=int(prompt), completion_tokens=int(completion),
                      finish_reason=finish)
