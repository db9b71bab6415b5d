"""What only LdapDirectory does, against a real slapd: the pool, TLS, failover, ACLs.

The port's behaviour, shared with the in-memory directory, is in tests/directory.
"""

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
from sspr.directory import connection as connection_module
from sspr.directory.connection import POOL_SIZE
from sspr.directory.dialects import Dialect
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import parse_stored
from sspr.domain.errors import (
    DirectoryRefused,
    DirectoryUnavailable,
    PartialWrite,
)
from tests.helpers import (
    FAST_HASHER,
    PASSWORD_ENV,
    Account,
    can_bind,
    directory_config_for,
    new_account,
    operational,
    record_calls,
)

REPOSITORY = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "Brand-New-Passw0rd"
# Where the demo accounts live (every slapd here serves the demo suffix).
PEOPLE = "ou=people,dc=example,dc=org"


def demo_dn(slapd: Slapd, login: str) -> str:
    account = next(a for a in DEMO_ACCOUNTS if a.login == login)
    return account.dn(slapd.suffix)


# -- find_users -------------------------------------------------------------------------------


def test_empty_value_or_no_kind_finds_nothing_without_a_round_trip(slapd: Slapd) -> None:
    calls: list[str] = []
    config = directory_config_for(slapd)
    directory = LdapDirectory(
        config, slapd.service_password, on_latency=lambda op, _: calls.append(op)
    )
    assert directory.find_users(PEOPLE, ["login"], "", limit=2) == []
    assert directory.find_users(PEOPLE, [], "jeanne.martin", limit=2) == []
    assert calls == []


# -- memberships and read_user ----------------------------------------------------------------


def test_memberships_cost_one_search_per_candidate_whatever_its_base(slapd: Slapd) -> None:
    directory = LdapDirectory(directory_config_for(slapd), slapd.service_password)
    searches = record_calls(directory, "_search", 2)  # the filters
    candidates = [
        ("elsewhere", f"ou=elus,ou=people,{slapd.suffix}", "(objectClass=*)"),
        ("deeper", f"uid=x,ou=usagers,ou=people,{slapd.suffix}", "(uid=*)"),
        ("everything", f"ou=usagers,ou=people,{slapd.suffix}", "(cn=*)"),
    ]
    assert directory.memberships(demo_dn(slapd, "jeanne.martin"), candidates) == {"everything"}
    # A base that does not hold the DN is asked too, its answer ignored: whichever profiles
    # an account is in, identification costs the same searches (tests/security).
    assert searches == ["(objectClass=*)", "(uid=*)", "(cn=*)"]
    directory.close()


def test_every_demo_account_is_found_with_its_answer(private_slapd: Slapd) -> None:
    # A slapd of its own: other tests may change the shared demo accounts.
    directory = private_directory(private_slapd)
    for demo in DEMO_ACCOUNTS:
        [entry] = directory.find_users(PEOPLE, ["login", "email"], demo.email, limit=2)
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


def test_a_password_written_without_its_flag_is_a_partial_write(
    slapd: Slapd, account: Account
) -> None:
    # On the user's own connection the exop is allowed, the pwdReset modify is not (ACL).
    conn = Connection(Server(slapd.url, get_info=NONE), account.dn, account.password)
    assert conn.bind()
    try:
        with pytest.raises(PartialWrite) as partial:
            Dialect().set_password(conn, account.dn, NEW_PASSWORD, must_change=True)
    finally:
        conn.unbind()
    assert (partial.value.written, partial.value.not_written) == ("password", "must_change")
    assert "insufficientAccessRights" in partial.value.detail
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_an_acl_refusal_is_a_refusal_not_an_outage(slapd: Slapd, account: Account) -> None:
    # telephoneNumber is not among the attributes the service account may write.
    attributes = {"mobile": ["telephoneNumber"]}
    directory = LdapDirectory(
        directory_config_for(slapd, attributes=attributes), slapd.service_password
    )
    try:
        with pytest.raises(DirectoryRefused, match="insufficientAccessRights") as refused:
            directory.write_recovery(account.dn, {"mobile": ["+33611223344"]})
        assert refused.value.operation == "write_recovery"
        directory.ping()  # the connection stays usable
    finally:
        directory.close()


