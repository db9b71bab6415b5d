"""ResetService on the in-memory directory: the journey, its refusals and partial writes."""

from __future__ import annotations

from typing import Any

import pytest

from sspr.domain.errors import (
    AccountBlocked,
    DirectoryUnavailable,
    FlowExpired,
    PartialWrite,
    PasswordRefusal,
    PasswordRefused,
    WrongAnswer,
)
from tests.domain.conftest import PASSWORD, Domain, MakeDomain
from tests.helpers import Account

GOOD = "Nouveau-Mot2passe!"
ANSWERS = {"birth_city": "Bordeaux"}


def proven_flow(domain: Domain, account: Account) -> str:
    """Identify and answer the question: the flow id, ready for a new password."""
    flow = domain.reset.start(domain.profile("usager"), account.login)
    assert flow.dn == account.dn and flow.channel == "question"
    proven = domain.reset.answer(flow.id, {"birth_city": "bordeaux "})
    assert proven.proven
    return proven.id


def test_a_reset_writes_the_password_audits_notifies_and_ends_the_flow(domain: Domain) -> None:
    account = domain.person(answers=ANSWERS)
    flow_id = proven_flow(domain, account)
    domain.reset.choose_password(flow_id, GOOD, GOOD)
    assert domain.directory.authenticate(account.dn, GOOD).ok
    [changed] = domain.events("password.changed")
    assert (changed["outcome"], changed["user_dn"], changed["cause"]) == (
        "success",
        account.dn,
        None,
    )
    assert changed["channel"] == "question"  # the proofs that led to it
    assert [mail.to for mail in domain.mails()] == [account.mail]
    with pytest.raises(FlowExpired):
        domain.reset.load(flow_id)


def test_an_unknown_account_gets_a_flow_that_leads_nowhere(domain: Domain) -> None:
    flow = domain.reset.start(domain.profile("usager"), "nobody-here")
    assert flow.dn is None and flow.questions
    with pytest.raises(WrongAnswer):
        domain.reset.answer(flow.id, {q: "Bordeaux" for q in flow.questions})
    assert [e["outcome"] for e in domain.events("reset.requested")] == ["no_account"]


def test_wrong_answers_block_the_account(domain: Domain) -> None:
    account = domain.person(answers=ANSWERS)
    profile = domain.profile("usager")
    flow = domain.reset.start(profile, account.login)
    for _ in range(domain.settings.proof_attempts.max_failures - 1):
        with pytest.raises(WrongAnswer):
            domain.reset.answer(flow.id, {"birth_city": "Paris"})
    with pytest.raises(AccountBlocked):
        domain.reset.answer(flow.id, {"birth_city": "Paris"})
    assert domain.reset.proof_block(account.dn) is not None
    with pytest.raises(AccountBlocked):
        domain.reset.start(profile, account.login)


def test_a_proof_dies_when_the_password_changes_before_the_write(domain: Domain) -> None:
    account = domain.person(answers=ANSWERS)
    flow_id = proven_flow(domain, account)
    domain.directory.set_password(account.dn, "Changed-Elsewhere-1")  # at the same instant
    with pytest.raises(FlowExpired):
        domain.reset.choose_password(flow_id, GOOD, GOOD)
    assert domain.directory.authenticate(account.dn, "Changed-Elsewhere-1").ok


def test_a_refused_password_is_audited_and_the_flow_lives_on(domain: Domain) -> None:
    account = domain.person(answers=ANSWERS)
    flow_id = proven_flow(domain, account)
    domain.directory.fail_next(
        "set_password", PasswordRefused(PasswordRefusal.IN_HISTORY, "in history")
    )
    with pytest.raises(PasswordRefused):
        domain.reset.choose_password(flow_id, GOOD, GOOD)
    [refused] = domain.events("password.changed")
    assert (refused["outcome"], refused["cause"]) == ("failure", "in_history")
    assert domain.reset.load(flow_id).proven
    assert domain.directory.authenticate(account.dn, PASSWORD).ok
    domain.reset.choose_password(flow_id, GOOD, GOOD)  # another try goes through


