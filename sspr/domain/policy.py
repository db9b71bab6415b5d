"""The password policy engine: rules, presets, and a check that lists every failure."""

from __future__ import annotations

import dataclasses
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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
    }
)


@dataclass(frozen=True)
class Rule:
    """One rule of a policy, as shown to users: a code and its parameter."""

    code: str
    value: int | str | tuple[int, int] | None = None

    @property
    def live(self) -> bool:
        """Whether a browser can check this rule alone (the others need the server)."""
        return self.code in LIVE_CODES


@dataclass(frozen=True)
class UserContext:
    """What the policy needs to know of the account whose password changes."""

    login: str = ""
    name_parts: tuple[str, ...] = ()


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


def _fold(text: str) -> str:
    """Lower-case and strip accents, to find a name inside a password however it is typed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _user_parts(user: UserContext) -> set[str]:
    parts: set[str] = set()
    for text in (user.login, *user.name_parts):
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

    def with_changes(self, **changes: Any) -> PasswordPolicy:
        """Return a copy with some rules changed."""
        return dataclasses.replace(self, **changes)

    def rules(self) -> list[Rule]:
        """List the rules that are on, in the order users read them."""
        return list(self._rules())

    def _rules(self) -> Iterator[Rule]:
        if self.not_current:
            yield Rule("not_current")
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
        if self.forbidden_chars:
            yield Rule("forbidden_chars", self.forbidden_chars)
        if self.forbid_user_parts:
            yield Rule("no_user_parts")
        if self.forbidden_words:
            yield Rule("forbidden_words")

    def check(self, password: str, user: UserContext = UserContext()) -> list[Rule]:
        """Return every rule the password breaks (the current-password rule excepted)."""
        password = normalize_password(password)
        return [rule for rule in self.rules() if not self._holds(rule, password, user)]

    def _holds(self, rule: Rule, password: str, user: UserContext) -> bool:
        if rule.code == "not_current":
            return True  # Only the directory can tell; see reset.choose_password.
        check = _CHECKS[rule.code]
        return check(self, password, user)

    def _contains_forbidden_word(self, password: str) -> bool:
        folded = password.casefold()
        # Every substring of 4+ characters, so long lists stay a set lookup.
        return (
            any(
                folded[start:end] in self.forbidden_words
                for start in range(len(folded))
                for end in range(start + 4, len(folded) + 1)
            )
            or folded in self.forbidden_words
        )


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
    "no_user_parts": lambda p, pw, u: not any(part in _fold(pw) for part in _user_parts(u)),
    "forbidden_words": lambda p, pw, u: not p._contains_forbidden_word(pw),
}


def _preset(**rules: Any) -> PasswordPolicy:
    return PasswordPolicy(**rules)


# The seeds' rules, exactly as their user guides print them.
PRESETS: dict[str, PasswordPolicy] = {
    # Seed 000 (WebSIG Alès Agglo): 10+ characters, 1 upper, 1 lower, 1 special, not the old one.
    "seed000": _preset(min_length=10, min_upper=1, min_lower=1, min_special=1, not_current=True),
    # Seed 003 (DGFiP PIGP): 8 to 20 characters, 2 letters, 2 digits, 1 special or accented.
    "seed003": _preset(
        min_length=8, max_length=20, min_letters=2, min_digit=2, min_special_or_accented=1
    ),
}


def describe_for_browser(rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """Rules as plain data for the live checklist script (it re-implements only live rules)."""
    return [
        {
            "code": rule.code,
            "value": list(rule.value) if isinstance(rule.value, tuple) else rule.value,
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
