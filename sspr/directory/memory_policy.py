"""The in-memory directory's password policies: ppolicy's settings and checks, and its rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sspr.directory.ppolicy import SAME_PASSWORD
from sspr.domain.errors import CurrentPassword, PasswordRefusal, PasswordRefused
from sspr.domain.ports import DirectoryPasswordRules


@dataclass(frozen=True)
class MemoryPolicy:
    """The ppolicy settings enforced on an account (the demo slapd's default policy)."""

    min_length: int = 6
    in_history: int = 5
    min_age: float = 0
    max_age: float = 0  # 0: never expires
    grace_logins: int = 0
    max_failures: int = 5
    lockout_seconds: float = 900
    failure_window: float = 900
    max_length: int | None = None

    def rules(self, source: str) -> DirectoryPasswordRules:
        """What password_rules says of this policy, as ppolicy_rules reads a ppolicy entry."""
        return DirectoryPasswordRules(
            source=source,
            min_length=self.min_length,
            max_length=self.max_length,
            history=self.in_history,
            min_age=self.min_age,
        )


def check_new(
    policy: MemoryPolicy,
    password: str,
    current: str | None,
    history: list[str],
    changed_at: datetime | None,
    now: datetime,
) -> None:
    """ppolicy's checks of a new password, in its order."""
    young = changed_at and now - changed_at < timedelta(seconds=policy.min_age)
    if policy.min_age and young:
        raise PasswordRefused(PasswordRefusal.TOO_YOUNG, "Password is too young to change")
    if len(password) < policy.min_length:
        raise PasswordRefused(PasswordRefusal.TOO_SHORT, "Password fails quality checking")
    if policy.max_length is not None and len(password) > policy.max_length:
        raise PasswordRefused(PasswordRefusal.QUALITY, "Password fails quality checking")
    if password == current:
        raise CurrentPassword(SAME_PASSWORD)
    if policy.in_history and password in history[: policy.in_history]:
        raise PasswordRefused(PasswordRefusal.IN_HISTORY, "Password is in history")
