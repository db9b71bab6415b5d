"""Operations per second of each store backend, one process, real files and a real Redis.

Run: .venv/bin/python -m bench.store
Starts its own redis-server on a free loopback port and stops it at the end.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from sspr.domain.ports import Store
from sspr.store.redis import RedisStore
from sspr.store.sqlite import SqliteStore

OPS = 5000


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throw-away redis-server; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    options = ["--save", "", "--appendonly", "no", "--port", str(port), "--bind", "127.0.0.1"]
    # A fixed argument list, no shell: nothing here comes from outside.
    server = subprocess.Popen(  # noqa: S603
        [binary, *options, "--dir", str(workdir)], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(500):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.01)
        client.close()
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def rate(operation: Callable[[int], object]) -> float:
    """Calls per second of `operation(i)` over OPS calls."""
    start = time.perf_counter()
    for i in range(OPS):
        operation(i)
    return OPS / (time.perf_counter() - start)


def measure(store: Store) -> dict[str, float]:
    """ops/s of the operations the code service leans on."""
    return {
        "set": rate(lambda i: store.set(f"k:{i}", b"x" * 64, 600)),
        "get": rate(lambda i: store.get(f"k:{i}")),
        "incr": rate(lambda i: store.incr("counter", 600)),
        "take": rate(lambda i: store.take(f"k:{i}")),
        "add": rate(lambda i: store.add(f"a:{i % 100}", b"1", 600)),
    }


def main() -> None:
    """Print one row per backend."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rows = [("sqlite (WAL file)", measure(SqliteStore(workdir / "bench.sqlite3")))]
        with redis_server(workdir) as url:
            store = RedisStore(url)
            rows.append(("redis (loopback)", measure(store)))
            store.close()
    names = list(rows[0][1])
    print(f"{OPS} operations each, one process; ops/s")
    print(f"{'backend':<20}" + "".join(f"{name:>10}" for name in names))
    for backend, results in rows:
        print(f"{backend:<20}" + "".join(f"{results[name]:>10.0f}" for name in names))


if __name__ == "__main__":
    main()
