"""Building blocks shared by every section: strict models, texts, networks, LDAP filters."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import limits
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sspr.domain import settings as domain


class Strict(BaseModel):
    """Base model: unknown keys are errors, so typos never pass silently."""

    # Attribute docstrings become the field descriptions of docs/configuration.md.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Text(Strict):
    """A user-facing text in French (required) and English (optional)."""

    fr: str = Field(min_length=1)
    """The French text."""
    en: str | None = None
    """The English text; French is shown when it is missing."""

    def get(self, lang: str) -> str:
        """Return the text in `lang`, falling back to French."""
        return (self.en if lang == "en" else None) or self.fr

    def to_domain(self) -> domain.Text:
        """The domain's text."""
        return domain.Text(self.fr, self.en)


def _has_code_placeholder(text: Text) -> Text:
    for lang, wording in (("fr", text.fr), ("en", text.en)):
        if wording and "{code}" not in wording:
            raise ValueError(f"the {lang} text must contain {{code}}")
    return text


# A text that carries a one-time code: every language must place it with {code}.
CodeText = Annotated[Text, AfterValidator(_has_code_placeholder)]


def _network(value: str) -> str:
    ipaddress.ip_network(value)  # its ValueError names the problem ("has host bits set")
    return value


# One address (a /32 or /128) or a network in CIDR notation.
Network = Annotated[str, AfterValidator(_network)]


def _rates(value: str) -> str:
    """A rate in the `limits` notation ("60/minute; 600/hour"), checked at load."""
    try:
        parsed = limits.parse_many(value)
    except ValueError as exc:
        raise ValueError(f'"{value}" is not a rate such as "60/minute; 600/hour"') from exc
    if not parsed or any(rate.amount < 1 for rate in parsed):
        raise ValueError(f'"{value}" is not a rate such as "60/minute; 600/hour"')
    return value


# Requests per period, one or several windows: "60/minute; 600/hour".
Rates = Annotated[str, AfterValidator(_rates)]


def parenthesised_filter(ldap_filter: str) -> str:
    """Check the outline of an admin's LDAP filter (the directory checks the rest)."""
    if not (ldap_filter.startswith("(") and ldap_filter.endswith(")")):
        raise ValueError("an LDAP filter must be enclosed in parentheses")
    if ldap_filter.count("(") != ldap_filter.count(")"):
        raise ValueError("unbalanced parentheses in the LDAP filter")
    return ldap_filter


# An admin's LDAP filter, checked for its outline.
LdapFilter = Annotated[str, AfterValidator(parenthesised_filter)]
