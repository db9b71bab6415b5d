"""Short-lived shared state: codes, attempt counters, cooldowns, flows and snoozes."""

from __future__ import annotations

from sspr.domain.ports import AuditTrail, Clock, Store
from sspr.store.sqlite import SqliteStore


def open_store(
    backend: str,
    *,
    path: str | None = None,
    url: str | None = None,
    clock: Clock | None = None,
    timeout: float = 0.5,
    connect_timeout: float = 0.5,
) -> Store:
    """Open the configured store backend: "sqlite" needs `path`, "redis" needs `url`."""
    if backend == "sqlite":
        if not path:
            raise ValueError('the "sqlite" store backend needs a file path')
        return SqliteStore(path, clock)
    if backend == "redis":
        if not url:
            raise ValueError('the "redis" store backend needs a URL')
        # Imported here so SQLite-only installs never load the Redis client.
        from sspr.store.redis import RedisStore

        return RedisStore(url, clock, timeout=timeout, connect_timeout=connect_timeout)
    raise ValueError(f"unknown store backend {backend!r}")


def open_audit_trail(store: Store, max_events: int) -> AuditTrail | None:
    """The audit trail kept beside the store's state; None for a store that keeps none."""
    # Both backends make one from their own connections (the file, or the Redis pool).
    make = getattr(store, "audit_trail", None)
    return make(max_events) if callable(make) else None
