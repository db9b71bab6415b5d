"""Password entropy as the CNIL computes it (délibération 2022-100), and passphrase words.

The CNIL's formula: length × log2(size of the alphabet the password draws on), the alphabet
being the sum of the classes used: 26 lower-case, 26 upper-case, 10 digits, 37 specials.
sspr decides how characters outside ASCII count (docs/cnil.md says the same):
- an accented letter counts in its case's class (é with the lower-case, É with the upper-case):
  it adds no class, so an accent never inflates the figure;
- a digit of any script counts with the digits;
- everything else (punctuation, symbols, spaces, letters without case) counts as a special.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata

LOWER, UPPER, DIGITS, SPECIALS = 26, 26, 10, 37
# A word of a passphrase: 3 letters or more. Shorter runs ("le", "a") do not count.
MIN_WORD_LETTERS = 3
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def alphabet_size(password: str) -> int:
    """The size of the alphabet the password draws on, by the CNIL's four classes."""
    size = 0
    if any(char.isalpha() and char.islower() for char in password):
        size += LOWER
    if any(char.isalpha() and char.isupper() for char in password):
        size += UPPER
    if any(char.isdecimal() for char in password):
        size += DIGITS
    if any(_is_special(char) for char in password):
        size += SPECIALS
    return size


def _is_special(char: str) -> bool:
    if char.isdecimal():
        return False
    return not (char.isalpha() and (char.islower() or char.isupper()))


def entropy_bits(password: str) -> float:
    """The CNIL's entropy, in bits: length × log2(alphabet); 0 for an empty password."""
    size = alphabet_size(password)
    return len(password) * math.log2(size) if size else 0.0


def rounded_bits(password: str) -> int:
    """The entropy rounded to the nearest bit, as the CNIL's own examples round it.

    12 characters of the four classes give 79.55 bits: the CNIL counts them as 80.
    """
    return math.floor(entropy_bits(password) + 0.5)


def passphrase_words(password: str) -> int:
    """How many different words of 3+ letters the password holds.

    Words are split at anything that is not a letter (space, dash, digit, symbol) and where a
    capital follows a small letter; case and accents do not make two words different.
    """
    words: set[str] = set()
    for run in _LETTER_RUN.findall(password):
        for word in _camel_words(run):
            if len(word) >= MIN_WORD_LETTERS:
                words.add(_fold(word))
    return len(words)


def _camel_words(run: str) -> list[str]:
    """Split "ChevalOrangeVelo" where a capital follows a small letter ("CHEVAL" stays whole)."""
    words = [run[:1]]
    for previous, char in itertools.pairwise(run):
        if previous.islower() and char.isupper():
            words.append("")
        words[-1] += char
    return words


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
