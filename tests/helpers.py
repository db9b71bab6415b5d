"""Shared test helpers: throw-away accounts in the test slapd, and direct LDAP checks."""

from __future__ import annotations

import datetime
import io
import ipaddress
import os
import re
import signal
import ssl
import subprocess
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient
from ldap3 import NONE, Connection, Server

from sspr.config import DirectoryConfig, Settings
from sspr.delivery.sms import TwilioSmsSender
from sspr.demo.outbox import Outbox, OutboxTransport
from sspr.demo.slapd import Slapd, SlapdError, ldif_attr
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import AnswerHasher
from sspr.web.app import create_app

# The cheapest argon2id cost the config allows: tests hash, they do not defend.
FAST_HASHER = AnswerHasher(time_cost=1, memory_kib=8192, parallelism=1)
PASSWORD_ENV = "SSPR_TEST_LDAP_PASSWORD"
TWILIO_SID = "AC" + "a" * 32
TEST_UNIT = "tests"
DEFAULT_PASSWORD = "Initial-Passw0rd"


@dataclass(frozen=True)
class Account:
    """A test account: where it is and how to log in."""

    dn: str
    login: str
    password: str
    mail: str


def accounts_base(suffix: str) -> str:
    """The unit that holds the per-test accounts."""
    return f"ou={TEST_UNIT},ou=people,{suffix}"


def accounts_unit_ldif(suffix: str) -> str:
    """Seed for the organisational unit of the per-test accounts."""
    return f"dn: {accounts_base(suffix)}\nobjectClass: organizationalUnit\nou: {TEST_UNIT}\n"


def account_ldif(
    account: Account,
    *,
    policy_dn: str | None = None,
    answers: tuple[str, ...] = (),
    mobile: str | None = None,
) -> str:
    """One inetOrgPerson + ssprAccount entry; ppolicy hashes the cleartext password on add."""
    lines = [
        f"dn: {account.dn}",
        "objectClass: inetOrgPerson",
        "objectClass: ssprAccount",
        f"uid: {account.login}",
        f"cn: Test {account.login}",
        "givenName: Test",
        ldif_attr("sn", account.login),
        f"mail: {account.mail}",
        ldif_attr("userPassword", account.password),
    ]
    lines += [ldif_attr("ssprRecoveryAnswer", answer) for answer in answers]
    if mobile:
        lines.append(ldif_attr("mobile", mobile))
    if policy_dn:
        lines.append(f"pwdPolicySubentry: {policy_dn}")
    return "\n".join(lines) + "\n"


def new_account(
    slapd: Slapd,
    *,
    password: str = DEFAULT_PASSWORD,
    mail: str | None = None,
    policy: str | None = None,
    answers: tuple[str, ...] = (),
    mobile: str | None = None,
) -> Account:
    """Add a uniquely named account under ou=tests and return it."""
    login = f"t-{uuid.uuid4().hex[:10]}"
    account = Account(
        dn=f"uid={login},{accounts_base(slapd.suffix)}",
        login=login,
        password=password,
        mail=mail or f"{login}@tests.sspr.test",
    )
    policy_dn = f"cn={policy},ou=policies,{slapd.suffix}" if policy else None
    slapd.add(account_ldif(account, policy_dn=policy_dn, answers=answers, mobile=mobile))
    return account


def directory_config_for(slapd: Slapd, *urls: str, **overrides: object) -> DirectoryConfig:
    """A DirectoryConfig for the test slapd's service account (password in PASSWORD_ENV)."""
    values: dict[str, object] = {
        "urls": list(urls) or [slapd.url],
        "bind_dn": slapd.service_dn,
        "bind_password_env": PASSWORD_ENV,
        "base_dn": f"ou=people,{slapd.suffix}",
        "connect_timeout": 2.0,
        "operation_timeout": 3.0,
    }
    values.update(overrides)
    return DirectoryConfig.model_validate(values)


def can_bind(url: str, dn: str, password: str) -> bool:
    """Bind as a user with ldap3 directly; bytes skip SASLprep, so the password is exact."""
    exact: Any = password.encode("utf-8")  # ldap3 takes bytes, though its stubs say str
    conn = Connection(Server(url, get_info=NONE), user=dn, password=exact)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


def operational(slapd: Slapd, dn: str, *names: str) -> dict[str, list[str]]:
    """Read attributes (operational ones included) as the rootDN, for assertions."""
    values: dict[str, list[str]] = {}
    for line in slapd.search(dn, "(objectClass=*)", *(names or ("+",))).splitlines():
        name, sep, value = line.partition(": ")
        if sep and not line.startswith("dn: "):
            values.setdefault(name, []).append(value)
    return values


