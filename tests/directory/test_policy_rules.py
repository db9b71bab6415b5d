"""Reading the directory's own password policy: ppolicy on the real slapd, AD formats, the cache."""

from __future__ import annotations

import uuid

from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.directory.policy_rules import (
    MAX_CACHED_POLICIES,
    RulesCache,
    ad_domain_rules,
    ad_pso_rules,
    domain_root,
    ppolicy_rules,
)
from sspr.domain.ports import DirectoryPasswordRules
from tests.clock import FakeClock
from tests.helpers import Account, add_policy, directory_config_for, new_account


def counted_directory(
    slapd: Slapd, clock: FakeClock, calls: list[str], **config: object
) -> LdapDirectory:
    return LdapDirectory(
        directory_config_for(slapd, **config), slapd.service_password, clock=clock,
        on_latency=lambda operation, _: calls.append(operation),
    )  # fmt: skip


def policed_account(slapd: Slapd, **policy: str) -> tuple[Account, str]:
    """A new account under a new ppolicy entry with these attributes."""
    name = add_policy(slapd, f"p-{uuid.uuid4().hex[:8]}", **policy)
    return new_account(slapd, policy=name), f"cn={name},ou=policies,{slapd.suffix}"


def test_a_policy_is_read_once_per_ttl_whoever_asks(slapd: Slapd) -> None:
    account, dn = policed_account(slapd, pwdMinLength="12", pwdCheckQuality="1")
    other = new_account(slapd, policy=dn.split(",")[0].removeprefix("cn="))
    clock, calls = FakeClock(), []
    directory = counted_directory(slapd, clock, calls, policy_cache_seconds=300)
    try:
        first, second = directory.read_user(account.dn), directory.read_user(other.dn)
        assert first is not None and second is not None
        calls.clear()
        assert directory.password_rules(first) == DirectoryPasswordRules(source=dn, min_length=12)
        assert calls == ["password_rules"]
        # Cached: another account under the same policy costs no round trip.
        assert directory.password_rules(second) is not None
        assert calls == ["password_rules"]
        # A change of the policy is seen once the TTL has passed, not before.
        slapd.modify(f"dn: {dn}\nchangetype: modify\nreplace: pwdMinLength\npwdMinLength: 16\n")
        clock.advance(299)
        assert directory.password_rules(first).min_length == 12  # type: ignore[union-attr]
        clock.advance(2)
        assert directory.password_rules(first).min_length == 16  # type: ignore[union-attr]
        assert calls == ["password_rules", "password_rules"]
    finally:
        directory.close()


def test_a_missing_policy_entry_gives_no_rules(slapd: Slapd) -> None:
    clock, calls = FakeClock(), []
    ghost = f"cn=ghost-{uuid.uuid4().hex[:6]},ou=policies,{slapd.suffix}"
    directory = counted_directory(slapd, clock, calls, default_policy_dn=ghost)
    try:
        assert directory.password_rules(None) is None
        assert directory.password_rules(None) is None
        assert calls == ["password_rules"]  # the absence is kept too
    finally:
        directory.close()


def test_no_default_and_no_policy_named_reads_nothing(slapd: Slapd, account: Account) -> None:
    calls: list[str] = []
    directory = counted_directory(slapd, FakeClock(), calls)
    try:
        entry = directory.read_user(account.dn)
        calls.clear()
        assert directory.password_rules(entry) is None
        assert calls == []
    finally:
        directory.close()


def test_reading_the_policy_can_be_turned_off(slapd: Slapd) -> None:
    account, _ = policed_account(slapd, pwdMinLength="12", pwdCheckQuality="1")
    calls: list[str] = []
    directory = counted_directory(slapd, FakeClock(), calls, read_password_policy=False)
    try:
        assert directory.password_rules(directory.read_user(account.dn)) is None
        assert "password_rules" not in calls
    finally:
        directory.close()


def test_ppolicy_values() -> None:
    values = {"pwdminlength": ("10",), "pwdmaxlength": ("30",), "pwdcheckquality": ("2",),
              "pwdinhistory": ("4",), "pwdminage": ("86400",)}  # fmt: skip
    assert ppolicy_rules("cn=p", values) == DirectoryPasswordRules(
        source="cn=p", min_length=10, max_length=30, history=4, min_age=86400
    )
    unchecked = dict(values, pwdcheckquality=("0",))
    assert ppolicy_rules("cn=p", unchecked).min_length == 0
    assert ppolicy_rules("cn=p", {"pwdminlength": ("x",)}) == DirectoryPasswordRules("cn=p")


def test_ad_domain_policy_values() -> None:
    one_day = str(-864_000_000_000)
    values = {"minpwdlength": ("7",), "pwdproperties": ("1",), "pwdhistorylength": ("24",),
              "minpwdage": (one_day,)}  # fmt: skip
    rules = ad_domain_rules("DC=x", values, on_resets=False)
    assert rules == DirectoryPasswordRules(
        source="DC=x", min_length=7, min_classes=3, forbid_user_parts=True, history=24,
        min_age=86400, age_and_history_on_resets=False,
    )  # fmt: skip
    simple = ad_domain_rules("DC=x", dict(values, pwdproperties=("0",)), on_resets=True)
    assert (simple.min_classes, simple.forbid_user_parts) == (0, False)


def test_ad_pso_values() -> None:
    values = {
        "msds-minimumpasswordlength": ("14",),
        "msds-passwordcomplexityenabled": ("TRUE",),
        "msds-passwordhistorylength": ("5",),
        "msds-minimumpasswordage": ("-36000000000",),  # one hour
    }
    rules = ad_pso_rules("CN=pso", values, on_resets=True)
    assert (rules.min_length, rules.min_classes, rules.history, rules.min_age) == (14, 3, 5, 3600)
    off = ad_pso_rules("CN=pso", dict(values, **{"msds-passwordcomplexityenabled": ("FALSE",)}),
                       on_resets=True)  # fmt: skip
    assert not off.forbid_user_parts


def test_domain_root() -> None:
    assert domain_root("OU=people,OU=sspr,DC=corp,DC=example,DC=org") == "DC=corp,DC=example,DC=org"
    assert domain_root("dc=example,dc=org") == "dc=example,dc=org"
    assert domain_root("o=corp") == "o=corp"
    # An escaped comma is part of its value ("Paris, DC=lycees"), not the end of an item.
    assert domain_root(r"OU=Paris\, DC=lycees,DC=corp,DC=example") == "DC=corp,DC=example"
    assert domain_root(r"OU=a\,DC=x,DC=corp , DC=org") == "DC=corp,DC=org"


def test_the_policy_cache_keeps_a_bounded_number_of_policies() -> None:
    clock = FakeClock()
    cache = RulesCache(clock, ttl=300)
    rules = DirectoryPasswordRules(source="cn=p")
    for index in range(MAX_CACHED_POLICIES * 3):
        # pwdPolicySubentry is an account's attribute: its values must not grow the cache.
        cache.get(f"cn=p{index},ou=policies", lambda: rules)
    assert len(cache) <= MAX_CACHED_POLICIES
    loads: list[str] = []
    last = f"cn=p{MAX_CACHED_POLICIES * 3 - 1},ou=policies"
    cache.get(last, lambda: loads.append(last) or rules)  # type: ignore[func-returns-value]
    assert loads == []  # the most recent policies are the ones kept
