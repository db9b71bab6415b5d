"""Fixtures shared by every test: one real slapd per session, fresh accounts per test."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import DirectoryConfig, Settings
from sspr.demo.data import PROFILE_UNITS, demo_ldif
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.range_server import RangeServer
from sspr.demo.run import demo_settings, start_directories
from sspr.demo.slapd import Slapd, ldif_attr, ssha
from sspr.directory.ldap import LdapDirectory
from tests.helpers import (
    FAST_HASHER,
    PASSWORD_ENV,
    Account,
    WebAccount,
    accounts_unit_ldif,
    build_app,
    directory_config_for,
    https_client,
    new_account,
)

WEB_PASSWORD = "Initial-Passw0rd!"
_counter = itertools.count()


def start_slapd(workdir: Path) -> Slapd:
    """A running slapd seeded with the demo users and the unit for test accounts."""
    server = Slapd(workdir)
    server.start(demo_ldif(server.suffix, FAST_HASHER) + "\n" + accounts_unit_ldif(server.suffix))
    return server


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """The session's slapd: demo data plus per-test accounts; never stopped by a test."""
    server = start_slapd(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


@pytest.fixture
def private_slapd(tmp_path: Path) -> Iterator[Slapd]:
    """A slapd of this test's own, for tests that stop, restart or pause the server."""
    server = start_slapd(tmp_path / "slapd")
    yield server
    server.stop()


@pytest.fixture
def account(slapd: Slapd) -> Account:
    """A fresh account under the default policy, unique to this test."""
    return new_account(slapd)


@pytest.fixture
def directory_config(slapd: Slapd, monkeypatch: pytest.MonkeyPatch) -> DirectoryConfig:
    """The session slapd as the service account sees it; the password is in the env."""
    monkeypatch.setenv(PASSWORD_ENV, slapd.service_password)
    return directory_config_for(slapd)


@pytest.fixture
def directory(directory_config: DirectoryConfig, slapd: Slapd) -> Iterator[LdapDirectory]:
    """An LdapDirectory on the session slapd, closed after the test."""
    instance = LdapDirectory(directory_config, slapd.service_password)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def mail_catcher() -> Iterator[tuple[MailCatcher, Outbox]]:
    """A real SMTP server (aiosmtpd) for the whole session."""
    outbox = Outbox()
    catcher = MailCatcher(outbox)
    catcher.start()
    yield catcher, outbox
    catcher.stop()


@pytest.fixture
def outbox(mail_catcher: tuple[MailCatcher, Outbox]) -> Outbox:
    """What this test sent: mails through SMTP, SMS through the Twilio SDK's transport."""
    outbox = mail_catcher[1]
    outbox.mails.clear()
    outbox.sms.clear()
    return outbox


@pytest.fixture
def make_account(slapd: Slapd):  # type: ignore[no-untyped-def]
    """Create an account in a profile's unit, with the given answers."""

    def make(
        profile: str = "usager",
        answers: dict[str, str] | None = None,
        *,
        mail: str | None = None,
        password: str = WEB_PASSWORD,
        mobile: str | None = None,
        extra: str = "",
    ) -> WebAccount:
        login = f"test.user{next(_counter)}.{profile}".replace("-", "")
        dn = f"uid={login},ou={PROFILE_UNITS[profile]},ou=people,{slapd.suffix}"
        mail = mail or f"{login}@example.org"
        lines = [
            f"dn: {dn}",
            "objectClass: inetOrgPerson",
            "objectClass: ssprAccount",
            f"uid: {login}",
            f"cn: Test {login}",
            "givenName: Test",
            f"sn: {login}",
            f"mail: {mail}",
            f"userPassword: {ssha(password)}",
        ]
        if mobile:
            lines.append(f"mobile: {mobile}")
        for qid, answer in (answers or {}).items():
            lines.append(ldif_attr("ssprRecoveryAnswer", FAST_HASHER.store(qid, answer).encode()))
        slapd.add("\n".join(lines) + ("\n" + extra if extra else "") + "\n")
        return WebAccount(login, dn, mail, password)

    return make


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real redis-server that lives as long as the test session."""
    from tests.store.conftest import start_redis, stop_redis

    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    stop_redis(process)


@pytest.fixture
def settings(slapd: Slapd, tmp_path: Path, mail_catcher: tuple[MailCatcher, Outbox]) -> Settings:
    return demo_settings(slapd, tmp_path, "https://motdepasse.example.org", mail_catcher[0].port)


@pytest.fixture
def audit_lines() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def app(settings: Settings, outbox: Outbox, audit_lines: io.StringIO) -> Iterator[Flask]:
    application = build_app(settings, outbox, audit_lines)
    yield application
    application.extensions["sspr"].directory.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return https_client(app)


# Passwords the local range server knows as breached (with their counts).
BREACHED = (("Vacances-Bretagne-2016", 1843), ("Chocolat-Noir-1990!", 57), ("P@ssw0rd", 9_545_824))


@pytest.fixture
def range_server() -> Iterator[RangeServer]:
    """A real HTTP server of the HIBP range protocol on 127.0.0.1, fed BREACHED."""
    server = RangeServer(BREACHED).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slapds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Slapd, Slapd]]:
    """The demo's two directories (the collectivité's, the agents'), one pair per module."""
    first, agents = start_directories(tmp_path_factory.mktemp("two"), FAST_HASHER)
    yield first, agents
    agents.stop()
    first.stop()
