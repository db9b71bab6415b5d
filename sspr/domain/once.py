"""Things done once per submission, and results shown once.

A helpdesk agent who reloads a result page or submits the same form twice must not act twice:
each rendered form carries a random submission id that `Submissions` claims atomically. A
temporary password is shown from the store, once, sealed with a key that only the agent's
browser can bring back (derived from the session token, which the store never sees).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sspr.domain.keys import subject_key
from sspr.domain.ports import Store

NONCE_BYTES = 12


def seal_key(token: str) -> str:
    """The sealing key a session token gives (hex), never stored anywhere."""
    return hmac.new(token.encode(), b"sspr one-time results", hashlib.sha256).hexdigest()


class Submissions:
    """Which submissions of a form were already taken into account."""

    def __init__(self, store: Store, prefix: str, ttl: float) -> None:
        self._store = store
        self._prefix = prefix
        self._ttl = ttl

    def claim(self, scope: str, submission: str) -> bool:
        """True for the first claim of this submission in this scope, False for a repeat."""
        return self._store.add(self._key(scope, submission), b"1", self._ttl)

    def release(self, scope: str, submission: str) -> None:
        """Forget a claim whose action was refused: the corrected form may come back."""
        self._store.delete(self._key(scope, submission))

    def _key(self, scope: str, submission: str) -> str:
        return f"{self._prefix}:" + subject_key("submission", scope, submission)


class OneTimeResults:
    """Secrets to show once: sealed in the store, taken (read and deleted) when shown."""

    def __init__(self, store: Store, prefix: str, ttl: float) -> None:
        self._store = store
        self._prefix = prefix
        self._ttl = ttl

    def keep(self, key: str, name: str, value: str) -> None:
        """Seal `value` under `name` with `key` (from seal_key), until shown or expired."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(bytes.fromhex(key)).encrypt(nonce, value.encode(), name.encode())
        self._store.set(self._key(key, name), nonce + sealed, self._ttl)

    def take(self, key: str, name: str) -> str | None:
        """The value kept under `name`, once; None when already shown, expired or never kept."""
        raw = self._store.take(self._key(key, name)) if key else None
        if raw is None:
            return None
        try:
            opened = AESGCM(bytes.fromhex(key)).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], name.encode()
            )
        except InvalidTag:
            return None
        return opened.decode()

    def _key(self, key: str, name: str) -> str:
        # Under the key's hash: whoever reads the store can neither find nor open a value.
        return f"{self._prefix}:" + subject_key(
            "result", hashlib.sha256(key.encode()).hexdigest(), name
        )
