"""The limits library over each Store backend: counters shared by workers, on the test's clock."""

from __future__ import annotations

import io
import multiprocessing

import limits
import pytest

from sspr.domain.audit import AuditLog
from sspr.domain.errors import AccountBlocked, SourceLimited
from sspr.domain.limits import Area, AttemptLimiter, Counter, Limit, SourceLimits, SourceRules
from sspr.domain.ports import Store
from sspr.domain.sources import Sources
from sspr.store.limits_storage import StoreStorage
from tests.store.conftest import Backend, FakeClock

WORKERS = 4
HITS = 25


def counter(store: Store, clock: FakeClock) -> Counter:
    return Counter(StoreStorage(store, clock), clock)


def test_a_window_ends_by_the_injected_clock(store: Store, clock: FakeClock) -> None:
    rules = SourceRules({Area.RESET: (limits.parse("2/minute"),)})
    source_limits = SourceLimits(counter(store, clock), rules, AuditLog([io.StringIO()]))
    here = Sources().of("2001:db8::1")
    source_limits.hit(Area.RESET, here)
    clock.advance(30)
    source_limits.hit(Area.RESET, here)
    with pytest.raises(SourceLimited) as limited:
        source_limits.hit(Area.RESET, here)
    assert limited.value.retry_after == pytest.approx(30)
    clock.advance(31)
    source_limits.hit(Area.RESET, here)


def test_an_account_block_outlives_its_window(store: Store, clock: FakeClock) -> None:
    limiter = AttemptLimiter(store, counter(store, clock), "proofs", Limit(2, 60, 600))
    assert limiter.fail("dn:x") == 1
    with pytest.raises(AccountBlocked):
        limiter.fail("dn:x")
    clock.advance(599)
    with pytest.raises(AccountBlocked):
        limiter.ensure_allowed("dn:x")
    clock.advance(2)
    limiter.ensure_allowed("dn:x")


def _hit(backend: Backend, clock: FakeClock, start: multiprocessing.synchronize.Event) -> int:
    store = backend.open(clock)
    rate = limits.parse(f"{WORKERS * HITS}/hour")
    shared = counter(store, clock)
    start.wait()
    return sum(shared.hit(rate, "k") for _ in range(HITS))


def test_workers_share_one_count(backend: Backend, clock: FakeClock) -> None:
    """Every hit of every process is counted once: the rate is exactly used up, never more."""
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(WORKERS) as pool:
        results = pool.starmap_async(_hit, [(backend, clock, start)] * WORKERS)
        start.set()
        assert sum(results.get(timeout=120)) == WORKERS * HITS
    store = backend.open(clock)
    assert not counter(store, clock).hit(limits.parse(f"{WORKERS * HITS}/hour"), "k")
