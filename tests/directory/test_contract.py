"""The Directory port's contract, held by every backend: slapd (ppolicy) and in memory.

What a test here asserts, the domain may rely on whichever directory is configured. This
module: finding and reading accounts, their state, groups and the helpdesk's operations;
test_contract_passwords.py: passwords, binds and recovery data.
"""

from __future__ import annotations

import uuid

import pytest

from sspr.directory.groups import MAX_DEPTH
from sspr.domain.answers import parse_stored
from sspr.domain.errors import (
    DirectoryRefused,
)
from sspr.domain.ports import IdentifierKind, LockState
from tests.directory.backends import Backend, answer, everyone, fail_binds, group_dn, people
from tests.helpers import FAST_HASHER

NEW = "Brand-New-Passw0rd"
EVERYONE = "(objectClass=*)"


# -- find_users -------------------------------------------------------------------------------


def test_find_by_login_reads_every_field_in_one_search(backend: Backend) -> None:
    account = backend.account(answers=[answer()], mobile="06 12 34 56 78")
    [entry] = backend.directory.find_users(everyone(backend), ["login"], account.login, limit=2)
    assert (entry.dn, entry.login) == (account.dn, account.login)
    assert entry.display_name == f"Test {account.login}"
    assert (entry.mails, entry.mobiles) == ((account.mail,), ("06 12 34 56 78",))
    assert entry.name_parts == ("Test", account.login)
    [stored] = parse_stored(entry.answers)
    assert stored.question_id == "birth_city" and FAST_HASHER.verify(stored, " BORDEAUX ")
    assert entry.lock is LockState.UNLOCKED and not (entry.must_change or entry.disabled)


def test_the_kinds_decide_which_attributes_are_searched(backend: Backend) -> None:
    account = backend.account()
    find, top = backend.directory.find_users, everyone(backend)
    both: list[IdentifierKind] = ["login", "email"]
    assert [e.dn for e in find(top, both, account.login, limit=2)] == [account.dn]
    assert [e.dn for e in find(top, ["email"], account.mail, limit=2)] == [account.dn]
    assert find(top, ["login"], account.mail, limit=2) == []
    assert find(top, ["email"], account.login, limit=2) == []
    assert find(top, ["login"], "", limit=2) == [] and find(top, [], account.login, limit=2) == []


def test_a_filter_within_narrows_the_search_as_a_profile_does(backend: Backend) -> None:
    account = backend.account()
    find, top = backend.directory.find_users, everyone(backend)
    own = f"(uid={account.login})"
    assert [e.dn for e in find(top, ["login"], account.login, limit=2, within=own)] == [account.dn]
    assert find(top, ["login"], account.login, limit=2, within="(uid=someone-else)") == []
    assert find(top, ["login"], account.login, limit=2, within=EVERYONE)[0].dn == account.dn


def test_equality_ignores_case(backend: Backend) -> None:
    account = backend.account()
    [entry] = backend.directory.find_users(
        everyone(backend), ["login"], account.login.upper(), limit=2
    )
    assert entry.dn == account.dn


def test_more_than_limit_returns_limit_entries_without_raising(backend: Backend) -> None:
    shared = f"shared-{uuid.uuid4().hex[:8]}@tests.sspr.test"
    accounts = [backend.account(mail=shared) for _ in range(3)]
    found = backend.directory.find_users(everyone(backend), ["email"], shared, limit=2)
    assert len(found) == 2 and {e.dn for e in found} <= {a.dn for a in accounts}


@pytest.mark.parametrize(
    "value",
    ["*", ")(", "*)(uid=*", "*)(|(uid=*", "\\00", "\x00", "t-*", "*@tests.sspr.test", "\\2a"],
)
def test_filter_injection_finds_nothing(backend: Backend, value: str) -> None:
    backend.account()
    assert backend.directory.find_users(everyone(backend), ["login", "email"], value, limit=5) == []


def test_an_escaped_special_character_still_matches_literally(backend: Backend) -> None:
    odd = backend.account(mail=f"o*dd(1)\\x{uuid.uuid4().hex[:6]}@tests.sspr.test")
    [entry] = backend.directory.find_users(everyone(backend), ["email"], odd.mail, limit=2)
    assert entry.dn == odd.dn


# -- memberships and read_user ----------------------------------------------------------------


