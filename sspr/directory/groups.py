"""Nested group membership: a bounded walk up from an entry to the groups that hold it.

OpenLDAP has no transitive membership rule: sspr asks, level by level, which groups list
the entries found so far, until it meets the group asked about. The walk is bounded in
depth and in groups seen, and each group is visited once, so a cycle ends it. Active
Directory answers in one search with its matching rule in chain instead (see ldap.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ldap3.utils.conv import escape_filter_chars

from sspr.directory.filters import dn_key

# Deeper nesting than this is a configuration to fix, not a membership to honour.
MAX_DEPTH = 10
# The groups one walk may visit: bounds the work an unusual directory can cause.
MAX_GROUPS = 500
# DNs per (|(member=…)…) filter: servers cap a filter's size.
CHUNK = 50
# AD's LDAP_MATCHING_RULE_IN_CHAIN: membership through any number of nested groups.
IN_CHAIN = "1.2.840.113556.1.4.1941"

# The groups that directly list any of the given DNs as a member.
Parents = Callable[[Sequence[str]], Sequence[str]]


def nested_member(parents: Parents, dn: str, group_dn: str) -> bool:
    """Whether `dn` is a member of `group_dn`, directly or through nested groups."""
    target, start = dn_key(group_dn), dn_key(dn)
    if target is None or start is None or not target:
        return False
    seen = {start}
    frontier: list[str] = [dn]
    for _ in range(MAX_DEPTH):
        following: list[str] = []
        for group in parents(frontier):
            key = dn_key(group)
            if key == target:
                return True
            if key is None or key in seen:
                continue  # a cycle, or a group reached by two paths
            seen.add(key)
            following.append(group)
        if not following or len(seen) > MAX_GROUPS:
            return False
        frontier = following
    return False


def listing(groups: Sequence[tuple[str, Sequence[str]]], dns: Sequence[str]) -> list[str]:
    """Of (group DN, members) pairs, the groups listing any of `dns` (one level, in memory)."""
    keys = {dn_key(dn) for dn in dns}
    return [group for group, members in groups if keys.intersection(map(dn_key, members))]


def member_filters(dns: Sequence[str], attribute: str = "member") -> list[str]:
    """(|(member=a)(member=b)…) filters over `dns`, CHUNK values at most each (escaped)."""
    filters = []
    for start in range(0, len(dns), CHUNK):
        chunk = dns[start : start + CHUNK]
        terms = "".join(f"({attribute}={escape_filter_chars(d)})" for d in chunk)
        filters.append(f"(|{terms})")
    return filters


def in_chain_filter(group_dn: str) -> str:
    """AD's filter for an entry that is in `group_dn` through any nesting (escaped)."""
    return f"(memberOf:{IN_CHAIN}:={escape_filter_chars(group_dn)})"
