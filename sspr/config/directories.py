"""Several directories: their names, and the checks that tie profiles to them.

The checks read raw data, like the other cross-section checks, so they are reported
together with the field errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import StringConstraints

from sspr.domain.dn import deepest_base, dn_key

# The name the single `directory` section goes by (in audit lines, metrics and limits).
DEFAULT_DIRECTORY = "default"
DirectoryName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]


def named_directories(raw: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The raw directories by name, whichever of the two forms the file uses."""
    single = raw.get("directory")
    if isinstance(single, dict):
        return {DEFAULT_DIRECTORY: single}
    several = raw.get("directories")
    if not isinstance(several, dict):
        return {}
    return {str(name): value for name, value in several.items() if isinstance(value, dict)}


def profile_directory(raw: Mapping[str, Any], profile: Mapping[str, Any]) -> Any:
    """The raw directory a profile names (or the only one), None when it names none known."""
    directories = named_directories(raw)
    name = profile.get("directory")
    if name is None and len(directories) == 1:
        return next(iter(directories.values()))
    return directories.get(str(name))


def directory_errors(raw: Mapping[str, Any]) -> list[str]:
    """The directories' own errors, and those of each profile's and the helpdesk's choice."""
    has_single = raw.get("directory") is not None
    has_several = bool(raw.get("directories"))
    if has_single and has_several:
        return ["directory, directories: set one of the two, not both"]
    if not has_single and not has_several:
        return ["directory: set directory (one directory) or directories (several, by name)"]
    directories = named_directories(raw)
    errors = _same_bases(directories) if len(directories) > 1 else []
    sections = _sections(raw)
    for where, section in sections:
        errors += _name_errors(directories, section, where)
    if len(directories) > 1 and not errors:
        areas = routing_areas(raw)
        for where, section in sections:
            errors += _placement_errors(directories, areas, section, where)
    return errors


def routing_areas(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(directory, DN) pairs: each directory's base_dn, each profile's base and the
    helpdesk's, under the directory they name. A DN belongs to its deepest area."""
    directories = named_directories(raw)
    areas = [(name, str(directory.get("base_dn", ""))) for name, directory in directories.items()]
    only = next(iter(directories)) if len(directories) == 1 else None
    for _, section in _sections(raw):
        name, base = section.get("directory") or only, section.get("base")
        if isinstance(name, str) and isinstance(base, str):
            areas.append((name, base))
    return areas


def _sections(raw: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The sections that name a directory and a base: the profiles, the helpdesk."""
    profiles = raw.get("profiles")
    found: list[tuple[str, Mapping[str, Any]]] = [
        (f"profiles[{index}]", profile)
        for index, profile in enumerate(profiles if isinstance(profiles, list) else [])
        if isinstance(profile, dict)
    ]
    helpdesk = raw.get("helpdesk")
    return [*found, ("helpdesk", helpdesk)] if isinstance(helpdesk, dict) else found


def _same_bases(directories: Mapping[str, Mapping[str, Any]]) -> list[str]:
    errors: list[str] = []
    seen: dict[Any, str] = {}
    for name, directory in directories.items():
        key = dn_key(str(directory.get("base_dn", "")))
        if key is None:
            errors.append(f'directories.{name}.base_dn: "{directory.get("base_dn")}" is not a DN')
        elif key in seen:
            errors.append(
                f"directories.{name}.base_dn: the same as directory {seen[key]}'s: "
                "each directory needs a base of its own"
            )
        else:
            seen[key] = name
    return errors


def _name_errors(
    directories: Mapping[str, Mapping[str, Any]], section: Mapping[str, Any], where: str
) -> list[str]:
    name = section.get("directory")
    names = ", ".join(directories)
    if name is None and len(directories) > 1:
        return [f"{where}.directory: required when there are several directories ({names})"]
    if name is not None and str(name) not in directories:
        return [f'{where}.directory: unknown directory "{name}" (one of {names})']
    return []


def _placement_errors(
    directories: Mapping[str, Mapping[str, Any]],
    areas: list[tuple[str, str]],
    section: Mapping[str, Any],
    where: str,
) -> list[str]:
    """With several directories, a base lies in the directory its section names.

    A profile's base lies under that directory's base_dn; the helpdesk's may lie outside
    every base_dn (staff apart from the people), but not in another directory's.
    """
    name, base = str(section.get("directory")), section.get("base")
    if not isinstance(base, str) or dn_key(base) is None:
        return [f'{where}.base: "{base}" is not a DN']
    base_dn = str(directories[name].get("base_dn", ""))
    outside = deepest_base(base, [(name, base_dn)]) is None
    if outside and where != "helpdesk":
        return [f'{where}.base: "{base}" is not under directory {name}\'s base_dn "{base_dn}"']
    holder = deepest_base(base, [area for area in areas if area != (name, base)])
    if holder is not None and holder != name:
        return [f'{where}.base: "{base}" lies in directory {holder}, not in {name}']
    return []
