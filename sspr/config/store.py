"""The store section: where short-lived state (flows, codes, counters) lives."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from sspr.config.base import Strict


class StoreConfig(Strict):
    """Where short-lived state lives: SQLite for one host, Redis for several."""

    backend: Literal["sqlite", "redis"] = "sqlite"
    path: Path = Path("/var/lib/sspr/store.sqlite3")
    # The Redis URL: redis://, rediss:// or, for a master watched by Sentinel,
    # redis+sentinel://[:password@]host:26379[,host:26379…]/service_name[/db].
    url_env: str = "SSPR_REDIS_URL"
    # A stuck Redis holds a worker at most this long per operation (a LAN answers in 1 ms).
    timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    connect_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