def test_an_outage_changes_nothing_and_keeps_the_flow(domain: Domain) -> None:
    account = domain.person(answers=ANSWERS)
    flow_id = proven_flow(domain, account)
    domain.directory.fail_next("set_password", DirectoryUnavailable("set_password: down"))
    with pytest.raises(DirectoryUnavailable):
        domain.reset.choose_password(flow_id, GOOD, GOOD)
    assert domain.events("password.changed") == [] and not domain.mails()
    assert domain.reset.load(flow_id).proven


def test_a_partial_write_is_reported_as_the_change_it_is(domain: Domain) -> None:
    """The password was written, the must-change flag was not: the user is told the truth."""
    account = domain.person(answers=ANSWERS)
    flow_id = proven_flow(domain, account)
    domain.directory.fail_next(
        "set_password", PartialWrite("password", "must_change", "insufficientAccessRights")
    )
    profile = domain.reset.choose_password(flow_id, GOOD, GOOD)  # no error: it did change
    assert profile.id == "usager"
    assert domain.directory.authenticate(account.dn, GOOD).ok
    [changed] = domain.events("password.changed")
    assert changed["outcome"] == "success" and "must_change not written" in changed["cause"]
    assert [mail.to for mail in domain.mails()] == [account.mail]  # the notice went out
    with pytest.raises(FlowExpired):
        domain.reset.load(flow_id)


def with_temporary_passwords(raw: dict[str, Any]) -> None:
    raw["profiles"][0]["temporary_password"] = True


def test_a_temporary_password_partly_written_is_still_mailed(make_domain: MakeDomain) -> None:
    domain = make_domain(with_temporary_passwords)
    account = domain.person(answers=ANSWERS)
    flow_id = proven_flow(domain, account)
    domain.directory.fail_next("set_password", PartialWrite("password", "must_change", "x"))
    domain.reset.send_temporary_password(flow_id)
    [mail] = domain.mails()
    [changed] = domain.events("password.changed")
    assert changed["cause"] == "temporary: must_change not written"
    entry = domain.directory.read_user(account.dn)
    assert entry is not None and not entry.must_change  # as the audit line says
    assert not domain.directory.authenticate(account.dn, PASSWORD).ok
    assert mail.to == account.mail


def test_a_temporary_password_must_be_changed(make_domain: MakeDomain) -> None:
    domain = make_domain(with_temporary_passwords)
    account = domain.person(answers=ANSWERS)
    domain.reset.send_temporary_password(proven_flow(domain, account))
    entry = domain.directory.read_user(account.dn)
    assert entry is not None and entry.must_change


def counted(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directory operations the services make from now on."""
    calls: list[str] = []
    for name in ("find_users", "memberships", "read_user"):
        real = getattr(domain.directory, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(domain.directory, name, spy)
    return calls


def with_usager_filter(raw: dict[str, Any]) -> None:
    raw["profiles"][0]["filter"] = "(givenName=Test)"


def test_a_profile_apart_is_identified_by_one_search_with_its_filter(
    make_domain: MakeDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = make_domain(with_usager_filter)
    usager, profile = domain.person(answers=ANSWERS), domain.profile("usager")
    outside = usager.dn.replace(usager.login, "sans-prenom")
    domain.directory.add(outside, {"objectClass": ["inetOrgPerson"], "uid": ["sans-prenom"]})
    assert domain.rules.apart(profile)
    calls = counted(domain, monkeypatch)
    for identifier, expected in ((usager.login, usager.dn), ("sans-prenom", None), ("x", None)):
        calls.clear()
        entry = domain.reset.identify(profile, identifier)
        assert (entry.dn if entry else None) == expected
        assert calls == ["find_users"], identifier


def with_everyone(raw: dict[str, Any]) -> None:
    everyone = dict(raw["profiles"][0], id="tous", base="ou=people,dc=example,dc=org")
    raw["profiles"].append(everyone)


def test_overlapping_profiles_ask_the_server_for_memberships(
    make_domain: MakeDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = make_domain(with_everyone)
    usager, profile = domain.person(answers=ANSWERS), domain.profile("usager")
    assert not domain.rules.apart(profile) and not domain.rules.apart(domain.profile("tous"))
    calls = counted(domain, monkeypatch)
    for identifier in (usager.login, "nobody-here"):
        calls.clear()
        # In both profiles: ambiguous, so no one; an unknown costs the same operations.
        assert domain.reset.identify(profile, identifier) is None
        assert calls == ["find_users", "memberships"], identifier
