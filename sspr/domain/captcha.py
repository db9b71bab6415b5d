"""When a form asks for a captcha: always, never, or after failures from the same source.

Pure: the failures are counted in the shared store; the proof of work itself (ALTCHA) is the
web layer's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from sspr.domain import keys
from sspr.domain.limits import Counter, per_window
from sspr.domain.sources import Source


@dataclass(frozen=True)
class CaptchaRule:
    """`failures_before` failures from one source within `window` seconds bring the captcha up."""

    failures_before: int
    window: float


class CaptchaGate:
    """Failures per source (an address, an IPv6 /64), counted in the store under a hash."""

    def __init__(self, counter: Counter, rule: CaptchaRule) -> None:
        self._counter = counter
        self._rate = per_window(rule.failures_before, rule.window)

    def required(self, mode: str, source: Source) -> bool:
        """Whether a form of a profile in this mode needs a solved captcha from this source."""
        if mode == "always":
            return True
        if mode == "after_failures":
            return not self._counter.within(self._rate, keys.captcha_failures_key(source))
        if mode == "off":
            return False
        raise ValueError(f"unknown captcha mode {mode!r}")

    def record_failure(self, source: Source) -> int:
        """Count one failure from this source; return the failures in the current window."""
        key = keys.captcha_failures_key(source)
        self._counter.hit(self._rate, key)
        return self._counter.count(self._rate, key)

    def failures(self, source: Source) -> int:
        """The failures counted for this source in the current window."""
        return self._counter.count(self._rate, keys.captcha_failures_key(source))
