"""Per-source limits in the web areas: own buckets, IPv6 networks, trusted networks, wording."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.data import DEMO_PASSWORD, DEMO_STAFF
from sspr.demo.outbox import Outbox
from tests.helpers import build_app, https_client, submit

AGENT = next(staff for staff in DEMO_STAFF if staff.helpdesk)


def app_with(settings: Settings, outbox: Outbox, audit: io.StringIO, **rate_limits: Any) -> Flask:
    raw = settings.model_dump(mode="json")
    raw["rate_limits"] = rate_limits
    return build_app(Settings.model_validate(raw), outbox, audit)


def client_at(app: Flask, address: str) -> FlaskClient:
    client = https_client(app)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def identify(client: FlaskClient, identifier: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    return submit(client, "/reset/usager", {"identifier": identifier}, **kwargs)


def test_a_class_behind_one_address_is_not_limited_and_staff_still_log_in(
    settings: Settings, outbox: Outbox
) -> None:
    """35 pupils start together behind one NAT; the helpdesk next door logs in all the same."""
    app = app_with(settings, outbox, io.StringIO())
    school = [client_at(app, "198.51.100.20") for _ in range(35)]
    for number, pupil in enumerate(school):
        assert identify(pupil, f"eleve{number}").status_code == 302
    for number, pupil in enumerate(school):
        page = submit(pupil, "/account/login/usager",
                      {"identifier": f"eleve{number}", "password": "x"})  # fmt: skip
        assert page.status_code == 200  # a wrong password, not a block
    staff = client_at(app, "198.51.100.20")
    page = submit(staff, "/helpdesk/login", {"identifier": AGENT.login, "password": DEMO_PASSWORD})
    assert page.headers["Location"] == "/helpdesk/search"


def test_each_area_has_its_own_bucket(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO
) -> None:
    app = app_with(settings, outbox, audit_lines, reset="3/minute")
    client = client_at(app, "192.0.2.30")
    for number in range(3):
        assert identify(client, f"someone{number}").status_code == 302
    assert identify(client, "someone-else").status_code == 429
    assert '"source_reset"' in audit_lines.getvalue()
    page = submit(client, "/helpdesk/login", {"identifier": AGENT.login, "password": DEMO_PASSWORD})
    assert page.headers["Location"] == "/helpdesk/search"


def test_five_addresses_of_one_ipv6_64_are_limited_together(
    settings: Settings, outbox: Outbox
) -> None:
    app = app_with(settings, outbox, io.StringIO(), reset="4/minute")
    for host in range(1, 5):
        assert identify(client_at(app, f"2001:db8:1:2::{host}"), "x").status_code == 302
    assert identify(client_at(app, "2001:db8:1:2:ffff::5"), "x").status_code == 429
    # The next /64 is another subscriber.
    assert identify(client_at(app, "2001:db8:1:3::1"), "x").status_code == 302


def test_the_ipv6_prefix_is_configurable(settings: Settings, outbox: Outbox) -> None:
    app = app_with(settings, outbox, io.StringIO(), reset="2/minute", ipv6_prefix=56)
    assert identify(client_at(app, "2001:db8:1:201::1"), "x").status_code == 302
    assert identify(client_at(app, "2001:db8:1:2ff::1"), "x").status_code == 302
    assert identify(client_at(app, "2001:db8:1:2aa::1"), "x").status_code == 429


def test_a_trusted_network_gets_the_higher_limit(settings: Settings, outbox: Outbox) -> None:
    app = app_with(
        settings, outbox, io.StringIO(),
        account="2/minute", trusted_networks=["10.20.0.0/16"], trusted_factor=3,
    )  # fmt: skip
    region = client_at(app, "10.20.30.40")
    login = {"identifier": "someone", "password": "x"}
    assert [submit(region, "/account/login/usager", login).status_code for _ in range(7)] == [
        200, 200, 200, 200, 200, 200, 429,
    ]  # fmt: skip
    outside = client_at(app, "203.0.113.40")
    assert [submit(outside, "/account/login/usager", login).status_code for _ in range(3)] == [
        200, 200, 429,
    ]  # fmt: skip


def test_the_block_page_says_it_is_the_address_in_french_and_english(
    settings: Settings, outbox: Outbox
) -> None:
    app = app_with(settings, outbox, io.StringIO(), reset="1/minute")
    french = client_at(app, "192.0.2.50")
    identify(french, "x")
    page = identify(french, "x")
    assert page.status_code == 429
    assert "Trop de demandes depuis votre réseau" in page.text
    assert "Votre compte n'est pas bloqué" in page.text
    assert "Réessayez dans 1 minute." in page.text
    assert "protège votre compte" not in page.text
    english = client_at(app, "192.0.2.50")
    page = identify(english, "x", headers={"Accept-Language": "en"})
    assert page.status_code == 429
    assert "Too many requests from your network" in page.text
    assert "Your account is not blocked" in page.text
    assert "protects your account" not in page.text


def test_the_old_setting_still_limits_each_area(settings: Settings, outbox: Outbox) -> None:
    app = app_with(settings, outbox, io.StringIO(), identify_per_ip_per_minute=2)
    client = client_at(app, "192.0.2.60")
    assert [identify(client, "x").status_code for _ in range(3)] == [302, 302, 429]
    page = submit(client, "/helpdesk/login", {"identifier": AGENT.login, "password": DEMO_PASSWORD})
    assert page.headers["Location"] == "/helpdesk/search"
