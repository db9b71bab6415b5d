"""Secrets: read once at start-up; every missing one is named, none is ever printed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sspr.config import parse_settings
from sspr.config.secrets import MissingSecrets, read_secrets

ROOT = Path(__file__).resolve().parents[2]
KEY = "k" * 40
SID = "AC" + "0" * 32
TOKEN = "f" * 32


@pytest.fixture
def demo_raw() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))


def everything(raw: dict[str, Any]) -> dict[str, Any]:
    """The demo with every secret-bearing part: SMTP login and Redis."""
    raw = copy.deepcopy(raw)
    raw["mail"]["smtp"].update(security="starttls", username="mailer")
    raw["store"] = {"backend": "redis"}
    return raw


FULL_ENV = {
    "SSPR_SECRET_KEY": KEY,
    "SSPR_LDAP_PASSWORD": "ldap-secret",
    "SSPR_REDIS_URL": "redis://:redis-secret@127.0.0.1:6379/0",
    "SSPR_SMTP_PASSWORD": "smtp-secret",
    "SSPR_TWILIO_ACCOUNT_SID": SID,
    "SSPR_TWILIO_AUTH_TOKEN": TOKEN,
}


def test_every_secret_is_read_and_none_is_shown(demo_raw: dict[str, Any]) -> None:
    secrets = read_secrets(parse_settings(everything(demo_raw)), FULL_ENV)
    assert (secrets.secret_key, secrets.ldap_passwords, secrets.smtp_password) == (
        KEY, {"default": "ldap-secret"}, "smtp-secret",
    )  # fmt: skip
    assert (secrets.twilio_account_sid, secrets.twilio_auth_token) == (SID, TOKEN)
    assert secrets.redis_url == FULL_ENV["SSPR_REDIS_URL"]
    assert "secret" not in repr(secrets) and KEY not in repr(secrets)


def test_every_missing_secret_is_named_at_once(demo_raw: dict[str, Any]) -> None:
    with pytest.raises(MissingSecrets) as error:
        read_secrets(parse_settings(everything(demo_raw)), {})
    named = [message.split(" ", 1)[0] for message in error.value.errors]
    assert named == list(FULL_ENV)
    assert error.value.source == "environment"
    assert all(message.endswith("is not set") for message in error.value.errors)


def test_the_names_come_from_the_configuration(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["directory"]["bind_password_env"] = "REGION_LDAP_SECRET"
    with pytest.raises(MissingSecrets) as error:
        read_secrets(parse_settings(raw), {**FULL_ENV, "SSPR_LDAP_PASSWORD": "unused"})
    [message] = error.value.errors
    assert message.startswith("REGION_LDAP_SECRET (the password of cn=sspr")
    assert "named by directory.bind_password_env) is not set" in message


def test_only_configured_parts_need_secrets(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    del raw["sms"]
    raw["profiles"] = [p for p in raw["profiles"] if "sms" not in str(p["channels"])]
    if "helpdesk" in raw:
        del raw["helpdesk"]
    # No SMTP username, SQLite store, no sms section: the key and the LDAP password only.
    env = {"SSPR_SECRET_KEY": KEY, "SSPR_LDAP_PASSWORD": "ldap-secret"}
    secrets = read_secrets(parse_settings(raw), env)
    assert secrets.smtp_password is None
    assert (secrets.twilio_account_sid, secrets.redis_url) == ("", "")


def test_parts_brought_by_the_caller_need_no_secret(demo_raw: dict[str, Any]) -> None:
    settings = parse_settings(everything(demo_raw))
    secrets = read_secrets(settings, {"SSPR_LDAP_PASSWORD": "x"}, parts=["directory"])
    assert secrets.ldap_passwords == {"default": "x"}


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SSPR_SECRET_KEY", "too-short", "is too short: use at least 32 random characters"),
        ("SSPR_LDAP_PASSWORD", " \t ", "is not set"),
        (
            "SSPR_REDIS_URL",
            "127.0.0.1:6379",
            "must start with redis://, rediss://, redis+sentinel://, unix://",
        ),
    ],
)
def test_unusable_values_are_named_never_quoted(
    demo_raw: dict[str, Any], name: str, value: str, problem: str
) -> None:
    with pytest.raises(MissingSecrets) as error:
        read_secrets(parse_settings(everything(demo_raw)), {**FULL_ENV, name: value})
    [message] = error.value.errors
    assert message.startswith(name) and problem in message
    assert not value.strip() or value not in message
