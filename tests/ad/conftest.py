"""One Samba AD DC for the whole session, and a builder of users in given states."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings, parse_settings
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.run import demo_config_path
from tests.ad.samba_dc import AdAccount, AdUsers, SambaDC, SambaError, samba_missing
from tests.helpers import build_app, https_client


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    """A freshly provisioned DC on its own loopback address, stopped by PID at the end."""
    missing = samba_missing()
    if missing:
        pytest.skip(missing)
    dc = SambaDC(tmp_path_factory.mktemp("samba"))
    try:
        dc.start()
    except SambaError:
        dc.stop()
        raise
    yield dc
    dc.stop()


@pytest.fixture
def ad_users(samba_dc: SambaDC) -> AdUsers:
    """Creates AD users (normal, must_change, password_expired, disabled, …) for one test."""
    return AdUsers(samba_dc)


AD_PASSWORD_ENV = "SSPR_TEST_AD_PASSWORD"
AD_POLICY = {"min_length": 10, "min_classes": 3, "not_current": True}


def ad_settings(dc: SambaDC, workdir: Path, smtp_port: int, helpdesk_group: str) -> Settings:
    """The demo's configuration turned to the DC: one AD profile, and the helpdesk on it."""
    raw: dict[str, Any] = yaml.safe_load(demo_config_path().read_text(encoding="utf-8"))
    raw["public_url"] = "https://motdepasse.example.org"
    raw["mail"]["smtp"]["port"] = smtp_port
    raw["store"]["path"] = str(workdir / "store.sqlite3")
    raw["audit"]["file"] = str(workdir / "audit.jsonl")
    raw["directory"] = {
        "urls": [dc.url],
        "kind": "ad",
        "tls": {"ca_file": str(dc.ca_file)},
        "bind_dn": dc.service_dn,
        "bind_password_env": AD_PASSWORD_ENV,
        "base_dn": dc.base_dn,
        "user_object_class": "user",
        "netbios_domain": dc.netbios_domain,
        "connect_timeout": 3,
        "operation_timeout": 10,
        "attributes": {"login": "sAMAccountName", "display_name": "displayName"},
    }
    raw["policies"] = {"agents": AD_POLICY}
    profile = {"policy": "agents", "identifier": ["login", "upn", "email"], "remind_mobile": True}
    raw["profiles"] = [
        {
            "id": "agent",
            "label": {"fr": "Je suis un agent", "en": "I am staff"},
            "base": f"OU=people,{dc.unit}",
            "filter": "(objectClass=user)",
            "channels": ["email"],
            **profile,
        },
        # Users in CN=Users, where the service account was given no right: what a
        # deployment with incomplete delegation meets.
        {
            "id": "sans-droits",
            "label": {"fr": "Sans délégation", "en": "Not delegated"},
            "base": f"CN=Users,{dc.base_dn}",
            "filter": "(objectClass=user)",
            "channels": ["email"],
            **profile,
        },
    ]
    raw["helpdesk"] = {
        "base": f"OU=staff,{dc.unit}",
        "identifier": "sAMAccountName",
        "group_dn": helpdesk_group,
        "temporary_password_requires": "reason",
        "reasons_required": [],
    }
    os.environ[AD_PASSWORD_ENV] = dc.service_password
    return parse_settings(raw, "tests/ad")


@pytest.fixture(scope="session")
def helpdesk_group(samba_dc: SambaDC) -> str:
    """The console's group (global security group; its members are direct members)."""
    return AdUsers(samba_dc).group("sspr-helpdesk")


@pytest.fixture
def ad_app(
    samba_dc: SambaDC,
    helpdesk_group: str,
    tmp_path: Path,
    mail_catcher: tuple[MailCatcher, Outbox],
    outbox: Outbox,
    audit_lines: io.StringIO,
) -> Iterator[Flask]:
    """The app in front of the Samba DC, as a deployment for agents in AD would run it."""
    settings = ad_settings(samba_dc, tmp_path, mail_catcher[0].port, helpdesk_group)
    application = build_app(settings, outbox, audit_lines)
    yield application
    application.extensions["sspr"].directory.close()


@pytest.fixture
def ad_client(ad_app: Flask) -> FlaskClient:
    return https_client(ad_app)


@pytest.fixture
def staff(ad_users: AdUsers, helpdesk_group: str) -> AdAccount:
    """A helpdesk agent: in OU=staff and in the console's group."""
    return ad_users.create(unit=f"OU=staff,{ad_users.dc.unit}", groups=(helpdesk_group,))
