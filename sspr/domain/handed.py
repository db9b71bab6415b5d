"""An entry a request has just read, handed to the same session's next request.

A login redirects to the account's home page, and a password change to it too: the page
would read the entry the request before it read a moment earlier. The entry is handed on
instead, once, and only while it is fresh; every other page reads the directory again, which
is what ends a session whose password changed elsewhere.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sspr.domain.ports import Clock, UserEntry

# Long enough for a browser to follow a redirect, short enough that no later page trusts it.
HAND_ON_SECONDS = 2.0
# Sessions of one worker waiting for their next page: the oldest go first past this.
KEPT = 1024


class HandedEntries:
    """Entries waiting for their session's next request, in this process only."""

    def __init__(self, clock: Clock, *, seconds: float = HAND_ON_SECONDS, kept: int = KEPT):
        self._clock = clock
        self._seconds = seconds
        self._kept = kept
        self._waiting: OrderedDict[str, tuple[UserEntry, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hand_on(self, session: str, entry: UserEntry) -> None:
        """Keep `entry` for the next request of `session` (an opaque session key)."""
        with self._lock:
            self._waiting[session] = (entry, self._clock.now())
            self._waiting.move_to_end(session)
            while len(self._waiting) > self._kept:
                self._waiting.popitem(last=False)

    def take(self, session: str, dn: str) -> UserEntry | None:
        """The entry handed on to this session for `dn`, once, if still fresh; else None."""
        with self._lock:
            waiting = self._waiting.pop(session, None)
        if waiting is None:
            return None
        entry, read_at = waiting
        fresh = 0 <= self._clock.now() - read_at <= self._seconds
        return entry if fresh and entry.dn == dn else None
