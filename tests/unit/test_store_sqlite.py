"""The embedded SQLite store: expiry with an injected clock, and no lost updates."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from sspr.store.sqlite import SqliteStore


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.current = start

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SqliteStore:
    return SqliteStore(tmp_path / "store.sqlite3", clock)


def test_set_get_delete(store: SqliteStore) -> None:
    store.set("k", b"value", ttl=60)
    assert store.get("k") == b"value"
    store.delete("k")
    assert store.get("k") is None


def test_values_expire(store: SqliteStore, clock: FakeClock) -> None:
    store.set("k", b"v", ttl=60)
    clock.advance(59)
    assert store.get("k") == b"v"
    assert store.ttl("k") == pytest.approx(1)
    clock.advance(1)
    assert store.get("k") is None
    assert store.ttl("k") is None


def test_counter_window_starts_at_first_hit(store: SqliteStore, clock: FakeClock) -> None:
    assert store.incr("c", ttl=100) == 1
    clock.advance(50)
    assert store.incr("c", ttl=100) == 2
    clock.advance(50)  # the window opened at the first hit has closed
    assert store.incr("c", ttl=100) == 1


def _hammer(path: str, count: int) -> None:
    store = SqliteStore(path)
    for _ in range(count):
        store.incr("shared", ttl=3600)


def test_increments_from_several_processes_are_never_lost(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    SqliteStore(path)  # create the schema once
    workers = [multiprocessing.Process(target=_hammer, args=(path, 200)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert SqliteStore(path).get("shared") == b"800"
