"""One LDAP search as sspr makes them, and the log line of a refused write."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from ldap3 import Connection
from ldap3.core.exceptions import LDAPInvalidFilterError

from sspr.directory.dialects import check
from sspr.directory.entries import RawAttributes
from sspr.domain.errors import CurrentPassword, DirectoryRefused, PartialWrite, PasswordRefused

Scope = Literal["BASE", "SUBTREE"]
SIZE_LIMIT_EXCEEDED = 4
NO_SUCH_OBJECT = 32
NO_ATTRIBUTES = ["1.1"]

_logger = logging.getLogger("sspr.directory.ldap")


def search(
    conn: Connection,
    base: str,
    ldap_filter: str,
    scope: Scope,
    attributes: list[str],
    limit: int,
    *,
    time_limit: int,
    missing_ok: bool = True,
) -> list[tuple[str, RawAttributes]]:
    """One search; more entries than `limit` is an answer, not an error."""
    try:
        conn.search(
            base,
            ldap_filter,
            search_scope=scope,
            attributes=attributes,
            size_limit=limit,
            time_limit=time_limit,
            dereference_aliases="NEVER",
        )
    except LDAPInvalidFilterError as exc:
        # Refused before it was sent: a configuration mistake, not an outage.
        raise DirectoryRefused(f"search under {base}", f"invalid filter: {exc}") from exc
    result = conn.result
    if result["result"] == NO_SUCH_OBJECT and missing_ok:
        return []
    if result["result"] != SIZE_LIMIT_EXCEEDED:
        check(result, f"search under {base}")
    return [
        (item["dn"], item["raw_attributes"])
        for item in conn.response or ()
        if item.get("type") == "searchResEntry"
    ]


@contextmanager
def logged(operation: str, dn: str) -> Iterator[None]:
    """Log the server's own words when it refuses a write (they never hold a password)."""
    try:
        yield
    except CurrentPassword:
        raise  # the user's choice, shown as a rule: nothing for the admin
    except (PasswordRefused, DirectoryRefused, PartialWrite) as refused:
        _logger.warning("%s refused for %s: %s", operation, dn, refused)
        raise
