"""The "Mon compte" sessions and the helpdesk console."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sspr.config.base import CodeText, LdapFilter, Strict, Text
from sspr.domain import settings as domain
from sspr.domain.helpdesk_actions import REASONS_REQUIRED_BY_DEFAULT, HelpdeskAction


class AccountSessions(Strict):
    """Sessions of "Mon compte" after a login."""

    idle_timeout_seconds: int = Field(default=900, ge=60, le=86400)
    """A session unused this long ends (up to a tenth of it, at most a minute, sooner: a page
    view slides the timeout only once that much has passed since the last)."""
    reauth_seconds: int = Field(default=300, ge=30, le=3600)
    """A change of recovery data needs the password typed within this window."""
    reminder_snooze_days: int = Field(default=183, ge=1, le=3650)
    """How long "remind me later" silences the "add a mobile" reminder."""


class HelpdeskConfig(Strict):
    """The helpdesk console: which directory accounts may use it, and its rules."""

    directory: str | None = None
    """The name of the directory (a key of `directories`) that holds the staff accounts;
    needed when there are several."""
    base: str = Field(min_length=3)
    """Where staff accounts are searched for (a DN); they log in with their own password."""
    identifier: str = Field(default="uid", pattern=r"^[A-Za-z][A-Za-z0-9-]*$")
    """The attribute staff log in with."""
    group_dn: str | None = Field(default=None, min_length=3)
    """Staff must be members of this group, directly or through nested groups (with
    `filter`, both must hold)."""
    filter: LdapFilter | None = None
    """Staff entries must match this LDAP filter (with `group_dn`, both must hold)."""
    idle_timeout_seconds: int = Field(default=900, ge=60, le=86400)
    """A console session unused this long ends (up to a tenth of it, at most a minute, sooner:
    a page view slides the timeout only once that much has passed since the last)."""
    temporary_password_requires: Literal["identity_check", "reason"] = "identity_check"
    """identity_check: a temporary password needs the caller's identity checked first;
    reason: a written reason may stand in for the check."""
    reasons_required: list[HelpdeskAction] = Field(
        default_factory=lambda: sorted(REASONS_REQUIRED_BY_DEFAULT)
    )
    """Actions whose confirmation needs a written reason: send_reset, identity_check,
    temporary_password, unlock, clear_recovery."""
    identity_check_valid_seconds: int = Field(default=600, ge=60, le=3600)
    """How long a checked identity lets the agent act for that caller."""
    page_size: int = Field(default=20, ge=5, le=100)
    """Search results per page."""
    identity_sms_text: CodeText = Text(
        fr="Code à communiquer à l'agent du support avec qui vous êtes en ligne : {code}. "
        "Il expire dans {minutes} min.",
        en="Code to read out to the support agent you are on the phone with: {code}. "
        "It expires in {minutes} min.",
    )
    """The SMS of the identity check, read out to the agent: `{code}` (required) and
    `{minutes}` are filled in."""

    def to_domain(self) -> domain.HelpdeskRules:
        """The domain's rules of the console."""
        return domain.HelpdeskRules(
            base=self.base, identifier=self.identifier, group_dn=self.group_dn,
            filter=self.filter, idle_timeout_seconds=self.idle_timeout_seconds,
            temporary_password_requires=self.temporary_password_requires,
            reasons_required=frozenset(self.reasons_required),
            identity_check_valid_seconds=self.identity_check_valid_seconds,
            page_size=self.page_size,
        )  # fmt: skip

    @model_validator(mode="after")
    def _access_rule(self) -> HelpdeskConfig:
        # Neither would open the console to every account under `base`.
        if self.group_dn is None and self.filter is None:
            raise ValueError("set group_dn or filter (or both) to say who may use the console")
        return self
