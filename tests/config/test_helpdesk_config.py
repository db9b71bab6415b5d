"""The helpdesk section: optional, validated with every error at once and its path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sspr.config import ConfigError, parse_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_raw() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))


def test_the_demo_has_a_console_and_the_section_is_optional(demo_raw: dict[str, Any]) -> None:
    helpdesk = parse_settings(demo_raw).helpdesk
    assert helpdesk is not None
    assert (helpdesk.idle_timeout_seconds, helpdesk.page_size) == (900, 20)
    assert helpdesk.temporary_password_requires == "identity_check"
    raw = copy.deepcopy(demo_raw)
    del raw["helpdesk"]
    assert parse_settings(raw).helpdesk is None


def test_every_helpdesk_error_is_reported_with_its_path(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["helpdesk"].update(
        identifier="uid)(x",
        filter="memberOf=cn=x",
        idle_timeout_seconds=10,
        temporary_password_requires="nothing",
        reasons_required=["unlock", "reboot"],
        page_size=0,
    )
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    paths = {message.split(":")[0] for message in error.value.errors}
    assert paths == {
        "helpdesk.identifier",
        "helpdesk.filter",
        "helpdesk.idle_timeout_seconds",
        "helpdesk.temporary_password_requires",
        "helpdesk.reasons_required[1]",
        "helpdesk.page_size",
    }
    assert "helpdesk.filter: an LDAP filter must be enclosed in parentheses" in error.value.errors


def test_the_console_needs_an_access_rule(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    del raw["helpdesk"]["group_dn"]
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert error.value.errors == [
        "helpdesk: set group_dn or filter (or both) to say who may use the console"
    ]
    raw["helpdesk"]["filter"] = "(employeeType=support)"
    assert parse_settings(raw).helpdesk is not None


def test_the_identity_sms_must_carry_the_code(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["helpdesk"]["identity_sms_text"] = {"fr": "Rappelez le support."}
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert error.value.errors == ["helpdesk.identity_sms_text: the fr text must contain {code}"]


def test_every_sms_text_must_carry_the_code_in_each_language(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["sms"]["text"] = {"fr": "Code : {code}", "en": "Call us back."}
    raw["helpdesk"]["identity_sms_text"] = {"fr": "Rappelez le support.", "en": "{code}"}
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert error.value.errors == [
        "sms.text: the en text must contain {code}",
        "helpdesk.identity_sms_text: the fr text must contain {code}",
    ]
