"""LdapDirectory against a real slapd with ppolicy, writing as the non-root service account."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import BASE, NONE, Connection, Server

from sspr.demo.data import DEMO_ACCOUNTS, demo_ldif
from sspr.demo.slapd import Slapd, SlapdError, free_port, sspr_schema_ldif
from sspr.directory import ldap as ldap_module
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import parse_stored
from sspr.domain.errors import DirectoryUnavailable, PasswordRefusal, PasswordRefused
from sspr.domain.ports import IdentifierKind
from tests.helpers import (
    FAST_HASHER,
    PASSWORD_ENV,
    Account,
    can_bind,
    directory_config_for,
    new_account,
    operational,
)

REPOSITORY = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "Brand-New-Passw0rd"


def demo_dn(slapd: Slapd, login: str) -> str:
    account = next(a for a in DEMO_ACCOUNTS if a.login == login)
    return account.dn(slapd.suffix)


def profile_candidates(slapd: Slapd) -> list[tuple[str, str, str]]:
    """The demo profiles as the domain hands them to memberships()."""
    people = f"ou=people,{slapd.suffix}"
    return [
        ("usager", f"ou=usagers,{people}", "(objectClass=inetOrgPerson)"),
        ("elu", f"ou=elus,{people}", "(objectClass=*)"),
        ("agent-lycee", f"ou=lycees,{people}", "(objectClass=*)"),
        ("agent-siege", f"ou=siege,{people}", "(objectClass=*)"),
    ]


# -- find_users -------------------------------------------------------------------------------


def enrolled_account(slapd: Slapd) -> Account:
    """A fresh account with a mobile and an answer to birth_city ("Bordeaux")."""
    answer = FAST_HASHER.store("birth_city", "Bordeaux").encode()
    return new_account(slapd, answers=(answer,), mobile="06 12 34 56 78")


def test_find_by_login_reads_every_field_in_one_search(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    enrolled = enrolled_account(slapd)
    [entry] = directory.find_users(["login"], enrolled.login, limit=2)
    assert entry.dn == enrolled.dn
    assert entry.login == enrolled.login
    assert entry.display_name == f"Test {enrolled.login}"
    assert entry.mails == (enrolled.mail,)
    assert entry.mobiles == ("06 12 34 56 78",)
    assert entry.name_parts == ("Test", enrolled.login)
    [stored] = parse_stored(entry.answers)
    assert stored.question_id == "birth_city"
    assert FAST_HASHER.verify(stored, "  BORDEAUX ")
    assert (entry.locked, entry.must_change) == (False, False)


def test_find_by_email(directory: LdapDirectory, account: Account) -> None:
    [entry] = directory.find_users(["email"], account.mail, limit=2)
    assert entry.dn == account.dn


def test_the_kinds_decide_which_attributes_are_searched(
    directory: LdapDirectory, account: Account
) -> None:
    both: list[IdentifierKind] = ["login", "email"]
    assert [e.dn for e in directory.find_users(both, account.login, limit=2)] == [account.dn]
    assert [e.dn for e in directory.find_users(both, account.mail, limit=2)] == [account.dn]
    assert directory.find_users(["login"], account.mail, limit=2) == []
    assert directory.find_users(["email"], account.login, limit=2) == []


def test_matching_is_the_servers_case_insensitive_equality(
    directory: LdapDirectory, account: Account
) -> None:
    [entry] = directory.find_users(["login"], account.login.upper(), limit=2)
    assert entry.dn == account.dn


def test_more_than_limit_returns_limit_entries_without_raising(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    shared = f"shared-{time.time_ns()}@tests.sspr.test"
    accounts = [new_account(slapd, mail=shared) for _ in range(3)]
    found = directory.find_users(["email"], shared, limit=2)
    assert len(found) == 2
    assert {e.dn for e in found} <= {a.dn for a in accounts}


def test_empty_value_or_no_kind_finds_nothing_without_a_round_trip(slapd: Slapd) -> None:
    calls: list[str] = []
    config = directory_config_for(slapd)
    directory = LdapDirectory(
        config, slapd.service_password, on_latency=lambda op, _: calls.append(op)
    )
    assert directory.find_users(["login"], "", limit=2) == []
    assert directory.find_users([], "jeanne.martin", limit=2) == []
    assert calls == []


@pytest.mark.parametrize(
    "value",
    ["*", ")(", "*)(uid=*", "*)(|(uid=*", "\\00", "\x00", "jeanne*", "*@demo.sspr.test", "\\2a"],
)
def test_filter_injection_finds_nothing(directory: LdapDirectory, value: str) -> None:
    assert directory.find_users(["login", "email"], value, limit=5) == []


def test_an_escaped_special_character_still_matches_literally(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    odd = new_account(slapd, mail="o*dd(1)\\x@tests.sspr.test")
    [entry] = directory.find_users(["email"], odd.mail, limit=2)
    assert entry.dn == odd.dn


# -- memberships and read_user ----------------------------------------------------------------


def test_memberships_by_base_and_filter(directory: LdapDirectory, slapd: Slapd) -> None:
    candidates = profile_candidates(slapd)
    assert directory.memberships(demo_dn(slapd, "jeanne.martin"), candidates) == {"usager"}
    assert directory.memberships(demo_dn(slapd, "marc.leroy"), candidates) == {"agent-lycee"}


def test_memberships_filter_is_evaluated_by_the_server(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    bare, enrolled = new_account(slapd), enrolled_account(slapd)
    people = f"ou=people,{slapd.suffix}"
    candidates = [
        ("with-mobile", people, "(mobile=*)"),
        ("with-answers", people, "(ssprRecoveryAnswer=*)"),
        ("person", people, f"(&(objectClass=inetOrgPerson)(uid={bare.login}))"),
    ]
    assert directory.memberships(bare.dn, candidates) == {"person"}
    assert directory.memberships(enrolled.dn, candidates) == {"with-mobile", "with-answers"}


def test_memberships_compare_dns_case_insensitively(directory: LdapDirectory, slapd: Slapd) -> None:
    base = f"OU=Usagers, OU=People, {slapd.suffix.upper()}"
    dn = demo_dn(slapd, "lucie.bernard")
    assert directory.memberships(dn, [("usager", base, "(objectClass=inetOrgPerson)")]) == {
        "usager"
    }


def test_memberships_skip_bases_that_do_not_hold_the_dn(slapd: Slapd) -> None:
    calls: list[str] = []
    directory = LdapDirectory(
        directory_config_for(slapd),
        slapd.service_password,
        on_latency=lambda operation, _: calls.append(operation),
    )
    # A broken filter would raise if it were ever sent: the base alone rules these out.
    candidates = [
        ("elsewhere", f"ou=elus,ou=people,{slapd.suffix}", "(((broken"),
        ("sibling", f"ou=usagers2,ou=people,{slapd.suffix}", "(((broken"),
        ("deeper", f"uid=x,ou=usagers,ou=people,{slapd.suffix}", "(((broken"),
        ("everything", f"ou=usagers,ou=people,{slapd.suffix}", "(objectClass=*)"),
    ]
    assert directory.memberships(demo_dn(slapd, "jeanne.martin"), candidates) == {"everything"}
    # Only the one base that holds the DN is asked, even for (objectClass=*): every
    # identification costs the same round trips (see tests/security/test_enumeration.py).
    assert calls == ["memberships"]


def test_read_user(directory: LdapDirectory, slapd: Slapd) -> None:
    enrolled = enrolled_account(slapd)
    entry = directory.read_user(enrolled.dn)
    assert entry is not None
    assert (entry.login, entry.mobiles) == (enrolled.login, ("06 12 34 56 78",))
    assert [a.question_id for a in parse_stored(entry.answers)] == ["birth_city"]
    assert entry == directory.find_users(["login"], enrolled.login, limit=2)[0]


def test_read_user_of_a_missing_or_non_user_entry_is_none(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    assert directory.read_user(f"uid=nobody,ou=people,{slapd.suffix}") is None
    assert directory.read_user(f"ou=people,{slapd.suffix}") is None


def test_an_account_without_answers(directory: LdapDirectory, account: Account) -> None:
    entry = directory.read_user(account.dn)
    assert entry is not None and entry.answers == () and entry.mobiles == ()


def test_read_user_reports_lock_and_reset(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    slapd.modify(
        f"dn: {account.dn}\nchangetype: modify\n"
        "replace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n-\n"
        "replace: pwdReset\npwdReset: TRUE\n"
    )
    entry = directory.read_user(account.dn)
    assert entry is not None
    assert (entry.locked, entry.must_change) == (True, True)


def test_every_demo_account_is_found_with_its_answer(private_slapd: Slapd) -> None:
    # A slapd of its own: other tests may change the shared demo accounts.
    directory = private_directory(private_slapd)
    for demo in DEMO_ACCOUNTS:
        [entry] = directory.find_users(["login", "email"], demo.email, limit=2)
        assert entry.dn == demo.dn(private_slapd.suffix)
        assert can_bind(private_slapd.url, entry.dn, demo.password)
        stored = {a.question_id: a for a in parse_stored(entry.answers)}
        if demo.question_id and demo.answer:
            assert FAST_HASHER.verify(stored.get(demo.question_id), demo.answer)
        else:
            assert stored == {}
    directory.close()


# -- is_current_password ----------------------------------------------------------------------


def test_is_current_password(directory: LdapDirectory, slapd: Slapd, account: Account) -> None:
    before = operational(slapd, account.dn, "+")
    assert directory.is_current_password(account.dn, account.password) is True
    assert directory.is_current_password(account.dn, "Not-The-Passw0rd") is False
    assert directory.is_current_password(account.dn, "abc") is False
    assert directory.is_current_password(account.dn, "") is False
    # Nothing was written and no failure was counted against the account.
    assert operational(slapd, account.dn, "+") == before
    assert can_bind(slapd.url, account.dn, account.password)


def test_is_current_password_of_a_too_young_password(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    young = new_account(slapd, policy="young")
    assert directory.is_current_password(young.dn, young.password) is True
    assert directory.is_current_password(young.dn, NEW_PASSWORD) is False


def test_is_current_password_of_a_missing_entry_is_false(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    assert directory.is_current_password(f"uid=ghost,ou=people,{slapd.suffix}", "x-123456") is False


def test_the_service_account_never_reads_a_password_hash(slapd: Slapd, account: Account) -> None:
    conn = Connection(
        Server(slapd.url, get_info=NONE), slapd.service_dn, slapd.service_password, auto_bind=True
    )
    try:
        directory = LdapDirectory(directory_config_for(slapd), slapd.service_password)
        directory.set_password(account.dn, NEW_PASSWORD)  # so that pwdHistory has a value
        directory.close()
        names = ["userPassword", "pwdHistory", "mail"]
        conn.search(account.dn, "(objectClass=*)", BASE, attributes=names)
        assert conn.response is not None
        attributes = conn.response[0]["raw_attributes"]
        assert attributes["mail"] == [account.mail.encode()]
        assert not attributes.get("userPassword")
        assert not attributes.get("pwdHistory")
        assert operational(slapd, account.dn, "pwdHistory")  # while it does exist
    finally:
        conn.unbind()


# -- set_password -----------------------------------------------------------------------------


def test_set_password(directory: LdapDirectory, slapd: Slapd, account: Account) -> None:
    before = directory.read_user(account.dn)
    directory.set_password(account.dn, NEW_PASSWORD)
    assert operational(slapd, account.dn, "modifiersName") == {"modifiersName": [slapd.service_dn]}
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    assert not can_bind(slapd.url, account.dn, account.password)
    after = directory.read_user(account.dn)
    assert before is not None and after is not None
    assert after.password_changed_at and after.password_changed_at != before.password_changed_at


def test_set_password_keeps_non_ascii_characters_exactly(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    # SASLprep would turn the ligature into "fi" and the no-break space into a space.
    password = "Ex-ﬁ\u00a0Passw0rd-é"
    directory.set_password(account.dn, password)
    assert can_bind(slapd.url, account.dn, password)
    assert directory.is_current_password(account.dn, password) is True


def test_set_password_unlocks_an_account_locked_by_failed_binds(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    for _ in range(5):
        assert not can_bind(slapd.url, account.dn, "wrong-password")
    locked = directory.read_user(account.dn)
    assert locked is not None and locked.locked
    assert not can_bind(slapd.url, account.dn, account.password)

    directory.set_password(account.dn, NEW_PASSWORD)

    entry = directory.read_user(account.dn)
    assert entry is not None and not entry.locked
    assert operational(slapd, account.dn, "pwdFailureTime", "pwdAccountLockedTime") == {}
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_set_password_unlocks_an_administrative_lock(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    slapd.modify(
        f"dn: {account.dn}\nchangetype: modify\n"
        "replace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"
    )
    directory.set_password(account.dn, NEW_PASSWORD)
    entry = directory.read_user(account.dn)
    assert entry is not None and not entry.locked
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_must_change_sets_pwdreset_and_a_later_reset_clears_it(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    directory.set_password(account.dn, NEW_PASSWORD, must_change=True)
    entry = directory.read_user(account.dn)
    assert entry is not None and entry.must_change
    assert operational(slapd, account.dn, "pwdReset") == {"pwdReset": ["TRUE"]}

    directory.set_password(account.dn, "Another-Passw0rd")
    entry = directory.read_user(account.dn)
    assert entry is not None and not entry.must_change
    assert operational(slapd, account.dn, "pwdReset") == {}


def refusal(directory: LdapDirectory, dn: str, password: str) -> PasswordRefusal:
    with pytest.raises(PasswordRefused) as refused:
        directory.set_password(dn, password)
    return refused.value.reason


def test_current_and_previous_passwords_are_in_history(
    directory: LdapDirectory, account: Account
) -> None:
    assert refusal(directory, account.dn, account.password) is PasswordRefusal.IN_HISTORY
    directory.set_password(account.dn, NEW_PASSWORD)
    assert refusal(directory, account.dn, NEW_PASSWORD) is PasswordRefusal.IN_HISTORY
    assert refusal(directory, account.dn, account.password) is PasswordRefusal.IN_HISTORY


def test_too_short_for_ppolicy(directory: LdapDirectory, slapd: Slapd, account: Account) -> None:
    assert refusal(directory, account.dn, "Ab1!") is PasswordRefusal.TOO_SHORT
    assert can_bind(slapd.url, account.dn, account.password)


def test_empty_password_is_refused_before_slapd_could_generate_one(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    assert refusal(directory, account.dn, "") is PasswordRefusal.TOO_SHORT
    assert can_bind(slapd.url, account.dn, account.password)


def test_too_young(directory: LdapDirectory, slapd: Slapd) -> None:
    # ppolicy stamps pwdChangedTime when the entry is added under a policy with a min age.
    young = new_account(slapd, policy="young")
    assert operational(slapd, young.dn, "pwdChangedTime")
    assert refusal(directory, young.dn, NEW_PASSWORD) is PasswordRefusal.TOO_YOUNG
    assert can_bind(slapd.url, young.dn, young.password)


def test_refusal_detail_is_the_servers_text(directory: LdapDirectory, account: Account) -> None:
    with pytest.raises(PasswordRefused) as refused:
        directory.set_password(account.dn, account.password)
    assert refused.value.detail == "Password is not being changed from existing value"


def test_set_password_of_a_missing_entry_is_refused(directory: LdapDirectory, slapd: Slapd) -> None:
    with pytest.raises(PasswordRefused):
        directory.set_password(f"uid=ghost,ou=people,{slapd.suffix}", NEW_PASSWORD)


# -- check-config helpers ---------------------------------------------------------------------


def test_ping_and_count_members(directory: LdapDirectory, slapd: Slapd) -> None:
    directory.ping()
    usagers = f"ou=usagers,ou=people,{slapd.suffix}"
    # Only the demo's own accounts: other tests add theirs to the same unit.
    demo = "(&(objectClass=inetOrgPerson)(mail=*@demo.sspr.test))"
    assert directory.count_members(usagers, demo) == 1
    assert directory.count_members(usagers, demo, limit=10) == 3
    assert directory.count_members(usagers, "(uid=nobody)", limit=10) == 0


def test_count_members_of_a_missing_base_says_so(directory: LdapDirectory, slapd: Slapd) -> None:
    with pytest.raises(DirectoryUnavailable, match="ou=nowhere"):
        directory.count_members(f"ou=nowhere,{slapd.suffix}", "(objectClass=*)")


def test_count_members_with_a_broken_filter_says_so(directory: LdapDirectory) -> None:
    with pytest.raises(DirectoryUnavailable, match="filter"):
        directory.count_members("ou=people,dc=example,dc=org", "(objectClass=*")


def test_ping_with_a_wrong_service_password(slapd: Slapd) -> None:
    directory = LdapDirectory(directory_config_for(slapd), "wrong-password")
    with pytest.raises(DirectoryUnavailable, match="invalid credentials") as error:
        directory.ping()
    assert "wrong-password" not in str(error.value)


def test_an_empty_service_password_is_never_sent(slapd: Slapd) -> None:
    # An empty password would be an anonymous bind that "succeeds" (read_secrets refuses it
    # at start-up; the adapter refuses it too).
    with pytest.raises(DirectoryUnavailable, match=PASSWORD_ENV):
        LdapDirectory(directory_config_for(slapd), "").ping()


def test_repr_holds_no_password(slapd: Slapd) -> None:
    directory = LdapDirectory(directory_config_for(slapd), slapd.service_password)
    directory.ping()
    assert slapd.service_password not in repr(directory)
    directory.close()


def test_latency_hook(slapd: Slapd, account: Account) -> None:
    seen: list[tuple[str, float]] = []
    directory = LdapDirectory(
        directory_config_for(slapd),
        slapd.service_password,
        on_latency=lambda op, seconds: seen.append((op, seconds)),
    )
    directory.find_users(["login"], account.login, limit=2)
    directory.read_user(account.dn)
    directory.set_password(account.dn, NEW_PASSWORD)
    directory.close()
    assert [op for op, _ in seen] == ["find_users", "read_user", "set_password"]
    assert all(0 < seconds < 5 for _, seconds in seen)


# -- connection: reuse, failover, reconnect, timeouts ----------------------------------------


def test_the_connection_is_reused(directory: LdapDirectory, slapd: Slapd, account: Account) -> None:
    directory.find_users(["login"], account.login, limit=2)
    first = directory._conn
    directory.read_user(account.dn)
    directory.set_password(account.dn, NEW_PASSWORD)
    directory.find_users(["email"], account.mail, limit=2)
    assert first is not None and directory._conn is first


def test_failover_to_the_second_url(slapd: Slapd) -> None:
    closed = f"ldap://127.0.0.1:{free_port()}"
    directory = LdapDirectory(
        directory_config_for(slapd, closed, slapd.url), slapd.service_password
    )
    try:
        [entry] = directory.find_users(["login"], "jeanne.martin", limit=2)
        assert entry.login == "jeanne.martin"
    finally:
        directory.close()


@pytest.fixture
def garbage_url() -> Iterator[str]:
    """A TCP server that answers anything with HTTP, as a wrong port would."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"ldap://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    thread.join(5)


