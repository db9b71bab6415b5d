"""One contract for every Store backend: the same tests run on SQLite and on a real Redis."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from typing import Any, TypeAlias

import pytest

from sspr.domain.ports import Store
from tests.clock import FakeClock
from tests.store.conftest import Backend

WORKERS = 4
ROUNDS = 200


def test_set_get_delete(store: Store) -> None:
    store.set("k", b"value", ttl=60)
    assert store.get("k") == b"value"
    store.delete("k")
    assert store.get("k") is None
    store.delete("k")  # deleting an absent key is not an error


def test_values_are_bytes_kept_exactly(store: Store) -> None:
    raw = bytes(range(256))
    store.set("k", raw, ttl=60)
    assert store.get("k") == raw
    assert store.take("k") == raw


def test_set_replaces_value_and_expiry(store: Store, clock: FakeClock) -> None:
    store.set("k", b"old", ttl=10)
    store.set("k", b"new", ttl=100)
    clock.advance(50)
    assert store.get("k") == b"new"


def test_values_expire_by_the_clock(store: Store, clock: FakeClock) -> None:
    store.set("k", b"v", ttl=60)
    clock.advance(59)
    assert store.get("k") == b"v"
    assert store.ttl("k") == pytest.approx(1)
    clock.advance(1)
    assert store.get("k") is None
    assert store.ttl("k") is None


def test_ttl_of_absent_key_is_none(store: Store) -> None:
    assert store.ttl("missing") is None
    store.set("k", b"v", ttl=30.5)
    assert store.ttl("k") == pytest.approx(30.5)


def test_counter_window_starts_at_first_hit(store: Store, clock: FakeClock) -> None:
    assert store.incr("c", ttl=100) == 1
    clock.advance(50)
    assert store.incr("c", ttl=100) == 2
    assert store.get("c") == b"2"
    assert store.ttl("c") == pytest.approx(50)  # a hit does not extend the window
    clock.advance(50)  # the window opened at the first hit has closed
    assert store.get("c") is None
    assert store.incr("c", ttl=100) == 1
    assert store.ttl("c") == pytest.approx(100)


def test_take_is_single_use(store: Store) -> None:
    store.set("code", b"secret", ttl=60)
    assert store.take("code") == b"secret"
    assert store.take("code") is None
    assert store.get("code") is None
    assert store.take("never-set") is None


def test_take_respects_expiry(store: Store, clock: FakeClock) -> None:
    store.set("code", b"secret", ttl=60)
    clock.advance(60)
    assert store.take("code") is None
    store.set("code", b"fresh", ttl=60)  # an expired leftover does not get in the way
    assert store.take("code") == b"fresh"


def test_add_keeps_a_live_value(store: Store, clock: FakeClock) -> None:
    assert store.add("cooldown", b"first", ttl=60) is True
    clock.advance(30)
    assert store.add("cooldown", b"second", ttl=60) is False
    assert store.get("cooldown") == b"first"
    assert store.ttl("cooldown") == pytest.approx(30)


def test_add_replaces_an_expired_value(store: Store, clock: FakeClock) -> None:
    store.add("cooldown", b"first", ttl=60)
    clock.advance(60)
    assert store.add("cooldown", b"second", ttl=60) is True
    assert store.get("cooldown") == b"second"
    assert store.ttl("cooldown") == pytest.approx(60)


def test_add_after_delete(store: Store) -> None:
    store.add("cooldown", b"1", ttl=60)
    store.delete("cooldown")
    assert store.add("cooldown", b"2", ttl=60) is True


# -- several processes, as several server workers or hosts would be --------------------------


Results: TypeAlias = "multiprocessing.Queue[list[int]]"
FORK = multiprocessing.get_context("fork")


def _increment(backend: Backend, clock: FakeClock, barrier: Barrier, results: Results) -> None:
    _hammer(backend.open(clock), barrier, results)


def _hammer(store: Store, barrier: Barrier, results: Results, collect_at: int = -1) -> None:
    barrier.wait()  # start together, so the workers really overlap
    for i in range(ROUNDS):
        if i == collect_at:
            gc.collect()  # finalises what the parent dropped but had not collected yet
        store.incr("shared", ttl=3600)
    results.put([])


def _increment_with_gc(
    backend: Backend, clock: FakeClock, barrier: Barrier, results: Results
) -> None:
    _hammer(backend.open(clock), barrier, results, collect_at=ROUNDS // 4)


def _take_all(backend: Backend, clock: FakeClock, barrier: Barrier, results: Results) -> None:
    store = backend.open(clock)
    barrier.wait()
    results.put([i for i in range(ROUNDS) if store.take(f"race:{i}") is not None])


def _add_all(backend: Backend, clock: FakeClock, barrier: Barrier, results: Results) -> None:
    store = backend.open(clock)
    barrier.wait()
    results.put([i for i in range(ROUNDS) if store.add(f"slot:{i}", b"1", ttl=60)])


def _race(
    target: Callable[..., None],
    *args: object,
    context: Any = multiprocessing,
    meanwhile: Callable[[], object] = lambda: None,
) -> list[int]:
    """Run `target(*args, barrier, results)` in WORKERS processes at once; return their wins.

    `meanwhile` runs in this process while the workers run.
    """
    barrier = context.Barrier(WORKERS)
    results: Results = context.Queue()
    workers = [
        context.Process(target=target, args=(*args, barrier, results)) for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    meanwhile()
    # Drain before joining: a worker does not exit while its queue data is unread.
    won = [index for _ in workers for index in results.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return won


def test_concurrent_increments_are_never_lost(
    backend: Backend, store: Store, clock: FakeClock
) -> None:
    _race(_increment, backend, clock)
    assert store.get("shared") == str(WORKERS * ROUNDS).encode()


def test_a_store_used_before_fork_stays_correct_in_the_workers(
    backend: Backend, clock: FakeClock
) -> None:
    # An app loaded before the fork: the master uses the store, forks workers that share the
    # object, and goes on using it, then closes it, while they work.
    master = backend.open(clock)
    assert master.incr("shared", ttl=3600) == 1

    def keep_working() -> None:
        for _ in range(ROUNDS):
            master.incr("shared", ttl=3600)
        master.close()  # type: ignore[attr-defined]

    _race(_hammer, master, context=FORK, meanwhile=keep_working)
    assert backend.open(clock).get("shared") == str((WORKERS + 1) * ROUNDS + 1).encode()


def test_a_store_dropped_before_fork_does_not_break_the_workers(
    backend: Backend, clock: FakeClock
) -> None:
    gc.disable()  # keep the dropped store's connection for the collector to close mid-race
    try:
        dropped = backend.open(clock)
        dropped.incr("shared", ttl=3600)
        del dropped
        _race(_increment_with_gc, backend, clock, context=FORK, meanwhile=gc.collect)
    finally:
        gc.enable()
    assert backend.open(clock).get("shared") == str(WORKERS * ROUNDS + 1).encode()


def test_concurrent_takers_have_exactly_one_winner(
    backend: Backend, store: Store, clock: FakeClock
) -> None:
    for i in range(ROUNDS):
        store.set(f"race:{i}", b"code", ttl=60)
    won = _race(_take_all, backend, clock)
    assert sorted(won) == list(range(ROUNDS))  # every key taken once, none twice


def test_concurrent_adders_have_exactly_one_winner(
    backend: Backend, store: Store, clock: FakeClock
) -> None:
    won = _race(_add_all, backend, clock)
    assert sorted(won) == list(range(ROUNDS))


# -- the durable queue (the outbox of notices) ----------------------------------------------


def test_queue_hands_items_out_oldest_first_and_once(store: Store, clock: FakeClock) -> None:
    store.push("mail", b"first", ttl=3600)
    clock.advance(1)
    store.push("mail", b"second", ttl=3600)
    first = store.claim("mail", lease=60)
    second = store.claim("mail", lease=60)
    assert first is not None and second is not None
    assert (first.value, first.claims, second.value) == (b"first", 1, b"second")
    assert store.claim("mail", lease=60) is None  # both leased
    assert store.claim("other", lease=60) is None  # queues are separate


def test_an_unacknowledged_item_comes_back_after_its_lease(store: Store, clock: FakeClock) -> None:
    store.push("mail", b"notice", ttl=3600)
    taken = store.claim("mail", lease=60)
    assert taken is not None
    clock.advance(59)
    assert store.claim("mail", lease=60) is None
    clock.advance(1)
    again = store.claim("mail", lease=60)
    assert again is not None and (again.id, again.claims) == (taken.id, 2)
    store.ack("mail", again.id)
    clock.advance(120)
    assert store.claim("mail", lease=60) is None


def test_queue_items_expire(store: Store, clock: FakeClock) -> None:
    store.push("mail", b"old", ttl=100)
    clock.advance(100)
    assert store.claim("mail", lease=60) is None


def _claim_all(backend: Backend, clock: FakeClock, barrier: Barrier, results: Results) -> None:
    store = backend.open(clock)
    barrier.wait()
    taken = []
    while (item := store.claim("race", lease=3600)) is not None:
        taken.append(int(item.value))
    results.put(taken)


def test_concurrent_claims_never_hand_out_an_item_twice(backend: Backend, clock: FakeClock) -> None:
    store = backend.open(clock)
    for index in range(ROUNDS):
        store.push("race", str(index).encode(), ttl=3600)
    taken = _race(_claim_all, backend, clock, context=FORK)
    assert sorted(taken) == list(range(ROUNDS))
