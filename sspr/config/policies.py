"""Named password policies: a preset, rules, or a preset with overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from sspr.config.base import Strict
from sspr.domain.policy import PRESETS, PasswordPolicy


class PolicyConfig(Strict):
    """A named password policy: a preset, rules, or a preset with overrides."""

    preset: str | None = None
    """A named set of rules to start from: seed000 (10+ characters, upper, lower, special,
    not the current one) or seed003 (8 to 20 characters, 2 letters, 2 digits, 1 special or
    accented); the rules below override it."""
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
    """A UTF-8 file of words a password may not contain, one a line (# starts a comment)."""
    not_current: bool | None = None
    """Refuse the current password as the new one."""

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, preset: str | None) -> str | None:
        if preset is not None and preset not in PRESETS:
            known = ", ".join(sorted(PRESETS))
            raise ValueError(f'unknown preset "{preset}" (known: {known})')
        return preset

    @model_validator(mode="after")
    def _lengths_ordered(self) -> PolicyConfig:
        policy = self.build(load_words=False)
        if policy.max_length is not None and policy.max_length < policy.min_length:
            raise ValueError("max_length is smaller than min_length")
        if self.forbidden_words_file is not None and not self.forbidden_words_file.is_file():
            raise ValueError(f"forbidden_words_file: no such file {self.forbidden_words_file}")
        return self

    def build(self, *, load_words: bool = True) -> PasswordPolicy:
        """Turn this config into the domain's policy object."""
        base = PRESETS[self.preset] if self.preset else PasswordPolicy()
        overrides: dict[str, Any] = {
            name: value
            for name, value in self.model_dump(exclude={"preset", "forbidden_words_file"}).items()
            if value is not None
        }
        if load_words and self.forbidden_words_file is not None:
            overrides["forbidden_words"] = load_forbidden_words(self.forbidden_words_file)
        return base.with_changes(**overrides)


def load_forbidden_words(path: Path) -> frozenset[str]:
    """Read one forbidden word a line; blank lines and # comments are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )
