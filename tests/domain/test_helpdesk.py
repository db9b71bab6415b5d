"""HelpdeskService on the in-memory directory: staff login, search, unlock, passwords."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace

import pytest

from sspr.domain.codes import EMAIL_ALPHABET
from sspr.domain.errors import IdentityNotChecked, InvalidCredentials, NotStaff, PartialWrite
from sspr.domain.helpdesk_model import Agent
from sspr.domain.once import seal_key
from sspr.domain.ports import LockState
from tests.domain.conftest import PASSWORD, Domain

CODE = re.compile(rf"\b([{EMAIL_ALPHABET}]{{6}})\b")


def agent(domain: Domain) -> Agent:
    """A logged-in agent, with the session and seal the console derives from its token."""
    staff = domain.staff()
    logged = domain.helpdesk.login(staff.login, PASSWORD)
    token = secrets.token_urlsafe(32)
    return replace(logged, session=token[:16], seal=seal_key(token))


def checked(domain: Domain, who: Agent, dn: str) -> None:
    """Send the caller a code by mail and type it back, as the agent does on the phone."""
    domain.helpdesk.send_identity_code(who, dn, "email")
    match = CODE.search(domain.mails()[-1].text.split("suivant :")[1])
    assert match
    domain.helpdesk.check_identity(who, dn, "email", match.group(1))


def test_staff_log_in_and_others_do_not(domain: Domain) -> None:
    who = agent(domain)
    assert who.login.startswith("agent-")
    with pytest.raises(InvalidCredentials):
        domain.helpdesk.login(who.login, "wrong")
    outsider = domain.person()
    with pytest.raises((InvalidCredentials, NotStaff)):
        domain.helpdesk.login(outsider.login, PASSWORD)


def test_search_finds_accounts_of_the_profiles(domain: Domain) -> None:
    account = domain.person()
    page = domain.helpdesk.search(account.login)
    assert [(found.entry.dn, found.profiles) for found in page.results] == [
        (account.dn, ("usager",))
    ]


def test_unlock_clears_the_lock_and_says_what_it_was(domain: Domain) -> None:
    who, account = agent(domain), domain.person()
    for _ in range(5):
        domain.directory.authenticate(account.dn, "wrong")
    assert domain.helpdesk.summary(account.dn).entry.lock is LockState.LOCKED
    domain.helpdesk.unlock(who, account.dn, "called")
    assert domain.helpdesk.summary(account.dn).entry.lock is LockState.UNLOCKED
    assert domain.directory.authenticate(account.dn, PASSWORD).ok
    [unlocked] = domain.events("helpdesk.unlock")
    assert (unlocked["outcome"], unlocked["state"]) == ("success", "locked")


def test_a_temporary_password_needs_the_identity_check(domain: Domain) -> None:
    who, account = agent(domain), domain.person()
    with pytest.raises(IdentityNotChecked):
        domain.helpdesk.temporary_password(who, account.dn, "called")
    checked(domain, who, account.dn)
    domain.helpdesk.temporary_password(who, account.dn, "called")
    password = domain.helpdesk.reveal_temporary_password(who, account.dn)
    assert password is not None
    result = domain.directory.authenticate(account.dn, password)
    assert result.ok and result.must_change


def test_a_temporary_password_partly_written_is_handed_over_and_audited(domain: Domain) -> None:
    who, account = agent(domain), domain.person()
    checked(domain, who, account.dn)
    domain.directory.fail_next("set_password", PartialWrite("password", "must_change", "x"))
    domain.helpdesk.temporary_password(who, account.dn, "called")
    password = domain.helpdesk.reveal_temporary_password(who, account.dn)
    assert password is not None  # handed over to the agent
    assert domain.directory.authenticate(account.dn, password).ok  # it is the password now
    [line] = domain.events("helpdesk.temporary_password")
    assert (line["outcome"], line["cause"]) == ("success", "must_change not written")
    assert domain.mails()[-1].to == account.mail  # the owner is told