def test_a_bug_is_not_reported_as_an_outage(directory: LdapDirectory) -> None:
    directory.ping()
    [before] = directory.pool.idle()
    with pytest.raises(ZeroDivisionError):
        directory.pool.read("bug", lambda conn: 1 // 0)
    # The connection of a failed action is not trusted again.
    assert before not in directory.pool.idle()
    directory.ping()


# -- check-config helpers ---------------------------------------------------------------------


def test_ping_and_read_entries(directory: LdapDirectory, slapd: Slapd) -> None:
    directory.ping()
    usagers = f"ou=usagers,ou=people,{slapd.suffix}"
    # Only the demo's own accounts: other tests add theirs to the same unit.
    demo = "(&(objectClass=inetOrgPerson)(mail=*@demo.sspr.test))"
    assert len(directory.read_entries(usagers, demo, [], 1)) == 1
    found = directory.read_entries(usagers, demo, ["UID"], 10)
    assert sorted(values["uid"][0] for _, values in found) == [
        "jeanne.martin", "lucie.bernard", "paul.durand"
    ]  # fmt: skip
    assert directory.read_entries(usagers, "(uid=nobody)", [], 10) == []


def test_read_entries_of_a_missing_base_says_so(directory: LdapDirectory, slapd: Slapd) -> None:
    with pytest.raises(DirectoryRefused, match="ou=nowhere"):
        directory.read_entries(f"ou=nowhere,{slapd.suffix}", "(objectClass=*)", [], 1)
    missing = f"ou=nowhere,{slapd.suffix}"
    assert directory.read_entries(missing, "(objectClass=*)", [], 1, missing_ok=True) == []


def test_read_entries_with_a_broken_filter_says_so(directory: LdapDirectory) -> None:
    with pytest.raises(DirectoryRefused, match="filter"):
        directory.read_entries("ou=people,dc=example,dc=org", "(objectClass=*", [], 1)


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
    directory.find_users(PEOPLE, ["login"], account.login, limit=2)
    directory.read_user(account.dn)
    directory.set_password(account.dn, NEW_PASSWORD)
    directory.close()
    assert [op for op, _ in seen] == ["find_users", "read_user", "set_password"]
    assert all(0 < seconds < 5 for _, seconds in seen)


# -- connection: reuse, failover, reconnect, timeouts ----------------------------------------


def test_the_connection_is_reused(directory: LdapDirectory, slapd: Slapd, account: Account) -> None:
    directory.find_users(PEOPLE, ["login"], account.login, limit=2)
    [first] = directory.pool.idle()
    directory.read_user(account.dn)
    directory.set_password(account.dn, NEW_PASSWORD)
    assert first.request is None  # ldap3's copy of the exop, which holds the password: dropped
    directory.find_users(PEOPLE, ["email"], account.mail, limit=2)
    assert directory.pool.idle() == (first,)


def test_user_binds_rebind_one_kept_connection(
    directory: LdapDirectory, slapd: Slapd, account: Account
) -> None:
    assert directory.authenticate(account.dn, account.password).ok
    [kept] = directory.pool.user_idle()
    # The user's password is not kept while it waits, nor the bind request that carried it.
    assert kept.password is None and kept.request is None
    assert kept.extend.standard.who_am_i() == f"dn:{account.dn}"
    other = new_account(slapd)
    assert not directory.authenticate(other.dn, "not-the-password").ok
    # A failed bind leaves the connection anonymous: nobody's rights linger on it.
    assert directory.pool.user_idle() == (kept,) and not kept.extend.standard.who_am_i()
    directory.change_own_password(account.dn, account.password, NEW_PASSWORD)
    assert directory.pool.user_idle() == (kept,) and kept.request is None  # the exop's too
    assert kept not in directory.pool.idle()  # never lent to the service account's work
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_a_kept_user_connection_dropped_by_a_restart_is_replaced(private_slapd: Slapd) -> None:
    directory = private_directory(private_slapd)
    dn = demo_dn(private_slapd, "jeanne.martin")
    password = next(a for a in DEMO_ACCOUNTS if a.login == "jeanne.martin").password
    assert directory.authenticate(dn, password).ok
    [before] = directory.pool.user_idle()
    private_slapd.restart()
    assert directory.authenticate(dn, password).ok
    assert directory.pool.user_idle() != (before,)
    directory.close()


def test_failover_to_the_second_url(slapd: Slapd) -> None:
    closed = f"ldap://127.0.0.1:{free_port()}"
    directory = LdapDirectory(
        directory_config_for(slapd, closed, slapd.url), slapd.service_password
    )
    try:
        [entry] = directory.find_users(PEOPLE, ["login"], "jeanne.martin", limit=2)
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
        [entry] = directory.find_users(PEOPLE, ["login"], "jeanne.martin", limit=2)
        assert entry.login == "jeanne.martin"
    finally:
        directory.close()


def test_no_url_answers(slapd: Slapd) -> None:
    urls = [f"ldap://127.0.0.1:{free_port()}", f"ldap://127.0.0.1:{free_port()}"]
    directory = LdapDirectory(directory_config_for(slapd, *urls), slapd.service_password)
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match="no directory server answered") as error:
        directory.find_users(PEOPLE, ["login"], "jeanne.martin", limit=2)
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
    monkeypatch.setattr(connection_module, "dropped_by_server", lambda conn: False)
    private_slapd.restart()
    assert directory.read_user(dn) is not None
    directory.close()


