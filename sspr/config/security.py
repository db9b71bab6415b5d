"""Abuse resistance and exposure: answer hashing, attempt and rate limits, captcha, proxies,
monitoring."""

from __future__ import annotations

import ipaddress

from pydantic import Field

from sspr.config.base import Network, Strict


class AnswerHashing(Strict):
    """argon2id cost for stored answers (see docs/security-answers.md)."""

    time_cost: int = Field(default=2, ge=1, le=10)
    memory_kib: int = Field(default=19456, ge=8192, le=1048576)
    parallelism: int = Field(default=1, ge=1, le=8)


class AttemptLimit(Strict):
    """How many failed proofs an account may make before a temporary lock."""

    max_failures: int = Field(default=5, ge=1)
    window_seconds: int = Field(default=3600, ge=1)
    lockout_seconds: int = Field(default=86400, ge=1)


class RateLimits(Strict):
    """Limits per source address, counted in the shared store."""

    identify_per_ip_per_minute: int = Field(default=10, ge=1, le=10000)


class MonitoringConfig(Strict):
    """Who may read /metrics and /readyz: client addresses or networks (CIDR)."""

    allow: list[Network] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])

    def allows(self, address: str | None) -> bool:
        """Whether a client address falls in one of the allowed networks."""
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(network) for network in self.allow)


class ProxyConfig(Strict):
    """Reverse proxies in front of sspr."""

    # How many proxies append to X-Forwarded-For/-Proto; 0 trusts none (the client address is
    # the TCP peer). Set it to the exact number, or clients can forge their address.
    trusted_hops: int = Field(default=0, ge=0, le=5)


class CaptchaConfig(Strict):
    """ALTCHA proof of work, for the profiles whose `captcha` is not "off"."""

    # after_failures: a neutral identification, a wrong answer or a wrong code from one
    # address (an IPv6 /64) counts; this many within the window bring the captcha up.
    failures_before: int = Field(default=3, ge=1, le=1000)
    window_seconds: int = Field(default=3600, ge=60, le=86400)
    # PBKDF2-SHA256 iterations per attempt, and the largest counter the browser must find
    # (drawn between half of it and it): ~1.5 million iterations on average, about 0.3 s
    # for one desktop core, a little more on a phone with its several workers.
    cost: int = Field(default=1000, ge=100, le=100_000)
    max_counter: int = Field(default=2000, ge=10, le=1_000_000)
    # A challenge must be solved and its form posted within this time; then it is used up.
    ttl_seconds: int = Field(default=600, ge=60, le=3600)
