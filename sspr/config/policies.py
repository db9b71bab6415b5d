"""Named password policies: a preset, rules, or a preset with overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, HttpUrl, field_validator, model_validator

from sspr.config.base import Strict
from sspr.domain.policy import PRESET_ALIASES, PRESETS, PasswordPolicy, preset_name


class PolicyConfig(Strict):
    """A named password policy: a preset, rules, or a preset with overrides."""

    preset: str | None = None
    """A named set of rules to start from (docs/cnil.md): cnil-2022-restricted (50 bits by
    the CNIL's formula or a 7-word passphrase, no common password, no login or name, not the
    current one; for new profiles), cnil-2022-alone (the same at 80 bits and 12+
    characters), websig-ales (10+ characters, upper, lower, special, not the current one) or
    dgfip (8 to 20 characters, 2 letters, 2 digits, 1 special or accented); the old names
    seed000 and seed003 still work. The rules below override it."""
    min_length: int | None = Field(default=None, ge=1)
    """Fewest characters (8 when neither this nor the preset says)."""
    max_length: int | None = Field(default=None, ge=1)
    """Most characters; null for no maximum."""
    min_lower: int | None = Field(default=None, ge=0)
    """Fewest lower-case letters."""
    min_upper: int | None = Field(default=None, ge=0)
    """Fewest upper-case letters."""
    min_digit: int | None = Field(default=None, ge=0)
    """Fewest digits."""
    min_special: int | None = Field(default=None, ge=0)
    """Fewest special characters (neither a letter nor a digit)."""
    min_letters: int | None = Field(default=None, ge=0)
    """Fewest letters, of either case."""
    min_special_or_accented: int | None = Field(default=None, ge=0)
    """Fewest characters that are special or accented letters."""
    min_classes: int | None = Field(default=None, ge=0, le=4)
    """Fewest kinds of character among lower case, upper case, digits and special."""
    forbidden_chars: str | None = None
    """Characters a password may not contain."""
    forbid_user_parts: bool | None = None
    """Refuse a password containing the login or a part of the user's name."""
    forbidden_words_file: Path | None = None
    """A UTF-8 file of words a password may not contain anywhere, one a line (# starts a
    comment), found through case, accents and leetspeak."""
    not_current: bool | None = None
    """Refuse the current password as the new one."""
    min_entropy_bits: int | None = Field(default=None, ge=0, le=256)
    """Fewest bits of entropy by the CNIL's formula: length × log2(alphabet used: 26 lower,
    26 upper, 10 digits, 37 specials), rounded to the bit (docs/cnil.md)."""
    passphrase_words: int | None = Field(default=None, ge=0, le=20)
    """A password of this many different words of 3+ letters passes the entropy, class and
    guessability rules whatever its classes (the CNIL's 7-word passphrase); 0 for never."""
    min_guess_score: int | None = Field(default=None, ge=0, le=4)
    """Lowest zxcvbn score (0 to 4), zxcvbn being fed French words and names, the user's
    login, names and mail, and branding.name; 0 for no check."""
    common_passwords: bool | None = None
    """Refuse the bundled 20,000 most common French passwords (Richelieu list), whatever
    the case, accents, leetspeak and digits or symbols around; false drops the list."""
    common_passwords_file: Path | None = None
    """A UTF-8 file of more common passwords, one a line, matched like the bundled list."""
    not_breached: bool | None = None
    """Ask the range service of the `breach` section whether the password leaked."""

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, preset: str | None) -> str | None:
        if preset is not None and preset_name(preset) is None:
            known = ", ".join(sorted([*PRESETS, *PRESET_ALIASES]))
            raise ValueError(f'unknown preset "{preset}" (known: {known})')
        # Old names (seed000, seed003) are read as the presets' current names.
        return None if preset is None else preset_name(preset)

    @model_validator(mode="after")
    def _lengths_ordered(self) -> PolicyConfig:
        policy = self.build(load_words=False)
        if policy.max_length is not None and policy.max_length < policy.min_length:
            raise ValueError("max_length is smaller than min_length")
        for name in ("forbidden_words_file", "common_passwords_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: no such file {path}")
        return self

    def build(
        self, *, load_words: bool = True, context_words: tuple[str, ...] = ()
    ) -> PasswordPolicy:
        """Turn this config into the domain's policy object, its word lists loaded."""
        base = PRESETS[self.preset] if self.preset else PasswordPolicy()
        files = {"preset", "forbidden_words_file", "common_passwords", "common_passwords_file"}
        overrides: dict[str, Any] = {
            name: value
            for name, value in self.model_dump(exclude=files).items()
            if value is not None
        }
        if self.common_passwords is not None or self.common_passwords_file is not None:
            overrides["refuse_common"] = bool(self.common_passwords or self.common_passwords_file)
        policy = base.with_changes(**overrides, context_words=context_words)
        return _with_lists(policy, self) if load_words else policy


class BreachConfig(Strict):
    """The range service asked by the policies with `not_breached` (docs/cnil.md)."""

    url: HttpUrl = Field(
        default="https://api.pwnedpasswords.com/range/",
        validate_default=True,
    )
    """The Have I Been Pwned range API, or your own mirror of its downloadable corpus: the
    first 5 hexadecimal digits of the password's SHA-1 are appended (a mirror serves each
    prefix's file at that path, e.g. by a rewrite to the downloader's `XXXXX.txt` files), and
    nothing else of the password leaves the host. An outgoing proxy is taken from
    `HTTPS_PROXY` and `NO_PROXY`, a CA bundle from `REQUESTS_CA_BUNDLE`, when sspr starts."""
    timeout: float = Field(default=2.0, gt=0, le=30)
    """Seconds to wait for the answer."""
    on_unavailable: Literal["allow", "block"] = "allow"
    """When the service does not answer: allow lets the change through, block asks the
    user to retry later. Either way the outcome is audited and counted."""


def _with_lists(policy: PasswordPolicy, config: PolicyConfig) -> PasswordPolicy:
    """Load the word lists and the zxcvbn dictionaries the policy's rules need."""
    from sspr import data  # Loaded once per process, only by policies that use the lists.

    lists: dict[str, Any] = {}
    if config.forbidden_words_file is not None:
        lists["forbidden_words"] = load_forbidden_words(config.forbidden_words_file)
    if policy.refuse_common:
        bundled = data.common_passwords() if config.common_passwords is not False else frozenset()
        extra = (
            load_forbidden_words(config.common_passwords_file)
            if config.common_passwords_file is not None
            else frozenset()
        )
        lists["common_passwords"] = bundled | extra
    if policy.min_guess_score:
        lists["guesser"] = data.french_guesser()
    return policy.with_changes(**lists)


def load_forbidden_words(path: Path) -> frozenset[str]:
    """Read one word a line (blank lines and # comments skipped), folded for matching."""
    from sspr.data import read_list
    from sspr.domain.common_words import normalise_list

    return normalise_list(read_list(path))
