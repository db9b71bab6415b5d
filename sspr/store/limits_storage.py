"""The `limits` library on top of sspr's Store, so its counters are shared like the rest.

limits has no SQLite backend, and an in-memory one would count per worker: this adapter
keeps every counter in the configured store (the SQLite file of the host, or Redis), so a
limit holds across all workers and, with Redis, across hosts. Time is the injected clock's,
as everywhere else, so tests move windows without sleeping.
"""

from __future__ import annotations

from typing import Any

from limits.storage import Storage

from sspr.domain.errors import StoreUnavailable
from sspr.domain.keys import counter_key
from sspr.domain.ports import Clock, Store


class StoreStorage(Storage):
    """A limits storage whose counters live in a sspr Store."""

    STORAGE_SCHEME = ["sspr-store"]  # noqa: RUF012 - the base class declares it a list

    def __init__(self, store: Store, clock: Clock, **options: Any) -> None:
        super().__init__(None, wrap_exceptions=False, **options)
        self._store = store
        self._clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Errors of the underlying store."""
        return (StoreUnavailable, OSError)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to a counter whose window lasts `expiry` seconds."""
        count = 0
        for _ in range(amount):
            count = self._store.incr(counter_key(key), float(expiry))
        return count

    def get(self, key: str) -> int:
        """The counter's value, 0 when absent."""
        raw = self._store.get(counter_key(key))
        return int(raw) if raw else 0

    def get_expiry(self, key: str) -> float:
        """When the counter's window ends, as a timestamp of the injected clock."""
        left = self._store.ttl(counter_key(key))
        return self._clock.now() + (left or 0.0)

    def check(self) -> bool:
        """Whether the store answers."""
        try:
            self._store.get("limits:health")
        except (StoreUnavailable, OSError):
            return False
        return True

    def reset(self) -> int | None:
        """Not supported: the store is shared with other state."""
        return None

    def clear(self, key: str) -> None:
        """Forget one counter."""
        self._store.delete(counter_key(key))
