"""docs/security.md names real tests, and covers every requirement of its sections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
CNIL = (ROOT / "docs" / "cnil.md").read_text(encoding="utf-8")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")

EXPECTED = {
    "2.1": 12, "2.5": 7, "2.7": 6, "3.1": 1, "3.2": 4, "3.3": 4, "3.4": 5, "3.5": 3, "3.7": 1,
    "5.1": 5, "5.2": 8, "5.3": 10,
}  # fmt: skip


@pytest.mark.parametrize(("page", "least"), [(TABLE, 40), (CNIL, 25)], ids=["asvs", "cnil"])
def test_every_named_test_exists(page: str, least: int) -> None:
    references = REFERENCE.findall(page)
    assert len(references) > least
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M)
    ]
    assert missing == []


def test_every_requirement_has_a_row() -> None:
    rows = re.findall(r"^\| (\d\.\d)\.(\d+) \|", TABLE, re.M)
    for section, count in EXPECTED.items():
        numbers = sorted(int(n) for s, n in rows if s == section)
        assert numbers == list(range(1, count + 1)), section


def test_every_cnil_row_has_a_test_or_a_reason() -> None:
    rows = [line for line in CNIL.splitlines() if line.startswith("| **")]
    assert len(rows) >= 15
    for line in rows:
        assert REFERENCE.search(line) or "N/A" in line, line


def test_every_row_has_a_test_or_a_reason() -> None:
    for line in TABLE.splitlines():
        if re.match(r"^\| \d\.\d\.\d+ \|", line):
            last = line.rstrip(" |").rsplit("|", 1)[-1]
            assert REFERENCE.search(line) or "N/A" in line or "—" in last, line
