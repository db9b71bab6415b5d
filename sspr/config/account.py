"""The "Mon compte" sessions and the helpdesk console."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sspr.config.base import CodeText, LdapFilter, Strict, Text
from sspr.domain import settings as domain
from sspr.domain.settings import HelpdeskAction


class AccountSessions(Strict):
    """Sessions of "Mon compte" after a login."""

    idle_timeout_seconds: int = Field(default=900, ge=60, le=86400)
    # A change of recovery data needs a password typed within this window.
    reauth_seconds: int = Field(default=300, ge=30, le=3600)
    reminder_snooze_days: int = Field(default=183, ge=1, le=3650)


class HelpdeskConfig(Strict):
    """The helpdesk console: which directory accounts may use it, and its rules."""

    # Staff accounts: found under `base` by `identifier`, then bound to with their password.
    base: str = Field(min_length=3)
    identifier: str = Field(default="uid", pattern=r"^[A-Za-z][A-Za-z0-9-]*$")
    # Access: a member of this groupOfNames, and/or an entry matching this filter (when
    # both are set, both must hold).
    group_dn: str | None = Field(default=None, min_length=3)
    filter: LdapFilter | None = None
    idle_timeout_seconds: int = Field(default=900, ge=60, le=86400)
    # "reason": a written reason may stand in for the caller's identity check.
    temporary_password_requires: Literal["identity_check", "reason"] = "identity_check"
    # Actions whose confirmation needs a written reason.
    reasons_required: list[HelpdeskAction] = Field(default_factory=lambda: ["clear_recovery"])
    # How long a checked identity lets the agent act for that caller.
    identity_check_valid_seconds: int = Field(default=600, ge=60, le=3600)
    page_size: int = Field(default=20, ge=5, le=100)
    # The SMS of the identity check: unlike the reset's, it must be read out to the agent.
    identity_sms_text: CodeText = Text(
        fr="Code à communiquer à l'agent du support avec qui vous êtes en ligne : {code}. "
        "Il expire dans {minutes} min.",
        en="Code to read out to the support agent you are on the phone with: {code}. "
        "It expires in {minutes} min.",
    )

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
