"""When the store fails: a clear error, bounded waits, recovery without restart, bounded size.

Real failures only: a redis-server stopped with SIGSTOP or killed, a SQLite file made
immutable with chattr (which blocks writes even on descriptors already open), and a SQLite
file on a tmpfs that fills up.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.errors import StoreUnavailable
from sspr.store.redis import RedisStore
from sspr.store.sqlite import PURGE_INTERVAL, SqliteStore
from tests.clock import FakeClock
from tests.store.conftest import REDIS_SERVER, free_port, start_redis, stop_redis

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chattr and mount need root")


# -- Redis ----------------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of this test's own, which the test may stop, kill and restart."""
    process, url = start_redis(tmp_path)
    yield process, url
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)
        stop_redis(process)


def test_a_hung_redis_gives_store_unavailable_quickly(
    private_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, url = private_redis
    store = RedisStore(url, FakeClock(), timeout=0.2, connect_timeout=0.2)
    store.set("k", b"v", ttl=60)
    os.kill(process.pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.get("k")
    # Bounded by the socket timeout, not the old 5 s; generous against a loaded machine.
    assert time.monotonic() - started < 3
    os.kill(process.pid, signal.SIGCONT)
    assert store.get("k") == b"v"  # the same object recovers, no restart


def test_redis_killed_then_restarted_empty(
    private_redis: tuple[subprocess.Popen[bytes], str], tmp_path: Path
) -> None:
    process, url = private_redis
    store = RedisStore(url, FakeClock(), timeout=0.2, connect_timeout=0.2)
    store.set("flow", b"state", ttl=60)
    process.kill()
    process.wait()
    with pytest.raises(StoreUnavailable):
        store.get("flow")
    port = url.rsplit(":", 1)[1].split("/")[0]
    restarted = subprocess.Popen(
        [REDIS_SERVER, "--save", "", "--appendonly", "no", "--port", port,
         "--bind", "127.0.0.1", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_redis(url)
        assert store.get("flow") is None  # the state is gone, and the store says so plainly
        store.set("flow", b"new", ttl=60)
        assert store.get("flow") == b"new"
    finally:
        stop_redis(restarted)


def test_the_default_redis_timeouts_are_short(redis_url: str) -> None:
    store = RedisStore(redis_url)
    options = store._client.connection_pool.connection_kwargs
    assert options["socket_timeout"] <= 1
    assert options["socket_connect_timeout"] <= 1


def test_every_redis_key_has_a_ttl(redis_url: str) -> None:
    """Redis reclaims everything by itself: no key may live forever."""
    prefix = f"ttl:{uuid.uuid4().hex}:"
    store = RedisStore(redis_url, FakeClock(), prefix=prefix)
    store.set("a", b"1", ttl=60)
    store.incr("b", ttl=60)
    store.incr("b", ttl=60)
    store.add("c", b"1", ttl=60)
    store.add("c", b"2", ttl=60)
    store.set("d", b"1", ttl=60)
    store.take("d")
    store.push("mail", b"notice", ttl=60)
    store.claim("mail", lease=10)
    store.audit_trail(100).append(['{"event": "account.login"}'])
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    assert len(keys) == 6  # a, b, c, the queue and its one item, the audit trail
    assert all(client.ttl(key) > 0 for key in keys)
    client.delete(*keys)


def test_a_store_behind_sentinel(redis_url: str, tmp_path: Path) -> None:
    host_port = redis_url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    sentinel_port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor sspr {host} {port} 1\n"
    )
    sentinel = subprocess.Popen(
        [REDIS_SERVER, str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_redis(f"redis://127.0.0.1:{sentinel_port}/0")
        prefix = f"sentinel:{uuid.uuid4().hex}:"
        url = f"redis+sentinel://127.0.0.1:{sentinel_port}/sspr/0"
        store = RedisStore(url, FakeClock(), prefix=prefix)
        store.set("k", b"through sentinel", ttl=60)
        direct = RedisStore(redis_url, FakeClock(), prefix=prefix)
        assert direct.get("k") == b"through sentinel"
        direct.delete("k")
    finally:
        stop_redis(sentinel)


def _wait_for_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.02)
    raise AssertionError(f"{url} did not answer")


# -- SQLite ---------------------------------------------------------------------------------


def _chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True)


def _store_files(path: Path) -> list[Path]:
    """The database and its write-ahead log.

    Not the -shm index: SQLite maps it into memory, and a write to a mapping of an immutable
    file is a SIGBUS no program can catch. Only root's chattr does that; a file made
    read-only by its mode keeps the mapping writable, as does a file system remounted
    read-only, so the index is left out of what the test freezes.
    """
    return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


@needs_root
def test_an_immutable_sqlite_file_fails_clearly_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = SqliteStore(path, FakeClock())
    store.set("k", b"v", ttl=60)
    files = _store_files(path)
    _chattr("+i", *files)
    try:
        with pytest.raises(StoreUnavailable):
            store.set("k", b"w", ttl=60)
    finally:
        _chattr("-i", *files)
    store.set("k", b"w", ttl=60)  # the same object, no restart
    assert store.get("k") == b"w"


@needs_root
def test_a_worker_started_on_a_read_only_store_recovers(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    SqliteStore(path, FakeClock()).set("k", b"v", ttl=60)
    files = _store_files(path)
    _chattr("+i", *files)
    try:
        started_broken = SqliteStore(path, FakeClock())  # a worker starting now
        for _ in range(3):
            with pytest.raises(StoreUnavailable):
                started_broken.set("k", b"w", ttl=60)
    finally:
        _chattr("-i", *files)
    for _ in range(12):  # every request works again, not one in two
        started_broken.set("k", b"w", ttl=60)
        assert started_broken.get("k") == b"w"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: small enough to fill up."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


@needs_root
def test_a_full_disk_fails_clearly_then_recovers(tiny_disk: Path) -> None:
    store = SqliteStore(tiny_disk / "store.sqlite3", FakeClock())
    store.set("k", b"v", ttl=60)
    filler = tiny_disk / "filler"
    with filler.open("wb") as handle, pytest.raises(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    with pytest.raises(StoreUnavailable):
        for index in range(10_000):
            store.set(f"grow:{index}", os.urandom(512), ttl=60)
    filler.unlink()
    store.set("k", b"after", ttl=60)
    assert store.get("k") == b"after"


def test_the_sqlite_file_stays_bounded(tmp_path: Path) -> None:
    """Flows come and go for hours: the file levels off at the size of the live state."""
    clock = FakeClock()
    path = tmp_path / "store.sqlite3"
    store = SqliteStore(path, clock)
    sizes = []
    for minute in range(30):
        for index in range(200):  # 200 short-lived flows a minute, each living 2 minutes
            store.set(f"flow:{minute}:{index}", os.urandom(600), ttl=120)
        clock.advance(PURGE_INTERVAL)
        sizes.append(path.stat().st_size)
    assert max(sizes[10:]) <= 1.2 * max(sizes[:10])


def test_a_redis_hiccup_leaves_the_event_in_the_streams_and_counts_it(
    private_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, url = private_redis
    store = RedisStore(url, FakeClock(), timeout=0.2, connect_timeout=0.2)
    failures: list[int] = []
    lines = io.StringIO()
    audit = AuditLog([lines], trail=store.audit_trail(100), trail_failed=lambda: failures.append(1))
    os.kill(process.pid, signal.SIGSTOP)
    try:
        audit.hold()
        audit.record(AuditEvent.PROOF_FAILED, Outcome.FAILURE, user_dn="uid=a", cause="x")
        audit.record(AuditEvent.ACCOUNT_BLOCKED, Outcome.FAILURE, user_dn="uid=a")
        audit.release()  # no exception: the user's request goes on
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert failures == [1]  # one write of the request's two events
    assert [json.loads(line)["event"] for line in lines.getvalue().splitlines()] == [
        "proof.failed", "account.blocked",
    ]  # fmt: skip
    audit.record(AuditEvent.PROOF_FAILED, Outcome.FAILURE, user_dn="uid=b")
    assert [json.loads(line)["user_dn"] for line in audit.newest()] == ["uid=b"]
