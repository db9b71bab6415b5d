"""Server-side sessions behind a random token: the one session primitive of sspr.

The reset flow, "Mon compte" and the helpdesk console each keep their state this way: the
token is the only thing a browser holds (in a cookie the web layer places), the state lives
in the store under the token's hash, and every save slides an idle timeout.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from sspr.domain.ports import Store

State = dict[str, Any]


def fingerprint(token: str) -> str:
    """The token's hash: what the store knows of it, and a stable id that reveals nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenSessions:
    """Sessions of one kind (`prefix`), each dying after `idle_ttl` seconds without a touch."""

    def __init__(self, store: Store, prefix: str, idle_ttl: float) -> None:
        self._store = store
        self._prefix = prefix
        self.idle_ttl = idle_ttl

    def open(self, state: Mapping[str, Any]) -> str:
        """Start a session holding `state`; return its new random token."""
        token = secrets.token_urlsafe(32)
        self._write(token, state)
        return token

    def load(self, token: str) -> State | None:
        """The session's state, or None when the token is unknown or its session has expired."""
        raw = self._store.get(self._key(token)) if token else None
        if raw is None:
            return None
        state: State = json.loads(raw)
        return state

    def load_by_fingerprint(self, print_: str) -> State | None:
        """The state of the session whose token has this fingerprint (an email link's way in)."""
        raw = self._store.get(f"{self._prefix}:{print_}") if print_ else None
        return json.loads(raw) if raw is not None else None

    def close_by_fingerprint(self, print_: str) -> None:
        """End the session whose token has this fingerprint."""
        if print_:
            self._store.delete(f"{self._prefix}:{print_}")

    def take(self, token: str) -> State | None:
        """The session's state, the session ended at once: of concurrent takers, one gets it."""
        raw = self._store.take(self._key(token)) if token else None
        if raw is None:
            return None
        state: State = json.loads(raw)
        return state

    def touch(self, token: str, state: Mapping[str, Any] | None = None) -> State | None:
        """Slide the idle timeout, saving `state` when given; None when the session is gone."""
        current = dict(state) if state is not None else self.load(token)
        if current is None:
            return None
        self._write(token, current)
        return current

    def rotate(self, token: str, state: Mapping[str, Any] | None = None) -> str:
        """A new token for the session (`state` replacing its own), the old one dead at once.

        A token seen before a change of privilege (a proof, a login) is worth nothing after.
        """
        current = dict(state) if state is not None else self.load(token) or {}
        self.close(token)
        return self.open(current)

    def close(self, token: str) -> None:
        """End the session, server side."""
        if token:
            self._store.delete(self._key(token))

    def _write(self, token: str, state: Mapping[str, Any]) -> None:
        self._store.set(self._key(token), json.dumps(dict(state)).encode(), self.idle_ttl)

    def _key(self, token: str) -> str:
        # Hashed: a dump of the store must not hand out live sessions.
        return f"{self._prefix}:{fingerprint(token)}"
