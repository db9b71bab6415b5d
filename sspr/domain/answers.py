"""Security answers: normalisation, argon2id hashing and the stored-value format.

A stored value is one LDAP attribute value per question:

    sspr1:<question id>:<argon2id encoded hash of the normalised answer>

for example ``sspr1:birth_city:$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA``.
The argon2 encoding never holds a colon, so splitting on the first two is unambiguous.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PREFIX = "sspr1"
# A question the user wrote, stored beside its answer: sspr1q:<id>:<base64url of the text>.
CUSTOM_PREFIX = "sspr1q"
_QUESTION_ID = re.compile(r"^[a-z0-9_-]{1,40}$")


def normalize_answer(answer: str) -> str:
    """Fold case, accents and spaces, so "  Saint-Étienne " matches "saint-etienne"."""
    decomposed = unicodedata.normalize("NFKD", answer.casefold())
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(unaccented.split())


@dataclass(frozen=True)
class StoredAnswer:
    """One parsed answer value: which question, and the hash of its answer."""

    question_id: str
    hash: str

    def encode(self) -> str:
        """Render the value as it is written to the directory."""
        return f"{PREFIX}:{self.question_id}:{self.hash}"


def parse_stored(values: Iterable[str]) -> list[StoredAnswer]:
    """Parse directory values, skipping any that are not in the sspr1 format."""
    parsed = []
    for value in values:
        prefix, _, rest = value.partition(":")
        question_id, _, hashed = rest.partition(":")
        if prefix == PREFIX and _QUESTION_ID.match(question_id) and hashed.startswith("$argon2id$"):
            parsed.append(StoredAnswer(question_id, hashed))
    return parsed


class AnswerHasher:
    """Hash and verify normalised answers with argon2id at a chosen cost."""

    def __init__(self, *, time_cost: int = 2, memory_kib: int = 19456, parallelism: int = 1):
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verified against when there is no real hash, so failures cost the same time.
        self._decoy = self._hasher.hash("sspr decoy answer")

    def store(self, question_id: str, answer: str) -> StoredAnswer:
        """Hash an answer for a question, ready to be written."""
        return StoredAnswer(question_id, self._hasher.hash(normalize_answer(answer)))

    def verify(self, stored: StoredAnswer | None, answer: str) -> bool:
        """Check an answer in constant work, whether or not a stored hash exists."""
        target = stored.hash if stored is not None else self._decoy
        try:
            matched = self._hasher.verify(target, normalize_answer(answer))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and stored is not None


def encode_custom_question(question_id: str, text: str) -> str:
    """The value that stores the text of a question the user wrote."""
    encoded = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{CUSTOM_PREFIX}:{question_id}:{encoded}"


def parse_custom_questions(values: Iterable[str]) -> dict[str, str]:
    """The texts of the questions users wrote themselves, by question id."""
    texts = {}
    for value in values:
        prefix, _, rest = value.partition(":")
        question_id, _, encoded = rest.partition(":")
        if prefix != CUSTOM_PREFIX or not _QUESTION_ID.match(question_id):
            continue
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            texts[question_id] = base64.urlsafe_b64decode(padded).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
    return texts
