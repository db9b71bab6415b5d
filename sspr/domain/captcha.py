"""When a form asks for a captcha: always, never, or after failures from the same address.

Pure: the failures are counted in the shared store; the proof of work itself (ALTCHA) is the
web layer's business.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sspr.domain.limits import subject_key
from sspr.domain.ports import Store

MODES = ("off", "always", "after_failures")


@dataclass(frozen=True)
class CaptchaRule:
    """`failures_before` failures from one source within `window` seconds bring the captcha up."""

    failures_before: int
    window: float


def source_of(address: str | None) -> str:
    """The source an address counts for: an IPv4 address, or the /64 of an IPv6 one.

    One IPv6 subscriber usually holds a whole /64 and could otherwise change address at will.
    Anything unreadable counts as one "unknown" source.
    """
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class CaptchaGate:
    """Failures per source address, kept in the store (hashed) for a window."""

    def __init__(self, store: Store, rule: CaptchaRule) -> None:
        self._store = store
        self._rule = rule

    def required(self, mode: str, address: str | None) -> bool:
        """Whether a form of a profile in this mode needs a solved captcha from this address."""
        if mode == "always":
            return True
        if mode == "after_failures":
            return self.failures(address) >= self._rule.failures_before
        if mode == "off":
            return False
        raise ValueError(f"unknown captcha mode {mode!r}")

    def record_failure(self, address: str | None) -> int:
        """Count one failure from this address; return the failures in the current window."""
        return self._store.incr(self._key(address), self._rule.window)

    def failures(self, address: str | None) -> int:
        """The failures counted for this address in the current window."""
        raw = self._store.get(self._key(address))
        return int(raw) if raw is not None else 0

    @staticmethod
    def _key(address: str | None) -> str:
        # Hashed like every other subject, so a leaked store lists no addresses.
        return "captcha:failures:" + subject_key("source", source_of(address))
