"""Configuration: every error at once, with its path; the shipped files are valid."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sspr.cli import check_config
from sspr.config import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_raw() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["demo.yaml", "sspr.example.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    settings = load_settings(ROOT / "config" / name)
    assert settings.profiles
    for policy in settings.policies.values():
        policy.build()


def test_example_config_has_the_region_portal_profiles_and_support() -> None:
    settings = load_settings(ROOT / "config" / "sspr.example.yaml")
    assert {p.id for p in settings.profiles} >= {"usager", "elu", "agent-lycee", "agent-siege"}
    assert settings.support is not None


def test_every_error_is_reported_at_once_with_its_path(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["profiles"][2]["channels"] = ["smss"]
    raw["profiles"][1]["policy"] = "nope"
    raw["directory"]["urls"] = ["http://wrong"]
    raw["policies"]["websig"]["min_lenght"] = 3
    raw["profiles"][0]["filter"] = "uid=*"
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert set(error.value.errors) == {
        'profiles[2].channels[0]: unknown channel "smss"',
        'profiles[1].policy: unknown policy "nope"',
        'directory.urls: "http://wrong" is not an ldap:// or ldaps:// URL',
        "policies.websig.min_lenght: Extra inputs are not permitted",
        "profiles[0].filter: an LDAP filter must be enclosed in parentheses",
    }


def test_reference_errors_alone_are_listed_one_by_one(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["profiles"][1]["policy"] = "nope"
    raw["profiles"][2]["id"] = raw["profiles"][0]["id"]
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert error.value.errors == [
        'profiles[1].policy: unknown policy "nope"',
        'profiles[2].id: duplicate profile id "usager"',
    ]


def test_unknown_preset_and_inverted_lengths(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["policies"]["websig"] = {"preset": "seed999"}
    raw["policies"]["dgfip"] = {"min_length": 12, "max_length": 8}
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert any('unknown preset "seed999"' in e for e in error.value.errors)
    assert any("max_length is smaller than min_length" in e for e in error.value.errors)


def test_secrets_are_named_never_written(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["directory"]["bind_password"] = "secret"
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert error.value.errors == ["directory.bind_password: Extra inputs are not permitted"]


def test_check_config_prints_every_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("public_url: not a url\nprofiles: []\n", encoding="utf-8")
    assert check_config(str(bad), offline=True) == 1
    out = capsys.readouterr().out
    assert "public_url: Input should be a valid URL" in out
    assert "directory: set directory (one directory) or directories" in out
    assert "policies: Field required" in out


def test_check_config_rejects_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    assert check_config(str(tmp_path / "missing.yaml"), offline=True) == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken)


def test_forbidden_words_file_is_loaded(demo_raw: dict[str, Any], tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("# common passwords\nAzerty\n\nSoleil\n", encoding="utf-8")
    raw = copy.deepcopy(demo_raw)
    raw["policies"]["dgfip"]["forbidden_words_file"] = str(words)
    policy = parse_settings(raw).policies["dgfip"].build()
    assert policy.forbidden_words == frozenset({"azerty", "soleil"})
    assert {r.code for r in policy.check("azerty12!x")} == {"forbidden_words"}


def test_missing_forbidden_words_file_is_an_error(demo_raw: dict[str, Any], tmp_path: Path) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["policies"]["dgfip"]["forbidden_words_file"] = str(tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match="no such file"):
        parse_settings(raw)


def test_mail_domains_are_domain_names(demo_raw: dict[str, Any]) -> None:
    demo_raw["profiles"][1]["mail_domains"] = ["demo.sspr.test", "@mairie.fr"]
    with pytest.raises(ConfigError) as error:
        parse_settings(demo_raw)
    assert '"@mairie.fr" is not a mail domain' in str(error.value)


def test_upn_logins_need_an_active_directory(demo_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(demo_raw)
    raw["profiles"][0]["identifier"] = ["login", "upn"]
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert error.value.errors == [
        "profiles[0].identifier: upn (userPrincipalName) needs an Active Directory"
    ]
    raw["directory"].update(kind="ad", urls=["ldaps://dc.example.org"], netbios_domain="EXAMPLE")
    assert parse_settings(raw).profiles[0].identifier == ["login", "upn"]
