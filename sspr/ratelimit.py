"""Per-IP limits on requests that look an account up, built on `limits`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from limits import RateLimitItemPerMinute
from limits.strategies import FixedWindowRateLimiter

from sspr.domain.audit import AuditLog
from sspr.domain.errors import TooManyAttempts
from sspr.domain.ports import Store
from sspr.store.limits_storage import StoreStorage


@dataclass
class IpLimits:
    """How many identification attempts one address may make per minute."""

    limiter: FixedWindowRateLimiter
    identify: RateLimitItemPerMinute
    audit: AuditLog
    # Each challenge costs the server a PBKDF2 run: bounded too, far above what people need.
    challenges: RateLimitItemPerMinute = field(default_factory=lambda: RateLimitItemPerMinute(60))

    @classmethod
    def over(cls, store: Store, identify_per_minute: int, audit: AuditLog) -> IpLimits:
        """Limits whose counters live in the shared store."""
        limiter = FixedWindowRateLimiter(StoreStorage(store))
        return cls(limiter, RateLimitItemPerMinute(identify_per_minute), audit)

    def hit_identify(self, address: str, profile: str) -> None:
        """Count one identification from `address`; raise TooManyAttempts past the limit."""
        self._hit(self.identify, "identify", address, profile)

    def hit_check(self, address: str, per_minute: int) -> None:
        """Count one live password check (or suggestion) from `address`."""
        self._hit(RateLimitItemPerMinute(per_minute), "password_check", address, None)

    def hit_challenge(self, address: str) -> None:
        """Count one captcha challenge handed to `address`."""
        self._hit(self.challenges, "challenge", address, None)

    def _hit(
        self, item: RateLimitItemPerMinute, kind: str, address: str, profile: str | None
    ) -> None:
        if self.limiter.hit(item, kind, address):
            return
        reset_at, _ = self.limiter.get_window_stats(item, kind, address)
        self.audit.record("ratelimit.hit", "failure", profile=profile, reason=f"ip_{kind}")
        raise TooManyAttempts(retry_after=max(1.0, reset_at - time.time()))
