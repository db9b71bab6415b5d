"""The shared store for several hosts: Redis, with expiry decided by the injected clock.

Design
------
Every key is a Redis hash with two fields: ``v`` (the value) and ``e`` (the absolute expiry,
in seconds since the epoch by the *injected* clock, written as a decimal string).

* Expiry is decided by comparing ``e`` with the clock's ``now()``, which the caller passes to
  every script. The same contract tests therefore move time with a fake clock on both
  backends, and every host decides expiry the same way the SQLite store does.
* Each key also gets a real Redis TTL of ``ttl + CLEANUP_MARGIN`` seconds (relative, so a
  fake clock in 1970 cannot make Redis drop a key early). It only reclaims memory: the margin
  is larger than any sane clock skew between hosts, so the stored expiry always wins.
* Everything that reads then writes (incr, take, add, set) is a Lua script, which Redis runs
  atomically: no lost increment and a single winner for ``take``, whatever the number of
  hosts and workers. The absolute expiry is computed in Python and passed as a string, because
  Lua numbers would round it when written back.
"""

from __future__ import annotations

import functools
import math
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import ParamSpec, TypeVar, cast
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

from sspr.domain.errors import StoreUnavailable
from sspr.domain.ports import Clock, QueueItem, SystemClock

P = ParamSpec("P")
T = TypeVar("T")

SENTINEL_SCHEME = "redis+sentinel"
# A LAN answers in a millisecond: half a second means the server is stuck, and a worker must
# not wait longer than that on it (the default of 5 s held each worker 5 s per request).
DEFAULT_TIMEOUT = 0.5

# Longer than any clock skew between hosts we tolerate; it only delays memory reclaim.
CLEANUP_MARGIN = 300.0
# Events read per XREVRANGE when the helpdesk pages through the trail.
TRAIL_BATCH = 500
# A trail nothing appended to for this long is dropped (seconds): 90 days.
TRAIL_IDLE_TTL = 90 * 86400

# KEYS[1] key; ARGV: now, value, expires_at, cleanup ms.
_SET = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# KEYS[1] key; ARGV: now, expires_at of a new window, cleanup ms.
_INCR = """
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) > tonumber(ARGV[1]) then
    return redis.call('HINCRBY', KEYS[1], 'v', 1)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', 1, 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1] key; ARGV: now. Deletes even an expired entry, which is dead anyway.
_TAKE = """
local entry = redis.call('HMGET', KEYS[1], 'v', 'e')
redis.call('DEL', KEYS[1])
if entry[2] and tonumber(entry[2]) > tonumber(ARGV[1]) then
    return entry[1]
end
return false
"""

# KEYS[1] key; ARGV: now, value, expires_at, cleanup ms.
_ADD = """
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) > tonumber(ARGV[1]) then
    return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""


def _unavailable(method: Callable[P, T]) -> Callable[P, T]:
    """Turn the client's failures into the domain's StoreUnavailable."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            # The class only: redis-py's messages may quote the host, never worth a password.
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    return wrapper


def redis_client(url: str, *, timeout: float, connect_timeout: float) -> redis.Redis:
    """A client for a redis:// (or rediss://, unix://) URL, or a Sentinel-managed master.

    Sentinel: ``redis+sentinel://[:password@]host:port[,host:port…]/service_name[/db]``; the
    password, if any, is the master's; the sentinels themselves are asked without one.
    """
    if not url.startswith(SENTINEL_SCHEME + "://"):
        return redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=connect_timeout
        )
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = [_host_port(item) for item in hosts.split(",") if item]
    path = [piece for piece in parts.path.split("/") if piece]
    if not sentinels or not path:
        raise ValueError("a Sentinel URL names its sentinels and the master's service name")
    service, db = path[0], int(path[1]) if len(path) > 1 else 0
    options = {"socket_timeout": timeout, "socket_connect_timeout": connect_timeout}
    watcher = Sentinel(sentinels, sentinel_kwargs=options, **options)  # type: ignore[no-untyped-call]
    password = unquote(parts.password) if parts.password else None
    master: redis.Redis = watcher.master_for(  # type: ignore[no-untyped-call]
        service, db=db, password=password, **options
    )
    return master


def _host_port(item: str) -> tuple[str, int]:
    host, _, port = item.rpartition(":")
    return (host.strip("[]") or "localhost", int(port or 26379))


# A queue is a sorted set of item ids scored by the time each is due, and one hash per item
# (v: value, c: claims, e: expiry). KEYS[1] the set, KEYS[2] the item; ARGV: id, value,
# now, expires_at, cleanup ms.
_PUSH = """
redis.call('HSET', KEYS[2], 'v', ARGV[2], 'c', 0, 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1
"""

# KEYS[1] the set; ARGV: now, lease, item key prefix. Items found expired are dropped.
_CLAIM = """
for _ = 1, 20 do
    local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
    if #ids == 0 then return false end
    local key = ARGV[3] .. ids[1]
    local item = redis.call('HMGET', key, 'v', 'e')
    if item[1] and tonumber(item[2]) > tonumber(ARGV[1]) then
        redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ids[1])
        local claims = redis.call('HINCRBY', key, 'c', 1)
        return {ids[1], item[1], claims}
    end
    redis.call('ZREM', KEYS[1], ids[1])
    redis.call('DEL', key)
