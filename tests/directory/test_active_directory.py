"""AD's own ways: fractional GeneralizedTime, account states, logins, policy hints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sspr.directory.active_directory import (
    generalized_time,
    identifier_terms,
    password_state,
    supported_policy_hints,
)
from sspr.directory.entries import PasswordState
from sspr.domain.ports import LockState

NAMES = {"login": "sAMAccountName", "email": "mail", "upn": "userPrincipalName"}
# 2024-01-14 21:20:00 UTC, and the same plus 1234567 × 100 ns.
WHEN = 133497408000000000


def test_generalized_time_gets_the_fraction_ad_wants() -> None:
    assert generalized_time("20270527011024Z") == "20270527011024.0Z"
    assert generalized_time("20270527011024.5Z") == "20270527011024.5Z"


NOW = datetime(2023, 11, 14, tzinfo=UTC)
JAN_14 = datetime(2024, 1, 14, 21, 20, tzinfo=UTC)


def state(**raw: str) -> PasswordState:
    values = {name.lower(): (value,) for name, value in raw.items()}
    return password_state(lambda name: values.get(name.lower(), ()), now=NOW)


def test_a_plain_account() -> None:
    assert state(pwdLastSet=str(WHEN), userAccountControl="512", accountExpires="0") == (
        PasswordState(changed_at=JAN_14)
    )


def test_disabled_must_change_and_expired_accounts() -> None:
    assert state(userAccountControl="514").disabled is True
    assert state(pwdLastSet="0").must_change is True
    # Seen from 2023-11-14: an accountExpires in 2024 is still ahead, one in 2012 is past.
    future = state(accountExpires=str(WHEN))
    assert (future.account_expired, future.account_expires_at) == (False, JAN_14)
    assert state(accountExpires="130000000000000000").account_expired is True
    assert state(accountExpires="9223372036854775807").account_expires_at is None  # never


def test_the_computed_flag_says_whether_a_lock_still_runs() -> None:
    # lockoutTime stays set after lockoutDuration: the computed attribute has the last word.
    over = state(lockoutTime=str(WHEN), **{"msDS-User-Account-Control-Computed": "0"})
    assert (over.lock, over.locked_at) == (LockState.UNLOCKED, None)
    running = state(lockoutTime=str(WHEN), **{"msDS-User-Account-Control-Computed": "16"})
    assert (running.lock, running.locked_at) == (LockState.LOCKED, JAN_14)
    assert state(lockoutTime=str(WHEN)).lock is LockState.LOCKED  # without it, lockoutTime


@pytest.mark.parametrize(
    ("value", "domain", "terms"),
    [
        ("jdoe", None, [("sAMAccountName", "jdoe")]),
        ("EXAMPLE\\jdoe", "EXAMPLE", [("sAMAccountName", "jdoe")]),
        ("example\\jdoe", "EXAMPLE", [("sAMAccountName", "jdoe")]),
        ("OTHER\\jdoe", "EXAMPLE", []),
        ("OTHER\\jdoe", None, [("sAMAccountName", "jdoe")]),
        ("EXAMPLE\\", "EXAMPLE", []),
    ],
)
def test_logins(value: str, domain: str | None, terms: list[tuple[str, str]]) -> None:
    assert identifier_terms(["login"], value, NAMES, domain) == terms


def test_a_upn_only_when_it_has_an_at_sign() -> None:
    kinds = ["login", "upn", "email"]
    assert identifier_terms(kinds, "jdoe@example.org", NAMES, None) == [
        ("sAMAccountName", "jdoe@example.org"),
        ("userPrincipalName", "jdoe@example.org"),
        ("mail", "jdoe@example.org"),
    ]
    assert identifier_terms(["upn"], "jdoe", NAMES, None) == []


def test_policy_hints_prefer_the_current_oid() -> None:
    both = ["1.2.840.113556.1.4.2066", "1.2.840.113556.1.4.2239"]
    assert supported_policy_hints(both) == "1.2.840.113556.1.4.2239"
    assert supported_policy_hints(["1.2.840.113556.1.4.2066"]) == "1.2.840.113556.1.4.2066"
    assert supported_policy_hints(["1.2.840.113556.1.4.319"]) is None
