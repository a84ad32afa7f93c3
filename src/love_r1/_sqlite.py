"""SQLite stores that check their own integrity, say which file is damaged, and lock per writer.

Shared by the eval results store (``love_r1.eval.store``) and the data teacher store
(``love_r1.data._store``):

* :func:`connect_checked` opens a store after checking the file header and ``PRAGMA quick_check``;
  a damaged file raises :class:`StoreDamagedError` naming the file, the problem and how to recover,
  never a raw ``sqlite3`` traceback halfway through a run;
* :func:`guarded` turns a damage found later (a page that fails mid-query) into the same error;
* :class:`WriterLock` is an advisory lock on ``<store>.lock`` (``fcntl.flock``; released by the
  OS when the process dies, so it never goes stale) that records who holds it;
* :func:`salvage_rows` reads whatever rows of a damaged file can still be read.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(ValueError):
    """A store file cannot be used (damaged, or held by another process); the message says how to proceed."""

    def __init__(self, message: str, *, path: str | Path) -> None:
        super().__init__(message)
        self.path = Path(path)


class StoreDamagedError(StoreError):
    """The store file is damaged: garbage in it, truncated, or its header overwritten."""


class StoreLockedError(StoreError):
    """Another process is writing this store; ``holder`` says who (pid, host, start time)."""

    def __init__(self, message: str, *, path: str | Path, holder: dict[str, Any]) -> None:
        super().__init__(message, path=path)
        self.holder = holder


def _is_damage(error: sqlite3.Error) -> bool:
    """A ``sqlite3`` error that means a damaged file (not a busy or unreachable one)."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    text = str(error).lower()
    if isinstance(error, sqlite3.OperationalError):
        return any(word in text for word in ("malformed", "disk i/o", "not a database", "corrupt"))
    return True


def damaged(path: str | Path, problem: str, *, what: str, hint: str) -> StoreDamagedError:
    return StoreDamagedError(f"{what} {str(path)!r} is damaged ({problem}); {hint}", path=path)


@contextlib.contextmanager
def guarded(path: str | Path, *, what: str, hint: str) -> Iterator[None]:
    """Re-raise a ``sqlite3`` error that means damage as :class:`StoreDamagedError` (others propagate)."""
    try:
        yield
    except sqlite3.Error as error:
        if _is_damage(error):
            raise damaged(path, str(error), what=what, hint=hint) from error
        raise


def check_header(path: Path, *, what: str, hint: str) -> None:
    """An existing, non-empty store file must start with SQLite's 16-byte header."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise damaged(path, "its header is not an SQLite header: the start of the file was overwritten or it is "
                      "not a database", what=what, hint=hint)


def connect_checked(path: str | Path, *, what: str, hint: str, schema: str, timeout_seconds: float = 60.0,
                    check_same_thread: bool = True, isolation_level: str | None = "") -> sqlite3.Connection:
    """Open (or create) the store at ``path`` in WAL mode, check its integrity, create the schema."""
    path = Path(path)
    check_header(path, what=what, hint=hint)
    connection = sqlite3.connect(str(path), timeout=timeout_seconds, check_same_thread=check_same_thread,
                                 isolation_level=isolation_level)
    try:
        with guarded(path, what=what, hint=hint):
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            problems = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise damaged(path, "; ".join(str(p) for p in problems), what=what, hint=hint)
            connection.executescript(schema)
            connection.commit()
    except BaseException:
        connection.close()
        raise
    return connection


def salvage_rows(path: str | Path, table: str) -> tuple[list[tuple], str | None]:
    """Rows of ``table`` that can still be read from a damaged file, and why reading stopped (``None``: all read)."""
    rows: list[tuple] = []
    try:
        connection = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return rows, str(error)
    try:
        for row in connection.execute(f"SELECT * FROM {table}"):  # noqa: S608 - table names are ours
            rows.append(tuple(row))
    except sqlite3.Error as error:
        return rows, str(error)
    finally:
        connection.close()
    return rows, None


def move_aside(path: Path) -> Path:
    """Rename ``path`` (and its ``-wal``/``-shm`` files) to ``<name>.damaged-<time>``; returns the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


@dataclass
class WriterLock:
    """An exclusive advisory lock on ``<path>.lock`` for one writer of a store (use as a context manager).

    The lock file holds ``{"pid", "host", "started_at"}`` of the holder; a second writer gets
    :class:`StoreLockedError` quoting it. The OS releases the lock when the holder exits or dies.
    """

    path: Path
    what: str = "store"
    _fd: int | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def acquire(self) -> WriterLock:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = _read_holder(fd)
            os.close(fd)
            who = (f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, started "
                   f"{holder.get('started_at', '?')}")
            raise StoreLockedError(
                f"{self.what} {str(self.path)!r} is being written by another process ({who}); running the same "
                "shard twice at once would run every item twice. Wait for it to finish or stop it, or give this "
                f"run another --out or --shard (the lock is {str(self.lock_path)!r}).", path=self.path, holder=holder)
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        holder = json.loads(raw.decode() or "{}")
    except (UnicodeDecodeError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


if os.name == "nt":  # pragma: no cover - Windows has no flock; msvcrt locks a byte range instead
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


__all__ = [
    "StoreDamagedError", "StoreError", "StoreLockedError", "WriterLock", "check_header", "connect_checked",
    "damaged", "guarded", "move_aside", "salvage_rows",
]
