"""Limits: failures per account then a block; requests per source and per area."""

from __future__ import annotations

import io
import json
from pathlib import Path

import limits
import pytest

from sspr.domain.audit import AuditLog
from sspr.domain.errors import AccountBlocked, SourceLimited
from sspr.domain.keys import subject_key
from sspr.domain.limits import Area, AttemptLimiter, Counter, Limit, SourceLimits, SourceRules
from sspr.domain.sources import Sources
from sspr.store.limits_storage import StoreStorage
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock


@pytest.fixture
def counter(store: SqliteStore, clock: FakeClock) -> Counter:
    return Counter(StoreStorage(store, clock), clock)


@pytest.fixture
def limiter(store: SqliteStore, counter: Counter) -> AttemptLimiter:
    return AttemptLimiter(store, counter, "answers", Limit(max_failures=5, window=900, lockout=900))


def test_five_failures_block_for_the_lockout(limiter: AttemptLimiter, clock: FakeClock) -> None:
    assert [limiter.fail("u") for _ in range(4)] == [4, 3, 2, 1]
    with pytest.raises(AccountBlocked) as blocked:
        limiter.fail("u")
    assert blocked.value.retry_after == 900
    clock.advance(600)
    with pytest.raises(AccountBlocked) as still:
        limiter.ensure_allowed("u")
    assert still.value.retry_after == pytest.approx(300)
    clock.advance(300)
    limiter.ensure_allowed("u")
    assert limiter.fail("u") == 4  # a fresh window after the block


def test_failures_outside_the_window_are_forgotten(
    limiter: AttemptLimiter, clock: FakeClock
) -> None:
    for _ in range(4):
        limiter.fail("u")
    clock.advance(901)
    assert limiter.fail("u") == 4


def test_success_forgets_failures(limiter: AttemptLimiter) -> None:
    limiter.fail("u")
    limiter.fail("u")
    limiter.succeed("u")
    assert limiter.fail("u") == 4


def test_subjects_are_separate(limiter: AttemptLimiter) -> None:
    for _ in range(4):
        limiter.fail("a")
    assert limiter.fail("b") == 4


def test_subject_keys_do_not_reveal_the_account() -> None:
    key = subject_key("dn", "uid=jeanne.martin,ou=people,dc=example,dc=org")
    assert "jeanne" not in key and key.startswith("dn:")


# -- per source ----------------------------------------------------------------------------


def source_limits(counter: Counter, audit: io.StringIO, **rates: str) -> SourceLimits:
    parsed = {Area(area): tuple(limits.parse_many(rate)) for area, rate in rates.items()}
    return SourceLimits(counter, SourceRules(parsed, trusted_factor=10), AuditLog([audit]))


def test_a_source_is_limited_per_area(counter: Counter, clock: FakeClock) -> None:
    audit = io.StringIO()
    limits_ = source_limits(counter, audit, reset="3/minute", helpdesk="2/minute")
    here = Sources().of("192.0.2.1")
    for _ in range(3):
        limits_.hit(Area.RESET, here, "usager")
    with pytest.raises(SourceLimited) as limited:
        limits_.hit(Area.RESET, here, "usager")
    assert limited.value.area == "reset"
    assert limited.value.retry_after == pytest.approx(60)
    # Another area has its own bucket: staff are not locked out by users.
    limits_.hit(Area.HELPDESK, here)
    line = json.loads(audit.getvalue().splitlines()[-1])
    assert (line["event"], line["profile"]) == ("ratelimit.hit", "usager")
    clock.advance(20)
    with pytest.raises(SourceLimited) as later:
        limits_.hit(Area.RESET, here)
    assert later.value.retry_after == pytest.approx(40)  # by the injected clock
    clock.advance(41)
    limits_.hit(Area.RESET, here)


def test_every_window_of_a_rate_counts(counter: Counter, clock: FakeClock) -> None:
    limits_ = source_limits(counter, io.StringIO(), reset="3/minute; 4/hour")
    here = Sources().of("192.0.2.1")
    for _ in range(3):
        limits_.hit(Area.RESET, here)
    clock.advance(61)
    limits_.hit(Area.RESET, here)
    with pytest.raises(SourceLimited) as limited:
        limits_.hit(Area.RESET, here)
    assert limited.value.retry_after == pytest.approx(3600 - 61)


def test_a_trusted_network_gets_the_higher_rate(counter: Counter) -> None:
    limits_ = source_limits(counter, io.StringIO(), account="2/minute")
    sources = Sources(trusted=["10.20.0.0/16"])
    region = sources.of("10.20.3.4")
    assert region.trusted
    for _ in range(20):
        limits_.hit(Area.ACCOUNT, region)
    with pytest.raises(SourceLimited):
        limits_.hit(Area.ACCOUNT, region)
    outside = sources.of("10.21.3.4")
    limits_.hit(Area.ACCOUNT, outside)
    limits_.hit(Area.ACCOUNT, outside)
    with pytest.raises(SourceLimited):
        limits_.hit(Area.ACCOUNT, outside)


def test_five_addresses_of_one_64_are_limited_together(counter: Counter) -> None:
    limits_ = source_limits(counter, io.StringIO(), reset="4/minute")
    sources = Sources()
    for host in range(1, 5):
        limits_.hit(Area.RESET, sources.of(f"2001:db8:1:2::{host}"))
    with pytest.raises(SourceLimited):
        limits_.hit(Area.RESET, sources.of("2001:db8:1:2:ffff::5"))
    limits_.hit(Area.RESET, sources.of("2001:db8:1:3::1"))  # the next /64 is someone else


def test_the_store_holds_no_address(counter: Counter, tmp_path: Path) -> None:
    limits_ = source_limits(counter, io.StringIO(), reset="4/minute")
    limits_.hit(Area.RESET, Sources().of("192.0.2.77"))
    data = b"".join(p.read_bytes() for p in tmp_path.glob("s.sqlite3*"))
    assert b"192.0.2.77" not in data


# -- configuration --------------------------------------------------------------------------


def test_rates_and_networks_are_checked_with_their_path() -> None:
    from sspr.config import RateLimits

    defaults = RateLimits().to_domain()
    assert [str(rate) for rate in defaults.rates[Area.RESET]] == [
        "60 per 1 minute",
        "600 per 1 hour",
    ]
    assert defaults.ipv6_prefix == 64 and defaults.trusted_factor == 10
    for bad in ({"reset": "lots"}, {"account": "0/minute"}, {"trusted_networks": ["10.0.0.1/8"]},
                {"ipv6_prefix": 16}):  # fmt: skip
        with pytest.raises(ValueError) as error:
            RateLimits.model_validate(bad)
        assert next(iter(bad)) in str(error.value)
