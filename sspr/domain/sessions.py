"""Server-side sessions behind a random token: the one session primitive of sspr.

The reset flow, "Mon compte" and the helpdesk console each keep their state this way: the
token is the only thing a browser holds (in a cookie the web layer places), the state lives
in the store under the token's hash, and every save slides an idle timeout.

A touch without a new state (a page view) writes only once `slide_margin(idle_ttl)` seconds
have passed since the last write: a session then dies between `idle_ttl - margin` and
`idle_ttl` seconds after the last request (never later), and a page view costs one store read.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from sspr.domain.ports import Clock, Store

State = dict[str, Any]

# When the state was last written (the clock's seconds), kept beside it in the store.
WRITTEN_AT = "_written_at"
# The most a page view may shorten the idle timeout by: a minute, or a tenth of a short one.
MAX_SLIDE_MARGIN = 60.0


def slide_margin(idle_ttl: float) -> float:
    """How long after a write a page view leaves the idle timeout unslid (seconds)."""
    return min(MAX_SLIDE_MARGIN, idle_ttl / 10)


def fingerprint(token: str) -> str:
    """The token's hash: what the store knows of it, and a stable id that reveals nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenSessions:
    """Sessions of one kind (`prefix`), each dying after `idle_ttl` seconds without a touch."""

    def __init__(self, store: Store, prefix: str, idle_ttl: float, clock: Clock) -> None:
        self._store = store
        self._prefix = prefix
        self.idle_ttl = idle_ttl
        self._clock = clock
        self._margin = slide_margin(idle_ttl)

    def open(self, state: Mapping[str, Any]) -> str:
        """Start a session holding `state`; return its new random token."""
        token = secrets.token_urlsafe(32)
        self._write(token, state)
        return token

    def load(self, token: str) -> State | None:
        """The session's state, or None when the token is unknown or its session has expired."""
        raw = self._store.get(self._key(token)) if token else None
        return _state(raw)[0] if raw is not None else None

    def load_by_fingerprint(self, print_: str) -> State | None:
        """The state of the session whose token has this fingerprint (an email link's way in)."""
        raw = self._store.get(f"{self._prefix}:{print_}") if print_ else None
        return _state(raw)[0] if raw is not None else None

    def close_by_fingerprint(self, print_: str) -> None:
        """End the session whose token has this fingerprint."""
        if print_:
            self._store.delete(f"{self._prefix}:{print_}")

    def take(self, token: str) -> State | None:
        """The session's state, the session ended at once: of concurrent takers, one gets it."""
        raw = self._store.take(self._key(token)) if token else None
        return _state(raw)[0] if raw is not None else None

    def touch(self, token: str, state: Mapping[str, Any] | None = None) -> State | None:
        """Slide the idle timeout, saving `state` when given; None when the session is gone.

        Without a new state, the store is written only when the last write is older than the
        slide margin: most page views just read.
        """
        if state is not None:
            self._write(token, state)
            return dict(state)
        raw = self._store.get(self._key(token)) if token else None
        if raw is None:
            return None
        current, written_at = _state(raw)
        if self._clock.now() - written_at >= self._margin:
            self._write(token, current)
        return current

    def rotate(self, token: str, state: Mapping[str, Any] | None = None) -> str | None:
        """A new token for the session (`state` replacing its own), the old one dead at once;
        None when the old one was already gone.

        A token seen before a change of privilege (a proof, a login) is worth nothing after.
        The old session is taken, so of two requests rotating it at once only one goes on.
        """
        raw = self._store.take(self._key(token)) if token else None
        if raw is None:
            return None
        return self.open(dict(state) if state is not None else _state(raw)[0])

    def close(self, token: str) -> None:
        """End the session, server side."""
        if token:
            self._store.delete(self._key(token))

    def _write(self, token: str, state: Mapping[str, Any]) -> None:
        stored = {**state, WRITTEN_AT: self._clock.now()}
        self._store.set(self._key(token), json.dumps(stored).encode(), self.idle_ttl)

    def _key(self, token: str) -> str:
        # Hashed: a dump of the store must not hand out live sessions.
        return f"{self._prefix}:{fingerprint(token)}"


def _state(raw: bytes) -> tuple[State, float]:
    """A stored session: its state, and when it was written (0 when a former version wrote it)."""
    state: State = json.loads(raw)
    written_at = float(state.pop(WRITTEN_AT, 0.0))
    return state, written_at
