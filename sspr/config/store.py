"""The store section: where short-lived state (flows, codes, counters) lives."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from sspr.config.base import Strict


class StoreConfig(Strict):
    """Where short-lived state lives: SQLite for one host, Redis for several."""

    backend: Literal["sqlite", "redis"] = "sqlite"
    """sqlite for one host; redis when several hosts serve sspr."""
    path: Path = Path("/var/lib/sspr/store.sqlite3")
    """The SQLite file (its folder must be writable by every worker)."""
    url_env: str = "SSPR_REDIS_URL"
    """Environment variable holding the Redis URL, which may carry its password (required at
    start-up with redis): redis://, rediss://, unix:// or, for a master watched by Sentinel,
    redis+sentinel://[:password@]host:26379[,host:26379…]/service_name[/db]."""
    timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    """A stuck Redis holds a worker at most this long per operation (a LAN answers in 1 ms)."""
    connect_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    """Seconds to wait for a connection to Redis."""
