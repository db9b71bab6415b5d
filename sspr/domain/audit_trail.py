"""Reading the audit trail back: the latest events of its JSON-lines file, filtered.

Lines written before the schema had `cause` and `agent_note` are read in today's terms, so
the helpdesk's audit page shows a year of history the same way (docs/operations.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

Event = dict[str, object]

# Only the end of the file is read: a year of events must not slow a support call down.
TAIL_BYTES = 2 * 1024 * 1024


def recent_events(
    path: Path,
    *,
    user: str = "",
    event: str = "",
    limit: int = 100,
    tail_bytes: int = TAIL_BYTES,
) -> list[Event]:
    """The newest events first, among the last `tail_bytes` of the file.

    `user` is a DN (matched whole) or a login (matched as one value of the event's DN, or
    as the agent); `event` is a name ("helpdesk.unlock") or a family ("helpdesk").
    """
    found: list[Event] = []
    for line in reversed(_tail_lines(path, tail_bytes)):
        parsed = _parse(line)
        if parsed is not None and _is_event(parsed, event) and _is_user(parsed, user):
            found.append(parsed)
            if len(found) >= limit:
                break
    return found


def _tail_lines(path: Path, tail_bytes: int) -> list[str]:
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - tail_bytes)
            handle.seek(start)
            data = handle.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    # Reading from the middle of the file starts in the middle of a line.
    return lines[1:] if start > 0 else lines


def _parse(line: str) -> Event | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("event"), str):
        return None
    return _upgrade(parsed)


def _upgrade(line: Event) -> Event:
    """An older line in today's schema: `reason` and `error` split into cause and agent_note."""
    if "reason" not in line and "error" not in line and line["event"] not in _RENAMED:
        return line
    line = dict(line)
    reason, error = line.pop("reason", None), line.pop("error", None)
    if str(line["event"]).startswith("helpdesk."):
        # The helpdesk wrote the agent's note as `reason`, and the failure as `error`.
        line.setdefault("agent_note", reason)
        line.setdefault("cause", error)
    else:
        line.setdefault("cause", reason or error)
    if line["event"] == "password.changed" and line.get("channel") == "self":
        line["event"], line["channel"] = "account.password_changed", None
    line["event"] = _RENAMED.get(str(line["event"]), line["event"])
    return line


# Event names changed since, old to new.
_RENAMED = {"login": "account.login"}


def _is_event(parsed: Event, wanted: str) -> bool:
    name = str(parsed["event"])
    return not wanted or name == wanted or name.startswith(wanted + ".")


def _is_user(parsed: Event, wanted: str) -> bool:
    wanted = wanted.strip().casefold()
    if not wanted:
        return True
    dn = str(parsed.get("user_dn") or "").casefold()
    if "=" in wanted:
        return dn == wanted
    values = {part.partition("=")[2].strip() for part in dn.split(",")}
    return wanted in values or str(parsed.get("agent") or "").casefold() == wanted
