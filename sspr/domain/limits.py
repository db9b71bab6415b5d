"""Attempt limits: count failures in a window, then block for a while."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sspr.domain.errors import TooManyAttempts
from sspr.domain.ports import Store


@dataclass(frozen=True)
class Limit:
    """At most `max_failures` in `window` seconds, then blocked for `lockout` seconds."""

    max_failures: int
    window: float
    lockout: float


def subject_key(kind: str, *parts: str) -> str:
    """A store key for an account or identifier that does not reveal it when the store leaks."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


class AttemptLimiter:
    """Failure counters and temporary blocks kept in the shared store."""

    def __init__(self, store: Store, name: str, limit: Limit) -> None:
        self._store = store
        self._name = name
        self._limit = limit

    def ensure_allowed(self, subject: str) -> None:
        """Raise TooManyAttempts while the subject is blocked."""
        left = self._store.ttl(self._block_key(subject))
        if left is not None:
            raise TooManyAttempts(retry_after=left)

    def fail(self, subject: str) -> int:
        """Count a failure; return the attempts left, or raise TooManyAttempts when none."""
        failures = self._store.incr(self._count_key(subject), self._limit.window)
        left = self._limit.max_failures - failures
        if left <= 0:
            self._store.set(self._block_key(subject), b"1", self._limit.lockout)
            self._store.delete(self._count_key(subject))
            raise TooManyAttempts(retry_after=self._limit.lockout)
        return left

    def succeed(self, subject: str) -> None:
        """Forget the failures of a subject that has just proved itself."""
        self._store.delete(self._count_key(subject))

    def unblock(self, subject: str) -> None:
        """End a block and forget the failures (a helpdesk agent unlocked the account)."""
        self._store.delete(self._block_key(subject))
        self._store.delete(self._count_key(subject))

    def _count_key(self, subject: str) -> str:
        return f"limit:{self._name}:count:{subject}"

    def _block_key(self, subject: str) -> str:
        return f"limit:{self._name}:block:{subject}"
