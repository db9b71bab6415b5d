"""Abuse resistance and exposure: answer hashing, attempt and rate limits, captcha, proxies,
monitoring."""

from __future__ import annotations

import ipaddress

from pydantic import Field

from sspr.config.base import Network, Strict


class AnswerHashing(Strict):
    """argon2id cost of the stored security answers (see docs/answers.md)."""

    time_cost: int = Field(default=2, ge=1, le=10)
    """Passes over the memory."""
    memory_kib: int = Field(default=19456, ge=8192, le=1048576)
    """Memory per hash, in KiB (19456 KiB = 19 MiB, OWASP's minimum for argon2id)."""
    parallelism: int = Field(default=1, ge=1, le=8)
    """Threads per hash."""


class AttemptLimit(Strict):
    """How many failed proofs an account may make before a temporary block."""

    max_failures: int = Field(default=5, ge=1)
    """Wrong answers or codes that block the account's resets."""
    window_seconds: int = Field(default=3600, ge=1)
    """The period in which those failures are counted."""
    lockout_seconds: int = Field(default=86400, ge=1)
    """How long the block lasts."""


class RateLimits(Strict):
    """Limits per source address, counted in the shared store."""

    identify_per_ip_per_minute: int = Field(default=10, ge=1, le=10000)
    """Identifications one client address may submit per minute."""


class MonitoringConfig(Strict):
    """Who may read /metrics and /readyz: client addresses or networks (CIDR)."""

    allow: list[Network] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    """Addresses or networks in CIDR notation (10.0.0.0/8); others get a 404."""

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

    trusted_hops: int = Field(default=0, ge=0, le=5)
    """How many proxies append to X-Forwarded-For and -Proto; 0 trusts none (the client
    address is the TCP peer). Set the exact number, or clients can forge their address."""


class CaptchaConfig(Strict):
    """ALTCHA proof of work, for the profiles whose `captcha` is not "off"."""

    failures_before: int = Field(default=3, ge=1, le=1000)
    """For after_failures: failures from one address (an IPv6 /64) that bring the captcha
    up. A neutral identification, a wrong answer or a wrong code counts."""
    window_seconds: int = Field(default=3600, ge=60, le=86400)
    """The period in which those failures are counted."""
    cost: int = Field(default=1000, ge=100, le=100_000)
    """PBKDF2-SHA256 iterations per attempt the browser makes."""
    max_counter: int = Field(default=2000, ge=10, le=1_000_000)
    """The largest counter the browser must find (drawn between half of it and it): with
    the default cost, about 1.5 million iterations, 0.3 s on one desktop core."""
    ttl_seconds: int = Field(default=600, ge=60, le=3600)
    """A challenge must be solved and its form posted within this time; then it is used
    up."""