def test_a_peer_that_does_not_speak_ldap_is_skipped(slapd: Slapd, garbage_url: str) -> None:
    directory = LdapDirectory(
        directory_config_for(slapd, garbage_url, slapd.url), slapd.service_password
    )
    try:
        [entry] = directory.find_users(["login"], "jeanne.martin", limit=2)
        assert entry.login == "jeanne.martin"
    finally:
        directory.close()


def test_no_url_answers(slapd: Slapd) -> None:
    urls = [f"ldap://127.0.0.1:{free_port()}", f"ldap://127.0.0.1:{free_port()}"]
    directory = LdapDirectory(directory_config_for(slapd, *urls), slapd.service_password)
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match="no directory server answered") as error:
        directory.find_users(["login"], "jeanne.martin", limit=2)
    assert time.monotonic() - started < 2
    assert all(url in str(error.value) for url in urls)


def private_directory(server: Slapd, **overrides: object) -> LdapDirectory:
    return LdapDirectory(directory_config_for(server, **overrides), server.service_password)


def test_reconnects_after_a_restart_for_reads_and_writes(private_slapd: Slapd) -> None:
    directory = private_directory(private_slapd)
    dn = demo_dn(private_slapd, "jeanne.martin")
    assert directory.read_user(dn) is not None
    private_slapd.restart()
    assert directory.read_user(dn) is not None
    private_slapd.restart()
    # The dropped connection is noticed before the write is sent, so the write goes through.
    directory.set_password(dn, NEW_PASSWORD)
    assert can_bind(private_slapd.url, dn, NEW_PASSWORD)
    directory.close()


