"""The embedded store: one SQLite file shared by every worker of a host."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sspr.domain.errors import StoreUnavailable
from sspr.domain.ports import Clock, QueueItem, SystemClock

P = ParamSpec("P")
T = TypeVar("T")
_logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    value BLOB NOT NULL,
    due_at REAL NOT NULL,
    claims INTEGER NOT NULL DEFAULT 0,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_due ON queue (queue, due_at);
CREATE TABLE IF NOT EXISTS audit_trail (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL
);
"""

# One statement: of workers claiming together, each gets a different item (or none).
_CLAIM = """
UPDATE queue SET due_at = ?3 + ?4, claims = claims + 1
WHERE id = (
    SELECT id FROM queue WHERE queue = ?1 AND due_at <= ?3 AND expires_at > ?3
    ORDER BY id LIMIT 1
)
RETURNING id, value, claims
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

# Expired rows are deleted at most this often (by the store's clock), and the pages they
# freed go back to the file system: the file stays as large as the live state, no larger.
PURGE_INTERVAL = 60.0
_VACUUM_PAGES = 2000
# The WAL file is truncated back to this size after a checkpoint (it is reused, not grown).
_WAL_LIMIT = 4 * 1024 * 1024
# Events read per query when the helpdesk pages through the trail.
TRAIL_BATCH = 500
_TRAIL_PAGE = "SELECT id, line FROM audit_trail WHERE id < ? ORDER BY id DESC LIMIT ?"
_AFTER_EVERY_ID = 2**63 - 1  # SQLite's largest rowid


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
# unsupported (a server's master forks from one thread).
_OPEN: weakref.WeakSet[_Connection] = weakref.WeakSet()


def _close_before_fork() -> None:
    here = (os.getpid(), threading.get_ident())
    for conn in list(_OPEN):
        if (conn.pid, conn.thread) == here:
            conn.usable = False
            conn.close()


os.register_at_fork(before=_close_before_fork)


def _unavailable(
    method: Callable[Concatenate[SqliteStore, P], T],
) -> Callable[Concatenate[SqliteStore, P], T]:
    """Turn SQLite's failures (disk full, read-only, locked too long…) into StoreUnavailable.

    The thread's connection is dropped with it: a connection SQLite opened read-only while
    the file could not be written stays read-only, so the next call opens a fresh one and
    the store recovers by itself once the file is writable again.
    """

    @functools.wraps(method)
    def wrapper(store: SqliteStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with _failures(store):
            return method(store, *args, **kwargs)

    return wrapper


@contextlib.contextmanager
def _failures(store: SqliteStore) -> Iterator[None]:
    """SQLite's failures as StoreUnavailable, the thread's connection dropped (see above)."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        store.close()
        raise StoreUnavailable(f"sqlite: {exc}") from exc


