"""The docs tell the truth: relative links and anchors resolve, YAML examples validate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from sspr.config import Settings
from sspr.config.reference import heading_anchor, sections_of

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "config" / "ldap" / "README.md"]
DOCUMENTS = [*READMES, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the target ends at a space (a title) or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto:…


def prose(path: Path) -> str:
    """The text a reader follows links in: fenced code blocks and code spans left out."""
    return INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))


def links(path: Path) -> list[str]:
    text = prose(path)
    return LINK.findall(text) + REFERENCE.findall(text)


def anchors(path: Path) -> set[str]:
    """Every anchor a Markdown file offers, numbered like GitHub when headings repeat."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in HEADING.findall(text):
        # A link in a heading counts by its text only.
        slug = heading_anchor(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading))
        candidate, number = slug, 0
        while candidate in found:
            number += 1
            candidate = f"{slug}-{number}"
        found.add(candidate)
    return found | set(re.findall(r'<a (?:name|id)="([^"]+)"', text))


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in links(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no heading with anchor #{anchor}")
    return problems


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_the_checker_sees_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## Mail (SMTP)\n", encoding="utf-8")
    page.write_text(
        "# Page\n\n[ok](other.md#mail-smtp) [self](#page) [web](https://example.org/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nope) `[code](ignored.md)`\n"
        "```\n[fenced](ignored-too.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nope: no heading with anchor #nope",
    ]


def yaml_examples(path: Path) -> list[str]:
    return re.findall(r"^```ya?ml\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)


def example_errors(block: str) -> list[str]:
    """What is wrong with a documented YAML example, section by section."""
    paths = {path: section.model for section in sections_of(Settings) for path in section.paths}
    errors = []
    for key, value in yaml.safe_load(block).items():
        if key not in Settings.model_fields:
            errors.append(f"{key}: not a setting")
        for model, items in _instances(paths, key, value):
            for item in items:
                try:
                    model.model_validate(item)
                except ValueError as error:
                    errors.append(f"{key}: {error}")
    return errors


def _instances(
    paths: dict[str, type[BaseModel]], key: str, value: object
) -> list[tuple[type[BaseModel], list[object]]]:
    found = []
    if key in paths:
        found.append((paths[key], [value]))
    if f"{key}[]" in paths and isinstance(value, list):
        found.append((paths[f"{key}[]"], value))
    if f"{key}.<name>" in paths and isinstance(value, dict):
        found.append((paths[f"{key}.<name>"], list(value.values())))
    return found


EXAMPLES = [(path, block) for path in DOCUMENTS for block in yaml_examples(path)]


@pytest.mark.parametrize(
    ("path", "block"), EXAMPLES, ids=[f"{path.name}-{i}" for i, (path, _) in enumerate(EXAMPLES)]
)
def test_every_yaml_example_is_valid_configuration(path: Path, block: str) -> None:
    assert example_errors(block) == []


def test_an_invalid_example_is_caught() -> None:
    block = "mail:\n  smtp: {security: none, username: sspr}\n  sender: a@example.org\nsmss: {}\n"
    errors = example_errors(block)
    assert errors[0].startswith("mail: 1 validation error for MailConfig")
    assert errors[1] == "smss: not a setting"