def test_a_read_on_a_silently_dead_connection_is_retried_once(
    private_slapd: Slapd, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = private_directory(private_slapd)
    dn = demo_dn(private_slapd, "jeanne.martin")
    assert directory.read_user(dn) is not None
    # As if the server vanished without a word (a firewall dropping idle connections).
    monkeypatch.setattr(ldap_module, "_dropped_by_server", lambda conn: False)
    private_slapd.restart()
    assert directory.read_user(dn) is not None
    directory.close()


def test_a_write_on_a_silently_dead_connection_is_not_retried(
    private_slapd: Slapd, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = private_directory(private_slapd)
    dn = demo_dn(private_slapd, "jeanne.martin")
    assert directory.read_user(dn) is not None
    monkeypatch.setattr(ldap_module, "_dropped_by_server", lambda conn: False)
    private_slapd.restart()
    with pytest.raises(DirectoryUnavailable, match="set_password"):
        directory.set_password(dn, NEW_PASSWORD)
    assert can_bind(private_slapd.url, dn, "Demo-Passw0rd!")
    # The broken connection was dropped: the next call reconnects.
    directory.set_password(dn, NEW_PASSWORD)
    assert can_bind(private_slapd.url, dn, NEW_PASSWORD)
    directory.close()


def test_a_stopped_server_is_unavailable_quickly_and_then_recovers(private_slapd: Slapd) -> None:
    directory = private_directory(private_slapd)
    dn = demo_dn(private_slapd, "jeanne.martin")
    assert directory.read_user(dn) is not None
    private_slapd.stop()
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable):
        directory.read_user(dn)
    with pytest.raises(DirectoryUnavailable):
        directory.set_password(dn, NEW_PASSWORD)
    assert time.monotonic() - started < 2
    private_slapd.restart()
    assert directory.read_user(dn) is not None
    directory.close()


def test_a_hung_server_is_bounded_by_the_operation_timeout(private_slapd: Slapd) -> None:
    directory = private_directory(private_slapd, operation_timeout=0.5, connect_timeout=0.5)
    dn = demo_dn(private_slapd, "jeanne.martin")
    assert directory.read_user(dn) is not None
    assert private_slapd.pid is not None
    stop_process(private_slapd.pid)
    try:
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match="read_user"):
            directory.read_user(dn)
        elapsed = time.monotonic() - started
    finally:
        os.kill(private_slapd.pid, signal.SIGCONT)
    # One timeout, no retry against a server that is merely slow.
    assert 0.4 < elapsed < 0.9
    assert directory.read_user(dn) is not None
    directory.close()


