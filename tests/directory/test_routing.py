"""The router of several directories: what goes where (the contract suite runs it too)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sspr.config import Settings
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.directory.memory import MemoryDirectory
from sspr.directory.routing import RoutingDirectory, open_directory
from sspr.domain.errors import DirectoryRefused, DirectoryUnavailable
from tests.clock import FakeClock
from tests.directory.backends import OTHER_SUFFIX, SUFFIX, MemoryBackend, memory_config

EVERYONE = "(objectClass=*)"
FIRST_PEOPLE = f"ou=people,{SUFFIX}"
OTHER_PEOPLE = f"ou=people,{OTHER_SUFFIX}"
# Staff kept outside the first directory's base_dn, routed by an area of their own.
STAFF = f"ou=staff,{SUFFIX}"


class Two:
    """Two in-memory directories behind a router, each seeded through its own backend."""

    def __init__(self) -> None:
        clock = FakeClock(1_800_000_000.0)
        self.first = MemoryBackend(MemoryDirectory(memory_config(), clock=clock), clock)
        other = MemoryDirectory(memory_config(OTHER_SUFFIX), clock=clock)
        self.other = MemoryBackend(other, clock, suffix=OTHER_SUFFIX)
        areas = [("first", FIRST_PEOPLE), ("other", OTHER_PEOPLE), ("first", STAFF)]
        directories = {"first": self.first.directory, "other": other}
        self.router = RoutingDirectory(directories, areas)


@pytest.fixture
def two() -> Two:
    return Two()


def test_a_dn_belongs_to_its_deepest_area_whatever_its_case_and_spaces(two: Two) -> None:
    assert two.router.name_of(f"uid=a,{FIRST_PEOPLE}") == "first"
    assert two.router.name_of("UID=a , OU=People,DC=Agents, dc=example,dc=org") == "other"
    assert two.router.name_of(f"uid=agent,{STAFF}") == "first"
    assert two.router.name_of(f"uid=x,ou=elsewhere,{SUFFIX}") is None
    assert two.router.name_of("not a dn") is None


def test_each_operation_reaches_the_directory_holding_its_dn(two: Two) -> None:
    mine, theirs = two.first.account(), two.other.account()
    [found] = two.router.find_users(OTHER_PEOPLE, ["login"], theirs.login, limit=2)
    assert found.dn == theirs.dn
    assert two.router.find_users(FIRST_PEOPLE, ["login"], theirs.login, limit=2) == []
    assert two.router.authenticate(theirs.dn, theirs.password).ok
    two.router.set_password(theirs.dn, "Another-Passw0rd")
    assert two.other.can_bind(theirs.dn, "Another-Passw0rd")
    assert two.first.can_bind(mine.dn, mine.password)
    read = two.router.read_user(mine.dn)
    assert read is not None and read.login == mine.login


def test_a_dn_no_directory_holds_is_refused_or_not_found(two: Two) -> None:
    nowhere = f"uid=x,ou=elsewhere,{SUFFIX}"
    with pytest.raises(DirectoryRefused, match="no configured directory holds"):
        two.router.find_users(f"ou=elsewhere,{SUFFIX}", ["login"], "x", limit=2)
    with pytest.raises(DirectoryRefused):
        two.router.set_password(nowhere, "Another-Passw0rd")
    assert two.router.read_user(nowhere) is None
    assert two.router.memberships(nowhere, [("p", FIRST_PEOPLE, EVERYONE)]) == set()
    assert two.router.in_group(nowhere, f"cn=g,{FIRST_PEOPLE}") is False


def test_another_directorys_profile_filters_are_never_sent(two: Two) -> None:
    account = two.other.account()
    candidates = [
        ("first", FIRST_PEOPLE, "(((broken"),  # would raise if it reached a directory
        ("other", OTHER_PEOPLE, EVERYONE),
    ]
    assert two.router.memberships(account.dn, candidates) == {"other"}


def test_an_account_found_in_one_directory_is_never_handed_to_another() -> None:
    # base_dn nested in another's (the demo's layout): an entry the outer directory holds in
    # the inner one's area would be routed, for its reset, to the inner directory's account
    # of the same DN, someone else's.
    clock = FakeClock(1_800_000_000.0)
    first = MemoryDirectory(memory_config(), clock=clock)
    other = MemoryDirectory(memory_config(OTHER_SUFFIX), clock=clock)
    stray = MemoryBackend(first, clock, suffix=OTHER_SUFFIX).account(mail="stray@first.test")
    router = RoutingDirectory(
        {"first": first, "other": other}, [("first", SUFFIX), ("other", OTHER_SUFFIX)]
    )
    assert first.find_users(SUFFIX, ["login"], stray.login, limit=2) != []
    assert router.find_users(SUFFIX, ["login"], stray.login, limit=2) == []
    assert router.find_by_attribute(SUFFIX, "mail", stray.mail, limit=2) == []
    page, more = router.search_people(stray.login, [(SUFFIX, EVERYONE)], offset=0, limit=5)
    assert page == [] and not more


def test_search_pages_run_across_the_directories_in_turn(two: Two) -> None:
    token = "zq" + uuid.uuid4().hex[:8]
    mine = [two.first.account(mail=f"{token}.{i}@first.test") for i in range(3)]
    theirs = [two.other.account(mail=f"{token}.{i}@other.test") for i in range(3)]
    scopes = [(FIRST_PEOPLE, EVERYONE), (OTHER_PEOPLE, EVERYONE)]
    pages = []
    for number in range(4):
        page, more = two.router.search_people(token, scopes, offset=number * 2, limit=2)
        pages.append(([entry.dn for entry in page], more))
    expected = [a.dn for a in mine + theirs]
    assert [dn for page, _ in pages for dn in page] == expected
    assert [more for _, more in pages] == [True, True, False, False]
    page, more = two.router.search_people(token, scopes[1:], offset=0, limit=5)
    assert [e.dn for e in page] == [a.dn for a in theirs] and not more


def test_password_rules_come_from_the_accounts_directory_or_its_base(two: Two) -> None:
    theirs = two.other.account()
    entry = two.router.read_user(theirs.dn)
    rules = two.router.password_rules(entry)
    assert rules is not None and rules.source == f"cn=default,ou=policies,{OTHER_SUFFIX}"
    # No account yet (a decoy, the one-form change): the profile's base chooses.
    before = two.router.password_rules(None, base=f"ou=lycees,{OTHER_PEOPLE}")
    assert before == rules
    mine = two.router.password_rules(None, base=FIRST_PEOPLE)
    assert mine is not None and mine.source == f"cn=default,ou=policies,{SUFFIX}"
    with pytest.raises(DirectoryRefused, match="no account nor base"):
        two.router.password_rules(None)


def test_ping_names_each_directory_that_does_not_answer(two: Two) -> None:
    two.router.ping()
    assert isinstance(two.other.directory, MemoryDirectory)
    two.other.directory.available = False
    with pytest.raises(DirectoryUnavailable, match="other: "):
        two.router.ping()


# -- on two real slapds ------------------------------------------------------------------------


@pytest.fixture
def two_settings(slapds: tuple[Slapd, Slapd], tmp_path: Path) -> Settings:
    first, agents = slapds
    return demo_settings(first, tmp_path, "https://motdepasse.example.org", agents=agents)


def test_two_slapds_behind_one_router(two_settings: Settings, slapds: tuple[Slapd, Slapd]) -> None:
    first, agents = slapds
    passwords = {"collectivite": first.service_password, "agents": agents.service_password}
    router = open_directory(two_settings, passwords)
    assert isinstance(router, RoutingDirectory)
    try:
        router.ping()
        [marc] = router.find_users(
            f"ou=lycees,ou=people,{agents.suffix}", ["login"], "marc.leroy", limit=2
        )
        assert marc.dn == f"uid=marc.leroy,ou=lycees,ou=people,{agents.suffix}"
        scopes = [(p.base, p.filter) for p in two_settings.profiles]
        page, more = router.search_people("demo.sspr.test", scopes, offset=0, limit=4)
        rest, last = router.search_people("demo.sspr.test", scopes, offset=4, limit=4)
        logins = [entry.login for entry in page + rest]
        assert (more, last, len(logins), len(set(logins))) == (True, False, 7, 7)
        assert {"marc.leroy", "sophie.moreau", "jeanne.martin"} <= set(logins)
    finally:
        router.close()


def test_one_directory_is_used_as_it_is(settings: Settings, slapd: Slapd) -> None:
    directory = open_directory(settings, {"default": slapd.service_password})
    assert isinstance(directory, LdapDirectory)
    directory.close()
