"""The helpdesk's directory operations against the real slapd, as the service account."""

from __future__ import annotations

import uuid

import pytest

from sspr.demo.data import DEMO_STAFF, helpdesk_group_dn
from sspr.demo.slapd import Slapd, ldif_attr
from sspr.directory.ldap import LdapDirectory
from sspr.domain.ports import LockState
from tests.helpers import FAST_HASHER, Account, accounts_base, can_bind, new_account, operational

EVERYONE = "(objectClass=*)"


def named_account(unit: str, slapd: Slapd, token: str, index: int, cn: str | None = None) -> str:
    """An account in `unit` whose names carry `token`; return its DN."""
    login = f"h-{uuid.uuid4().hex[:8]}"
    dn = f"uid={login},{unit}"
    lines = [
        f"dn: {dn}",
        "objectClass: inetOrgPerson",
        f"uid: {login}",
        ldif_attr("cn", cn or f"Camille {token} {index}"),
        "givenName: Camille",
        ldif_attr("sn", f"{token}{index}"),
        f"mail: {login}@tests.sspr.test",
    ]
    slapd.add("\n".join(lines) + "\n")
    return dn


@pytest.fixture
def token() -> str:
    """A word no other entry holds."""
    return "zq" + uuid.uuid4().hex[:8]


@pytest.fixture
def unit(slapd: Slapd, token: str) -> str:
    """An organisational unit of this test's own: it sees only the accounts it creates."""
    dn = f"ou={token},{accounts_base(slapd.suffix)}"
    slapd.add(f"dn: {dn}\nobjectClass: organizationalUnit\nou: {token}\n")
    return dn


def scope(unit: str) -> list[tuple[str, str]]:
    return [(unit, EVERYONE)]


# -- search_people ------------------------------------------------------------------------------


def test_pages_cover_every_match_once(
    directory: LdapDirectory, slapd: Slapd, token: str, unit: str
) -> None:
    created = {named_account(unit, slapd, token, index).lower() for index in range(5)}
    seen: list[str] = []
    for offset, expected_size, expected_more in ((0, 2, True), (2, 2, True), (4, 1, False)):
        page, more = directory.search_people(token, scope(unit), offset=offset, limit=2)
        assert (len(page), more) == (expected_size, expected_more)
        seen += [entry.dn.lower() for entry in page]
    assert sorted(seen) == sorted(created)


def test_the_same_query_gives_the_same_pages(
    directory: LdapDirectory, slapd: Slapd, token: str, unit: str
) -> None:
    for index in range(4):
        named_account(unit, slapd, token, index)
    first = directory.search_people(token, scope(unit), offset=1, limit=2)
    again = directory.search_people(token, scope(unit), offset=1, limit=2)
    assert [e.dn for e in first[0]] == [e.dn for e in again[0]]


@pytest.mark.parametrize("field", ["login", "mail", "cn", "sn", "givenName"])
def test_search_matches_login_mail_and_names(
    directory: LdapDirectory, slapd: Slapd, token: str, unit: str, field: str
) -> None:
    login = f"{token}-login"
    dn = f"uid={login},{unit}"
    values = {
        "login": login,
        "mail": f"{token}-mail@example.org",
        "cn": f"Prénom {token}-CN",
        "sn": f"{token}-SN",
        "givenName": f"{token}-GIVEN",
    }
    slapd.add(
        f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {values['login']}\n"
        f"{ldif_attr('cn', values['cn'])}\nsn: {values['sn']}\n"
        f"givenName: {values['givenName']}\nmail: {values['mail']}\n"
    )
    # Part of the value, in another case: a case-insensitive substring match.
    part = values[field].split(token, 1)[1].lower()
    query = f"{token}{part}".upper()
    page, more = directory.search_people(query, scope(unit), offset=0, limit=5)
    assert [entry.dn for entry in page] == [dn]
    assert not more


@pytest.mark.parametrize("query", ["*", ")(", "*)(uid=*", "*)(|(objectClass=*", "\\", "\\2a"])
def test_filter_syntax_in_a_query_is_text(
    directory: LdapDirectory, slapd: Slapd, token: str, unit: str, query: str
) -> None:
    named_account(unit, slapd, token, 1)
    page, _ = directory.search_people(query, scope(unit), offset=0, limit=50)
    assert page == []
    # Glued to a real name, it still matches nothing extra.
    page, _ = directory.search_people(token + query, scope(unit), offset=0, limit=50)
    assert page == []


def test_a_star_finds_only_names_that_hold_one(
    directory: LdapDirectory, slapd: Slapd, token: str, unit: str
) -> None:
    named_account(unit, slapd, token, 1)
    starred = named_account(unit, slapd, token, 2, cn=f"Étoile * {token}")
    page, _ = directory.search_people(f"* {token}", scope(unit), offset=0, limit=50)
    assert [entry.dn for entry in page] == [starred]


def test_results_stay_inside_the_scopes(
    directory: LdapDirectory, slapd: Slapd, token: str, unit: str
) -> None:
    in_tests = named_account(unit, slapd, token, 1)
    people = f"ou=usagers,ou=people,{slapd.suffix}"
    page, _ = directory.search_people(token, [(people, EVERYONE)], offset=0, limit=10)
    assert page == []
    # A scope's filter applies too.
    filtered = [(unit, "(sn=nobody-has-this)")]
    assert directory.search_people(token, filtered, offset=0, limit=10) == ([], False)
    page, _ = directory.search_people(token, scope(unit), offset=0, limit=10)
    assert [entry.dn for entry in page] == [in_tests]


