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


@functools.cache
def french_guesser() -> GuessEstimator:
    """zxcvbn with French words, names and common passwords beside its English lists."""
    return GuessEstimator(
        {
            "french_passwords": read_list(COMMON_PASSWORDS),
            "french_words": read_list(COMMON_WORDS),
            "french_names": read_list(NAMES),
        }
    )
