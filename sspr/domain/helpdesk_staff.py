"""Who may use the helpdesk console: staff login, the access rule, and expired passwords."""

from __future__ import annotations

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.errors import (
    AccountUnusable,
    InvalidCredentials,
    NotStaff,
    PasswordChangeNeeded,
    PasswordMismatch,
    PasswordRefusal,
    PasswordRefused,
)
from sspr.domain.helpdesk_model import Agent
from sspr.domain.masks import decoy_dn
from sspr.domain.policy import normalize_password
from sspr.domain.ports import Directory, LoginResult, UserEntry
from sspr.domain.settings import HelpdeskRules


class StaffAccess:
    """Staff accounts: found under the console's base, bound to, and checked every request."""

    def __init__(self, config: HelpdeskRules, directory: Directory, audit: AuditLog) -> None:
        self._config = config
        self._directory = directory
        self._audit = audit

    def login(self, identifier: str, password: str) -> Agent:
        """Bind as the staff member, then check the access rule; failures are audited."""
        entry = self._staff_entry(identifier)
        password = normalize_password(password)  # é typed either way: the form written (NFC)
        # An unknown identifier binds to a decoy, so that it takes a staff member's time.
        dn = entry.dn if entry else decoy_dn(self._config.base)
        result = self._directory.authenticate(dn, password)
        if entry is None:
            result = LoginResult(False)  # whatever the decoy's bind said
        # The typed identifier is never logged: people type passwords in the wrong field.
        agent = entry.login if entry else None
        unusable = "disabled" if result.disabled else "expired" if result.account_expired else None
        if entry is None or not (result.ok or result.expired or result.locked or unusable):
            self._login_failed(agent, "invalid_credentials")
            raise InvalidCredentials()
        if result.locked:
            self._login_failed(agent, "locked")
            raise PasswordRefused(PasswordRefusal.LOCKED)
        if unusable:
            self._login_failed(agent, f"account_{unusable}")
            raise AccountUnusable(unusable)
        if result.expired or result.must_change:
            self._login_failed(agent, "password_change_needed")
            raise PasswordChangeNeeded()
        if not self.is_staff(entry.dn):
            self._login_failed(agent, "not_staff")
            raise NotStaff()
        self._audit.record(AuditEvent.HELPDESK_LOGIN, Outcome.SUCCESS, agent=entry.login)
        return Agent(entry.dn, entry.login, entry.display_name or entry.login)

    def change_expired_password(
        self, identifier: str, old: str, new: str, confirmation: str
    ) -> None:
        """Let staff whose password expired or was reset change it, as /account/ does.

        The directory judges the new password (its own policy, history included); the
        console's access rule is checked at the next login, as always.
        """
        new = normalize_password(new)
        if new != normalize_password(confirmation):
            raise PasswordMismatch()
        entry = self._staff_entry(identifier)
        agent = entry.login if entry else None
        try:
            if entry is None:
                raise InvalidCredentials()
            self._directory.change_own_password(entry.dn, normalize_password(old), new)
        except (InvalidCredentials, PasswordRefused) as refused:
            cause = getattr(getattr(refused, "reason", None), "value", "invalid_credentials")
            self._audit.record(
                AuditEvent.HELPDESK_PASSWORD_CHANGED, Outcome.FAILURE, agent=agent, cause=cause
            )
            raise
        self._audit.record(
            AuditEvent.HELPDESK_PASSWORD_CHANGED, Outcome.SUCCESS, agent=agent, user_dn=entry.dn
        )

    def _staff_entry(self, identifier: str) -> UserEntry | None:
        """The one staff account the identifier names (DOMAINE\\login taken as login)."""
        identifier = identifier.strip()
        _, backslash, login = identifier.partition("\\")
        if backslash:
            identifier = login
        found = self._directory.find_by_attribute(
            self._config.base, self._config.identifier, identifier, limit=2
        ) if identifier else []  # fmt: skip
        return found[0] if len(found) == 1 else None

    def _login_failed(self, agent: str | None, error: str) -> None:
        self._audit.record(AuditEvent.HELPDESK_LOGIN, Outcome.FAILURE, agent=agent, cause=error)

    def is_staff(self, dn: str) -> bool:
        """Whether the account may use the console now (checked at every request)."""
        config = self._config
        if config.group_dn and not self._directory.in_group(dn, config.group_dn):
            return False
        candidates = [("staff", config.base, config.filter)] if config.filter else []
        return not candidates or bool(self._directory.memberships(dn, candidates))

    def logout(self, agent: Agent) -> None:
        """Record the end of an agent's session."""
        self._audit.record(AuditEvent.HELPDESK_LOGOUT, Outcome.SUCCESS, agent=agent.login)