def test_nested_scopes_list_an_entry_once(
    directory: LdapDirectory, slapd: Slapd, token: str, unit: str
) -> None:
    dn = named_account(unit, slapd, token, 1)
    scopes = [*scope(unit), (f"ou=people,{slapd.suffix}", EVERYONE)]
    page, more = directory.search_people(token, scopes, offset=0, limit=10)
    assert ([entry.dn for entry in page], more) == ([dn], False)


def test_results_carry_the_lock_state(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    lock_by_failed_binds(slapd, account)
    tests = [(accounts_base(slapd.suffix), EVERYONE)]
    page, _ = directory.search_people(account.login, tests, offset=0, limit=5)
    assert [entry.locked for entry in page] == [True]
    assert page[0].lock is LockState.LOCKED and page[0].locked_at is not None


# -- unlock -------------------------------------------------------------------------------------


def lock_by_failed_binds(slapd: Slapd, account: Account, failures: int = 5) -> None:
    for _ in range(failures):
        assert not can_bind(slapd.url, account.dn, "wrong-password")


def test_unlock_clears_a_ppolicy_lock(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    lock_by_failed_binds(slapd, account)
    assert set(operational(slapd, account.dn, "pwdFailureTime", "pwdAccountLockedTime")) == {
        "pwdFailureTime",
        "pwdAccountLockedTime",
    }
    assert not can_bind(slapd.url, account.dn, account.password)

    directory.unlock(account.dn)

    assert operational(slapd, account.dn, "pwdFailureTime", "pwdAccountLockedTime") == {}
    entry = directory.read_user(account.dn)
    assert entry is not None and not entry.locked and entry.locked_at is None
    assert can_bind(slapd.url, account.dn, account.password)


def test_unlock_forgets_failures_below_the_limit(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    lock_by_failed_binds(slapd, account, failures=3)
    assert "pwdFailureTime" in operational(slapd, account.dn, "pwdFailureTime")
    directory.unlock(account.dn)
    assert operational(slapd, account.dn, "pwdFailureTime", "pwdAccountLockedTime") == {}
    # The count starts again: four more failures do not lock.
    lock_by_failed_binds(slapd, account, failures=4)
    assert can_bind(slapd.url, account.dn, account.password)


def test_unlock_clears_an_administrative_lock_and_is_harmless_when_unlocked(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    directory.unlock(account.dn)  # nothing to clear: no error
    slapd.modify(
        f"dn: {account.dn}\nchangetype: modify\n"
        "replace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"
    )
    entry = directory.read_user(account.dn)
    assert entry is not None and entry.lock is LockState.UNTIL_ADMIN_UNLOCK
    directory.unlock(account.dn)
    assert operational(slapd, account.dn, "pwdAccountLockedTime") == {}
    assert can_bind(slapd.url, account.dn, account.password)


# -- in_group and find_by_attribute ---------------------------------------------------------


def test_in_group_tells_members_from_others(directory: LdapDirectory, slapd: Slapd) -> None:
    group = helpdesk_group_dn(slapd.suffix)
    member, other = (next(s for s in DEMO_STAFF if s.helpdesk is flag) for flag in (True, False))
    assert directory.in_group(member.dn(slapd.suffix), group)
    assert not directory.in_group(other.dn(slapd.suffix), group)
    assert not directory.in_group(member.dn(slapd.suffix), f"cn=nope,ou=groups,{slapd.suffix}")


@pytest.mark.parametrize("dn", ["*", "*)(member=*", "uid=*,ou=staff,dc=example,dc=org"])
def test_in_group_escapes_the_dn(directory: LdapDirectory, slapd: Slapd, dn: str) -> None:
    assert not directory.in_group(dn, helpdesk_group_dn(slapd.suffix))


def test_find_by_attribute_finds_staff_outside_the_people_base(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    staff = DEMO_STAFF[0]
    base = f"ou=staff,{slapd.suffix}"
    [entry] = directory.find_by_attribute(base, "uid", staff.login, limit=2)
    assert entry.dn == staff.dn(slapd.suffix)
    assert entry.display_name == f"{staff.given_name} {staff.surname}"
    assert directory.find_by_attribute(base, "uid", "*", limit=2) == []
    assert directory.find_by_attribute(base, "uid", "agent.*", limit=2) == []
    # Not under the base: not found.
    people = f"ou=people,{slapd.suffix}"
    assert directory.find_by_attribute(people, "uid", staff.login, limit=2) == []


# -- clearing recovery data -------------------------------------------------------------------


def test_clearing_recovery_data_removes_answers_and_mobile(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    answer = FAST_HASHER.store("birth_city", "Bordeaux").encode()
    account = new_account(slapd, answers=(answer,), mobile="+33611223344")
    directory.write_recovery(account.dn, {"answers": [], "mobile": []})
    entry = directory.read_user(account.dn)
    assert entry is not None and (entry.answers, entry.mobiles) == ((), ())
    assert entry.mails == (account.mail,)  # the address stays
    directory.write_recovery(account.dn, {"answers": [], "mobile": []})  # again: no error
