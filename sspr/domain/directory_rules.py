"""The directory's own password policy (ppolicy, AD's domain policy or PSO), merged into sspr's.

PWM's MERGE mode: for each rule the stricter of the two values wins, so a user meets every
rule the directory enforces before typing, never for the first time in a refusal.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sspr.domain.policy import PasswordPolicy
from sspr.domain.ports import DirectoryPasswordRules


def merged(
    policy: PasswordPolicy,
    rules: DirectoryPasswordRules | None,
    *,
    by_user: bool,
    changed_at: datetime | None = None,
    now: datetime | None = None,
) -> PasswordPolicy:
    """sspr's policy with the directory's rules added, the stricter value winning each time.

    `by_user` is a change with the user's own rights (else a reset by the service account);
    `changed_at` and `now` tell whether the directory's minimum age still forbids a change.
    """
    if rules is None:
        return policy
    binding = by_user or rules.age_and_history_on_resets
    lengths = [length for length in (policy.max_length, rules.max_length) if length is not None]
    unwaivable = policy.unwaivable | ({"min_classes"} if rules.min_classes else set())
    return policy.with_changes(
        min_length=max(policy.min_length, rules.min_length),
        max_length=min(lengths) if lengths else None,
        min_classes=max(policy.min_classes, rules.min_classes),
        forbid_user_parts=policy.forbid_user_parts or rules.forbid_user_parts,
        history=max(policy.history, rules.history if binding else 0),
        unwaivable=frozenset(unwaivable),
        not_before=_not_before(policy, rules, changed_at, now) if binding else policy.not_before,
    )


def _not_before(
    policy: PasswordPolicy,
    rules: DirectoryPasswordRules,
    changed_at: datetime | None,
    now: datetime | None,
) -> int | None:
    """When the directory accepts a change again (epoch seconds), if that is still to come."""
    if not rules.min_age or changed_at is None or now is None:
        return policy.not_before
    allowed = changed_at + timedelta(seconds=rules.min_age)
    if allowed <= now:
        return policy.not_before
    return max(math.ceil(allowed.timestamp()), policy.not_before or 0)
