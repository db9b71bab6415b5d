"""Abuse resistance and exposure: answer hashing, attempt and rate limits, captcha, proxies,
monitoring."""

from __future__ import annotations

import ipaddress

import limits
from pydantic import Field

from sspr.config.base import Network, Rates, Strict
from sspr.domain.limits import Area, SourceRules


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
    """Requests per source and per area, counted in the shared store (docs/security.md).

    A source is an IPv4 address, or an IPv6 network of `ipv6_prefix` bits. Each area has its
    own bucket, so users identifying from a shared address never lock its helpdesk out."""

    reset: Rates = "60/minute; 600/hour"
    """Identifications of the reset journey (a class of 35 behind one NAT stays within)."""
    account: Rates = "60/minute; 600/hour"
    """Logins to « Mon compte » and one-form password changes."""
    helpdesk: Rates = "30/minute; 300/hour"
    """Staff logins to the helpdesk console."""
    captcha_challenges: Rates = "120/minute; 1200/hour"
    """Captcha challenges handed out (each costs the server a PBKDF2 run)."""
    password_checks: Rates = "120/minute"
    """Live checks and suggestions of a new password as the user types: far above what a
    person types, far below a guessing robot's needs."""
    ipv6_prefix: int = Field(default=64, ge=32, le=128)
    """IPv6 addresses count as their network of this length: a subscriber holds a /64."""
    trusted_networks: list[Network] = Field(default_factory=list)
    """Networks the admin vouches for (a region's own network, a school's NAT): their
    rates are multiplied by `trusted_factor`. Their users are still limited per account."""
    trusted_factor: int = Field(default=10, ge=1, le=1000)
    """How much higher the rates of the trusted networks are."""
    identify_per_ip_per_minute: int | None = Field(default=None, ge=1, le=10000)
    """Deprecated: sets the per-minute rate of `reset`, `account` and `helpdesk` at once,
    each in its own bucket."""

    def to_domain(self) -> SourceRules:
        """The domain's rules."""
        rates = {
            Area.RESET: self.reset,
            Area.ACCOUNT: self.account,
            Area.HELPDESK: self.helpdesk,
            Area.CAPTCHA: self.captcha_challenges,
            Area.PASSWORD_CHECK: self.password_checks,
        }
        if self.identify_per_ip_per_minute is not None:
            old = f"{self.identify_per_ip_per_minute}/minute"
            rates.update({Area.RESET: old, Area.ACCOUNT: old, Area.HELPDESK: old})
        return SourceRules(
            rates={area: tuple(limits.parse_many(value)) for area, value in rates.items()},
            trusted_factor=self.trusted_factor,
            ipv6_prefix=self.ipv6_prefix,
            trusted_networks=tuple(self.trusted_networks),
        )


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
    """For after_failures: failures from one source (an address, an IPv6 /64: see
    `rate_limits.ipv6_prefix`) that bring the captcha up. A neutral identification, a wrong
    answer or a wrong code counts."""
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
