"""Build hook: compile the gettext catalogs, so every install ships .mo files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogs(root: Path) -> list[Path]:
    """Compile every sspr/translations/*/LC_MESSAGES/*.po next to itself."""
    compiled = []
    for po_path in sorted(root.glob("sspr/translations/*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        compiled.append(mo_path)
    return compiled


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Compile catalogs before hatchling collects the files."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile, then force the .mo files (git-ignored) into the wheel."""
        root = Path(self.root)
        for mo_path in compile_catalogs(root):
            relative = mo_path.relative_to(root).as_posix()
            build_data["force_include"][str(mo_path)] = relative
