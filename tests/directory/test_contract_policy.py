"""The Directory port's contract for the directory's own password policy (every backend)."""

from __future__ import annotations

import pytest

from sspr.domain.errors import PasswordRefusal, PasswordRefused
from sspr.domain.ports import DirectoryPasswordRules
from tests.directory.backends import Backend, everyone, policy_dn


def test_an_account_without_a_policy_gets_the_default_one(backend: Backend) -> None:
    account = backend.account()
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and entry.policy_dn is None
    default = policy_dn(backend.suffix, "default")
    # The demo's default: 6 characters (pwdCheckQuality 1), 5 in history, no minimum age.
    expected = DirectoryPasswordRules(source=default, min_length=6, history=5)
    assert backend.directory.password_rules(entry) == expected
    # Before any account is known (the one-form change), the same default: the base the
    # account would live under tells several directories which one answers.
    assert backend.directory.password_rules(None, base=everyone(backend)) == expected


def test_the_policy_an_account_names_is_read_with_its_entry(backend: Backend) -> None:
    account = backend.account(policy="strict")
    entry = backend.directory.read_user(account.dn)
    assert entry is not None
    assert entry.policy_dn is not None
    assert entry.policy_dn.lower() == policy_dn(backend.suffix, "strict").lower()
    found = backend.directory.find_users(everyone(backend), ["login"], account.login, limit=2)
    assert [user.policy_dn for user in found] == [entry.policy_dn]
    rules = backend.directory.password_rules(entry)
    assert rules == DirectoryPasswordRules(
        source=entry.policy_dn, min_length=14, max_length=64, history=8
    )


def test_the_rules_read_are_the_rules_enforced(backend: Backend) -> None:
    account = backend.account(policy="strict")
    entry = backend.directory.read_user(account.dn)
    assert entry is not None
    rules = backend.directory.password_rules(entry)
    assert rules is not None and rules.min_length == 14
    with pytest.raises(PasswordRefused) as refused:
        backend.directory.set_password(account.dn, "Short-Passw0r")  # 13 characters
    assert refused.value.reason in (PasswordRefusal.TOO_SHORT, PasswordRefusal.QUALITY)
    with pytest.raises(PasswordRefused):
        backend.directory.set_password(account.dn, "Long-Passw0rd-" + "x" * 51)  # 65 characters
    backend.directory.set_password(account.dn, "Long-Enough-Passw0rd")
    assert backend.can_bind(account.dn, "Long-Enough-Passw0rd")


def test_lengths_count_only_when_the_policy_checks_quality(backend: Backend) -> None:
    # No pwdCheckQuality: ppolicy does not check lengths, so no minimum is announced.
    account = backend.account(policy="expiring-with-grace")
    entry = backend.directory.read_user(account.dn)
    rules = backend.directory.password_rules(entry)
    assert rules is not None
    assert (rules.min_length, rules.max_length, rules.history) == (0, None, 5)
    backend.directory.set_password(account.dn, "Ab1")  # what the server does agrees
    assert backend.can_bind(account.dn, "Ab1")


def test_the_minimum_age_is_read(backend: Backend) -> None:
    young = backend.account(policy="young")
    entry = backend.directory.read_user(young.dn)
    rules = backend.directory.password_rules(entry)
    assert rules is not None and rules.min_age == 3600
    # ppolicy applies it to the service account's resets too (only the rootDN is exempt).
    assert rules.age_and_history_on_resets
