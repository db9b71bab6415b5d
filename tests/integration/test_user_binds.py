"""Binds as the user, own password changes and recovery writes, against the real slapd."""

from __future__ import annotations

import time

import pytest

from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.domain.errors import InvalidCredentials, PasswordRefusal, PasswordRefused
from tests.helpers import can_bind, lock_out, new_account, operational

NEW = "Brand-New-Passw0rd"


def add_policy(slapd: Slapd, name: str, **attributes: str) -> str:
    """An extra ppolicy entry; returns its name for new_account(policy=…)."""
    lines = [f"dn: cn={name},ou=policies,{slapd.suffix}", "objectClass: organizationalRole",
             "objectClass: pwdPolicy", f"cn: {name}", "pwdAttribute: userPassword"]  # fmt: skip
    lines += [f"{key}: {value}" for key, value in attributes.items()]
    try:
        slapd.add("\n".join(lines) + "\n")
    except Exception as error:  # the session slapd keeps it from an earlier test
        if "Already exists" not in str(error) and "68" not in str(error):
            raise
    return name


def test_a_good_password_binds(directory: LdapDirectory, slapd: Slapd) -> None:
    account = new_account(slapd)
    result = directory.authenticate(account.dn, account.password)
    assert result.ok and not (result.locked or result.expired or result.must_change)


def test_a_wrong_or_empty_password_does_not(directory: LdapDirectory, slapd: Slapd) -> None:
    account = new_account(slapd)
    assert not directory.authenticate(account.dn, "wrong").ok
    assert not directory.authenticate(account.dn, "").ok


def test_must_change_after_a_reset(directory: LdapDirectory, slapd: Slapd) -> None:
    account = new_account(slapd)
    directory.set_password(account.dn, NEW, must_change=True)
    result = directory.authenticate(account.dn, NEW)
    assert result.ok and result.must_change


def test_locked_after_too_many_failures(directory: LdapDirectory, slapd: Slapd) -> None:
    account = new_account(slapd)
    for _ in range(5):
        directory.authenticate(account.dn, "wrong")
    lock_out(slapd, account.dn)  # in case two failures shared a timestamp
    result = directory.authenticate(account.dn, account.password)
    assert not result.ok and result.locked


def test_expired_with_grace_logins_left(directory: LdapDirectory, slapd: Slapd) -> None:
    policy = add_policy(slapd, "expiring", pwdMaxAge="2", pwdGraceAuthNLimit="3")
    account = new_account(slapd, policy=policy)
    directory.set_password(account.dn, NEW)  # stamps pwdChangedTime under that policy
    time.sleep(3)
    result = directory.authenticate(account.dn, NEW)
    assert result.ok
    assert result.grace_left == 2  # this bind used one of the three


def test_expired_without_grace_can_still_change_with_the_old_password(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    policy = add_policy(slapd, "expired", pwdMaxAge="2", pwdGraceAuthNLimit="0")
    account = new_account(slapd, policy=policy)
    directory.set_password(account.dn, NEW)
    time.sleep(3)
    result = directory.authenticate(account.dn, NEW)
    assert not result.ok and result.expired
    with pytest.raises(InvalidCredentials):
        directory.change_own_password(account.dn, "not-the-old-one", "Another-Passw0rd")
    directory.change_own_password(account.dn, NEW, "Another-Passw0rd")
    assert can_bind(slapd.url, account.dn, "Another-Passw0rd")


def test_change_own_password(directory: LdapDirectory, slapd: Slapd) -> None:
    account = new_account(slapd)
    directory.change_own_password(account.dn, account.password, NEW)
    assert can_bind(slapd.url, account.dn, NEW)
    with pytest.raises(InvalidCredentials):
        directory.change_own_password(account.dn, account.password, "Whatever-Passw0rd")
    with pytest.raises(PasswordRefused) as refused:
        directory.change_own_password(account.dn, NEW, account.password)  # in history
    assert refused.value.reason is PasswordRefusal.IN_HISTORY


def test_change_own_password_of_a_locked_account_is_refused(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    account = new_account(slapd)
    lock_out(slapd, account.dn)
    with pytest.raises(PasswordRefused) as refused:
        directory.change_own_password(account.dn, account.password, NEW)
    assert refused.value.reason is PasswordRefusal.LOCKED


def test_write_recovery_replaces_and_removes(directory: LdapDirectory, slapd: Slapd) -> None:
    account = new_account(slapd, mobile="0611111111")
    directory.write_recovery(
        account.dn,
        {
            "answers": ["sspr1:q:$argon2id$x"],
            "mobile": ["+33622222222"],
            "reminder": ["20270101000000Z"],
        },
    )
    entry = directory.read_user(account.dn)
    assert entry is not None
    assert entry.answers == ("sspr1:q:$argon2id$x",)
    assert entry.mobiles == ("+33622222222",)
    assert entry.reminder_snoozed_until == "20270101000000Z"
    directory.write_recovery(account.dn, {"answers": [], "mobile": []})
    entry = directory.read_user(account.dn)
    assert entry is not None and entry.answers == () and entry.mobiles == ()


def test_write_recovery_adds_the_auxiliary_class(directory: LdapDirectory, slapd: Slapd) -> None:
    dn = f"uid=plain-{time.time_ns()},ou=tests,ou=people,{slapd.suffix}"
    slapd.add(f"dn: {dn}\nobjectClass: inetOrgPerson\ncn: Plain\nsn: Plain\nuid: plain\n")
    directory.write_recovery(dn, {"answers": ["sspr1:q:$argon2id$x"]})
    assert "ssprAccount" in operational(slapd, dn, "objectClass")["objectClass"]