def test_a_write_whose_outcome_is_unknown_is_not_retried(private_slapd: Slapd) -> None:
    directory = private_directory(private_slapd, operation_timeout=0.5)
    dn = demo_dn(private_slapd, "jeanne.martin")
    assert directory.read_user(dn) is not None
    assert private_slapd.pid is not None
    stop_process(private_slapd.pid)
    try:
        with pytest.raises(DirectoryUnavailable, match="set_password"):
            directory.set_password(dn, NEW_PASSWORD)
    finally:
        os.kill(private_slapd.pid, signal.SIGCONT)
    directory.close()


def stop_process(pid: int) -> None:
    """SIGSTOP, then wait until the kernel says it is stopped: kill() returns before."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)


@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A slapd with a private CA: StartTLS on its ldap:// URL, and an ldaps:// one."""
    server = Slapd(tmp_path_factory.mktemp("tls-slapd"), tls=True)
    server.start(demo_ldif(server.suffix, FAST_HASHER))
    yield server
    server.stop()


def tls_directory(server: Slapd, url: str | None, **tls: object) -> LdapDirectory:
    config = directory_config_for(server, url or server.url, tls=tls)
    return LdapDirectory(config, server.service_password)


@pytest.mark.parametrize("scheme", ["ldaps", "start_tls"])
def test_tls_with_the_configured_ca(tls_slapd: Slapd, scheme: str) -> None:
    if scheme == "ldaps":
        directory = tls_directory(tls_slapd, tls_slapd.ldaps_url, ca_file=str(tls_slapd.ca_file))
    else:
        directory = tls_directory(tls_slapd, None, start_tls=True, ca_file=str(tls_slapd.ca_file))
    dn = demo_dn(tls_slapd, "sophie.moreau")
    try:
        assert directory.read_user(dn) is not None
        assert directory._conn is not None and isinstance(directory._conn.socket, ssl.SSLSocket)
        directory.set_password(dn, f"Tls-Passw0rd-{scheme}")
    finally:
        directory.close()


