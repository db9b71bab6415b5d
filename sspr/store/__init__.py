"""Short-lived shared state: codes, attempt counters, flows and snoozes."""

from __future__ import annotations

from sspr.domain.ports import Clock, Store
from sspr.store.sqlite import SqliteStore


def open_store(backend: str, path: str, clock: Clock | None = None) -> Store:
    """Open the configured store backend."""
    if backend == "sqlite":
        return SqliteStore(path, clock)
    raise ValueError(f"unknown store backend {backend!r}")
