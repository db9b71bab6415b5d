"""Distinguished names compared as LDAP compares them: case, spaces and escapes folded.

Pure Python, so the configuration (checking that a profile's base lies in its directory),
the adapters and the router all compare DNs the one same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# One attribute type and value per item, lower-cased: ("ou", "agents"), ("dc", "example").
DnKey = tuple[tuple[str, str], ...]

_ATTRIBUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$")
_HEX = "0123456789abcdefABCDEF"


# The same few DNs come back on every request of a flow (the account, the bases): parsing
# each once keeps routing off the request's cost.
@functools.lru_cache(maxsize=4096)
def dn_key(dn: str) -> DnKey | None:
    """A DN's items, lower-cased and unescaped, for comparison; None if it does not parse."""
    if not dn.strip():
        return ()
    items: list[tuple[str, str]] = []
    for text in _split_items(dn):
        if text is None:
            return None
        item = _item(text)
        if item is None:
            return None
        items.append(item)
    return tuple(items)


def is_within(dn: DnKey, base: DnKey) -> bool:
    """Whether the DN key `dn` is `base` or lies under it."""
    return len(base) <= len(dn) and dn[len(dn) - len(base) :] == base


def deepest_base(dn: str, bases: Iterable[tuple[str, str]]) -> str | None:
    """Of (name, base DN) pairs, the name whose base holds `dn` most closely, or None."""
    key = dn_key(dn)
    if key is None:
        return None
    best: tuple[int, str] | None = None
    for name, base in bases:
        base_key = dn_key(base)
        deeper = base_key is not None and (best is None or len(base_key) > best[0])
        if deeper and base_key is not None and is_within(key, base_key):
            best = (len(base_key), name)
    return best[1] if best else None


def dn_items(dn: str) -> list[str] | None:
    """A DN's attribute=value items as written (escapes kept), or None if it does not parse."""
    items = list(_split_items(dn))
    return None if None in items else [item for item in items if item is not None]


def _split_items(dn: str) -> Iterable[str | None]:
    """The attribute=value items of a DN, split at unescaped `,`, `;` and `+`; None if broken."""
    start, index = 0, 0
    while index < len(dn):
        char = dn[index]
        if char == "\\":
            index += 2
            continue
        if char in ",;+":
            yield dn[start:index]
            start = index + 1
        index += 1
    if index > len(dn):
        yield None  # a trailing backslash escapes nothing
        return
    yield dn[start:]


def _item(text: str) -> tuple[str, str] | None:
    attribute, equals, raw = text.partition("=")
    attribute = attribute.strip()
    if not equals or not _ATTRIBUTE.match(attribute):
        return None
    value = _unescape(_strip(raw))
    return None if value is None else (attribute.lower(), value.lower())


def _strip(raw: str) -> str:
    """Spaces around a value, but not an escaped last space (`cn=a\\ `)."""
    stripped = raw.strip()
    trailing = len(stripped) - len(stripped.rstrip("\\"))
    return stripped + " " if trailing % 2 and stripped != raw.lstrip() else stripped


def _unescape(raw: str) -> str | None:
    """RFC 4514 escapes (`\\,` and `\\2C` alike) turned back into the text they stand for."""
    out = bytearray()
    index = 0
    while index < len(raw):
        char = raw[index]
        if char != "\\":
            out.extend(char.encode("utf-8"))
            index += 1
            continue
        pair = raw[index + 1 : index + 3]
        if len(pair) == 2 and all(c in _HEX for c in pair):
            out.append(int(pair, 16))
            index += 3
        elif index + 1 < len(raw):
            out.extend(raw[index + 1].encode("utf-8"))
            index += 2
        else:
            return None
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        return None