def test_memberships_by_base_and_filter(backend: Backend) -> None:
    usager, agent = backend.account("usagers"), backend.account("lycees")
    suffix = backend.suffix
    candidates = [
        ("usager", people(suffix, "usagers"), "(objectClass=inetOrgPerson)"),
        ("agent-lycee", people(suffix, "lycees"), EVERYONE),
        ("everyone", f"ou=people,{suffix}", f"(|(uid={usager.login})(uid={agent.login}))"),
    ]
    assert backend.directory.memberships(usager.dn, candidates) == {"usager", "everyone"}
    assert backend.directory.memberships(agent.dn, candidates) == {"agent-lycee", "everyone"}


def test_memberships_evaluate_presence_and_conjunctions(backend: Backend) -> None:
    bare, enrolled = backend.account(), backend.account(answers=[answer()], mobile="0612345678")
    base = f"ou=people,{backend.suffix}"
    candidates = [
        ("with-mobile", base, "(mobile=*)"),
        ("with-answers", base, "(ssprRecoveryAnswer=*)"),
        ("person", base, f"(&(objectClass=inetOrgPerson)(uid={bare.login}))"),
        ("not-enrolled", base, "(!(ssprRecoveryAnswer=*))"),
    ]
    assert backend.directory.memberships(bare.dn, candidates) == {"person", "not-enrolled"}
    assert backend.directory.memberships(enrolled.dn, candidates) == {
        "with-mobile",
        "with-answers",
    }


def test_memberships_compare_dns_case_insensitively(backend: Backend) -> None:
    account = backend.account("usagers")
    base = f"OU=Usagers, OU=People, {backend.suffix.upper()}"
    assert backend.directory.memberships(account.dn, [("u", base, EVERYONE)]) == {"u"}


def test_memberships_count_only_bases_that_hold_the_dn(backend: Backend) -> None:
    account = backend.account("usagers")
    suffix = backend.suffix
    # Filters that hold every entry: the base alone rules these out.
    candidates = [
        ("elsewhere", people(suffix, "elus"), EVERYONE),
        ("sibling", people(suffix, "usagers2"), EVERYONE),
        ("deeper", f"uid=x,{people(suffix, 'usagers')}", EVERYONE),
        ("everything", people(suffix, "usagers"), EVERYONE),
    ]
    assert backend.directory.memberships(account.dn, candidates) == {"everything"}
    # Every filter is asked, whatever its base (one search each: no timing oracle).
    with pytest.raises(DirectoryRefused):
        backend.directory.memberships(account.dn, [*candidates, ("x", suffix, "(((broken")])


def test_a_broken_filter_is_a_refusal_not_an_outage(backend: Backend) -> None:
    account = backend.account()
    with pytest.raises(DirectoryRefused):
        backend.directory.memberships(account.dn, [("x", backend.suffix, "(objectClass=*")])


def test_read_user_is_what_find_users_returns(backend: Backend) -> None:
    account = backend.account(answers=[answer()], mobile="0612345678")
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and entry.mobiles == ("0612345678",)
    assert (
        entry
        == backend.directory.find_users(everyone(backend), ["login"], account.login, limit=2)[0]
    )


def test_read_user_of_a_missing_or_non_user_entry_is_none(backend: Backend) -> None:
    group = backend.group([backend.account().dn])
    assert backend.directory.read_user(f"uid=nobody,ou=people,{backend.suffix}") is None
    assert backend.directory.read_user(group) is None


# -- password state ---------------------------------------------------------------------------


def test_an_administrative_lock_and_a_forced_change_are_typed(backend: Backend) -> None:
    account = backend.account()
    backend.directory.set_password(account.dn, NEW, must_change=True)
    backend.lock_until_admin_unlocks(account.dn)
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and entry.must_change and entry.locked
    assert (entry.lock, entry.locked_at) == (LockState.UNTIL_ADMIN_UNLOCK, None)


def test_a_lock_after_failed_binds_has_a_time(backend: Backend) -> None:
    account = backend.account()
    backend.lock_by_failures(account.dn)
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and entry.lock is LockState.LOCKED
    assert entry.locked_at is not None and entry.locked_at.tzinfo is not None
    assert not backend.can_bind(account.dn, account.password)


def test_password_changed_at_moves_at_each_change(backend: Backend) -> None:
    account = backend.account()
    backend.directory.set_password(account.dn, NEW)
    # slapd keeps pwdChangedTime to the second: the first change is made a minute older.
    backend.age_password(account.dn, 60)
    first = backend.directory.read_user(account.dn)
    backend.directory.set_password(account.dn, "Another-Passw0rd")
    second = backend.directory.read_user(account.dn)
    assert first is not None and second is not None
    assert first.password_changed_at is not None and second.password_changed_at is not None
    assert second.password_changed_at > first.password_changed_at


