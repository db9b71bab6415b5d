"""Passphrases for "Générer un mot de passe": random French words, as strong as the policy asks."""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sspr.domain.policy import PasswordPolicy, UserContext, generate_password

SEPARATOR = "-"
# Asked of a passphrase even when the policy asks no entropy: the CNIL's restricted case.
FLOOR_BITS = 50
_DIGITS = "0123456789"


@dataclass(frozen=True)
class Suggestion:
    """A generated password and its true entropy (the draw's, not the CNIL formula's)."""

    password: str
    bits: int
    passphrase: bool


def generate_passphrase(
    policy: PasswordPolicy, words: Sequence[str], user: UserContext = UserContext()
) -> Suggestion:
    """Words joined by dashes, with a capital and digits when the policy wants them.

    Enough words are drawn for the draw's own entropy to reach the policy's requirement
    (at least FLOOR_BITS); a policy too short for words (20 characters at most) gets random
    characters instead.
    """
    if len(set(words)) < 2:
        raise ValueError("a passphrase needs a list of distinct words")
    policy = policy.with_changes(not_before=None)  # when, not what (see generate_password)
    per_word = math.log2(len(set(words)))
    required = max(policy.min_entropy_bits, FLOOR_BITS)
    extras = _extra_bits(policy)
    count = max(1, math.ceil((required - extras) / per_word))
    shortest = count * (min(len(word) for word in words) + len(SEPARATOR))
    tries = 0 if policy.max_length is not None and shortest > policy.max_length else 50
    for _ in range(tries):
        candidate = _draw(policy, words, count)
        if not policy.check(candidate, user):
            return Suggestion(candidate, math.floor(count * per_word + extras), True)
    fallback = generate_password(policy, user)
    # generate_password draws from about 68 symbols; 60 leaves room for forbidden ones.
    return Suggestion(fallback, math.floor(len(fallback) * math.log2(60)), False)


def _extra_bits(policy: PasswordPolicy) -> float:
    return _digits_needed(policy) * math.log2(10)


def _digits_needed(policy: PasswordPolicy) -> int:
    return max(policy.min_digit, 1 if policy.min_classes >= 3 else 0)


def _draw(policy: PasswordPolicy, words: Sequence[str], count: int) -> str:
    chosen = [secrets.choice(words) for _ in range(count)]
    if policy.min_upper or policy.min_classes >= 3:
        # Which word gets the capital is random too, but not counted in the entropy.
        index = secrets.randbelow(count)
        chosen[index] = chosen[index].capitalize()
    digits = "".join(secrets.choice(_DIGITS) for _ in range(_digits_needed(policy)))
    if digits:
        chosen.append(digits)
    return SEPARATOR.join(chosen)
