"""DNs compared as LDAP compares them, in pure Python (config, adapters and router share it)."""

from __future__ import annotations

import pytest

from sspr.domain.dn import deepest_base, dn_key, is_within
from sspr.domain.keys import account_subject


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("uid=a,ou=People,dc=Example,dc=org", "UID=A, OU=people , DC=example,DC=ORG"),
        ("cn=Dupont\\, Jean,dc=x", "cn=dupont\\2C jean,dc=x"),
        ("cn=\\C3\\89lus,dc=x", "cn=élus,dc=x"),
        ("cn=a\\ ,dc=x", "cn=a\\20,dc=x"),
    ],
)
def test_case_spaces_and_escapes_are_folded(one: str, other: str) -> None:
    assert dn_key(one) == dn_key(other) is not None


@pytest.mark.parametrize("broken", ["not a dn", "cn=a,", "=a,dc=x", "cn=a\\", "cn=\\ff,dc=x"])
def test_a_broken_dn_has_no_key(broken: str) -> None:
    assert dn_key(broken) is None


def test_the_empty_dn_is_the_root_and_holds_everything() -> None:
    root, entry = dn_key(""), dn_key("uid=a,dc=x")
    assert root == () and entry is not None and is_within(entry, root)


def test_the_deepest_base_wins_and_a_sibling_is_not_under() -> None:
    bases = [("top", "dc=example,dc=org"), ("agents", "ou=agents,dc=example,dc=org")]
    assert deepest_base("uid=a,ou=Agents,dc=example,dc=org", bases) == "agents"
    assert deepest_base("uid=a,ou=agents2,dc=example,dc=org", bases) == "top"
    assert deepest_base("uid=a,dc=other", bases) is None
    assert deepest_base("not a dn", bases) is None


def test_limit_keys_tell_the_directories_apart() -> None:
    dn = "uid=a,ou=people,dc=example,dc=org"
    assert account_subject("agents", dn) != account_subject("collectivite", dn)
    assert account_subject("agents", dn) == account_subject("agents", dn.upper())