# -- the helpdesk console ---------------------------------------------------------------------


def test_search_people_pages_cover_every_match_once(backend: Backend) -> None:
    token = "zq" + uuid.uuid4().hex[:8]
    created = {backend.account(mail=f"{token}{i}@tests.sspr.test").dn.lower() for i in range(5)}
    scopes = [(f"ou=people,{backend.suffix}", EVERYONE), (people(backend.suffix, "tests"), "")]
    seen: list[str] = []
    for page_number in range(3):
        page, more = backend.directory.search_people(token, scopes, offset=page_number * 2, limit=2)
        seen += [entry.dn.lower() for entry in page]
        assert more is (page_number < 2)
    assert sorted(seen) == sorted(created)


def test_in_group_tells_members_from_others(backend: Backend) -> None:
    member, other = backend.account(), backend.account()
    group = backend.group([member.dn])
    assert backend.directory.in_group(member.dn, group)
    assert not backend.directory.in_group(other.dn, group)
    assert not backend.directory.in_group("*", group)
    assert not backend.directory.in_group(member.dn, f"cn=nope,ou=people,{backend.suffix}")


def test_in_group_follows_groups_three_levels_deep(backend: Backend) -> None:
    member, other = backend.account(), backend.account()
    inner = backend.group([member.dn])
    middle = backend.group([inner, other.dn])
    outer = backend.group([middle])
    assert backend.directory.in_group(member.dn, outer)
    assert backend.directory.in_group(other.dn, outer)
    assert not backend.directory.in_group(other.dn, inner)
    assert not backend.directory.in_group(outer, member.dn)


def test_in_group_ends_on_a_cycle(backend: Backend) -> None:
    member, outsider = backend.account(), backend.account()
    first, second = group_dn(backend.suffix), group_dn(backend.suffix)
    backend.group([member.dn, second], dn=first)
    backend.group([first], dn=second)
    assert backend.directory.in_group(member.dn, second)
    assert not backend.directory.in_group(outsider.dn, first)
    assert not backend.directory.in_group(outsider.dn, second)


def test_in_group_gives_up_beyond_the_depth_limit(backend: Backend) -> None:
    member = backend.account()
    chain = [backend.group([member.dn])]
    for _ in range(MAX_DEPTH):
        chain.append(backend.group([chain[-1]]))
    assert backend.directory.in_group(member.dn, chain[MAX_DEPTH - 1])
    assert not backend.directory.in_group(member.dn, chain[MAX_DEPTH])


def test_find_by_attribute_under_a_base(backend: Backend) -> None:
    account = backend.account("staff")
    base = people(backend.suffix, "staff")
    [entry] = backend.directory.find_by_attribute(base, "uid", account.login, limit=2)
    assert entry.dn == account.dn
    assert backend.directory.find_by_attribute(base, "uid", "*", limit=2) == []
    assert backend.directory.find_by_attribute(base, "uid", "t-*", limit=2) == []
    assert backend.directory.find_by_attribute(people(backend.suffix, "elus"), "uid",
                                               account.login, limit=2) == []  # fmt: skip


def test_unlock_clears_a_lock_and_the_failures(backend: Backend) -> None:
    account = backend.account()
    backend.directory.unlock(account.dn)  # nothing to clear: no error
    backend.lock_by_failures(account.dn)
    backend.directory.unlock(account.dn)
    entry = backend.directory.read_user(account.dn)
    assert entry is not None and (entry.lock, entry.locked_at) == (LockState.UNLOCKED, None)
    # The count starts again: four more failures do not lock.
    fail_binds(backend, account.dn, 4)
    assert backend.can_bind(account.dn, account.password)


def test_unlock_clears_an_administrative_lock(backend: Backend) -> None:
    account = backend.account()
    backend.lock_until_admin_unlocks(account.dn)
    backend.directory.unlock(account.dn)
    assert backend.can_bind(account.dn, account.password)


def test_unlock_of_a_missing_entry_is_refused(backend: Backend) -> None:
    with pytest.raises(DirectoryRefused):
        backend.directory.unlock(f"uid=ghost,ou=people,{backend.suffix}")


def test_ping(backend: Backend) -> None:
    backend.directory.ping()
