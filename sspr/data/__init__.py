"""Word lists shipped inside the package, each folder with its licence and attribution."""

from __future__ import annotations

import functools
from pathlib import Path

from sspr.domain.common_words import normalise_list
from sspr.domain.guessability import GuessEstimator

DATA_DIR = Path(__file__).resolve().parent
COMMON_PASSWORDS = DATA_DIR / "french-passwords" / "top20000.txt"
COMMON_WORDS = DATA_DIR / "french-words" / "common-words.txt"
NAMES = DATA_DIR / "french-words" / "names.txt"
PASSPHRASE_WORDS = DATA_DIR / "french-words" / "passphrase.txt"


def read_list(path: Path) -> list[str]:
    """One entry a line, in order; blank lines and # comments are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@functools.cache
def common_passwords() -> frozenset[str]:
    """The Richelieu list of the 20,000 most common French passwords, folded."""
    return normalise_list(read_list(COMMON_PASSWORDS))


@functools.cache
def passphrase_words() -> tuple[str, ...]:
    """The 4,096 French words passphrases are drawn from."""
    return tuple(read_list(PASSPHRASE_WORDS))


# zxcvbn's cost grows with the number of dictionaries and of matches: the French lists go in
# as one dictionary (most frequent first), without the 1- and 2-letter words.
MIN_FRENCH_WORD = 3


@functools.cache
def french_guesser() -> GuessEstimator:
    """zxcvbn with French common passwords, words and names beside its English lists."""
    merged = [*read_list(COMMON_PASSWORDS), *read_list(COMMON_WORDS), *read_list(NAMES)]
    french = [word for word in dict.fromkeys(merged) if len(word) >= MIN_FRENCH_WORD]
    return GuessEstimator({"french": french})
