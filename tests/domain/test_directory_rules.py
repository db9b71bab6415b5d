"""The directory's own policy merged into sspr's (PWM's MERGE: the stricter value wins)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sspr.directory.memory_policy import MemoryPolicy
from sspr.domain.directory_rules import merged
from sspr.domain.errors import PolicyViolations
from sspr.domain.policy import PRESETS, PasswordPolicy, Rule, generate_password
from sspr.domain.ports import DirectoryPasswordRules
from tests.domain.conftest import PASSWORD, Domain
from tests.domain.test_helpdesk import agent, checked
from tests.helpers import Account

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
AD_COMPLEX = DirectoryPasswordRules(
    source="DC=corp", min_length=7, min_classes=3, forbid_user_parts=True, history=24,
    age_and_history_on_resets=False,
)  # fmt: skip


def codes(policy: PasswordPolicy, password: str) -> set[str]:
    return {rule.code for rule in policy.check(password)}


def test_without_directory_rules_the_policy_is_unchanged() -> None:
    policy = PRESETS["websig-ales"]
    assert merged(policy, None, by_user=True) is policy


@pytest.mark.parametrize(("ours", "theirs", "expected"), [(10, 14, 14), (12, 6, 12), (8, 0, 8)])
def test_the_longer_minimum_wins(ours: int, theirs: int, expected: int) -> None:
    rules = DirectoryPasswordRules(source="cn=p", min_length=theirs)
    policy = merged(PasswordPolicy(min_length=ours), rules, by_user=True)
    assert policy.min_length == expected


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [(20, 64, 20), (None, 64, 64), (30, None, 30), (None, None, None)],
)
def test_the_shorter_maximum_wins(
    ours: int | None, theirs: int | None, expected: int | None
) -> None:
    rules = DirectoryPasswordRules(source="cn=p", max_length=theirs)
    assert merged(PasswordPolicy(max_length=ours), rules, by_user=True).max_length == expected


def test_ad_complexity_becomes_three_classes_and_no_user_parts() -> None:
    policy = merged(PRESETS["dgfip"], AD_COMPLEX, by_user=True)
    assert policy.min_classes == 3 and policy.forbid_user_parts
    listed = [rule.code for rule in policy.rules()]
    assert {"min_classes", "no_user_parts", "history"} <= set(listed)
    assert Rule("history", 24) in policy.rules()
    # sspr's own four-class rule is stricter than AD's three: it stays.
    assert merged(PasswordPolicy(min_classes=4), AD_COMPLEX, by_user=True).min_classes == 4


def test_a_passphrase_does_not_waive_the_directorys_classes() -> None:
    cnil = PRESETS["cnil-2022-restricted"].with_changes(min_classes=3)
    phrase = "cheval violet mange sept pommes rouges ce soir"
    assert "min_classes" not in codes(cnil, phrase)  # sspr's CNIL exemption
    # AD knows no passphrase: its complexity must hold whatever the words.
    assert "min_classes" in codes(merged(cnil, AD_COMPLEX, by_user=True), phrase)
    assert "min_classes" not in codes(
        merged(cnil, AD_COMPLEX, by_user=True), "Cheval violet 7 mange"
    )


def test_history_and_age_bind_resets_only_where_the_directory_applies_them() -> None:
    young = NOW - timedelta(minutes=10)
    ppolicy = DirectoryPasswordRules(source="cn=p", history=5, min_age=3600)
    ad = DirectoryPasswordRules(
        source="DC=corp", history=24, min_age=3600, age_and_history_on_resets=False
    )
    reset = merged(PasswordPolicy(), ppolicy, by_user=False, changed_at=young, now=NOW)
    assert reset.history == 5 and reset.not_before == int((young + timedelta(hours=1)).timestamp())
    ad_reset = merged(PasswordPolicy(), ad, by_user=False, changed_at=young, now=NOW)
    assert ad_reset.history == 0 and ad_reset.not_before is None
    ad_change = merged(PasswordPolicy(), ad, by_user=True, changed_at=young, now=NOW)
    assert ad_change.history == 24 and ad_change.not_before is not None


def test_a_password_old_enough_may_change() -> None:
    rules = DirectoryPasswordRules(source="cn=p", min_age=3600)
    old = NOW - timedelta(hours=2)
    assert merged(PasswordPolicy(), rules, by_user=True, changed_at=old, now=NOW).not_before is None
    # No time known: nothing to say.
    assert merged(PasswordPolicy(), rules, by_user=True, now=NOW).not_before is None


def test_too_young_fails_every_password_but_not_the_generator() -> None:
    rules = DirectoryPasswordRules(source="cn=p", min_length=20, min_age=3600)
    policy = merged(PasswordPolicy(), rules, by_user=True, changed_at=NOW, now=NOW)
    assert codes(policy, "A-perfectly-fine-passw0rd-here") == {"too_young"}
    generated = generate_password(policy)
    assert len(generated) >= 20


# -- the services, on the in-memory directory ------------------------------------------------


def policed_person(domain: Domain, policy: MemoryPolicy, profile: str = "usager") -> Account:
    """An account whose pwdPolicySubentry names a policy of its own."""
    base = domain.profile(profile).base
    login = f"t-{uuid.uuid4().hex[:10]}"
    account = Account(f"uid={login},{base}", login, PASSWORD, f"{login}@example.org")
    domain.directory.add(
        account.dn,
        {"objectClass": ["inetOrgPerson", "ssprAccount"], "uid": [login], "cn": [f"Test {login}"],
         "givenName": ["Test"], "sn": [login], "mail": [account.mail],
         "pwdPolicySubentry": ["cn=strict,ou=policies,dc=example,dc=org"]},
        password=PASSWORD, policy=policy,
    )  # fmt: skip
    return account


def test_a_password_sspr_accepts_but_the_directory_would_not_is_refused_before_writing(
    domain: Domain,
) -> None:
    account = policed_person(domain, MemoryPolicy(min_length=14))
    entry = domain.account.entry(account.dn)
    profile = domain.profile("usager")  # WebSIG: 10 characters
    assert domain.reset.policy_for_account(profile, entry, by_user=True).min_length == 14
    twelve = "Abcdefgh!j12"
    assert not domain.reset.policy_for(profile).check(twelve)
    with pytest.raises(PolicyViolations) as refused:
        domain.account.change_password(profile, entry, PASSWORD, twelve, twelve, "fr")
    assert Rule("min_length", 14) in refused.value.failed
    # Nothing was sent to the directory: no refusal audited, the old password still works.
    assert not domain.events("account_password_changed")
    assert domain.directory.authenticate(account.dn, PASSWORD).ok


def test_the_directorys_maximum_and_ours_make_one_length_rule(domain: Domain) -> None:
    account = policed_person(domain, MemoryPolicy(min_length=14, max_length=64), "agent-lycee")
    entry = domain.account.entry(account.dn)
    policy = domain.reset.policy_for_account(domain.profile("agent-lycee"), entry, by_user=False)
    assert Rule("length", (14, 20)) in policy.rules()


def test_a_change_too_soon_is_refused_before_writing_until_the_minimum_age(
    domain: Domain,
) -> None:
    account = policed_person(domain, MemoryPolicy(min_age=3600))
    profile = domain.profile("usager")
    good = "Nouveau-Passw0rd!"
    with pytest.raises(PolicyViolations) as refused:
        entry = domain.account.entry(account.dn)
        domain.account.change_password(profile, entry, PASSWORD, good, good, "fr")
    assert [rule.code for rule in refused.value.failed] == ["too_young"]
    assert domain.directory.authenticate(account.dn, PASSWORD).ok
    domain.clock.advance(3601)
    entry = domain.account.entry(account.dn)
    domain.account.change_password(profile, entry, PASSWORD, good, good, "fr")
    assert domain.directory.authenticate(account.dn, good).ok


def test_the_default_policy_applies_to_accounts_without_their_own(domain: Domain) -> None:
    account = domain.person()
    entry = domain.account.entry(account.dn)
    policy = domain.reset.policy_for_account(domain.profile("usager"), entry, by_user=True)
    # The demo's default ppolicy: history 5; its 6 characters are below WebSIG's 10.
    assert policy.history == 5 and policy.min_length == 10
    assert domain.reset.policy_for_account(domain.profile("usager"), None, by_user=True) == policy


def test_the_helpdesks_temporary_password_meets_the_directorys_policy(domain: Domain) -> None:
    who, account = agent(domain), policed_person(domain, MemoryPolicy(min_length=24))
    checked(domain, who, account.dn)
    domain.helpdesk.temporary_password(who, account.dn, "called")
    password = domain.helpdesk.reveal_temporary_password(who, account.dn)
    # sspr's generator makes 16 characters unless asked more: the directory would refuse them.
    assert password is not None and len(password) >= 24
    assert domain.directory.authenticate(account.dn, password).ok


def test_a_history_says_not_current_too_in_one_rule() -> None:
    ours = PasswordPolicy(min_length=8, not_current=True)
    assert Rule("not_current") in ours.rules()
    with_history = ours.with_changes(history=5)
    listed = [rule.code for rule in with_history.rules()]
    assert listed.count("history") == 1 and "not_current" not in listed
    assert with_history.current_rule() == Rule("history", 5)
    assert ours.current_rule() == Rule("not_current")
