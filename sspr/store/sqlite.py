"""The embedded store: one SQLite file shared by every worker of a host."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any

from sspr.domain.ports import Clock, SystemClock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""

# One statement, so concurrent workers never lose an increment: SQLite serialises writers,
# and the upsert reads and writes the row inside that single write.
_INCR = """
INSERT INTO entries (key, value, expires_at) VALUES (?1, 1, ?2 + ?3)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires_at <= ?2 THEN 1 ELSE CAST(value AS INTEGER) + 1 END,
    expires_at = CASE WHEN expires_at <= ?2 THEN ?2 + ?3 ELSE expires_at END
RETURNING CAST(value AS INTEGER)
"""

# Single statements again: the delete decides who wins a race, and RETURNING hands the value
# to that one caller only; an expired row is left for the purge and counts as absent.
_TAKE = "DELETE FROM entries WHERE key = ?1 AND expires_at > ?2 RETURNING value"

# The DO UPDATE only fires over an expired row; RETURNING yields a row only when this call
# inserted or replaced, so an empty result means a live value was already there.
_ADD = """
INSERT INTO entries (key, value, expires_at) VALUES (?1, ?2, ?3 + ?4)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
    WHERE entries.expires_at <= ?3
RETURNING 1
"""

_PURGE_EVERY = 500


class _Connection(sqlite3.Connection):
    """A connection that records its process and thread, so a fork can close it first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pid = os.getpid()
        self.thread = threading.get_ident()
        self.usable = True
        _OPEN.add(self)


# SQLite must not have a database open across fork(): the child reuses the parent's in-memory
# lock records without holding the locks, so when the parent later closes its connection (or
# the cycle collector does it) it believes it is the last one, checkpoints and deletes the WAL
# under the workers' feet, and their increments are lost. The forking thread's connections
# are therefore closed just before any fork and reopened on next use. Other threads'
# connections cannot be closed safely from here: forking while they use the store is
# unsupported (gunicorn's master is single-threaded).
_OPEN: weakref.WeakSet[_Connection] = weakref.WeakSet()


def _close_before_fork() -> None:
    here = (os.getpid(), threading.get_ident())
    for conn in list(_OPEN):
        if (conn.pid, conn.thread) == here:
            conn.usable = False
            conn.close()


os.register_at_fork(before=_close_before_fork)


class SqliteStore:
    """Store backed by SQLite in WAL mode; expired rows are ignored, then purged in passing."""

    def __init__(self, path: str | Path, clock: Clock | None = None) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock or SystemClock()
        self._local = threading.local()
        self._writes = 0
        conn = self._open()
        try:
            conn.execute(_SCHEMA)
        finally:
            conn.close()

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and per process: connections cross neither.
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is None or not conn.usable or conn.pid != os.getpid():
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> _Connection:
        conn = sqlite3.connect(self._path, timeout=10.0, isolation_level=None, factory=_Connection)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def get(self, key: str) -> bytes | None:
        """Return the value, or None when absent or expired."""
        row = (
            self._connection()
            .execute(
                "SELECT value FROM entries WHERE key = ? AND expires_at > ?",
                (key, self._clock.now()),
            )
            .fetchone()
        )
        return None if row is None else _as_bytes(row[0])

    def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store a value that expires after `ttl` seconds."""
        self._write(
            "INSERT OR REPLACE INTO entries (key, value, expires_at) VALUES (?, ?, ?)",
            (key, value, self._clock.now() + ttl),
        )

    def delete(self, key: str) -> None:
        """Remove a key if present."""
        self._write("DELETE FROM entries WHERE key = ?", (key,))

    def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter and return it; a new counter expires after `ttl` seconds."""
        # fetchall() steps the statement to its end, which releases the write lock.
        rows = self._write(_INCR, (key, self._clock.now(), ttl)).fetchall()
        return int(rows[0][0])

    def ttl(self, key: str) -> float | None:
        """Seconds left before the key expires, or None when absent."""
        now = self._clock.now()
        row = (
            self._connection()
            .execute("SELECT expires_at FROM entries WHERE key = ? AND expires_at > ?", (key, now))
            .fetchone()
        )
        return None if row is None else float(row[0]) - now

    def take(self, key: str) -> bytes | None:
        """Return the value and delete it atomically: of concurrent takers, only one gets it."""
        rows = self._write(_TAKE, (key, self._clock.now())).fetchall()
        return _as_bytes(rows[0][0]) if rows else None

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Store a value only if the key is absent or expired; tell whether this call stored it."""
        rows = self._write(_ADD, (key, value, self._clock.now(), ttl)).fetchall()
        return bool(rows)

    def close(self) -> None:
        """Close this thread's connection."""
        conn: _Connection | None = getattr(self._local, "conn", None)
        # A connection inherited through fork is left alone: only its owner may close it.
        if conn is not None and conn.pid == os.getpid():
            conn.close()
        self._local.conn = None

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        cursor = self._connection().execute(sql, params)
        self._writes += 1
        if self._writes % _PURGE_EVERY == 0:
            self._connection().execute(
                "DELETE FROM entries WHERE expires_at <= ?", (self._clock.now(),)
            )
        return cursor


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()
