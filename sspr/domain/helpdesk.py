"""The helpdesk console: staff access, search, a user's summary, and the agents' actions.

Agents never see answers or codes: a summary says how many questions are set and shows
contacts masked; identity codes go to the user, who reads them out to the agent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sspr.domain.audit import AuditEvent, Outcome
from sspr.domain.audit_trail import Event
from sspr.domain.channels import Channel
from sspr.domain.codes import CodePolicy
from sspr.domain.errors import (
    ActionUnavailable,
    Blocked,
    IdentityNotChecked,
    PartialWrite,
    PasswordRefused,
    ReasonRequired,
    Refusal,
    ResendTooSoon,
    SsprError,
    StoreUnavailable,
)
from sspr.domain.flow import Collaborators, password_state
from sspr.domain.helpdesk_actions import ACTIONS, HelpdeskAction
from sspr.domain.helpdesk_lookup import AccountLookup
from sspr.domain.helpdesk_model import (
    REASON_MAX,
    RESULT_TTL,
    Agent,
    SearchPage,
    UserSummary,
    audit_error,
)
from sspr.domain.helpdesk_staff import StaffAccess
from sspr.domain.keys import subject_key
from sspr.domain.notify import notify_after_write
from sspr.domain.once import OneTimeResults, Submissions
from sspr.domain.password_step import user_context
from sspr.domain.policy import generate_password
from sspr.domain.ports import UserEntry
from sspr.domain.reset import ResetService
from sspr.domain.sessions import TokenSessions
from sspr.domain.settings import DomainSettings, HelpdeskRules, Profile


class HelpdeskService:
    """The console's operations; every action is audited with the agent and the reason."""

    def __init__(
        self,
        *,
        settings: DomainSettings,
        config: HelpdeskRules,
        reset: ResetService,
        parts: Collaborators,
        code_policies: Mapping[str, CodePolicy],
        now: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._config = config
        self._directory = parts.directory
        self._store = parts.store
        self._audit = parts.audit
        self._reset = reset
        self._codes = parts.codes
        self._notifier = parts.notifier
        self._code_policies = code_policies
        self._now = now
        # The agents' sessions: a cookie of their own holds only a random token.
        self.sessions = TokenSessions(
            parts.store, "helpdesk:session", config.idle_timeout_seconds, parts.clock
        )
        self._submissions = Submissions(
            parts.store, "helpdesk:submitted", config.idle_timeout_seconds
        )
        self.lookup = AccountLookup(settings, config, parts.directory, reset, parts.audit)
        self._shown_once = OneTimeResults(parts.store, "helpdesk:once", RESULT_TTL)
        self.staff = StaffAccess(config, parts.directory, parts.audit)

    @property
    def config(self) -> HelpdeskRules:
        """The console's configuration."""
        return self._config

    def now(self) -> float:
        """The service's clock, so sessions follow an injected one in tests."""
        return self._now()

    # -- staff (sspr.domain.helpdesk_staff) -------------------------------------------------

    def login(self, identifier: str, password: str) -> Agent:
        """Bind as the staff member, then check the access rule; failures are audited."""
        return self.staff.login(identifier, password)

    def is_staff(self, dn: str) -> bool:
        """Whether the account may use the console now (checked at every request)."""
        return self.staff.is_staff(dn)

    def logout(self, agent: Agent) -> None:
        """Record the end of an agent's session."""
        self.staff.logout(agent)

    def change_expired_password(
        self, identifier: str, old: str, new: str, confirmation: str
    ) -> None:
        """Let staff whose password expired or was reset change it, as /account/ does."""
        self.staff.change_expired_password(identifier, old, new, confirmation)

    # -- search and summary ------------------------------------------------------------------

    def search(self, query: str, page: int = 0) -> SearchPage:
        """Accounts of the profiles whose login, mail or name contains the query."""
        return self.lookup.search(query, page)

    def summary(self, dn: str) -> UserSummary:
        """The account as an agent sees it; OutOfScope outside the configured profiles."""
        return self.lookup.summary(dn)

    def events(self, *, user: str = "", event: str = "", limit: int = 100) -> list[Event]:
        """The latest audit events of every host, filtered."""
        return self.lookup.events(user=user, event=event, limit=limit)

    # -- actions -----------------------------------------------------------------------------

    def send_reset(self, agent: Agent, dn: str, channel: str, reason: str) -> str:
        """Start the user's reset as if they had, sending its first code (and email link).

        Returns the masked destination. The user goes on in their own browser: the email
        link opens the flow anywhere, and a code typed in a flow already open still works.
        """
        summary, profile = self._acting_on(agent, HelpdeskAction.SEND_RESET, dn, reason)
        if channel not in summary.reset_channels:
            raise ActionUnavailable("no_channel")
        entry = summary.entry
        identifier = entry.login if "login" in profile.identifier else entry.mails[0]
        fields = self._fields(agent, summary, reason, channel=channel)
        try:
            # The reset keeps a code sent moments ago instead of sending another: say so.
            wait = self._reset.resend_wait(entry.dn, channel)
            if wait is not None:
                raise ResendTooSoon(wait)
            flow = self._reset.start(profile, identifier, self._settings.default_language)
            if not flow.channel and flow.dn is not None:
                flow = self._reset.choose(flow.id, channel)
        except (Refusal, Blocked) as failed:  # every refusal is audited
            self._audit.record(
                AuditEvent.HELPDESK_RESET_SENT, Outcome.FAILURE, cause=audit_error(failed),
                **fields,
            )  # fmt: skip
            raise
        # A flow without the account is the neutral response (not enrolled, ambiguous).
        if flow.dn is None or flow.channel != channel:
            self._audit.record(
                AuditEvent.HELPDESK_RESET_SENT, Outcome.FAILURE, cause="not_enrolled", **fields,
            )  # fmt: skip
            raise ActionUnavailable("not_enrolled")
        self._audit.record(AuditEvent.HELPDESK_RESET_SENT, Outcome.SUCCESS, **fields)
        return self.lookup.masked(entry, channel)

    def send_identity_code(self, agent: Agent, dn: str, channel: str, reason: str = "") -> str:
        """Send the caller a code to read out; return the masked destination."""
        summary, _ = self._acting_on(
            agent, HelpdeskAction.IDENTITY_CHECK, dn, reason, needs_profile=False
        )
        if channel not in summary.identity_channels:
            raise ActionUnavailable("no_channel")
        entry = summary.entry
        destination = (
            entry.mails[0] if channel == Channel.EMAIL else self.lookup.mobile(entry) or ""
        )
        policy = self._code_policies[channel]
        minutes = max(1, int(policy.ttl // 60))
        profile_id, lang = summary.profiles[0], self._settings.default_language

        def deliver(code: str) -> None:
            self._notifier.identity_code(to=destination, channel=channel, profile=profile_id,
                                         lang=lang, code=code, minutes=minutes)  # fmt: skip

        fields = self._fields(agent, summary, reason, channel=channel)
        try:
            self._codes.issue(
                subject=self._identity_subject(entry), channel=channel, destination=destination,
                password_state=password_state(entry), policy=policy, deliver=deliver,
            )  # fmt: skip
        except Refusal as failed:
            event = AuditEvent.HELPDESK_IDENTITY_CODE_SENT
            self._audit.record(event, Outcome.FAILURE, cause=audit_error(failed), **fields)
            raise
        self._audit.record(AuditEvent.HELPDESK_IDENTITY_CODE_SENT, Outcome.SUCCESS, **fields)
        return self.lookup.masked(entry, channel)

    def check_identity(self, agent: Agent, dn: str, channel: str, code: str) -> float:
        """Check the code the caller reads out; return until when the check lets the agent act."""
        summary = self.summary(dn)
        entry = summary.entry
        fields = self._fields(agent, summary, "", channel=channel)
        try:
            self._codes.verify(subject=self._identity_subject(entry), channel=channel, code=code,
                               password_state=password_state(entry))  # fmt: skip
        except Refusal as failed:
            self._audit.record(
                AuditEvent.HELPDESK_IDENTITY_CHECKED, Outcome.FAILURE, cause=audit_error(failed),
                **fields,
            )  # fmt: skip
            raise
        ttl = self._config.identity_check_valid_seconds
        self._store.set(self._checked_key(agent, entry.dn), channel.encode(), ttl)
        self._audit.record(AuditEvent.HELPDESK_IDENTITY_CHECKED, Outcome.SUCCESS, **fields)
        return self._now() + ttl

    def identity_checked(self, agent: Agent, dn: str) -> float | None:
        """Seconds left of this agent session's identity check of the account, or None."""
        return self._store.ttl(self._checked_key(agent, dn))

    def first_submission(self, agent: Agent, submission: str) -> bool:
        """Whether this form submission is new: a repeat must not act again."""
        return self._submissions.claim(agent.session, submission)

    def refused_submission(self, agent: Agent, submission: str) -> None:
        """The action of this submission was refused: the corrected form may come back."""
        self._submissions.release(agent.session, submission)

    def temporary_password(self, agent: Agent, dn: str, reason: str) -> str | None:
        """Write a generated password that must be changed at the next login.

        Only after the caller's identity check, or with a written reason where the
        configuration allows it. The password is never logged nor audited: it is kept
        sealed for this agent's session, for reveal_temporary_password to show once; it is
        returned instead only when the store cannot keep it.
        """
        summary, profile = self._acting_on(agent, HelpdeskAction.TEMPORARY_PASSWORD, dn, reason)
        checked = self.identity_checked(agent, dn) is not None
        fields = self._fields(
            agent, summary, reason, proof="identity_check" if checked else "reason"
        )
        if not checked and (self.identity_check_required() or not reason.strip()):
            self._audit.record(
                AuditEvent.HELPDESK_TEMPORARY_PASSWORD, Outcome.FAILURE,
                cause="identity_not_checked", **fields,
            )  # fmt: skip
            raise IdentityNotChecked() if self.identity_check_required() else ReasonRequired()
        entry = summary.entry
        policy = self._reset.policy_for_account(profile, entry, by_user=False)
        password = generate_password(policy, user_context(entry))
        try:
            self._directory.set_password(entry.dn, password, must_change=True)
        except PasswordRefused as refused:
            self._audit.record(
                AuditEvent.HELPDESK_TEMPORARY_PASSWORD, Outcome.FAILURE, cause=refused.reason.value,
                **fields,
            )  # fmt: skip
            raise
        except PartialWrite as partial:
            # The password is written, so the agent gets it; only the forced change is
            # missing, which the audit line says (the agent can ask the user to change it).
            self._audit.record(
                AuditEvent.HELPDESK_TEMPORARY_PASSWORD, Outcome.SUCCESS,
                cause=f"{partial.not_written} not written", **fields,
            )  # fmt: skip
        else:
            self._audit.record(AuditEvent.HELPDESK_TEMPORARY_PASSWORD, Outcome.SUCCESS, **fields)
        lang = self._settings.default_language
        notify_after_write(self._audit, "password_changed", lambda: self._notifier.password_changed(
            entry=entry, profile=profile.id, lang=lang), **fields)  # fmt: skip
        try:
            self._shown_once.keep(agent.seal, f"temporary:{entry.dn.casefold()}", password)
        except StoreUnavailable:
            # Written, but the store cannot keep it for the next page: show it now or never.
            return password
        return None

    def reveal_temporary_password(self, agent: Agent, dn: str) -> str | None:
        """The temporary password this agent session set on the account, once; else None."""
        return self._shown_once.take(agent.seal, f"temporary:{dn.casefold()}")

    def unlock(self, agent: Agent, dn: str, reason: str) -> None:
        """Clear the directory's lock and failure count, and sspr's block after failed proofs."""
        summary, _ = self._acting_on(agent, HelpdeskAction.UNLOCK, dn, reason, needs_profile=False)
        was = "locked" if summary.entry.locked else "not_locked"
        self._directory.unlock(summary.entry.dn)
        self._reset.lift_proof_block(summary.entry.dn)
        self._audit.record(
            AuditEvent.HELPDESK_UNLOCK, Outcome.SUCCESS, **self._fields(agent, summary, reason),
            state=was,
        )  # fmt: skip

    def clear_recovery(self, agent: Agent, dn: str, reason: str) -> None:
        """Remove the answers and the mobile, so the user must enrol again; tell the user."""
        summary, _ = self._acting_on(
            agent, HelpdeskAction.CLEAR_RECOVERY, dn, reason, needs_profile=False
        )
        entry = summary.entry
        self._directory.write_recovery(entry.dn, {"answers": [], "mobile": []})
        self._audit.record(
            AuditEvent.HELPDESK_RECOVERY_CLEARED, Outcome.SUCCESS,
            **self._fields(agent, summary, reason),
        )  # fmt: skip
        if entry.mails:
            to, lang = entry.mails[0], self._settings.default_language
            notify_after_write(self._audit, "personal_data_changed",
                               lambda: self._notifier.personal_data_changed(
                                   to=to, profile=summary.profiles[0], lang=lang,
                                   login=entry.login),
                               **self._fields(agent, summary, reason))  # fmt: skip

    # -- helpers -----------------------------------------------------------------------------

    def identity_check_required(self) -> bool:
        """Whether a temporary password needs the identity check (a reason cannot replace it)."""
        mode = self._config.temporary_password_requires
        return mode == "identity_check"

    def reason_required(self, action: HelpdeskAction) -> bool:
        """Whether the configuration asks a written reason for this action."""
        return action in self._config.reasons_required

    def _acting_on(
        self,
        agent: Agent,
        action: HelpdeskAction,
        dn: str,
        reason: str,
        *,
        needs_profile: bool = True,
    ) -> tuple[UserSummary, Profile]:
        """The account, its one profile, after the reason rule; refusals are audited."""
        summary = self.summary(dn)
        profile = self._settings.profile(summary.profile or summary.profiles[0])
        assert profile is not None  # memberships only return configured ids
        problem: SsprError | None = None
        if self.reason_required(action) and not reason.strip():
            problem = ReasonRequired()
        elif needs_profile and summary.profile is None:
            problem = ActionUnavailable("several_profiles")
        elif action in ("send_reset", "temporary_password") and summary.entry.unusable:
            # The user could not log in with it: re-enable the account in the directory first.
            problem = ActionUnavailable(f"account_{summary.entry.unusable}")
        if problem is not None:
            event = ACTIONS[action].event
            self._audit.record(
                event, Outcome.FAILURE, cause=audit_error(problem),
                **self._fields(agent, summary, reason),
            )  # fmt: skip
            raise problem
        return summary, profile

    def _fields(
        self, agent: Agent, summary: UserSummary, reason: str, **extra: str
    ) -> dict[str, str | None]:
        return {
            "user_dn": summary.entry.dn,
            "profile": ",".join(summary.profiles),
            "agent": agent.login,
            "agent_note": reason.strip()[:REASON_MAX] or None,
            **extra,
        }

    def _identity_subject(self, entry: UserEntry) -> str:
        return subject_key("helpdesk", entry.dn.casefold())

    def _checked_key(self, agent: Agent, dn: str) -> str:
        return "helpdesk:checked:" + subject_key("s", agent.session, dn.casefold())
