"""The run store: one SQLite file per shard in the run directory (WAL mode, one commit per item).

Rows are keyed by ``(config_hash, qid)``: re-running the same command skips finished items and
never duplicates one; a process killed at any moment loses at most the items in flight.
Failed items (``status = "error"``) are stored (they are counted and reported) and retried by
the next run. ``read_run`` merges every shard file of a run directory.

**Integrity.** Every open checks the file (SQLite header, ``PRAGMA quick_check``); a damaged
file (garbage mid-file, truncated, header overwritten) raises :class:`StoreDamagedError` naming
it and saying how to recover, before any item runs. :func:`rebuild_store` moves the damaged file
aside (``<name>.damaged-<time>``, never deleted) and rebuilds the store from the rows that can
still be read from it plus ``results.jsonl`` (the export written at the end of every ``eval``);
items recovered by neither are simply run again. ``love-r1 eval --rebuild-store`` does this.

**One writer per shard.** A writing :class:`RunStore` holds an advisory lock on
``<store>.lock`` recording the holder's pid, host and start time; launching the same shard
twice at once raises :class:`StoreLockedError` quoting them instead of running every item twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from love_r1._sqlite import (
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    WriterLock,
    connect_checked,
    guarded,
    move_aside,
    salvage_rows,
)

_WHAT = "results store"
RECOVERED_CONFIG_KEY = "recovered_from"

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


def _recovery_hint(path: Path) -> str:
    jsonl = path.parent / "results.jsonl"
    source = (f"the rows still readable in it and {str(jsonl)!r}" if jsonl.is_file() else
              "the rows still readable in it (no results.jsonl next to it)")
    return (f"recover with `love-r1 eval ... --rebuild-store` (same options): it moves the file to "
            f"'{path.name}.damaged-<time>', rebuilds the store from {source}, and runs the items not recovered")


class RunStore:
    """One SQLite results file (use as a context manager).

    Args:
        path: the store file (created when missing).
        writer: hold the shard's writer lock while open (``False`` for readers such as ``read_run``).

    Raises:
        StoreDamagedError: the file is damaged (the message names it and how to recover).
        StoreLockedError: ``writer=True`` and another process is writing this file.
    """

    def __init__(self, path: str | Path, *, writer: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hint = _recovery_hint(self.path)
        self._lock = WriterLock(self.path, what=_WHAT).acquire() if writer else None
        try:
            self._db = connect_checked(self.path, what=_WHAT, hint=self._hint, schema=_SCHEMA)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _guard(self):  # noqa: ANN202 - a context manager
        return guarded(self.path, what=_WHAT, hint=self._hint)

    def register(self, config_hash_: str, config: Mapping[str, Any]) -> None:
        """Record a configuration (a placeholder left by :func:`rebuild_store` is replaced)."""
        blob = json.dumps(config, sort_keys=True, default=str)
        with self._guard():
            self._db.execute(
                "INSERT INTO configs VALUES (?, ?, ?) ON CONFLICT(config_hash) DO UPDATE SET "
                "config_json = excluded.config_json WHERE configs.config_json LIKE ?",
                (config_hash_, blob, time.time(), f'%"{RECOVERED_CONFIG_KEY}"%'))
            self._db.commit()

    def add_provenance(self, config_hash_: str, provenance: Mapping[str, Any]) -> None:
        """Record where and with what a (re)run happened (package versions, device); not part of the hash."""
        with self._guard():
            self._db.execute("INSERT INTO provenance VALUES (?, ?, ?)",
                             (config_hash_, time.time(), json.dumps(dict(provenance), default=str)))
            self._db.commit()

    def provenance(self, config_hash_: str) -> list[dict[str, Any]]:
        with self._guard():
            rows = self._db.execute("SELECT provenance_json FROM provenance WHERE config_hash = ? ORDER BY created_at",
                                    (config_hash_,)).fetchall()
        return [self._json(r, "provenance") for (r,) in rows]

    def put(self, config_hash_: str, qid: str, *, sample: Mapping[str, Any], episode: Mapping[str, Any] | None,
            error: str | None, seconds: float = 0.0, created_at: float | None = None) -> None:
        """Store one finished (or failed) item and commit."""
        status = "error" if error is not None else "done"
        with self._guard():
            self._db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (config_hash_, qid, status, json.dumps(dict(sample)),
                 None if episode is None else json.dumps(dict(episode)), error, float(seconds),
                 time.time() if created_at is None else float(created_at)),
            )
            self._db.commit()

    def finished(self, config_hash_: str) -> set[str]:
        with self._guard():
            rows = self._db.execute("SELECT qid FROM items WHERE config_hash = ? AND status = 'done'",
                                    (config_hash_,)).fetchall()
        return {qid for (qid,) in rows}

    def configs(self) -> dict[str, tuple[dict[str, Any], float]]:
        with self._guard():
            rows = self._db.execute("SELECT config_hash, config_json, created_at FROM configs").fetchall()
        return {h: (self._json(c, f"configuration {h}"), float(t)) for h, c, t in rows}

    def items(self, config_hash_: str | None = None) -> Iterable[ItemRow]:
        query = "SELECT config_hash, qid, status, sample_json, episode_json, error, seconds, created_at FROM items"
        with self._guard():
            rows = self._db.execute(query + (" WHERE config_hash = ?" if config_hash_ else ""),
                                    (config_hash_,) if config_hash_ else ()).fetchall()
        for h, qid, status, sample, episode, error, seconds, created in rows:
            yield ItemRow(h, qid, status, self._json(sample, f"item {qid!r}"),
                          self._json(episode, f"item {qid!r}") if episode else None, error, float(seconds),
                          float(created))

    def count(self) -> int:
        with self._guard():
            return int(self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def _json(self, text: str, where: str) -> Any:
        try:
            return json.loads(text)
        except (TypeError, ValueError) as error:
            raise StoreDamagedError(f"{_WHAT} {str(self.path)!r} is damaged (the JSON of {where} cannot be read: "
                                    f"{error}); {self._hint}", path=self.path) from None


# the packages whose versions shape a run's results
PROVENANCE_PACKAGES = ("love-r1", "torch", "transformers", "vllm", "openai", "av", "numpy", "pillow")


def collect_provenance() -> dict[str, Any]:
    """What a run was made with: installed versions of :data:`PROVENANCE_PACKAGES` (absent ones left out), Python,
    platform, the timestamp overlay's font and (when torch is loaded and sees one) the GPU name. Recorded by
    ``evaluate`` for every (re)start of a run and by ``love-r1 ask --json``; nothing is imported to find a version."""
    import platform
    import sys
    from importlib import metadata

    from love_r1.video import OVERLAY_FONT_NAME

    versions = {}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    info: dict[str, Any] = {"versions": versions, "python": sys.version.split()[0], "platform": platform.platform(),
                            "overlay_font": OVERLAY_FONT_NAME}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


_FINGERPRINT_BYTES = 1 << 20  # read from each end of every file of a local checkpoint


def model_fingerprint(model: str) -> str | None:
    """A 16-hex digest of a local checkpoint folder's files (names, sizes, the first and last MiB of each), or
    ``None`` when ``model`` is not a folder (a hub id, an API model name). Retraining into the same folder changes
    it; reading two MiB per file keeps it cheap for checkpoints of any size. Recorded in each (re)start's
    provenance, so that a resumed run never mixes results of two checkpoints (:func:`check_same_model`)."""
    folder = Path(model)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        size = path.stat().st_size
        digest.update(json.dumps([path.name, size]).encode())
        with path.open("rb") as handle:
            digest.update(handle.read(_FINGERPRINT_BYTES))
            if size > _FINGERPRINT_BYTES:
                handle.seek(max(_FINGERPRINT_BYTES, size - _FINGERPRINT_BYTES))
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def check_same_model(run_dir: str | Path, config_hash_: str, *, model: str, fingerprint: str | None,
                     num_finished: int) -> None:
    """Raise :class:`StoreError` when the results already stored under ``config_hash_`` in ``run_dir`` were made with other files at
    the same checkpoint path (the latest recorded :func:`model_fingerprint` differs): resuming would mix two
    models under one configuration. Runs recorded without a fingerprint resume as before."""
    if fingerprint is None or not num_finished:
        return
    recorded = []
    for path in db_files(run_dir):
        with RunStore(path, writer=False) as store:
            recorded += [p["model_fingerprint"] for p in store.provenance(config_hash_) if p.get("model_fingerprint")]
    if recorded and recorded[-1] != fingerprint:
        raise StoreError(
            f"{str(run_dir)!r}: its {num_finished} stored results were made with other files at the checkpoint "
            f"{model!r} (fingerprint {recorded[-1]}, now {fingerprint}: retrained or replaced since), and resuming "
            "would mix two models in one run; hint: evaluate into another --out, or delete the folder to start over",
            path=run_dir)


def db_files(run_dir: str | Path) -> list[Path]:
    return sorted(Path(run_dir).glob("results*.sqlite"))


def finished_in_run(run_dir: str | Path, config_hash_: str) -> set[str]:
    """qids finished under ``config_hash_`` in any shard file of ``run_dir``."""
    done: set[str] = set()
    for path in db_files(run_dir):
        with RunStore(path, writer=False) as store:
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
        with RunStore(path, writer=False) as store:
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


@dataclass(frozen=True)
class RebuildReport:
    """What :func:`rebuild_store` did.

    Attributes:
        path: the rebuilt store.
        rebuilt: whether the store was rebuilt (``False``: it was healthy and left alone).
        damaged_copy: where the damaged file was moved (``None`` when there was none).
        from_store: items still readable in the damaged file.
        from_jsonl: items taken from ``results.jsonl`` (not already recovered from the store).
        stopped: why reading the damaged file stopped early (``None`` when it was read to the end).
        skipped_lines: lines of ``results.jsonl`` that could not be read.
    """

    path: Path
    rebuilt: bool
    damaged_copy: Path | None = None
    from_store: int = 0
    from_jsonl: int = 0
    stopped: str | None = None
    skipped_lines: int = 0


def rebuild_store(path: str | Path, *, jsonl: str | Path | None = None) -> RebuildReport:
    """Rebuild a damaged (or missing) results store; a healthy one is left as it is (``rebuilt=False``).

    The damaged file is moved to ``<name>.damaged-<time>`` (never deleted). The new store gets every
    row still readable in it (configurations, provenance, items) plus the items of ``jsonl``
    (default: ``results.jsonl`` next to the store) it does not hold; a ``done`` row wins over an
    ``error`` row. A configuration known only from ``results.jsonl`` gets a placeholder that the
    next ``eval`` with the same options replaces. Holds the shard's writer lock while it works.
    """
    path = Path(path)
    jsonl = Path(jsonl) if jsonl is not None else path.parent / "results.jsonl"
    with WriterLock(path, what=_WHAT):
        configs: list[tuple] = []
        provenance: list[tuple] = []
        items: list[tuple] = []
        stopped = stopped_configs = None
        damaged_copy = None
        if not path.exists() and not jsonl.is_file():
            return RebuildReport(path=path, rebuilt=False)
        if path.exists():
            try:
                RunStore(path, writer=False).close()
            except StoreDamagedError:
                pass
            else:
                return RebuildReport(path=path, rebuilt=False)
            configs, stopped_configs = salvage_rows(path, "configs")
            provenance, _ = salvage_rows(path, "provenance")
            items, stopped = salvage_rows(path, "items")
            damaged_copy = move_aside(path)
        rows: dict[tuple[str, str], tuple] = {}
        for row in items:
            if _readable_item(row):
                _keep_best(rows, row)
        from_store = len(rows)
        skipped = 0
        if jsonl.is_file():
            with jsonl.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    row = _jsonl_item(line)
                    if row is None:
                        skipped += int(bool(line.strip()))
                        continue
                    _keep_best(rows, row, only_if_missing=True)
        known = {c[0] for c in configs if len(c) == 3}
        with RunStore(path, writer=False) as store, store._guard():
            db = store._db
            db.executemany("INSERT OR IGNORE INTO configs VALUES (?, ?, ?)", [c for c in configs if len(c) == 3])
            placeholder = json.dumps({RECOVERED_CONFIG_KEY: str(jsonl)})
            db.executemany("INSERT OR IGNORE INTO configs VALUES (?, ?, ?)",
                           [(h, placeholder, 0.0) for h in sorted({h for h, _ in rows} - known)])
            db.executemany("INSERT INTO provenance VALUES (?, ?, ?)", [p for p in provenance if len(p) == 3])
            db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(rows.values()))
            db.commit()
    return RebuildReport(path=path, rebuilt=True, damaged_copy=damaged_copy, from_store=from_store,
                         from_jsonl=len(rows) - from_store, stopped=stopped or stopped_configs, skipped_lines=skipped)


def _readable_item(row: tuple) -> bool:
    if len(row) != 8:
        return False
    try:
        json.loads(row[3])
        if row[4] is not None:
            json.loads(row[4])
        float(row[6])
        float(row[7])
    except (TypeError, ValueError):
        return False
    return isinstance(row[0], str) and isinstance(row[1], str) and row[2] in ("done", "error")


def _jsonl_item(line: str) -> tuple | None:
    try:
        data = json.loads(line)
        row = (str(data["config_hash"]), str(data["qid"]), str(data["status"]), json.dumps(data["sample"]),
               None if data.get("episode") is None else json.dumps(data["episode"]), data.get("error"),
               float(data.get("seconds") or 0.0), 0.0)
    except (ValueError, KeyError, TypeError):
        return None
    return row if _readable_item(row) else None


def _keep_best(rows: dict[tuple[str, str], tuple], row: tuple, *, only_if_missing: bool = False) -> None:
    key = (row[0], row[1])
    old = rows.get(key)
    if old is None:
        rows[key] = row
    elif not only_if_missing and (row[2] == "done", row[7]) > (old[2] == "done", old[7]):
        rows[key] = row
    elif only_if_missing and old[2] != "done" and row[2] == "done":
        rows[key] = row


def check_run_stores(run_dir: str | Path, *, shard_index: int, num_shards: int,
                     rebuild: bool = False) -> RebuildReport | None:
    """Before a run: every shard file of ``run_dir`` opens cleanly and this shard's writer lock is free.

    With ``rebuild``, this shard's store is first rebuilt if it is damaged or missing (:func:`rebuild_store`;
    ``None`` is returned without ``rebuild``). Raises :class:`StoreDamagedError` / :class:`StoreLockedError`.
    """
    run_dir = Path(run_dir)
    own = run_dir / shard_db_name(shard_index, num_shards)
    report = rebuild_store(own) if rebuild else None
    for path in db_files(run_dir):
        RunStore(path, writer=False).close()
    if own.exists():
        WriterLock(own, what=_WHAT).acquire().release()
    return report


__all__ = [
    "ItemRow", "RebuildReport", "RunData", "RunStore", "StoreDamagedError", "StoreError", "StoreLockedError",
    "check_run_stores", "collect_provenance", "config_hash", "db_files", "export_jsonl", "finished_in_run", "read_run",
    "rebuild_store", "shard_db_name",
]
