"""The Directory port's contract for passwords, binds and recovery data (every backend)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sspr.domain.errors import (
    CurrentPassword,
    DirectoryRefused,
    InvalidCredentials,
    PasswordRefusal,
    PasswordRefused,
)
from sspr.domain.ports import LockState
from tests.directory.backends import Backend

NEW = "Brand-New-Passw0rd"
EVERYONE = "(objectClass=*)"


def refusal(backend: Backend, dn: str, password: str) -> PasswordRefusal:
    with pytest.raises(PasswordRefused) as refused:
        backend.directory.set_password(dn, password)
    return refused.value.reason


# -- is_current_password ----------------------------------------------------------------------


def test_is_current_password(backend: Backend) -> None:
    account = backend.account()
    current = backend.directory.is_current_password
    assert current(account.dn, account.password) is True
    assert current(account.dn, "Not-The-Passw0rd") is False
    assert current(account.dn, "abc") is False and current(account.dn, "") is False
    assert current(f"uid=ghost,ou=people,{backend.suffix}", "x-123456") is False
    # No failure was counted: the account still binds after five wrong candidates.
    for _ in range(5):
        current(account.dn, "Not-The-Passw0rd")
    assert backend.can_bind(account.dn, account.password)


def test_is_current_password_of_a_too_young_password(backend: Backend) -> None:
    young = backend.account(policy="young")
    assert backend.directory.is_current_password(young.dn, young.password) is True
    assert backend.directory.is_current_password(young.dn, NEW) is False


# -- set_password -----------------------------------------------------------------------------


def test_set_password(backend: Backend) -> None:
    account = backend.account()
    backend.directory.set_password(account.dn, NEW)
    assert backend.can_bind(account.dn, NEW)
    assert not backend.can_bind(account.dn, account.password)


def test_set_password_keeps_non_ascii_characters_exactly(backend: Backend) -> None:
    account = backend.account()
    backend.directory.set_password(account.dn, "Ça-Passé-1€")
    assert backend.can_bind(account.dn, "Ça-Passé-1€")
    assert not backend.can_bind(account.dn, "Ca-Passe-1€")


def test_set_password_unlocks_an_account_locked_by_failed_binds(backend: Backend) -> None:
    account = backend.account()
    backend.lock_by_failures(account.dn)
    backend.directory.set_password(account.dn, NEW)
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and entry.lock is LockState.UNLOCKED
    assert backend.can_bind(account.dn, NEW)


def test_set_password_unlocks_an_administrative_lock(backend: Backend) -> None:
    account = backend.account()
    backend.lock_until_admin_unlocks(account.dn)
    backend.directory.set_password(account.dn, NEW)
    assert backend.can_bind(account.dn, NEW)


def test_must_change_is_set_and_a_later_reset_clears_it(backend: Backend) -> None:
    account = backend.account()
    backend.directory.set_password(account.dn, NEW, must_change=True)
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and entry.must_change
    result = backend.directory.authenticate(account.dn, NEW)
    assert result.ok and result.must_change
    backend.directory.set_password(account.dn, "Another-Passw0rd")
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and not entry.must_change


def test_current_and_previous_passwords_are_in_history(backend: Backend) -> None:
    account = backend.account()
    assert refusal(backend, account.dn, account.password) is PasswordRefusal.IN_HISTORY
    backend.directory.set_password(account.dn, NEW)
    assert refusal(backend, account.dn, NEW) is PasswordRefusal.IN_HISTORY
    assert refusal(backend, account.dn, account.password) is PasswordRefusal.IN_HISTORY


def test_the_same_password_is_refused_with_the_servers_text(backend: Backend) -> None:
    account = backend.account()
    # Said apart from other refusals: the reset's not_current rule needs no question before.
    assert backend.directory.refuses_current_password(account.dn)
    with pytest.raises(CurrentPassword) as refused:
        backend.directory.set_password(account.dn, account.password)
    assert refused.value.detail == "Password is not being changed from existing value"


def test_too_short_and_empty_passwords_are_refused(backend: Backend) -> None:
    account = backend.account()
    assert refusal(backend, account.dn, "Ab1!") is PasswordRefusal.TOO_SHORT
    assert refusal(backend, account.dn, "") is PasswordRefusal.TOO_SHORT
    assert backend.can_bind(account.dn, account.password)


def test_too_young(backend: Backend) -> None:
    young = backend.account(policy="young")
    assert refusal(backend, young.dn, NEW) is PasswordRefusal.TOO_YOUNG
    assert backend.can_bind(young.dn, young.password)


def test_set_password_of_a_missing_entry_is_refused(backend: Backend) -> None:
    with pytest.raises(PasswordRefused):
        backend.directory.set_password(f"uid=ghost,ou=people,{backend.suffix}", NEW)


# -- binds as the user and own changes --------------------------------------------------------


def test_a_good_password_binds_and_a_wrong_or_empty_one_does_not(backend: Backend) -> None:
    account = backend.account()
    result = backend.directory.authenticate(account.dn, account.password)
    assert result.ok and not (result.locked or result.expired or result.must_change)
    assert not backend.directory.authenticate(account.dn, "wrong").ok
    assert not backend.directory.authenticate(account.dn, "").ok


def test_locked_after_too_many_failures(backend: Backend) -> None:
    account = backend.account()
    for _ in range(4):
        assert not backend.directory.authenticate(account.dn, "wrong").locked
    backend.lock_by_failures(account.dn)
    result = backend.directory.authenticate(account.dn, account.password)
    assert not result.ok and result.locked


def test_expired_with_grace_logins_left(backend: Backend) -> None:
    account = backend.account(policy="expiring-with-grace")
    backend.directory.set_password(account.dn, NEW)
    backend.age_password(account.dn, 7200)
    result = backend.directory.authenticate(account.dn, NEW)
    assert result.ok and result.grace_left == 2  # this bind used one of the three


def test_expired_without_grace_can_still_change_with_the_old_password(backend: Backend) -> None:
    account = backend.account(policy="expiring-without-grace")
    backend.directory.set_password(account.dn, NEW)
    backend.age_password(account.dn, 7200)
    result = backend.directory.authenticate(account.dn, NEW)
    assert not result.ok and result.expired
    with pytest.raises(InvalidCredentials):
        backend.directory.change_own_password(account.dn, "not-the-old-one", "Another-Passw0rd")
    backend.directory.change_own_password(account.dn, NEW, "Another-Passw0rd")
    assert backend.can_bind(account.dn, "Another-Passw0rd")


def test_change_own_password(backend: Backend) -> None:
    account = backend.account()
    backend.directory.change_own_password(account.dn, account.password, NEW)
    assert backend.can_bind(account.dn, NEW)
    with pytest.raises(InvalidCredentials):
        backend.directory.change_own_password(account.dn, account.password, "Whatever-Passw0rd")
    with pytest.raises(PasswordRefused) as refused:
        backend.directory.change_own_password(account.dn, NEW, account.password)
    assert refused.value.reason is PasswordRefusal.IN_HISTORY


def test_change_own_password_clears_a_forced_change(backend: Backend) -> None:
    account = backend.account()
    backend.directory.set_password(account.dn, NEW, must_change=True)
    backend.directory.change_own_password(account.dn, NEW, "Another-Passw0rd")
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and not entry.must_change


@pytest.mark.parametrize("lock", ["admin", "failures"])
def test_change_own_password_of_a_locked_account_is_refused(backend: Backend, lock: str) -> None:
    account = backend.account()
    if lock == "admin":
        backend.lock_until_admin_unlocks(account.dn)
    else:
        backend.lock_by_failures(account.dn)
    with pytest.raises(PasswordRefused) as refused:
        backend.directory.change_own_password(account.dn, account.password, NEW)
    assert refused.value.reason is PasswordRefusal.LOCKED


# -- recovery data ----------------------------------------------------------------------------


def test_write_recovery_replaces_and_removes(backend: Backend) -> None:
    account = backend.account(mobile="0611111111")
    until = datetime(2027, 1, 1, tzinfo=UTC)
    backend.directory.write_recovery(
        account.dn,
        {"answers": ["sspr1:q:$argon2id$x"], "mobile": ["+33622222222"], "reminder": [until]},
    )
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and entry.answers == ("sspr1:q:$argon2id$x",)
    assert (entry.mobiles, entry.reminder_snoozed_until) == (("+33622222222",), until)
    backend.directory.write_recovery(account.dn, {"answers": [], "mobile": []})
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and (entry.answers, entry.mobiles) == ((), ())
    assert entry.mails == (account.mail,)  # the address stays


def test_write_recovery_adds_the_auxiliary_class(backend: Backend) -> None:
    plain = backend.account(plain=True)
    base = f"ou=people,{backend.suffix}"
    enrolled = [("enrolled", base, "(objectClass=ssprAccount)")]
    assert backend.directory.memberships(plain.dn, enrolled) == set()
    backend.directory.write_recovery(plain.dn, {"answers": ["sspr1:q:$argon2id$x"]})
    assert backend.directory.memberships(plain.dn, enrolled) == {"enrolled"}


def test_write_recovery_of_a_missing_entry_is_refused(backend: Backend) -> None:
    ghost = f"uid=ghost,ou=people,{backend.suffix}"
    for changes in ({"answers": ["sspr1:q:x"]}, {"mobile": ["+33622222222"]}):
        with pytest.raises(DirectoryRefused):
            backend.directory.write_recovery(ghost, changes)  # type: ignore[arg-type]