class SqliteStore:
    """Store backed by SQLite in WAL mode; expired rows are ignored, then purged on a schedule."""

    def __init__(self, path: str | Path, clock: Clock | None = None) -> None:
        self._path = Path(path)
        self._clock = clock or SystemClock()
        self._local = threading.local()
        self._next_purge = 0.0
        try:
            # Early, so a wrong path shows at start-up; a broken disk is retried on first use.
            self._connection()
        except (sqlite3.Error, OSError) as exc:
            _logger.warning("store %s not usable yet (retried on use): %s", self._path, exc)
            self.close()

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and per process: connections cross neither.
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is None or not conn.usable or conn.pid != os.getpid():
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> _Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, timeout=10.0, isolation_level=None, factory=_Connection)
        try:
            _prepare(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @_unavailable
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

    @_unavailable
    def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store a value that expires after `ttl` seconds."""
        self._write(
            "INSERT OR REPLACE INTO entries (key, value, expires_at) VALUES (?, ?, ?)",
            (key, value, self._clock.now() + ttl),
        )

    @_unavailable
    def delete(self, key: str) -> None:
        """Remove a key if present."""
        self._write("DELETE FROM entries WHERE key = ?", (key,))

    @_unavailable
    def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter and return it; a new counter expires after `ttl` seconds."""
        # fetchall() steps the statement to its end, which releases the write lock.
        rows = self._write(_INCR, (key, self._clock.now(), ttl)).fetchall()
        return int(rows[0][0])

    @_unavailable
    def ttl(self, key: str) -> float | None:
        """Seconds left before the key expires, or None when absent."""
        now = self._clock.now()
        row = (
            self._connection()
            .execute("SELECT expires_at FROM entries WHERE key = ? AND expires_at > ?", (key, now))
            .fetchone()
        )
        return None if row is None else float(row[0]) - now

    @_unavailable
    def take(self, key: str) -> bytes | None:
        """Return the value and delete it atomically: of concurrent takers, only one gets it."""
        rows = self._write(_TAKE, (key, self._clock.now())).fetchall()
        return _as_bytes(rows[0][0]) if rows else None

    @_unavailable
    def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Store a value only if the key is absent or expired; tell whether this call stored it."""
        rows = self._write(_ADD, (key, value, self._clock.now(), ttl)).fetchall()
        return bool(rows)

    def audit_trail(self, max_events: int) -> SqliteAuditTrail:
        """The latest audit events, in a table of this file, capped at `max_events`."""
        return SqliteAuditTrail(self, max_events)

    def close(self) -> None:
        """Close this thread's connection."""
        conn: _Connection | None = getattr(self._local, "conn", None)
        # A connection inherited through fork is left alone: only its owner may close it.
        if conn is not None and conn.pid == os.getpid():
            conn.close()
        self._local.conn = None

    @_unavailable
    def push(self, queue: str, value: bytes, ttl: float) -> None:
        """Append an item to a queue; it is dropped, delivered or not, after `ttl` seconds."""
        now = self._clock.now()
        self._write(
            "INSERT INTO queue (queue, value, due_at, expires_at) VALUES (?, ?, ?, ?)",
            (queue, value, now, now + ttl),
        )

    @_unavailable
    def claim(self, queue: str, lease: float) -> QueueItem | None:
        """Take the oldest item that is due, hiding it for `lease` seconds; None when none is."""
        rows = self._write(_CLAIM, (queue, None, self._clock.now(), lease)).fetchall()
        if not rows:
            return None
        item_id, value, claims = rows[0]
        return QueueItem(str(item_id), _as_bytes(value), int(claims))

    @_unavailable
    def ack(self, queue: str, item_id: str) -> None:
        """Remove an item for good (handled, or given up on)."""
        self._write("DELETE FROM queue WHERE queue = ? AND id = ?", (queue, int(item_id)))

    @_unavailable
    def purge(self) -> int:
        """Delete the expired rows and give their pages back; return how many rows went."""
        conn = self._connection()
        now = self._clock.now()
        self._next_purge = now + PURGE_INTERVAL
        deleted = conn.execute("DELETE FROM entries WHERE expires_at <= ?", (now,)).rowcount
        conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
        # Through executescript: execute() steps the pragma once, which frees a single page.
        conn.executescript(f"PRAGMA incremental_vacuum({_VACUUM_PAGES});")
        return int(deleted)

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        if self._clock.now() >= self._next_purge:
            self.purge()
        return self._connection().execute(sql, params)


class SqliteAuditTrail:
    """The audit trail of one host: a capped table beside the store's other state."""

    def __init__(self, store: SqliteStore, max_events: int, batch: int = TRAIL_BATCH) -> None:
        self._store = store
        self._max_events = max_events
        self._batch = batch

    def append(self, lines: Sequence[str]) -> None:
        """Add events, oldest first, in one transaction; the oldest beyond the cap go."""
        with _failures(self._store):
            conn = self._store._connection()
            conn.execute("BEGIN IMMEDIATE")
            with conn:  # commits, or rolls back: every line and the trim, or nothing
                conn.executemany(
                    "INSERT INTO audit_trail (line) VALUES (?)", [(line,) for line in lines]
                )
                conn.execute(
                    "DELETE FROM audit_trail WHERE id <= (SELECT max(id) FROM audit_trail) - ?",
                    (self._max_events,),
                )

    def newest(self) -> Iterator[str]:
        """Every kept event, newest first, read in batches as the caller goes on."""
        before = _AFTER_EVERY_ID
        while True:
            with _failures(self._store):
                conn = self._store._connection()
                rows = conn.execute(_TRAIL_PAGE, (before, self._batch)).fetchall()
            yield from (str(line) for _, line in rows)
            if len(rows) < self._batch:
                return
            before = rows[-1][0]


def _prepare(conn: sqlite3.Connection) -> None:
    """Settings of every connection, and the table, created on first use of the file."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
        # Incremental vacuum must be chosen before the first table, or a VACUUM applies it.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
    conn.executescript(_SCHEMA)


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()
