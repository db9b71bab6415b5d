"""Read-only probes for `sspr check-config`: the root DSE, the schema, samples, rights.

Nothing here writes: what the service account may write is read where the server
publishes it (AD's allowedAttributesEffective), probed with a compare otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ldap3 import BASE, Connection

from sspr.directory.ldap import LdapDirectory

Values = dict[str, list[str]]
# RFC 3062, the password modify extended operation.
MODIFY_EXOP_OID = "1.3.6.1.4.1.4203.1.11.1"
# A compare's answer when the account may not even compare the attribute.
INSUFFICIENT_ACCESS = 50
_NAMES = re.compile(r"\bNAME\s+(?:\(\s*((?:'[^']*'\s*)+)\)|'([^']*)')")


@dataclass(frozen=True)
class Schema:
    """The names the server's subschema defines, lower-cased."""

    attributes: frozenset[str]
    classes: frozenset[str]


def root_dse(directory: LdapDirectory) -> Values:
    """The root DSE's subschemaSubentry, supportedExtension and namingContexts."""
    wanted = ["subschemaSubentry", "supportedExtension", "supportedControl", "namingContexts"]
    found = directory.read_entries("", "(objectClass=*)", wanted, 1, scope=BASE, missing_ok=True)
    return found[0][1] if found else {}


def read_schema(directory: LdapDirectory, subentry: str) -> Schema:
    """Every attribute type and object class name of the subschema entry."""
    wanted = ["attributeTypes", "objectClasses"]
    found = directory.read_entries(subentry, "(objectClass=*)", wanted, 1, scope=BASE)
    values = found[0][1] if found else {}
    return Schema(
        attributes=frozenset(_names(values.get("attributetypes", []))),
        classes=frozenset(_names(values.get("objectclasses", []))),
    )


def compare(directory: LdapDirectory, dn: str, attribute: str) -> int:
    """A compare with a value no one holds: 50 means the account may not even compare."""

    def run(conn: Connection) -> int:
        conn_any: Any = conn  # ldap3's stubs leave compare untyped
        conn_any.compare(dn, attribute, "sspr check-config probe")
        code: int = conn.result["result"]
        return code

    return directory.pool.read("check", run)


def _names(definitions: list[str]) -> list[str]:
    names: list[str] = []
    for definition in definitions:
        match = _NAMES.search(definition)
        if match:
            listed = match.group(1) or f"'{match.group(2)}'"
            names.extend(name.lower() for name in re.findall(r"'([^']*)'", listed))
    return names
