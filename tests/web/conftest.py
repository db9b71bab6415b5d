"""Fixtures for the web flow: the app in front of the test slapd, and fresh accounts."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.data import PROFILE_UNITS
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd, ldif_attr, ssha
from sspr.domain.answers import AnswerHasher
from sspr.web.app import create_app

FAST_HASHER = AnswerHasher(time_cost=1, memory_kib=8192, parallelism=1)
PASSWORD = "Initial-Passw0rd!"
_counter = itertools.count()


@dataclass(frozen=True)
class Account:
    """A test account created for one test."""

    login: str
    dn: str
    mail: str
    password: str


@pytest.fixture
def settings(slapd: Slapd, tmp_path: Path) -> Settings:
    return demo_settings(slapd, tmp_path, "https://motdepasse.example.org")


@pytest.fixture
def audit_lines() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def app(settings: Settings, audit_lines: io.StringIO) -> Iterator[Flask]:
    application = create_app(settings, audit_streams=[audit_lines], testing=True)
    yield application
    application.extensions["sspr"].directory.close()


def https_client(app: Flask) -> FlaskClient:
    """A test client speaking https, since the session cookie is Secure."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    # Flask-WTF checks the Referer of https posts; pages send it to their own origin only.
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return https_client(app)


@pytest.fixture
def make_account(slapd: Slapd):  # type: ignore[no-untyped-def]
    """Create an account in a profile's unit, with the given answers."""

    def make(
        profile: str = "usager",
        answers: dict[str, str] | None = None,
        *,
        mail: str | None = None,
        password: str = PASSWORD,
        extra: str = "",
    ) -> Account:
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
        for qid, answer in (answers or {}).items():
            lines.append(ldif_attr("ssprRecoveryAnswer", FAST_HASHER.store(qid, answer).encode()))
        slapd.add("\n".join(lines) + ("\n" + extra if extra else "") + "\n")
        return Account(login, dn, mail, password)

    return make


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict[str, str], **kwargs: object):  # type: ignore[no-untyped-def]
    """GET a form, then POST it with its CSRF token and `data`."""
    page = client.get(url, **kwargs)
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)
