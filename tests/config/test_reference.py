"""docs/configuration.md is generated from the models, documents every setting, and is fresh."""

from __future__ import annotations

from pathlib import Path

from sspr.config import Settings
from sspr.config.reference import render, sections_of, undocumented

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "configuration.md"


def test_every_setting_has_a_meaning() -> None:
    assert undocumented() == [], "give these settings an attribute docstring"


def test_the_reference_is_up_to_date() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run scripts/dev docs (python -m sspr.config.reference)"
    )


def test_every_section_and_setting_is_in_the_reference() -> None:
    text = render()
    for section in sections_of(Settings):
        assert f"\n## {section.title}\n" in text
        assert f"](#{section.anchor})" in text
        for name in section.model.model_fields:
            assert f"| `{name}` |" in text


def test_a_shared_section_lists_each_of_its_paths() -> None:
    titles = [section.title for section in sections_of(Settings)]
    assert "`codes.email`, `codes.sms`" in titles
    assert "`profiles[].not_enrolled`" in titles and "`policies.<name>`" in titles
