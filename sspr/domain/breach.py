"""Breached passwords: the Have I Been Pwned range protocol, with k-anonymity.

Only the first 5 hexadecimal digits of the password's SHA-1 leave this module: the port
receives that prefix and answers with the suffixes it knows. The match is made here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Protocol

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.errors import RangeUnavailable

PREFIX_LENGTH = 5


class PwnedRanges(Protocol):
    """A source of the range protocol (the HIBP API, or a body's mirror of its corpus)."""

    def suffixes(self, prefix: str) -> Mapping[str, int]:
        """The 35-hex SHA-1 suffixes known under a 5-hex prefix, with their counts.

        Raise RangeUnavailable when the service cannot answer.
        """
        ...


class BreachVerdict(Enum):
    """What the check concluded; `value` is the audit outcome and the metrics label."""

    CLEAN = "clean"
    BREACHED = "breached"
    UNAVAILABLE_ALLOWED = "unavailable_allowed"
    UNAVAILABLE_BLOCKED = "unavailable_blocked"

    @property
    def refuses(self) -> bool:
        """Whether the password change must stop."""
        return self in (BreachVerdict.BREACHED, BreachVerdict.UNAVAILABLE_BLOCKED)


OnUnavailable = Literal["allow", "block"]


@dataclass(frozen=True)
class BreachCheck:
    """Ask the range source about a password; audit every verdict (metrics count them)."""

    ranges: PwnedRanges
    audit: AuditLog
    on_unavailable: OnUnavailable = "allow"

    def verdict(self, password: str, *, user_dn: str | None, profile: str | None) -> BreachVerdict:
        """Check one password; an unreachable service allows or blocks as configured."""
        digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
        reason = None
        try:
            # Padding entries come back with a count of 0: they are not breaches.
            breached = self.ranges.suffixes(prefix).get(suffix, 0) > 0
        except RangeUnavailable as unavailable:
            reason = unavailable.reason
            verdict = (
                BreachVerdict.UNAVAILABLE_BLOCKED
                if self.on_unavailable == "block"
                else BreachVerdict.UNAVAILABLE_ALLOWED
            )
        else:
            verdict = BreachVerdict.BREACHED if breached else BreachVerdict.CLEAN
        self.audit.record(
            AuditEvent.PASSWORD_BREACH_CHECKED, Outcome(verdict.value), user_dn=user_dn,
            profile=profile, cause=reason,
        )  # fmt: skip
        return verdict
