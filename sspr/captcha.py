"""ALTCHA, a proof of work with no third party: signed challenges, each accepted once.

The widget (vendored from the npm package `altcha` into web/static/vendor/altcha/) fetches a
challenge, makes the browser find its counter, and posts the solution with its form; the web
layer (sspr.web.captcha) asks `verify` before doing anything else. Nothing leaves this server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Literal

import altcha

from sspr.config import Settings
from sspr.domain import keys
from sspr.domain.captcha import CaptchaGate, CaptchaRule
from sspr.domain.limits import Counter
from sspr.domain.ports import Clock, Store
from sspr.domain.settings import Profile
from sspr.domain.sources import Source

ALGORITHM = "PBKDF2/SHA-256"
# A genuine payload is about 700 characters; anything much longer is not one.
MAX_PAYLOAD = 4096

Outcome = Literal["ok", "missing", "invalid", "expired", "replayed"]


class Captcha:
    """Challenges signed with keys derived from the app's secret, each accepted once."""

    def __init__(
        self, settings: Settings, secret: bytes, store: Store, counter: Counter, clock: Clock
    ) -> None:
        config = settings.captcha
        self._config = config
        # Failures are only worth counting when some profile waits for them.
        self._counting = any(p.captcha == "after_failures" for p in settings.profiles)
        self._signing_key = _derive(secret, b"challenge")
        self._key_signing_key = _derive(secret, b"derived key")
        self._store = store
        self._clock = clock
        rule = CaptchaRule(config.failures_before, config.window_seconds)
        self.gate = CaptchaGate(counter, rule)

    def required(self, profile: Profile, source: Source) -> bool:
        """Whether this profile's forms need a solved captcha from this source now."""
        return self.gate.required(profile.captcha, source)

    def record_failure(self, source: Source) -> None:
        """Count a failure from this source (for the profiles in "after_failures" mode)."""
        if self._counting:
            self.gate.record_failure(source)

    def challenge(self) -> dict[str, Any]:
        """A new signed challenge, as the widget reads it.

        Deterministic mode: the server draws the counter and signs the key it derives, so the
        browser's work is predictable (between half of max_counter and max_counter attempts)
        and checking a solution is one HMAC, not a key derivation.
        """
        top = self._config.max_counter
        counter = top // 2 + secrets.randbelow(top - top // 2 + 1)
        issued = altcha.create_challenge(
            ALGORITHM,
            self._config.cost,
            counter=counter,
            expires_at=int(self._clock.now()) + self._config.ttl_seconds,
            hmac_secret=self._signing_key,
            hmac_key_secret=self._key_signing_key,
        )
        return issued.to_dict()

    def verify(self, payload: str | None) -> Outcome:
        """Check a payload posted by the widget, and use its challenge up."""
        if not payload:
            return "missing"
        if len(payload) > MAX_PAYLOAD:
            return "invalid"
        try:
            parsed = altcha.Payload.from_base64(payload)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return "invalid"
        expires_at = parsed.challenge.parameters.expires_at
        # Against this app's clock; the library checks the system clock as well.
        if not isinstance(expires_at, int) or expires_at <= self._clock.now():
            return "expired"
        try:
            result = altcha.verify_solution(
                parsed, self._signing_key, hmac_key_secret=self._key_signing_key
            )
        except (ValueError, TypeError, AttributeError):
            return "invalid"
        if result.expired:
            return "expired"
        if not result.verified:
            return "invalid"
        # Single use: the first request to record the challenge wins, until it expires anyway.
        used = keys.captcha_used_key(str(parsed.challenge.signature))
        left = expires_at - self._clock.now() + 1
        if not self._store.add(used, b"1", max(1.0, left)):
            return "replayed"
        return "ok"


def _derive(secret: bytes, purpose: bytes) -> bytes:
    """A key of its own for each use of the app's secret."""
    return hmac.new(secret, b"sspr captcha: " + purpose, hashlib.sha256).digest()
