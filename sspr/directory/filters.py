"""LDAP names and filters: the filters sspr sends, DN comparison, and an evaluator.

The evaluator serves the in-memory directory; it knows the filters sspr and its admins'
profiles use (&, |, !, equality, presence and substrings, case-insensitive), and refuses
the rest rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from ldap3.utils.conv import escape_filter_chars

from sspr.config import DirectoryConfig
from sspr.directory.active_directory import identifier_terms
from sspr.domain.dn import DnKey, dn_key, is_within
from sspr.domain.errors import DirectoryRefused
from sspr.domain.ports import IdentifierKind

__all__ = [
    "DnKey",
    "compile_filter",
    "dn_key",
    "identifier_filter",
    "is_within",
    "people_filter",
    "user_class_filter",
]

# An entry's values by lower-case attribute name.
Values = Mapping[str, Sequence[str]]
Matcher = Callable[[Values], bool]


def identifier_filter(
    config: DirectoryConfig, kinds: Sequence[IdentifierKind], value: str
) -> str | None:
    """The accounts whose identifier of one of `kinds` equals `value` (escaped); None when
    the value cannot name anyone (on AD, DOMAINE\\login of another domain)."""
    attributes = config.attributes
    names = {"login": attributes.login, "email": attributes.mail, "upn": attributes.upn}
    terms = [(names[kind], value) for kind in dict.fromkeys(kinds)]
    if config.kind == "ad":
        terms = identifier_terms(kinds, value, names, config.netbios_domain)
    if not terms:
        return None
    alternatives = "".join(f"({name}={escape_filter_chars(term)})" for name, term in terms)
    object_class = escape_filter_chars(config.user_object_class)
    return f"(&(objectClass={object_class})(|{alternatives}))"


def people_filter(config: DirectoryConfig, query: str, scope_filter: str) -> str:
    """The accounts of a scope whose login, mail or names contain `query` (escaped)."""
    names = config.attributes
    attributes = dict.fromkeys([names.login, names.mail, names.display_name, *names.name_parts])
    escaped = escape_filter_chars(query)
    alternatives = "".join(f"({name}=*{escaped}*)" for name in attributes)
    object_class = escape_filter_chars(config.user_object_class)
    return f"(&(objectClass={object_class}){scope_filter}(|{alternatives}))"


def user_class_filter(config: DirectoryConfig) -> str:
    """The entries that are accounts."""
    return f"(objectClass={escape_filter_chars(config.user_object_class)})"


# -- evaluation ------------------------------------------------------------------------------

_ITEM = re.compile(r"^([A-Za-z][A-Za-z0-9-]*|[0-9.]+)(=)(.*)$", re.DOTALL)
_ESCAPE = re.compile(r"\\([0-9A-Fa-f]{2})")


def compile_filter(text: str) -> Matcher:
    """A function telling whether an entry's values satisfy the filter `text`."""
    matcher, rest = _parse(text.strip(), text)
    if rest:
        raise _invalid(text)
    return matcher


def _parse(text: str, whole: str) -> tuple[Matcher, str]:
    if not text.startswith("("):
        raise _invalid(whole)
    operator = text[1:2]
    if operator in ("&", "|"):
        parts: list[Matcher] = []
        rest = text[2:]
        while rest.startswith("("):
            part, rest = _parse(rest, whole)
            parts.append(part)
        if not rest.startswith(")") or not parts:
            raise _invalid(whole)
        combine = all if operator == "&" else any
        return (lambda values: combine(part(values) for part in parts)), rest[1:]
    if operator == "!":
        inner, rest = _parse(text[2:], whole)
        if not rest.startswith(")"):
            raise _invalid(whole)
        return (lambda values: not inner(values)), rest[1:]
    end = text.find(")")
    if end < 0:
        raise _invalid(whole)
    return _item(text[1:end], whole), text[end + 1 :]


def _item(text: str, whole: str) -> Matcher:
    match = _ITEM.match(text)
    if match is None or match.group(1).endswith(("~", ">", "<", ":")):
        raise _invalid(whole)
    name, raw = match.group(1).lower(), match.group(3)
    if raw == "*":
        return lambda values: bool(values.get(name))
    pieces = [_unescape(piece).casefold() for piece in raw.split("*")]
    if len(pieces) == 1:
        return lambda values: any(v.casefold() == pieces[0] for v in values.get(name, ()))
    return lambda values: any(_substrings(v.casefold(), pieces) for v in values.get(name, ()))


def _substrings(value: str, pieces: list[str]) -> bool:
    """RFC 4515 substrings: initial, any…, final, in order and without overlap."""
    initial, *middle, final = pieces
    if not value.startswith(initial):
        return False
    position = len(initial)
    for piece in middle:
        found = value.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return len(value) - len(final) >= position and value.endswith(final)


def _unescape(text: str) -> str:
    """Turn RFC 4515 \\XX escapes back into the UTF-8 text they encode."""
    if "(" in text or ")" in text or _ESCAPE.sub("", text).count("\\"):
        raise DirectoryRefused("search", f"invalid filter value {text!r}")
    out = bytearray()
    index = 0
    while index < len(text):
        if text[index] == "\\":
            out.append(int(text[index + 1 : index + 3], 16))
            index += 3
        else:
            out.extend(text[index].encode("utf-8"))
            index += 1
    return out.decode("utf-8", errors="replace")


def _invalid(text: str) -> DirectoryRefused:
    return DirectoryRefused("search", f"invalid filter: {text}")