def test_tls_refuses_an_unknown_ca(tls_slapd: Slapd) -> None:
    directory = tls_directory(tls_slapd, tls_slapd.ldaps_url)
    with pytest.raises(DirectoryUnavailable, match="certificate verify failed"):
        directory.ping()


def test_tls_without_verification_when_asked(tls_slapd: Slapd) -> None:
    directory = tls_directory(tls_slapd, tls_slapd.ldaps_url, verify=False)
    try:
        directory.ping()
    finally:
        directory.close()


def test_ad_password_writes_need_tls(slapd: Slapd) -> None:
    directory = LdapDirectory(directory_config_for(slapd, kind="ad"), "unused")
    with pytest.raises(DirectoryUnavailable, match="TLS"):
        directory.set_password("CN=x,DC=example,DC=org", "Passw0rd!")
    # AD cannot say whether a password is the current one: its history check will.
    assert directory.is_current_password("CN=x,DC=example,DC=org", "Passw0rd!") is False
    assert directory._conn is None


def test_a_forked_worker_opens_its_own_connection(directory: LdapDirectory) -> None:
    directory.ping()
    inherited = directory._conn
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            [entry] = directory.find_users(["login"], "sophie.moreau", limit=2)
            own = directory._conn is not inherited
            os._exit(0 if entry.login == "sophie.moreau" and own else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's connection survived the child's use of the directory.
    assert directory._conn is inherited
    [entry] = directory.find_users(["login"], "sophie.moreau", limit=2)
    assert entry.login == "sophie.moreau" and directory._conn is inherited


def test_threads_share_one_directory(directory: LdapDirectory) -> None:
    errors: list[BaseException] = []

    def lookup() -> None:
        try:
            for _ in range(20):
                [entry] = directory.find_users(["login"], "sophie.moreau", limit=2)
                assert entry.login == "sophie.moreau"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=lookup) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# -- schema -----------------------------------------------------------------------------------


def test_the_admin_schema_copy_is_identical_to_the_shipped_one() -> None:
    admin_copy = (REPOSITORY / "config" / "ldap" / "sspr-schema.ldif").read_text("utf-8")
    assert admin_copy == sspr_schema_ldif()


def test_slapd_reports_why_it_could_not_start(slapd: Slapd, tmp_path: Path) -> None:
    with pytest.raises(SlapdError, match="Address already in use"):
        Slapd(tmp_path, port=slapd.port).start()
