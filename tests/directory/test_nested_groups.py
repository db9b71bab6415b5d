"""Nested helpdesk groups through slapd's real memberOf overlay (directory.member_of_attribute).

The contract suite covers the walk over member values (slapd and memory); here the same
questions are answered by reading the memberOf values the overlay keeps.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sspr.demo.data import demo_ldif
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from tests.helpers import FAST_HASHER, accounts_unit_ldif, directory_config_for, new_account

MEMBER_OF = "memberOf"


@pytest.fixture(scope="module")
def member_of_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("memberof"), member_of=True)
    server.start(demo_ldif(server.suffix, FAST_HASHER) + "\n" + accounts_unit_ldif(server.suffix))
    yield server
    server.stop()


@pytest.fixture
def directory(member_of_slapd: Slapd) -> Iterator[LdapDirectory]:
    config = directory_config_for(member_of_slapd, member_of_attribute=MEMBER_OF)
    instance = LdapDirectory(config, member_of_slapd.service_password)
    yield instance
    instance.close()


def group(slapd: Slapd, name: str, *members: str) -> str:
    dn = f"cn={name},ou=groups,{slapd.suffix}"
    lines = [f"dn: {dn}", "objectClass: groupOfNames", f"cn: {name}"]
    slapd.add("\n".join([*lines, *(f"member: {m}" for m in members)]) + "\n")
    return dn


def test_the_overlay_writes_member_of(member_of_slapd: Slapd) -> None:
    member = new_account(member_of_slapd)
    inner = group(member_of_slapd, "mo-check", member.dn)
    assert f"memberOf: {inner}" in member_of_slapd.search(member.dn, "(objectClass=*)", "memberOf")


def test_three_levels_deep_by_member_of(member_of_slapd: Slapd, directory: LdapDirectory) -> None:
    member, other = new_account(member_of_slapd), new_account(member_of_slapd)
    inner = group(member_of_slapd, "mo-inner", member.dn)
    middle = group(member_of_slapd, "mo-middle", inner)
    outer = group(member_of_slapd, "mo-outer", middle)
    assert directory.in_group(member.dn, outer)
    assert directory.in_group(member.dn, inner)
    assert not directory.in_group(other.dn, outer)


def test_a_cycle_by_member_of_ends(member_of_slapd: Slapd, directory: LdapDirectory) -> None:
    member, outsider = new_account(member_of_slapd), new_account(member_of_slapd)
    first = group(member_of_slapd, "mo-first", member.dn)
    second = group(member_of_slapd, "mo-second", first)
    member_of_slapd.modify(f"dn: {first}\nchangetype: modify\nadd: member\nmember: {second}\n")
    assert directory.in_group(member.dn, second)
    assert not directory.in_group(outsider.dn, first)
