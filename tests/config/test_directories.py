"""Several directories: `directories:` by name, each profile (and the helpdesk) naming one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sspr.config import ConfigError, parse_settings
from sspr.config.secrets import MissingSecrets, read_secrets

ROOT = Path(__file__).resolve().parents[2]
AGENTS_BASE = "ou=people,dc=agents,dc=example,dc=org"
AGENTS = ("agent-lycee", "agent-siege")


@pytest.fixture
def demo_raw() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))


def two(raw: dict[str, Any]) -> dict[str, Any]:
    """The demo with its agents moved to a second directory, as `sspr demo` runs it."""
    raw = copy.deepcopy(raw)
    first = raw.pop("directory")
    agents = {
        **first, "urls": ["ldaps://ad.example.org"], "kind": "ad", "base_dn": AGENTS_BASE,
        "bind_dn": "cn=sspr,ou=services,dc=agents,dc=example,dc=org",
        "bind_password_env": "SSPR_AD_PASSWORD",
    }  # fmt: skip
    raw["directories"] = {"collectivite": first, "agents": agents}
    for profile in raw["profiles"]:
        moved = profile["id"] in AGENTS
        profile["directory"] = "agents" if moved else "collectivite"
        if moved:
            profile["base"] = profile["base"].replace("ou=people,dc=example,dc=org", AGENTS_BASE)
    raw["helpdesk"]["directory"] = "collectivite"
    return raw


def errors_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    return error.value.errors


def test_two_directories_by_name(demo_raw: dict[str, Any]) -> None:
    settings = parse_settings(two(demo_raw))
    assert list(settings.named_directories) == ["collectivite", "agents"]
    assert settings.directory is None
    rules = settings.to_domain()
    assert {p.id: p.directory for p in rules.profiles} == {
        "usager": "collectivite", "elu": "collectivite", "agent-lycee": "agents",
        "agent-siege": "agents", "citoyen": "collectivite",
    }  # fmt: skip
    assert rules.directories == (
        ("collectivite", "ou=people,dc=example,dc=org"),
        ("agents", AGENTS_BASE),
    )
    assert rules.directory_of(f"uid=marc.leroy,ou=lycees,{AGENTS_BASE.upper()}") == "agents"
    # The helpdesk's staff lie outside every base_dn: their own area routes them.
    assert rules.directory_of("uid=agent.support,ou=staff,dc=example,dc=org") == "collectivite"
    assert rules.audit_directory("agent-siege", None) == "agents"


def test_one_directory_is_named_default_and_unchanged(demo_raw: dict[str, Any]) -> None:
    settings = parse_settings(demo_raw)
    assert settings.directory is not None
    assert list(settings.named_directories) == ["default"]
    rules = settings.to_domain()
    assert {p.directory for p in rules.profiles} == {"default"}
    assert rules.directory_of("uid=anyone,dc=elsewhere") == "default"
    # A dump validates again as it was: tests and tools round-trip the settings.
    assert parse_settings(settings.model_dump(mode="json")) == settings


def test_one_directory_may_be_named_by_its_profiles(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["profiles"][0]["directory"] = "default"
    assert parse_settings(raw).to_domain().profiles[0].directory == "default"


def test_one_of_the_two_forms(demo_raw: dict[str, Any]) -> None:
    both = two(demo_raw)
    both["directory"] = demo_raw["directory"]
    assert "directory, directories: set one of the two, not both" in errors_of(both)
    neither = copy.deepcopy(demo_raw)
    del neither["directory"]
    assert errors_of(neither) == [
        "directory: set directory (one directory) or directories (several, by name)"
    ]


def test_each_profile_names_a_known_directory(demo_raw: dict[str, Any]) -> None:
    raw = two(demo_raw)
    del raw["profiles"][0]["directory"]
    raw["profiles"][1]["directory"] = "ad"
    raw["helpdesk"]["directory"] = "nope"
    errors = errors_of(raw)
    assert (
        "profiles[0].directory: required when there are several directories (collectivite, agents)"
    ) in errors
    assert 'profiles[1].directory: unknown directory "ad" (one of collectivite, agents)' in errors
    assert 'helpdesk.directory: unknown directory "nope" (one of collectivite, agents)' in errors


def test_a_profile_base_lies_under_its_directory(demo_raw: dict[str, Any]) -> None:
    raw = two(demo_raw)
    raw["profiles"][2]["directory"] = "collectivite"  # agent-lycee, whose base is the agents'
    assert errors_of(raw) == [
        f'profiles[2].base: "ou=lycees,{AGENTS_BASE}" is not under directory collectivite\'s '
        'base_dn "ou=people,dc=example,dc=org"'
    ]


def test_staff_may_lie_outside_every_base_dn_but_not_in_another_directory(
    demo_raw: dict[str, Any],
) -> None:
    raw = two(demo_raw)
    raw["helpdesk"]["directory"] = "agents"  # ou=staff,dc=example,dc=org: no one else's
    assert parse_settings(raw).to_domain().directory_of("uid=a,ou=staff,dc=example,dc=org") == (
        "agents"
    )
    raw["helpdesk"]["base"] = "ou=staff,ou=people,dc=example,dc=org"
    assert errors_of(raw) == [
        'helpdesk.base: "ou=staff,ou=people,dc=example,dc=org" lies in directory collectivite, '
        "not in agents"
    ]


def test_a_base_inside_another_directorys_base_dn_is_refused(demo_raw: dict[str, Any]) -> None:
    raw = two(demo_raw)
    # The agents' directory now reaches below the first one's base_dn, where usagers live.
    raw["directories"]["agents"]["base_dn"] = "ou=usagers,ou=people,dc=example,dc=org"
    raw["profiles"][0]["directory"] = "collectivite"
    errors = errors_of(raw)
    assert (
        'profiles[0].base: "ou=usagers,ou=people,dc=example,dc=org" lies in directory agents, '
        "not in collectivite"
    ) in errors


def test_two_directories_with_the_same_base_dn_are_refused(demo_raw: dict[str, Any]) -> None:
    raw = two(demo_raw)
    raw["directories"]["agents"]["base_dn"] = "OU=People, DC=Example,dc=org"
    assert (
        "directories.agents.base_dn: the same as directory collectivite's: each directory "
        "needs a base of its own"
    ) in errors_of(raw)


def test_upn_needs_the_profiles_own_directory_to_be_ad(demo_raw: dict[str, Any]) -> None:
    raw = two(demo_raw)
    raw["profiles"][2]["identifier"] = ["upn"]  # agent-lycee, in the AD
    parse_settings(raw)
    raw["profiles"][0]["identifier"] = ["upn"]  # usager, in OpenLDAP
    assert "profiles[0].identifier: upn (userPrincipalName) needs an Active Directory" in (
        errors_of(raw)
    )


def test_each_directory_password_is_read_and_every_missing_one_named(
    demo_raw: dict[str, Any],
) -> None:
    settings = parse_settings(two(demo_raw))
    env = {"SSPR_SECRET_KEY": "k" * 40, "SSPR_LDAP_PASSWORD": "one", "SSPR_AD_PASSWORD": "two"}
    secrets = read_secrets(settings, env, parts=("sessions", "directory"))
    assert dict(secrets.ldap_passwords) == {"collectivite": "one", "agents": "two"}
    with pytest.raises(MissingSecrets) as error:
        read_secrets(settings, {"SSPR_SECRET_KEY": "k" * 40}, parts=("sessions", "directory"))
    assert error.value.errors == [
        "SSPR_LDAP_PASSWORD (the password of cn=sspr,ou=services,dc=example,dc=org, named by "
        "directories.collectivite.bind_password_env) is not set",
        "SSPR_AD_PASSWORD (the password of cn=sspr,ou=services,dc=agents,dc=example,dc=org, "
        "named by directories.agents.bind_password_env) is not set",
    ]
