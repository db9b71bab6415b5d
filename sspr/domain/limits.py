"""Every limit of sspr, over one counter: failed proofs per account, requests per source.

The counter is the `limits` library's fixed window, its storage being the shared store (see
sspr.store.limits_storage) and its time the injected clock. Two kinds of block follow:

* `AttemptLimiter`: failures per account (or identifier) within a window, then a lockout.
  This is what protects an account: see docs/security.md.
* `SourceLimits`: requests per source (an address, an IPv6 /64) and per area, each area with
  its own bucket, higher in the networks the admin trusts. It bounds the cost of automated
  enumeration and spraying; it protects no account by itself.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from sspr.domain import keys
from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.errors import AccountBlocked, SourceLimited
from sspr.domain.ports import Clock, Store
from sspr.domain.sources import Source


@dataclass(frozen=True)
class Limit:
    """At most `max_failures` in `window` seconds, then blocked for `lockout` seconds."""

    max_failures: int
    window: float
    lockout: float


def per_window(amount: int, seconds: float) -> RateLimitItem:
    """A rate of `amount` per window of `seconds`."""
    return RateLimitItemPerSecond(amount, max(1, int(seconds)))


class Counter:
    """Fixed-window counters in the shared store: the one counting primitive of every limit."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self._storage = storage
        self._limiter = FixedWindowRateLimiter(storage)
        self._clock = clock

    def hit(self, rate: RateLimitItem, *key: str) -> bool:
        """Count one; tell whether the count is still within the rate."""
        return self._limiter.hit(rate, *key)

    def within(self, rate: RateLimitItem, *key: str) -> bool:
        """Whether the rate has room for one more, without counting it."""
        return self._limiter.test(rate, *key)

    def count(self, rate: RateLimitItem, *key: str) -> int:
        """The count in the current window."""
        return self._storage.get(rate.key_for(*key))

    def resets_in(self, rate: RateLimitItem, *key: str) -> float:
        """Seconds until the current window ends (by the injected clock)."""
        reset_at, _ = self._limiter.get_window_stats(rate, *key)
        return max(0.0, reset_at - self._clock.now())

    def clear(self, rate: RateLimitItem, *key: str) -> None:
        """Forget the count."""
        self._limiter.clear(rate, *key)


class AttemptLimiter:
    """Failure counters and temporary blocks of accounts, kept in the shared store."""

    def __init__(self, store: Store, counter: Counter, name: str, limit: Limit) -> None:
        self._store = store
        self._counter = counter
        self._name = name
        self._limit = limit
        self._rate = per_window(limit.max_failures, limit.window)

    def ensure_allowed(self, subject: str) -> None:
        """Raise AccountBlocked while the subject is blocked."""
        left = self._store.ttl(keys.block_key(self._name, subject))
        if left is not None:
            raise AccountBlocked(retry_after=left)

    def fail(self, subject: str) -> int:
        """Count a failure; return the attempts left, or raise AccountBlocked when none."""
        key = keys.attempts_key(self._name, subject)
        within = self._counter.hit(self._rate, key)
        left = self._limit.max_failures - self._counter.count(self._rate, key)
        if not within or left <= 0:
            self._store.set(keys.block_key(self._name, subject), b"1", self._limit.lockout)
            self._counter.clear(self._rate, key)
            raise AccountBlocked(retry_after=self._limit.lockout)
        return left

    def succeed(self, subject: str) -> None:
        """Forget the failures of a subject that has just proved itself."""
        self._counter.clear(self._rate, keys.attempts_key(self._name, subject))

    def unblock(self, subject: str) -> None:
        """End a block and forget the failures (a helpdesk agent unlocked the account)."""
        self._store.delete(keys.block_key(self._name, subject))
        self.succeed(subject)


class Area(enum.StrEnum):
    """The parts of sspr whose requests are limited per source, each in its own bucket."""

    RESET = "reset"  # identifications of the reset journey
    ACCOUNT = "account"  # logins to « Mon compte »
    HELPDESK = "helpdesk"  # staff logins to the console
    CAPTCHA = "captcha"  # captcha challenges handed out (each costs a PBKDF2 run)
    PASSWORD_CHECK = "password_check"  # noqa: S105 - live checks of a new password


@dataclass(frozen=True)
class SourceRules:
    """Per-area rates for one source, and how much more the trusted networks get."""

    rates: Mapping[Area, Sequence[RateLimitItem]]
    trusted_factor: int = 10
    ipv6_prefix: int = 64
    trusted_networks: tuple[str, ...] = field(default=())


class SourceLimits:
    """Requests per source and per area; past a rate, SourceLimited says how long to wait."""

    def __init__(self, counter: Counter, rules: SourceRules, audit: AuditLog) -> None:
        self._counter = counter
        self._rules = rules
        self._audit = audit

    def hit(self, area: Area, source: Source, profile: str | None = None) -> None:
        """Count one request of `area` from `source`; raise SourceLimited past a rate."""
        key = keys.source_key(source)
        for rate in self.rates(area, source):
            if not self._counter.hit(rate, area.value, key):
                self._audit.record(
                    AuditEvent.RATELIMIT_HIT, Outcome.FAILURE, profile=profile,
                    cause=f"source_{area.value}",
                )  # fmt: skip
                raise SourceLimited(max(1.0, self._counter.resets_in(rate, area.value, key)), area)

    def rates(self, area: Area, source: Source) -> list[RateLimitItem]:
        """The rates that apply to this source in this area."""
        rates = self._rules.rates.get(area, ())
        if not source.trusted:
            return list(rates)
        factor = self._rules.trusted_factor
        return [type(rate)(rate.amount * factor, rate.multiples) for rate in rates]
