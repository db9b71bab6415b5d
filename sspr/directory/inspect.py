"""Read-only probes for `sspr check-config`: the root DSE, the schema, samples, rights.

Nothing here writes: what the service account may write is read where the server
publishes it (AD's allowedAttributesEffective), probed with a compare otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ldap3 import BASE, SUBTREE, Connection

from sspr.directory.dialects import check
from sspr.directory.ldap import LdapDirectory

Values = dict[str, list[str]]
SIZE_LIMIT_EXCEEDED = 4
NO_SUCH_OBJECT = 32
# RFC 3062, the password modify extended operation.
MODIFY_EXOP_OID = "1.3.6.1.4.1.4203.1.11.1"
# A compare's answers: false, true, no such attribute, insufficient access.
COMPARE_FALSE, COMPARE_TRUE, NO_SUCH_ATTRIBUTE, INSUFFICIENT_ACCESS = 5, 6, 16, 50
_NAMES = re.compile(r"\bNAME\s+(?:\(\s*((?:'[^']*'\s*)+)\)|'([^']*)')")


@dataclass(frozen=True)
class Schema:
    """The names the server's subschema defines, lower-cased."""

    attributes: frozenset[str]
    classes: frozenset[str]


def search(
    directory: LdapDirectory, base: str, ldap_filter: str, attributes: list[str], limit: int,
    *, scope: Literal["BASE", "SUBTREE"] = SUBTREE,
) -> list[tuple[str, Values]]:  # fmt: skip
    """One read-only search; entries with their values decoded, names lower-cased."""

    def run(conn: Connection) -> list[tuple[str, Values]]:
        conn.search(
            base, ldap_filter, search_scope=scope, attributes=attributes, size_limit=limit,
            time_limit=directory.pool.time_limit, dereference_aliases="NEVER",
        )  # fmt: skip
        code = conn.result["result"]
        if code == NO_SUCH_OBJECT:
            return []
        if code != SIZE_LIMIT_EXCEEDED:
            check(conn.result, f"search under {base or 'the root DSE'}")
        return [_decoded(item) for item in conn.response or () if item["type"] == "searchResEntry"]

    return directory.pool.read("check", run)


def root_dse(directory: LdapDirectory) -> Values:
    """The root DSE's subschemaSubentry, supportedExtension and namingContexts."""
    wanted = ["subschemaSubentry", "supportedExtension", "supportedControl", "namingContexts"]
    found = search(directory, "", "(objectClass=*)", wanted, 1, scope=BASE)
    return found[0][1] if found else {}


def read_schema(directory: LdapDirectory, subentry: str) -> Schema:
    """Every attribute type and object class name of the subschema entry."""
    found = search(
        directory, subentry, "(objectClass=*)", ["attributeTypes", "objectClasses"], 1, scope=BASE
    )
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


def _decoded(item: Any) -> tuple[str, Values]:
    raw = item.get("raw_attributes") or {}
    values = {
        name.lower(): [v.decode("utf-8", "replace") for v in found] for name, found in raw.items()
    }
    return item["dn"], values
