"""check-config's AD rows and nested groups in chain, against the real Samba AD DC.

This module waits for the DC fixture of branch `ad` (tests/ad/samba_dc.py, and the
`samba_dc` and `ad_users` fixtures of tests/ad/conftest.py): until that lands on main it
is skipped as a whole, and runs as it is once it has.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

samba_dc_module = pytest.importorskip(
    "tests.ad.samba_dc", reason="the Samba AD DC fixture (branch ad, tests/ad/) is not on main yet"
)

from sspr.config import DirectoryConfig, Profile  # noqa: E402
from sspr.directory.ldap import LdapDirectory  # noqa: E402
from sspr.directory_checks import profile_checks, schema_checks, transport_check  # noqa: E402

AdUsers = samba_dc_module.AdUsers
SambaDC = samba_dc_module.SambaDC


def ad_config(dc: SambaDC, url: str | None = None) -> DirectoryConfig:
    return DirectoryConfig.model_validate(
        {
            "urls": [url or dc.url], "kind": "ad", "tls": {"ca_file": str(dc.ca_file)},
            "bind_dn": dc.service_dn, "base_dn": dc.base_dn, "user_object_class": "user",
            "attributes": {"login": "sAMAccountName", "display_name": "displayName"},
        }
    )  # fmt: skip


def profile(base: str) -> Profile:
    return Profile.model_validate(
        {"id": "agent", "label": {"fr": "Agent"}, "base": base, "channels": ["email"],
         "policy": "agents", "filter": "(objectClass=user)"}
    )  # fmt: skip


@pytest.fixture
def directory(samba_dc: SambaDC) -> Iterator[LdapDirectory]:
    instance = LdapDirectory(ad_config(samba_dc), samba_dc.service_password)
    yield instance
    instance.close()


def name() -> str:
    return f"g{uuid.uuid4().hex[:12]}"


def test_in_chain_three_levels_deep(ad_users: AdUsers, directory: LdapDirectory) -> None:
    member, other = ad_users.create(), ad_users.create()
    inner = ad_users.group(name(), (member.dn,))
    middle = ad_users.group(name(), (inner,))
    outer = ad_users.group(name(), (middle,))
    assert directory.in_group(member.dn, outer)
    assert not directory.in_group(other.dn, outer)


def test_in_chain_with_a_cycle(ad_users: AdUsers, directory: LdapDirectory) -> None:
    member, outsider = ad_users.create(), ad_users.create()
    first = ad_users.group(name(), (member.dn,))
    second = ad_users.group(name(), (first,))
    ad_users.add_member(first, second)
    assert directory.in_group(member.dn, second)
    assert not directory.in_group(outsider.dn, first)


def test_schema_and_rights_where_the_service_account_is_delegated(
    samba_dc: SambaDC, ad_users: AdUsers, directory: LdapDirectory
) -> None:
    ad_users.create()
    config = ad_config(samba_dc)
    assert [row.ok for row in schema_checks(directory, config)] == [True]
    users, rights = profile_checks(directory, config, profile(ad_users.people))
    assert users.ok, users.detail
    assert rights.ok and "lockoutTime" in rights.detail, rights.detail


def test_rights_outside_the_delegation_fail_by_name(
    samba_dc: SambaDC, ad_users: AdUsers, directory: LdapDirectory
) -> None:
    ad_users.create(unit=f"CN=Users,{samba_dc.base_dn}")
    users, rights = profile_checks(
        directory, ad_config(samba_dc), profile(f"CN=Users,{samba_dc.base_dn}")
    )
    assert users.ok
    assert not rights.ok and "may not write lockoutTime" in rights.detail


def test_clear_text_to_the_dc_fails(samba_dc: SambaDC) -> None:
    row = transport_check(ad_config(samba_dc, samba_dc.ldap_url))
    assert not row.ok and "only over TLS" in row.detail
