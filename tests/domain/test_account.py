"""AccountService on the in-memory directory: login, password change, recovery data."""

from __future__ import annotations

import pytest

from sspr.domain.errors import (
    DirectoryRefused,
    InvalidCredentials,
    PasswordRefusal,
    PasswordRefused,
)
from tests.domain.conftest import PASSWORD, Domain

GOOD = "Nouveau-Mot2passe!"


def test_login_tells_a_good_password_from_a_wrong_one(domain: Domain) -> None:
    account = domain.person()
    entry, result = domain.account.login(domain.profile("usager"), account.login, PASSWORD)
    assert entry.dn == account.dn and result.ok
    with pytest.raises(InvalidCredentials):
        domain.account.login(domain.profile("usager"), account.login, "wrong")
    with pytest.raises(InvalidCredentials):
        domain.account.login(domain.profile("usager"), "nobody-here", PASSWORD)
    assert [e["outcome"] for e in domain.events("account.login")] == [
        "success",
        "failure",
        "failure",
    ]


def test_login_of_a_locked_account_says_so(domain: Domain) -> None:
    account = domain.person()
    domain.directory.lock_until_admin_unlocks(account.dn)
    with pytest.raises(PasswordRefused) as refused:
        domain.account.login(domain.profile("usager"), account.login, PASSWORD)
    assert refused.value.reason is PasswordRefusal.LOCKED


def test_login_reports_a_forced_change(domain: Domain) -> None:
    account = domain.person()
    domain.directory.set_password(account.dn, "Temporaire-2026!", must_change=True)
    _, result = domain.account.login(domain.profile("usager"), account.login, "Temporaire-2026!")
    assert result.ok and result.must_change
    assert domain.events("account.login")[-1]["cause"] == "must_change"


def test_change_password_writes_audits_and_notifies(domain: Domain) -> None:
    account = domain.person()
    entry = domain.account.entry(account.dn)
    domain.account.change_password(domain.profile("usager"), entry, PASSWORD, GOOD, GOOD, "fr")
    assert domain.directory.authenticate(account.dn, GOOD).ok
    [changed] = domain.events("account.password_changed")
    assert (changed["outcome"], changed["channel"]) == ("success", None)
    assert domain.events("password.changed") == []  # not the end of a reset
    assert [mail.to for mail in domain.mails()] == [account.mail]


def test_change_password_with_a_wrong_old_one_is_audited(domain: Domain) -> None:
    account = domain.person()
    entry = domain.account.entry(account.dn)
    with pytest.raises(InvalidCredentials):
        domain.account.change_password(domain.profile("usager"), entry, "wrong", GOOD, GOOD, "fr")
    [refused] = domain.events("account.password_changed")
    assert (refused["outcome"], refused["cause"]) == ("failure", "invalid_credentials")
    assert domain.directory.authenticate(account.dn, PASSWORD).ok


def test_the_reminder_snooze_is_a_time_in_the_directory(domain: Domain) -> None:
    account = domain.person()
    profile = domain.profile("usager")
    entry = domain.account.entry(account.dn)
    assert domain.account.reminder_due(profile, entry)
    domain.account.snooze_reminder(entry)
    entry = domain.account.entry(account.dn)
    assert entry.reminder_snoozed_until is not None
    assert entry.reminder_snoozed_until.timestamp() > domain.clock.now()
    assert not domain.account.reminder_due(profile, entry)
    days = domain.settings.account.reminder_snooze_days
    domain.clock.advance(days * 86400 + 1)
    assert domain.account.reminder_due(profile, entry)


def test_a_refused_recovery_write_is_not_an_outage(domain: Domain) -> None:
    account = domain.person()
    entry = domain.account.entry(account.dn)
    domain.directory.fail_next(
        "write_recovery", DirectoryRefused("write_recovery", "insufficientAccessRights (50)")
    )
    with pytest.raises(DirectoryRefused):
        domain.account.snooze_reminder(entry)
    assert domain.events("enrolment.changed") == []
