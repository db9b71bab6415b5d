"""Common and forbidden passwords, found whatever the case, accents, leetspeak or decoration.

Two kinds of list, matched differently:
- common passwords (the bundled Richelieu list, plus the admin's): the password is refused
  when it *is* one of them once folded, un-leeted and stripped of the digits and symbols
  added around it ("M4rseille2024!" is "marseille"). A passphrase that merely contains a
  common word is not refused: it would refuse most good passphrases.
- forbidden words (the admin's, such as the organisation's name): refused anywhere inside.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

# A stripped core shorter than this is no evidence ("a" left of "a1234567!").
MIN_CORE = 4
# Substrings of at least this length are looked up in the forbidden words.
MIN_CONTAINED = 4
# Digits and symbols that stand for letters; "1" and "!" read as "i" or as "l".
_LEET_I = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
     "@": "a", "$": "s", "!": "i", "€": "e", "+": "t", "|": "i"}
)  # fmt: skip
_LEET_L = str.maketrans({"1": "l", "!": "l", "|": "l"})
_LEADING = re.compile(r"^[\W\d_]*")
_TRAILING = re.compile(r"[\W\d_]*$")
# Decoration longer than this is not tried character by character.
MAX_DECORATION = 12


def fold(text: str) -> str:
    """Lower-case and strip accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def unleet(text: str) -> set[str]:
    """The readings of a folded text with its look-alike digits and symbols turned to letters."""
    return {text.translate(_LEET_L).translate(_LEET_I), text.translate(_LEET_I)}


def readings(password: str) -> set[str]:
    """Every way the password may be read: as typed, un-leeted, without decoration around.

    The digits and symbols around may be decoration ("2024!") or letters in disguise (the
    "3" of "3t3"): every cut inside them is tried, each read as typed and un-leeted.
    """
    folded = fold(password)
    found = {folded, *unleet(folded)}
    lead = len(_LEADING.match(folded).group())  # type: ignore[union-attr]
    trail = len(_TRAILING.search(folded).group())  # type: ignore[union-attr]
    if lead == len(folded):
        return found
    for start in range(min(lead, MAX_DECORATION) + 1):
        for cut in range(min(trail, MAX_DECORATION) + 1):
            core = folded[start : len(folded) - cut]
            if len(core) >= MIN_CORE:
                found.add(core)
                found.update(unleet(core))
    return found


def normalise_list(words: Iterable[str]) -> frozenset[str]:
    """A list as the matching reads it: folded, blank entries dropped."""
    return frozenset(folded for word in words if (folded := fold(word.strip())))


def is_common(password: str, common: frozenset[str]) -> bool:
    """Whether the password is, under its decoration, one of the common passwords."""
    return any(reading in common for reading in readings(password))


def contains_forbidden(password: str, forbidden: frozenset[str]) -> bool:
    """Whether the password, as typed or un-leeted, contains one of the forbidden words."""
    if not forbidden:
        return False
    longest = _longest(forbidden)
    folded = fold(password)
    for reading in {folded, *unleet(folded)}:
        if reading in forbidden:
            return True
        # Substrings from MIN_CONTAINED characters to the longest word: set lookups only.
        size = len(reading)
        for start in range(size):
            for end in range(start + MIN_CONTAINED, min(start + longest, size) + 1):
                if reading[start:end] in forbidden:
                    return True
    return False


@functools.lru_cache(maxsize=64)
def _longest(words: frozenset[str]) -> int:
    return max(map(len, words))
