"""Fixtures for the web flow: the app in front of the test slapd, and fresh accounts."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.delivery.sms import TwilioSmsSender
from sspr.demo.outbox import MailCatcher, Outbox, OutboxTransport
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd
from sspr.web.app import create_app

TWILIO_SID = "AC" + "a" * 32


@pytest.fixture
def settings(slapd: Slapd, tmp_path: Path, mail_catcher: tuple[MailCatcher, Outbox]) -> Settings:
    return demo_settings(slapd, tmp_path, "https://motdepasse.example.org", mail_catcher[0].port)


@pytest.fixture
def audit_lines() -> io.StringIO:
    return io.StringIO()


def build_app(settings: Settings, outbox: Outbox, audit_lines: io.StringIO, **given: Any) -> Flask:
    """The app as the demo wires it: SMTP to the catcher, SMS through Twilio's SDK."""
    assert settings.sms is not None
    sender = TwilioSmsSender(
        TWILIO_SID, "test-token", from_number=settings.sms.from_number,
        http_client=OutboxTransport(outbox),
    )  # fmt: skip
    return create_app(
        settings, audit_streams=[audit_lines], sms_sender=sender, testing=True, **given
    )


@pytest.fixture
def app(settings: Settings, outbox: Outbox, audit_lines: io.StringIO) -> Iterator[Flask]:
    application = build_app(settings, outbox, audit_lines)
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


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict[str, str], **kwargs: object):  # type: ignore[no-untyped-def]
    """GET a form, then POST it with its CSRF token and `data`."""
    page = client.get(url, **kwargs)
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)