end
return false
"""


class RedisStore:
    """Store backed by Redis; see the module docstring for how expiry works."""

    def __init__(
        self,
        url: str,
        clock: Clock | None = None,
        *,
        prefix: str = "sspr:",
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._clock = clock or SystemClock()
        self._prefix = prefix
        self._client = redis_client(url, timeout=timeout, connect_timeout=connect_timeout)
        self._set = self._client.register_script(_SET)
        self._incr = self._client.register_script(_INCR)
        self._take = self._client.register_script(_TAKE)
        self._add = self._client.register_script(_ADD)
        self._push = self._client.register_script(_PUSH)
        self._claim = self._client.register_script(_CLAIM)

    @_unavailable
    def get(self, key: str) -> bytes | None:
        """Return the value, or None when absent or expired."""
        value, expires_at = self._client.hmget(self._key(key), ["v", "e"])
        if value is None or expires_at is None or float(expires_at) <= self._clock.now():
            return None
        return _as_bytes(value)

    @_unavailable
    def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store a value that expires after `ttl` seconds."""
        now = self._clock.now()
        self._set(keys=[self._key(key)], args=[repr(now), value, *self._expiry(now, ttl)])

    @_unavailable
    def delete(self, key: str) -> None:
        """Remove a key if present."""
        self._client.delete(self._key(key))

    @_unavailable
    def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter and return it; a new counter expires after `ttl` seconds."""
        now = self._clock.now()
        return int(self._incr(keys=[self._key(key)], args=[repr(now), *self._expiry(now, ttl)]))

    @_unavailable
    def ttl(self, key: str) -> float | None:
        """Seconds left before the key expires, or None when absent."""
        expires_at = self._client.hget(self._key(key), "e")
        left = None if expires_at is None else float(expires_at) - self._clock.now()
        return left if left is not None and left > 0 else None

    @_unavailable
    def take(self, key: str) -> bytes | None:
        """Return the value and delete it atomically: of concurrent takers, only one gets it."""
        value = self._take(keys=[self._key(key)], args=[repr(self._clock.now())])
        return None if value is None else _as_bytes(value)

    @_unavailable
    def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Store a value only if the key is absent or expired; tell whether this call stored it."""
        now = self._clock.now()
        added = self._add(keys=[self._key(key)], args=[repr(now), value, *self._expiry(now, ttl)])
        return bool(added)

    @_unavailable
    def push(self, queue: str, value: bytes, ttl: float) -> None:
        """Append an item to a queue; it is dropped, delivered or not, after `ttl` seconds."""
        now = self._clock.now()
        # Random ids: a counter would be one more key to expire; order comes from the scores.
        item_id = secrets.token_hex(8)
        expires_at, cleanup = self._expiry(now, ttl)
        keys = [self._queue_key(queue), self._item_key(queue, item_id)]
        self._push(keys=keys, args=[item_id, value, repr(now), expires_at, cleanup])

    @_unavailable
    def claim(self, queue: str, lease: float) -> QueueItem | None:
        """Take the oldest item that is due, hiding it for `lease` seconds; None when none is."""
        args = [repr(self._clock.now()), repr(lease), self._item_key(queue, "")]
        found = self._claim(keys=[self._queue_key(queue)], args=args)
        if not found:
            return None
        item_id, value, claims = found
        return QueueItem(_as_bytes(item_id).decode(), _as_bytes(value), int(claims))

    @_unavailable
    def ack(self, queue: str, item_id: str) -> None:
        """Remove an item for good (handled, or given up on)."""
        pipe = self._client.pipeline()
        pipe.zrem(self._queue_key(queue), item_id)
        pipe.delete(self._item_key(queue, item_id))
        pipe.execute()

    def _queue_key(self, queue: str) -> str:
        return self._key(f"q:{queue}")

    def _item_key(self, queue: str, item_id: str) -> str:
        return self._key(f"q:{queue}:item:") + item_id

    def audit_trail(self, max_events: int) -> RedisAuditTrail:
        """The latest audit events of every host: a stream capped near `max_events`."""
        return RedisAuditTrail(self._client, self._key("audit"), max_events)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def _key(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _expiry(now: float, ttl: float) -> tuple[str, int]:
        """The absolute expiry for the clock, and the real Redis TTL (ms) for cleanup only."""
        return repr(now + ttl), math.ceil((ttl + CLEANUP_MARGIN) * 1000)


def _as_bytes(value: bytes | str) -> bytes:
    # The client is built without decode_responses, so this is bytes unless a caller changed it.
    return value if isinstance(value, bytes) else value.encode()


class RedisAuditTrail:
    """The audit trail every host appends to: one Redis stream, trimmed as it grows.

    `MAXLEN ~` lets Redis trim whole blocks of the stream, which is cheap; it may then keep a
    few more than `max_events`, never fewer.
    """

    def __init__(
        self, client: redis.Redis, key: str, max_events: int, batch: int = TRAIL_BATCH
    ) -> None:
        self._client = client
        self._key = key
        self._max_events = max_events
        self._batch = batch

    @_unavailable
    def append(self, lines: Sequence[str]) -> None:
        """Add events, oldest first, in one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for line in lines:
            pipe.xadd(self._key, {"line": line}, maxlen=self._max_events, approximate=True)
        # Like every key, it goes by itself once nothing writes to it (a retired prefix).
        pipe.expire(self._key, TRAIL_IDLE_TTL)
        pipe.execute()

    def newest(self) -> Iterator[str]:
        """Every kept event, newest first, read in batches as the caller goes on."""
        upper = "+"
        while True:
            entries = self._page(upper)
            yield from (_as_bytes(fields[b"line"]).decode() for _, fields in entries)
            if len(entries) < self._batch:
                return
            upper = "(" + _as_bytes(entries[-1][0]).decode()  # exclusive: after the last one

    @_unavailable
    def _page(self, upper: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
        entries = self._client.xrevrange(self._key, upper, "-", count=self._batch)
        # The client is built without decode_responses: ids and fields are bytes.
        return cast(list[tuple[bytes, dict[bytes, bytes]]], entries)