def test_a_write_on_a_silently_dead_connection_is_not_retried(
    private_slapd: Slapd, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = private_directory(private_slapd)
    dn = demo_dn(private_slapd, "jeanne.martin")
    assert directory.read_user(dn) is not None
    monkeypatch.setattr(connection_module, "dropped_by_server", lambda conn: False)
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


def test_a_user_bind_whose_outcome_is_unknown_is_not_sent_again(private_slapd: Slapd) -> None:
    """A bind that went out unanswered may have counted a failure: binding again elsewhere
    could count one wrong password twice toward the lockout."""
    directory = private_directory(private_slapd, operation_timeout=0.5)
    dn = demo_dn(private_slapd, "jeanne.martin")
    password = next(a for a in DEMO_ACCOUNTS if a.login == "jeanne.martin").password
    assert directory.authenticate(dn, password).ok  # a kept user connection now waits
    opened = record_calls(directory.pool, "_connection", 0)  # the URLs
    assert private_slapd.pid is not None
    stop_process(private_slapd.pid)
    try:
        with pytest.raises(DirectoryUnavailable, match="bind"):
            directory.authenticate(dn, "Not-the-Passw0rd")
    finally:
        os.kill(private_slapd.pid, signal.SIGCONT)
    assert opened == []  # no second bind on a fresh connection
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
        [conn] = directory.pool.idle()
        assert isinstance(conn.socket, ssl.SSLSocket)
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
    assert directory.pool.idle() == ()


def test_a_forked_worker_opens_its_own_connection(directory: LdapDirectory) -> None:
    directory.ping()
    [inherited] = directory.pool.idle()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            [entry] = directory.find_users(PEOPLE, ["login"], "sophie.moreau", limit=2)
            own = inherited not in directory.pool.idle()
            os._exit(0 if entry.login == "sophie.moreau" and own else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's connection survived the child's use of the directory.
    assert directory.pool.idle() == (inherited,)
    [entry] = directory.find_users(PEOPLE, ["login"], "sophie.moreau", limit=2)
    assert entry.login == "sophie.moreau" and directory.pool.idle() == (inherited,)


def test_threads_share_a_small_pool(directory: LdapDirectory) -> None:
    errors: list[BaseException] = []

    def lookup() -> None:
        try:
            for _ in range(20):
                [entry] = directory.find_users(PEOPLE, ["login"], "sophie.moreau", limit=2)
                assert entry.login == "sophie.moreau"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=lookup) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Several connections served the eight threads, never more than the pool's size.
    assert 1 <= len(directory.pool.idle()) <= POOL_SIZE


def test_a_busy_connection_does_not_hold_up_the_others_up_to_the_pools_size(
    directory: LdapDirectory,
) -> None:
    release = threading.Event()
    holding = threading.Semaphore(0)

    def hold(conn: Connection) -> None:
        holding.release()
        release.wait(10)

    holders = [
        threading.Thread(target=directory.pool.read, args=("hold", hold))
        for _ in range(POOL_SIZE - 1)
    ]
    for thread in holders:
        thread.start()
    for _ in holders:
        assert holding.acquire(timeout=10)
    # One slot is left: a lookup goes through while the others are busy.
    [entry] = directory.find_users(PEOPLE, ["login"], "sophie.moreau", limit=2)
    assert entry.login == "sophie.moreau"
    # With every slot taken, the next caller waits for one to come free.
    last = threading.Thread(target=directory.pool.read, args=("hold", hold))
    last.start()
    assert holding.acquire(timeout=10)
    waiting: list[str] = []
    late = threading.Thread(
        target=lambda: waiting.append(
            directory.find_users(PEOPLE, ["login"], "sophie.moreau", limit=2)[0].login
        )
    )
    late.start()
    late.join(0.3)
    assert late.is_alive() and waiting == []
    release.set()
    for thread in [*holders, last, late]:
        thread.join(10)
    assert waiting == ["sophie.moreau"]
    assert len(directory.pool.idle()) == POOL_SIZE


# -- schema -----------------------------------------------------------------------------------


def test_the_admin_schema_copy_is_identical_to_the_shipped_one() -> None:
    admin_copy = (REPOSITORY / "config" / "ldap" / "sspr-schema.ldif").read_text("utf-8")
    assert admin_copy == sspr_schema_ldif()


def test_slapd_reports_why_it_could_not_start(slapd: Slapd, tmp_path: Path) -> None:
    with pytest.raises(SlapdError, match="Address already in use"):
        Slapd(tmp_path, port=slapd.port).start()
