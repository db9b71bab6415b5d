"""The journey's replaceable texts: their list, its documentation, and the config's checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sspr.config import ConfigError, parse_settings
from sspr.texts import JOURNEY_TEXTS, OPTIONAL, markdown

ROOT = Path(__file__).resolve().parents[2]


def demo_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text("utf-8"))
    return raw


def test_docs_list_every_text_id() -> None:
    written = (ROOT / "docs" / "texts.md").read_text(encoding="utf-8")
    assert written == markdown(), "run: python -m sspr.texts > docs/texts.md"


def test_every_text_id_is_shown_somewhere() -> None:
    templates = "\n".join(p.read_text("utf-8") for p in (ROOT / "templates").rglob("*.html"))
    used = set(re.findall(r'\bt\("([\w.]*\w)"', templates))
    # Ids built in the template: t("code.sent." ~ flow.channel).
    prefixes = set(re.findall(r'\bt\("([\w.]+\.)" ~', templates))
    for message_id in JOURNEY_TEXTS:
        prefix = message_id.rsplit(".", 1)[0] + "."
        assert message_id in used or prefix in prefixes, message_id
    assert used <= set(JOURNEY_TEXTS)


def test_defaults_are_french_except_the_optional_ones() -> None:
    assert all(text for key, (_, text) in JOURNEY_TEXTS.items() if key not in OPTIONAL)


@pytest.mark.parametrize("where", ["global", "profile"])
def test_an_unknown_text_id_is_a_config_error(where: str) -> None:
    raw = demo_raw()
    target = raw if where == "global" else raw["profiles"][1]
    target["texts"] = {"identify.titel": {"fr": "Bonjour"}}
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    path = "texts" if where == "global" else "profiles[1].texts"
    assert any(
        e.startswith(path) and 'unknown text id "identify.titel"' in e for e in caught.value.errors
    ), caught.value.errors


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Envoyé au %(numero)s.", "unknown placeholder %(numero)s (known: %(destination)s)"),
        ("Envoyé à 100 % au %(destination)s.", 'write a lone "%" as "%%"'),
    ],
)
def test_placeholders_are_checked(text: str, problem: str) -> None:
    raw = demo_raw()
    raw["texts"] = {"code.sent.sms": {"fr": text}}
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert any(problem in error for error in caught.value.errors), caught.value.errors


def test_a_text_needs_a_language() -> None:
    raw = demo_raw()
    raw["texts"] = {"identify.title": {}}
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    assert any("give the text in fr, en or both" in e for e in caught.value.errors)


def test_the_profile_wins_then_the_global_text_then_nothing() -> None:
    raw = demo_raw()
    raw["texts"] = {"identify.title": {"fr": "Global", "en": "Everywhere"}}
    raw["profiles"][1]["texts"] = {"identify.title": {"fr": "Le mien"}}
    settings = parse_settings(raw)
    elu = raw["profiles"][1]["id"]
    assert settings.text("identify.title", elu, "fr") == "Le mien"
    assert settings.text("identify.title", elu, "en") == "Everywhere"
    assert settings.text("identify.title", "agent-siege", "fr") == "Global"
    assert settings.text("identify.title", None, "fr") == "Global"
    assert settings.text("question.title", elu, "fr") is None
