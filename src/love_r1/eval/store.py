"""The run store: one SQLite file per shard in the run directory (WAL mode, one commit per item).

Rows are keyed by ``(config_hash, qid)``: re-running the same command skips finished items and
never duplicates one; a process killed at any moment loses at most the items in flight.
Failed items (``status = "error"``) are stored (they are counted and reported) and retried by
the next run. ``read_run`` merges every shard file of a run directory.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS configs (
    config_hash TEXT PRIMARY KEY, config_json TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    config_hash TEXT NOT NULL, qid TEXT NOT NULL, status TEXT NOT NULL, sample_json TEXT NOT NULL,
    episode_json TEXT, error TEXT, seconds REAL NOT NULL DEFAULT 0, created_at REAL NOT NULL,
    PRIMARY KEY (config_hash, qid)
);
CREATE TABLE IF NOT EXISTS provenance (
    config_hash TEXT NOT NULL, created_at REAL NOT NULL, provenance_json TEXT NOT NULL
);
"""


def config_hash(config: Mapping[str, Any]) -> str:
    """A stable 16-hex digest of a JSON-serialisable run configuration."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def shard_db_name(shard_index: int, num_shards: int) -> str:
    """``results.sqlite`` for one shard, ``results.shard-2-of-8.sqlite`` otherwise."""
    if num_shards <= 1:
        return "results.sqlite"
    return f"results.shard-{shard_index}-of-{num_shards}.sqlite"


@dataclass(frozen=True)
class ItemRow:
    """One stored item."""

    config_hash: str
    qid: str
    status: str
    sample: dict[str, Any]
    episode: dict[str, Any] | None
    error: str | None
    seconds: float
    created_at: float


class RunStore:
    """One SQLite results file (use as a context manager)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def register(self, config_hash_: str, config: Mapping[str, Any]) -> None:
        self._db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?, ?)",
                         (config_hash_, json.dumps(config, sort_keys=True, default=str), time.time()))
        self._db.commit()

    def add_provenance(self, config_hash_: str, provenance: Mapping[str, Any]) -> None:
        """Record where and with what a (re)run happened (package versions, device); not part of the hash."""
        self._db.execute("INSERT INTO provenance VALUES (?, ?, ?)",
                         (config_hash_, time.time(), json.dumps(dict(provenance), default=str)))
        self._db.commit()

    def provenance(self, config_hash_: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT provenance_json FROM provenance WHERE config_hash = ? ORDER BY created_at",
                                (config_hash_,))
        return [json.loads(r) for (r,) in rows]

    def put(self, config_hash_: str, qid: str, *, sample: Mapping[str, Any], episode: Mapping[str, Any] | None,
            error: str | None, seconds: float = 0.0) -> None:
        """Store one finished (or failed) item and commit."""
        status = "error" if error is not None else "done"
        self._db.execute(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (config_hash_, qid, status, json.dumps(dict(sample)), None if episode is None else json.dumps(dict(episode)),
             error, float(seconds), time.time()),
        )
        self._db.commit()

    def finished(self, config_hash_: str) -> set[str]:
        rows = self._db.execute("SELECT qid FROM items WHERE config_hash = ? AND status = 'done'", (config_hash_,))
        return {qid for (qid,) in rows}

    def configs(self) -> dict[str, tuple[dict[str, Any], float]]:
        rows = self._db.execute("SELECT config_hash, config_json, created_at FROM configs")
        return {h: (json.loads(c), float(t)) for h, c, t in rows}

    def items(self, config_hash_: str | None = None) -> Iterable[ItemRow]:
        query = "SELECT config_hash, qid, status, sample_json, episode_json, error, seconds, created_at FROM items"
        rows = self._db.execute(query + (" WHERE config_hash = ?" if config_hash_ else ""),
                                (config_hash_,) if config_hash_ else ())
        for h, qid, status, sample, episode, error, seconds, created in rows:
            yield ItemRow(h, qid, status, json.loads(sample), json.loads(episode) if episode else None, error,
                          float(seconds), float(created))

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0])


def collect_provenance() -> dict[str, Any]:
    """Package versions, Python, platform and (when torch is loaded and sees one) the GPU name."""
    import platform
    import sys
    from importlib import metadata

    versions = {}
    for name in ("love-r1", "torch", "transformers", "vllm", "av", "numpy", "openai"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    info: dict[str, Any] = {"versions": versions, "python": sys.version.split()[0], "platform": platform.platform()}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def db_files(run_dir: str | Path) -> list[Path]:
    return sorted(Path(run_dir).glob("results*.sqlite"))


def finished_in_run(run_dir: str | Path, config_hash_: str) -> set[str]:
    """qids finished under ``config_hash_`` in any shard file of ``run_dir``."""
    done: set[str] = set()
    for path in db_files(run_dir):
        with RunStore(path) as store:
            done |= store.finished(config_hash_)
    return done


@dataclass(frozen=True)
class RunData:
    """The merged content of a run directory for one configuration."""

    run_dir: Path
    config_hash: str
    config: dict[str, Any]
    items: list[ItemRow]
    other_configs: list[str]
    provenance: list[dict[str, Any]]


def read_run(run_dir: str | Path, *, config_hash_: str | None = None) -> RunData:
    """Merge every shard file of ``run_dir``; picks the newest configuration unless one is named.

    A qid present in several files keeps its ``done`` row over an ``error`` row, then the newest.
    """
    run_dir = Path(run_dir)
    files = db_files(run_dir)
    if not files:
        raise FileNotFoundError(f"no results*.sqlite in {str(run_dir)!r} (hint: is this the --out of `love-r1 eval`?)")
    configs: dict[str, tuple[dict[str, Any], float]] = {}
    rows: list[ItemRow] = []
    provenance: dict[str, list[dict[str, Any]]] = {}
    for path in files:
        with RunStore(path) as store:
            configs.update(store.configs())
            rows.extend(store.items())
            for key in configs:
                provenance.setdefault(key, []).extend(store.provenance(key))
    if not configs:
        raise ValueError(f"{str(run_dir)!r} holds no run configuration")
    if config_hash_ is None:
        config_hash_ = max(configs, key=lambda h: configs[h][1])
    elif config_hash_ not in configs:
        raise ValueError(f"config {config_hash_!r} not in {str(run_dir)!r}; present: {sorted(configs)}")
    best: dict[str, ItemRow] = {}
    for row in rows:
        if row.config_hash != config_hash_:
            continue
        old = best.get(row.qid)
        if old is None or (row.status == "done", row.created_at) > (old.status == "done", old.created_at):
            best[row.qid] = row
    return RunData(run_dir, config_hash_, configs[config_hash_][0], sorted(best.values(), key=lambda r: r.qid),
                   [h for h in configs if h != config_hash_], provenance.get(config_hash_, []))


def export_jsonl(run: RunData, path: str | Path) -> Path:
    """One JSON object per item: the sample, the trajectory, the error."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as handle:
        for row in run.items:
            handle.write(json.dumps({"qid": row.qid, "config_hash": row.config_hash, "status": row.status,
                                     "sample": row.sample, "episode": row.episode, "error": row.error,
                                     "seconds": row.seconds}) + "\n")
    return path
