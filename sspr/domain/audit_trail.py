"""Reading the audit trail back: the latest events of the store's shared trail, filtered."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sspr.domain.dn import dn_key

Event = dict[str, object]


def recent_events(
    lines: Iterable[str],
    *,
    user: str = "",
    event: str = "",
    limit: int = 100,
) -> list[Event]:
    """The first `limit` events of `lines` (newest first) that match; stops reading there.

    `user` is a DN (matched whole) or a login (matched as one value of the event's DN, or
    as the agent); `event` is a name ("helpdesk.unlock") or a family ("helpdesk").
    """
    found: list[Event] = []
    if limit < 1:
        return found
    for line in lines:
        parsed = _parse(line)
        if parsed is not None and _is_event(parsed, event) and _is_user(parsed, user):
            found.append(parsed)
            if len(found) >= limit:
                break
    return found


def _parse(line: str) -> Event | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("event"), str):
        return None
    return parsed


def _is_event(parsed: Event, wanted: str) -> bool:
    name = str(parsed["event"])
    return not wanted or name == wanted or name.startswith(wanted + ".")


def _is_user(parsed: Event, wanted: str) -> bool:
    wanted = wanted.strip().casefold()
    if not wanted:
        return True
    dn = str(parsed.get("user_dn") or "").casefold()
    if "=" in wanted:
        # As LDAP compares names (an agent may type or paste spaces after the commas).
        key = dn_key(wanted)
        return bool(dn) and key is not None and dn_key(dn) == key
    values = {part.partition("=")[2].strip() for part in dn.split(",")}
    return wanted in values or str(parsed.get("agent") or "").casefold() == wanted
