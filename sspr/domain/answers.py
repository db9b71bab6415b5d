"""Security answers: normalisation, argon2id hashing and the stored-value format.

A stored value is one LDAP attribute value per question:

    sspr2:<question id>:<argon2id encoded hash of the normalised answer>

for example ``sspr2:birth_city:$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA``.
The argon2 encoding never holds a colon, so splitting on the first two is unambiguous.
The version names the normalisation: sspr1 values (punctuation kept) are still checked their
own way, and rewritten as sspr2 at the next successful proof or enrolment.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PREFIX = "sspr2"
LEGACY_PREFIX = "sspr1"
# A question the user wrote, stored beside its answer: sspr1q:<id>:<base64url of the text>.
CUSTOM_PREFIX = "sspr1q"
_QUESTION_ID = re.compile(r"^[a-z0-9_-]{1,40}$")


# Hyphens and dashes, apostrophes (typed ' or typographic ’) and dots: French place names are
# full of them, and people type them or not ("Saint-Étienne", "L'Haÿ-les-Roses", "St. Malo").
_PUNCTUATION = re.compile(r"[-\u2010-\u2015\u2212'\u2018\u2019\u02bc`´.]")


def normalize_answer(answer: str) -> str:
    """Fold case, accents, punctuation and spaces: "saint etienne" matches " Saint-Étienne"."""
    return " ".join(_PUNCTUATION.sub(" ", normalize_answer_v1(answer)).split())


def normalize_answer_v1(answer: str) -> str:
    """The sspr1 normalisation (case, accents and spaces only), for values stored with it."""
    decomposed = unicodedata.normalize("NFKD", answer.casefold())
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(unaccented.split())


@dataclass(frozen=True)
class StoredAnswer:
    """One parsed answer value: which question, the hash of its answer, and the format."""

    question_id: str
    hash: str
    prefix: str = PREFIX

    @property
    def outdated(self) -> bool:
        """Whether it was made with an older normalisation (and should be rewritten)."""
        return self.prefix != PREFIX

    def encode(self) -> str:
        """Render the value as it is written to the directory."""
        return f"{self.prefix}:{self.question_id}:{self.hash}"


def parse_stored(values: Iterable[str]) -> list[StoredAnswer]:
    """Parse directory values, skipping any that are in neither the sspr2 nor sspr1 format."""
    parsed = []
    for value in values:
        prefix, _, rest = value.partition(":")
        question_id, _, hashed = rest.partition(":")
        known = prefix in (PREFIX, LEGACY_PREFIX)
        if known and _QUESTION_ID.match(question_id) and hashed.startswith("$argon2id$"):
            parsed.append(StoredAnswer(question_id, hashed, prefix))
    return parsed


def upgraded_values(
    values: Iterable[str], hasher: AnswerHasher, typed: Mapping[str, str]
) -> list[str] | None:
    """The attribute's values with each outdated answer in `typed` rehashed, or None if none.

    Called after those answers were verified: the typed text is the right answer.
    """
    changed, result = False, []
    for value in values:
        stored = parse_stored([value])
        if stored and stored[0].outdated and stored[0].question_id in typed:
            value = hasher.store(stored[0].question_id, typed[stored[0].question_id]).encode()
            changed = True
        result.append(value)
    return result if changed else None


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
        legacy = stored is not None and stored.prefix == LEGACY_PREFIX
        normalized = normalize_answer_v1(answer) if legacy else normalize_answer(answer)
        try:
            matched = self._hasher.verify(target, normalized)
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
