"""Store fixtures: a real redis-server for the session, and a store per backend."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from sspr.domain.ports import Clock, Store
from sspr.store.redis import RedisStore
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock

REDIS_SERVER = "/usr/bin/redis-server"


@dataclass(frozen=True)
class Backend:
    """How to open one store; picklable, so each test process opens its own connection."""

    name: str
    path: str | None = None
    url: str | None = None
    prefix: str = "sspr:"

    def open(self, clock: Clock | None = None) -> Store:
        """A new store object on this backend."""
        if self.name == "sqlite":
            assert self.path is not None
            return SqliteStore(self.path, clock)
        assert self.url is not None
        return RedisStore(self.url, clock, prefix=self.prefix)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start a throw-away redis-server on a free loopback port; return it and its URL."""
    for _ in range(3):  # another process may grab the port between the probe and the bind
        port = free_port()
        process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--save",
                "",
                "--appendonly",
                "no",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                client.ping()
                client.close()
                return process, url
            except redis.ConnectionError:
                time.sleep(0.02)
        stop_redis(process)
    raise RuntimeError("redis-server did not start")


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by start_redis."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def clock() -> FakeClock:
    """The clock every store of the test shares."""
    return FakeClock()


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each backend in turn; the Redis one gets a prefix of its own, dropped afterwards."""
    if request.param == "sqlite":
        yield Backend("sqlite", path=str(tmp_path / "store.sqlite3"))
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}:"
    yield Backend("redis", url=url, prefix=prefix)
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def store(backend: Backend, clock: FakeClock) -> Store:
    """A store on the current backend, with the test's clock."""
    return backend.open(clock)
