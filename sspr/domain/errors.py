"""Domain errors that the web layer turns into messages."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sspr.domain.policy import Rule


class SsprError(Exception):
    """Base class of every error the domain raises on purpose."""


class DirectoryUnavailable(SsprError):
    """No configured directory server answered in time."""


class StoreUnavailable(SsprError):
    """The shared store (SQLite file or Redis) failed or did not answer in time.

    The message names the backend and the kind of failure, never a URL (it may hold a password).
    """


class PasswordRefusal(enum.Enum):
    """Why the directory refused a password write (ppolicy error or AD code)."""

    TOO_SHORT = "too_short"
    IN_HISTORY = "in_history"
    QUALITY = "quality"
    TOO_YOUNG = "too_young"
    LOCKED = "locked"
    NOT_ALLOWED = "not_allowed"
    OTHER = "other"


class PasswordRefused(SsprError):
    """The directory refused the new password; nothing was written."""

    def __init__(self, reason: PasswordRefusal, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class PolicyViolations(SsprError):
    """The new password breaks one or more rules; all of them are listed."""

    def __init__(self, failed: Sequence[Rule]) -> None:
        super().__init__(", ".join(rule.code for rule in failed))
        self.failed = tuple(failed)


class PasswordMismatch(SsprError):
    """The password and its confirmation differ."""


class FlowExpired(SsprError):
    """The reset flow is unknown, finished, expired or its proof no longer holds."""


class StepNotAllowed(SsprError):
    """A step was requested before the steps it depends on were completed."""


class WrongAnswer(SsprError):
    """At least one security answer was wrong."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"{attempts_left} attempts left")
        self.attempts_left = attempts_left


class TooManyAttempts(SsprError):
    """The account is temporarily blocked after too many failed proofs."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class NotEnrolled(SsprError):
    """The account cannot prove a step, and the profile says so openly."""

    def __init__(self, profile_id: str, channel: str = "question") -> None:
        super().__init__(f"{profile_id}: {channel}")
        self.profile_id = profile_id
        self.channel = channel


class InvalidCredentials(SsprError):
    """The identifier or the password is wrong (never said which)."""