@dataclass(frozen=True)
class WebAccount:
    """A test account created for one test."""

    login: str
    dn: str
    mail: str
    password: str


def fetch_when_up(url: str, attempts: int = 100) -> str:
    """GET a page from a server that is starting, retrying for a few seconds."""
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return str(response.read().decode())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def stop_server(server: subprocess.Popen[Any], timeout: float = 10) -> int:
    """Ask a server to stop and return its exit code; one that has not stopped within
    `timeout` is killed with all its processes (none outlives the test) and fails it."""
    server.terminate()
    try:
        return server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        for pid in _descendants(server.pid):
            os.kill(pid, signal.SIGKILL)
        server.kill()
        server.wait()
        raise AssertionError(f"{server.args!r} did not stop within {timeout} s") from None


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        for task in Path(f"/proc/{queue.pop()}/task").glob("*/children"):
            children = [int(child) for child in task.read_text().split()]
            found.extend(children)
            queue.extend(children)
    return found


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for 127.0.0.1, and contexts for both ends."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def self_signed_tls(directory: Path) -> Tls:
    """Write a certificate and key for 127.0.0.1 in `directory`; the client trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return Tls(server=server, client=ssl.create_default_context(cafile=str(cert_file)))


def build_app(settings: Settings, outbox: Outbox, audit_lines: io.StringIO, **given: Any) -> Flask:
    """The app as the demo wires it: SMTP to the catcher, SMS through Twilio's SDK."""
    assert settings.sms is not None
    sender = TwilioSmsSender(
        TWILIO_SID, "test-token", from_number=settings.sms.from_number,
        http_client=OutboxTransport(outbox),
    )  # fmt: skip
    given.setdefault("sms_sender", sender)
    return create_app(settings, audit_streams=[audit_lines], testing=True, **given)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict[str, str], **kwargs: object):  # type: ignore[no-untyped-def]
    """GET a form, then POST it with its CSRF token (and submission id, if any) and `data`."""
    page = client.get(url, **kwargs)
    hidden = {"csrf_token": csrf_token(page.text)}
    submission = re.search(r'name="submission"[^>]*?value="([^"]+)"', page.text)
    if submission:
        hidden["submission"] = submission.group(1)
    return client.post(url, data={**hidden, **data}, **kwargs)


def https_client(app: Flask) -> FlaskClient:
    """A test client speaking https, since the session cookie is Secure."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    # Flask-WTF checks the Referer of https posts; pages send it to their own origin only.
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


def add_policy(slapd: Slapd, name: str, **attributes: str) -> str:
    """A ppolicy entry the session slapd may hold already; returns its name."""
    lines = [f"dn: cn={name},ou=policies,{slapd.suffix}", "objectClass: organizationalRole",
             "objectClass: pwdPolicy", f"cn: {name}", "pwdAttribute: userPassword"]  # fmt: skip
    lines += [f"{key}: {value}" for key, value in attributes.items()]
    try:
        slapd.add("\n".join(lines) + "\n")
    except SlapdError as error:  # an earlier test added it
        if "Already exists (68)" not in str(error):
            raise
    return name


def age_password(slapd: Slapd, dn: str, seconds: float) -> None:
    """Back-date pwdChangedTime as the rootDN (Relax Rules): expiry without waiting."""
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds)
    slapd.modify(
        f"dn: {dn}\nchangetype: modify\n"
        f"replace: pwdChangedTime\npwdChangedTime: {when.strftime('%Y%m%d%H%M%SZ')}\n",
        relax=True,
    )


def lock_out(slapd: Slapd, dn: str) -> None:
    """Fail binds until ppolicy locks the account (5 failures, give or take a collision)."""
    for _ in range(12):
        can_bind(slapd.url, dn, "wrong password")
        if "pwdAccountLockedTime" in slapd.search(dn, "(objectClass=*)", "pwdAccountLockedTime"):
            return
    raise AssertionError(f"{dn} was never locked")


def record_calls(owner: Any, method: str, argument: int) -> list[Any]:
    """Let `owner.method` run as before, recording each call's positional `argument`."""
    calls: list[Any] = []
    original = getattr(owner, method)

    def recorded(*args: Any) -> Any:
        calls.append(args[argument])
        return original(*args)

    setattr(owner, method, recorded)
    return calls


def counting_directory(
    config: DirectoryConfig, password: str, *, ignored: tuple[str, ...] = ()
) -> tuple[LdapDirectory, list[str]]:
    """A directory on the real server, and the list of the port operations it then makes."""
    operations: list[str] = []
    directory = LdapDirectory(
        config, password, on_latency=lambda op, _: None if op in ignored else operations.append(op)
    )
    return directory, operations
