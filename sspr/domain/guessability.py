"""Guessability: zxcvbn's score (0 to 4) with French dictionaries and the user's own words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zxcvbn import feedback, matching, scoring, time_estimates

from sspr.domain.common_words import fold

# zxcvbn's cost grows faster than the square of the length: only this many characters are
# scored. A longer password is judged on its start, which can only underrate it.
MAX_SCORED = 40


@dataclass(frozen=True)
class Guess:
    """zxcvbn's verdict: a score from 0 (guessed at once) to 4, and why, in English keys."""

    score: int
    warning: str = ""
    suggestions: tuple[str, ...] = ()


class GuessEstimator:
    """zxcvbn over its own dictionaries plus extra ranked lists (French words, passwords).

    zxcvbn's top-level function writes the user's words into a module-wide dictionary, which
    two threads would share: this builds its own dictionaries for each call instead.
    """

    def __init__(self, extra_lists: Mapping[str, Sequence[str]] = {}) -> None:
        base = {name: ranked for name, ranked in matching.RANKED_DICTIONARIES.items()}
        base.pop("user_inputs", None)
        for name, words in extra_lists.items():
            base[name] = matching.build_ranked_dict([word.lower() for word in words])
        self._dictionaries = base

    def estimate(self, password: str, user_words: Iterable[str] = ()) -> Guess:
        """Score a password, knowing the words an attacker would try first for this user."""
        password = password[:MAX_SCORED]
        if not password:
            return Guess(0)
        dictionaries: dict[str, Any] = dict(self._dictionaries)
        words = sorted({word.lower() for word in user_words if word})
        dictionaries["user_inputs"] = matching.build_ranked_dict(words)
        matches = matching.omnimatch(password, _ranked_dictionaries=dictionaries)
        result = scoring.most_guessable_match_sequence(password, matches)
        score = time_estimates.guesses_to_score(Decimal(result["guesses"]))
        advice = feedback.get_feedback(score, result["sequence"])
        return Guess(int(score), advice["warning"], tuple(advice["suggestions"]))


def user_words(*texts: str) -> list[str]:
    """The user's login, names, mail parts and the organisation's name, split into words.

    Each comes as written and without accents: "Trébeurden" is typed "Trebeurden" too.
    """
    words: list[str] = []
    for text in texts:
        if not text:
            continue
        for word in (text, *(part for part in _split(text) if len(part) >= 3)):
            words.extend({word, fold(word)})
    return words


def _split(text: str) -> list[str]:
    parts = [text]
    for separator in ("@", ".", "-", "_", " ", "'"):
        parts = [piece for part in parts for piece in part.split(separator)]
    return parts
