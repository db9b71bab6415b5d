"""The password policy engine: rules, presets, and a check that lists every failure."""

from __future__ import annotations

import dataclasses
import functools
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sspr.domain.common_words import contains_forbidden, fold, is_common, readings
from sspr.domain.entropy import passphrase_words, rounded_bits
from sspr.domain.guessability import Guess, GuessEstimator, user_words

# Seen as rules by the web layer, which turns (code, value) into a translated sentence.
LIVE_CODES = frozenset(
    {
        "length",
        "min_length",
        "max_length",
        "min_lower",
        "min_upper",
        "min_digit",
        "min_special",
        "min_letters",
        "min_special_or_accented",
        "min_classes",
        "forbidden_chars",
        "min_entropy_bits",
    }
)
# Checked while typing too, by a round trip to the server (they need the user or big lists).
SERVER_LIVE_CODES = frozenset({"no_user_parts", "forbidden_words", "min_guess_score"})
# A passphrase of enough words satisfies these, "however few classes it has" (CNIL 2022-100).
# zxcvbn's score too: the CNIL counts such a passphrase as enough, and scoring 7 words costs
# zxcvbn tens of milliseconds for nothing (it rates them 4 anyway).
WAIVED_FOR_PASSPHRASES = frozenset(
    {"min_entropy_bits", "min_lower", "min_upper", "min_digit", "min_special", "min_letters",
     "min_special_or_accented", "min_classes", "min_guess_score"}
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """One rule of a policy, as shown to users: a code and its parameter."""

    code: str
    value: int | str | tuple[int, int] | None = None

    @property
    def live(self) -> bool:
        """Whether a browser can check this rule alone (the others need the server)."""
        return self.code in LIVE_CODES

    @property
    def server_live(self) -> bool:
        """Whether the page asks the server about this rule while the user types."""
        return self.code in SERVER_LIVE_CODES


@dataclass(frozen=True)
class UserContext:
    """What the policy needs to know of the account whose password changes."""

    login: str = ""
    name_parts: tuple[str, ...] = ()
    mails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """A password measured against a policy: broken rules, CNIL bits, zxcvbn's verdict."""

    failed: list[Rule]
    bits: int
    words: int
    guess: Guess | None = None


def normalize_password(password: str) -> str:
    """Compose accents (NFC) so "é" typed either way is the same password everywhere."""
    return unicodedata.normalize("NFC", password)


def _is_accented(char: str) -> bool:
    return char.isalpha() and (not char.isascii() or unicodedata.decomposition(char) != "")


def _is_special(char: str) -> bool:
    return not char.isalnum()


def _count(password: str, predicate: Callable[[str], bool]) -> int:
    return sum(1 for char in password if predicate(char))


def _classes(password: str) -> int:
    predicates: list[Callable[[str], bool]] = [str.islower, str.isupper, str.isdecimal, _is_special]
    return sum(1 for predicate in predicates if any(predicate(char) for char in password))


_fold = fold


def _user_parts(user: UserContext) -> set[str]:
    parts: set[str] = set()
    mail_names = (mail.partition("@")[0] for mail in user.mails)
    for text in (user.login, *user.name_parts, *mail_names):
        parts.update(p for p in re.split(r"[^\w]+|_", _fold(text)) if len(p) >= 3)
    return parts


@dataclass(frozen=True)
class PasswordPolicy:
    """A password policy. A rule whose number is 0 (or None) is off."""

    min_length: int = 8
    max_length: int | None = None
    min_lower: int = 0
    min_upper: int = 0
    min_digit: int = 0
    min_special: int = 0
    min_letters: int = 0
    min_special_or_accented: int = 0
    min_classes: int = 0
    forbidden_chars: str = ""
    forbid_user_parts: bool = False
    forbidden_words: frozenset[str] = field(default_factory=frozenset)
    not_current: bool = False
    # CNIL 2022-100: the entropy required, and the words that make a passphrase exempt.
    min_entropy_bits: int = 0
    passphrase_words: int = 0
    # Refuse the common passwords; the configuration fills the list (bundled + the admin's).
    refuse_common: bool = False
    common_passwords: frozenset[str] = field(default_factory=frozenset, repr=False)
    # zxcvbn's score, 0 (off) to 4; the estimator holds the French dictionaries.
    min_guess_score: int = 0
    guesser: GuessEstimator | None = field(default=None, compare=False, repr=False)
    # Words an attacker would try first for everyone here (the organisation's name).
    context_words: tuple[str, ...] = ()
    # Asked to the range service (HIBP or a mirror) when every other rule holds.
    not_breached: bool = False
    # The directory's own rules, merged in (sspr.domain.directory_rules): how many previous
    # passwords it refuses, when it accepts a change again (epoch seconds), and the rules a
    # passphrase does not waive (the directory knows no passphrase exemption).
    history: int = 0
    not_before: int | None = None
    unwaivable: frozenset[str] = field(default_factory=frozenset)

    def with_changes(self, **changes: Any) -> PasswordPolicy:
        """Return a copy with some rules changed."""
        return dataclasses.replace(self, **changes)

    def current_rule(self) -> Rule:
        """The rule a reuse of the current password breaks: the history's when there is one."""
        # A history of N passwords counts the current one: one sentence says both.
        return Rule("history", self.history) if self.history else Rule("not_current")

    def rules(self) -> list[Rule]:
        """List the rules that are on, in the order users read them."""
        return list(self._rules())

    def _rules(self) -> Iterator[Rule]:
        if self.not_current or self.history:
            yield self.current_rule()
        if self.max_length is not None:
            yield Rule("length", (self.min_length, self.max_length))
        else:
            yield Rule("min_length", self.min_length)
        counted = (
            ("min_letters", self.min_letters),
            ("min_upper", self.min_upper),
            ("min_lower", self.min_lower),
            ("min_digit", self.min_digit),
            ("min_special", self.min_special),
            ("min_special_or_accented", self.min_special_or_accented),
            ("min_classes", self.min_classes),
        )
        yield from (Rule(code, value) for code, value in counted if value)
        if self.min_entropy_bits:
            yield Rule("min_entropy_bits", (self.min_entropy_bits, self.passphrase_words))
        if self.forbidden_chars:
            yield Rule("forbidden_chars", self.forbidden_chars)
        if self.forbid_user_parts:
            yield Rule("no_user_parts")
        if self.forbidden_words or self.refuse_common:
            yield Rule("forbidden_words")
        if self.min_guess_score:
            yield Rule("min_guess_score", self.min_guess_score)
        if self.not_breached:
            yield Rule("not_breached")

    def check(self, password: str, user: UserContext = UserContext()) -> list[Rule]:
        """Return every rule the password breaks (the directory's and the range's excepted)."""
        return self.assess(password, user).failed

    def assess(self, password: str, user: UserContext = UserContext()) -> Assessment:
        """Measure a password: broken rules, its CNIL bits and passphrase words, its score."""
        password = normalize_password(password)
        words = passphrase_words(password)
        exempt = bool(self.passphrase_words) and words >= self.passphrase_words
        guess = self._guess(password, user) if self.min_guess_score and not exempt else None
        waived = WAIVED_FOR_PASSPHRASES - self.unwaivable if exempt else frozenset()
        failed = [
            rule
            for rule in self.rules()
            if rule.code not in waived and not self._holds(rule, password, user, guess)
        ]
        if self.not_before is not None:
            failed.insert(0, Rule("too_young", self.not_before))
        return Assessment(failed, rounded_bits(password), words, guess)

    def _guess(self, password: str, user: UserContext) -> Guess:
        guesser = self.guesser or _plain_guesser()
        texts = (user.login, *user.name_parts, *user.mails, *self.context_words)
        return guesser.estimate(password, user_words(*texts))

    def _holds(self, rule: Rule, password: str, user: UserContext, guess: Guess | None) -> bool:
        if rule.code in ("not_current", "not_breached", "history"):
            return True  # Only the directory or the range service can tell: see reset.
        if rule.code == "min_guess_score":
            return guess is not None and guess.score >= self.min_guess_score
        check = _CHECKS[rule.code]
        return check(self, password, user)

    def _contains_forbidden_word(self, password: str) -> bool:
        return contains_forbidden(password, self.forbidden_words) or (
            self.refuse_common and is_common(password, self.common_passwords)
        )


@functools.cache
def _plain_guesser() -> GuessEstimator:
    """zxcvbn's own dictionaries, for a policy built without the French ones."""
    return GuessEstimator()


def _length_ok(policy: PasswordPolicy, password: str) -> bool:
    too_long = policy.max_length is not None and len(password) > policy.max_length
    return len(password) >= policy.min_length and not too_long


_CHECKS: dict[str, Callable[[PasswordPolicy, str, UserContext], bool]] = {
    "length": lambda p, pw, u: _length_ok(p, pw),
    "min_length": lambda p, pw, u: _length_ok(p, pw),
    "min_letters": lambda p, pw, u: _count(pw, str.isalpha) >= p.min_letters,
    "min_upper": lambda p, pw, u: _count(pw, str.isupper) >= p.min_upper,
    "min_lower": lambda p, pw, u: _count(pw, str.islower) >= p.min_lower,
    "min_digit": lambda p, pw, u: _count(pw, str.isdecimal) >= p.min_digit,
    "min_special": lambda p, pw, u: _count(pw, _is_special) >= p.min_special,
    "min_special_or_accented": lambda p, pw, u: (
        _count(pw, lambda c: _is_special(c) or _is_accented(c)) >= p.min_special_or_accented
    ),
    "min_classes": lambda p, pw, u: _classes(pw) >= p.min_classes,
    "forbidden_chars": lambda p, pw, u: not any(c in p.forbidden_chars for c in pw),
    "no_user_parts": lambda p, pw, u: (
        not any(part in reading for reading in readings(pw) for part in _user_parts(u))
    ),
    "forbidden_words": lambda p, pw, u: not p._contains_forbidden_word(pw),
    "min_entropy_bits": lambda p, pw, u: rounded_bits(pw) >= p.min_entropy_bits,
}


def _preset(**rules: Any) -> PasswordPolicy:
    return PasswordPolicy(**rules)


# Two presets reproduce the reference portals' rules exactly as their user guides print them
# (docs/reference-portals.md); two apply the CNIL's délibération 2022-100 (docs/cnil.md).
PRESETS: dict[str, PasswordPolicy] = {
    # WebSIG (Alès Agglomération): 10+ characters, 1 upper, 1 lower, 1 special, not the old one.
    "websig-ales": _preset(
        min_length=10, min_upper=1, min_lower=1, min_special=1, not_current=True
    ),
    # DGFiP (PIGP): 8 to 20 characters, 2 letters, 2 digits, 1 special or accented.
    "dgfip": _preset(
        min_length=8, max_length=20, min_letters=2, min_digit=2, min_special_or_accented=1
    ),
    # The password alone protects the account: 80 bits, or a passphrase of 7 words.
    "cnil-2022-alone": _preset(
        min_length=12, min_entropy_bits=80, passphrase_words=7, refuse_common=True,
        forbid_user_parts=True, not_current=True,
    ),
    # Access is restricted (sspr's case: attempts limited, temporary locks, captcha): 50 bits.
    "cnil-2022-restricted": _preset(
        min_length=8, min_entropy_bits=50, passphrase_words=7, refuse_common=True,
        forbid_user_parts=True, not_current=True,
    ),
}  # fmt: skip
# The presets' first names, still accepted in configuration files.
PRESET_ALIASES = {"seed000": "websig-ales", "seed003": "dgfip"}


def preset_name(name: str) -> str | None:
    """The preset's current name, from its name or an old alias; None when unknown."""
    name = PRESET_ALIASES.get(name, name)
    return name if name in PRESETS else None


def describe_for_browser(
    rules: Iterable[Rule], unwaivable: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Rules as plain data for the live checklist script (it re-implements only live rules)."""
    return [
        {
            "code": rule.code,
            "value": list(rule.value) if isinstance(rule.value, tuple) else rule.value,
            **({"unwaivable": True} if rule.code in unwaivable else {}),
        }
        for rule in rules
    ]


# Look-alikes (0/O, 1/l/I) left out: a temporary password is read from a mail or a screen.
_GENERATED_CLASSES = (
    "abcdefghijkmnopqrstuvwxyz",
    "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "23456789",
    "-_.!?*+=@#%",
)


def generate_password(policy: PasswordPolicy, user: UserContext = UserContext()) -> str:
    """A random password that the policy accepts, at least 16 characters when allowed."""
    # A directory's minimum age says when, not what: the write will say whether it is allowed.
    policy = policy.with_changes(not_before=None)
    length = max(policy.min_length, 16)
    if policy.max_length is not None:
        length = min(length, policy.max_length)
    classes = [
        "".join(c for c in chars if c not in policy.forbidden_chars) for chars in _GENERATED_CLASSES
    ]
    everything = "".join(classes)
    for _ in range(1000):
        # One of each class first, then any: every counted rule has room to hold.
        chars = [secrets.choice(chars) for chars in classes if chars]
        chars += [secrets.choice(everything) for _ in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        candidate = "".join(chars)
        if not policy.check(candidate, user):
            return candidate
    raise ValueError("this policy accepts no generated password; check its rules")
