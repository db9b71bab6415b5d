"""The last step of a reset: the new password, measured, chosen or generated, and written."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial

from sspr.domain.audit import AuditEvent, Outcome
from sspr.domain.breach import BreachVerdict
from sspr.domain.directory_rules import merged
from sspr.domain.errors import (
    AccountUnusable,
    CurrentPassword,
    DeliveryFailed,
    FlowExpired,
    PartialWrite,
    PasswordMismatch,
    PasswordRefused,
    PolicyViolations,
    StepNotAllowed,
    StoreUnavailable,
)
from sspr.domain.flow import Collaborators, Flow, password_state
from sspr.domain.notify import notify_after_write
from sspr.domain.policy import (
    Assessment,
    PasswordPolicy,
    Rule,
    UserContext,
    generate_password,
    normalize_password,
)
from sspr.domain.ports import UserEntry
from sspr.domain.sessions import TokenSessions
from sspr.domain.settings import DomainSettings, Profile


class PasswordStep:
    """Writes the password of a proven flow: every rule first, the flow taken before the write."""

    def __init__(
        self,
        settings: DomainSettings,
        parts: Collaborators,
        policies: Mapping[str, PasswordPolicy],
        flows: TokenSessions,
    ) -> None:
        self._settings = settings
        self._directory = parts.directory
        self._audit = parts.audit
        self._notifier = parts.notifier
        self._breaches = parts.breaches
        self._clock = parts.clock
        self._policies = policies
        self._flows = flows

    def policy_for(self, profile: Profile) -> PasswordPolicy:
        """The password policy a profile uses."""
        return self._policies[profile.policy]

    def policy_for_account(
        self, profile: Profile, entry: UserEntry | None, *, by_user: bool
    ) -> PasswordPolicy:
        """The profile's policy with the directory's own rules for `entry` merged in.

        Without an account (the one-form change before its POST), the rules of accounts
        that have no policy of their own. `by_user`: a change with the user's own rights.
        """
        return merged(
            self.policy_for(profile),
            self._directory.password_rules(entry, base=profile.base),
            by_user=by_user,
            changed_at=entry.password_changed_at if entry is not None else None,
            now=datetime.fromtimestamp(self._clock.now(), UTC),
        )

    def choose(self, flow: Flow, password: str, confirmation: str) -> Profile:
        """Check the new password against every rule, then write it; return the profile."""
        flow, profile, entry = self._proven(flow)
        password = normalize_password(password)
        mismatch = password != normalize_password(confirmation)
        # A mismatch is shown with every failed rule: then not_current is asked now.
        assessment = self.assess(profile, entry, password, current_by_write=not mismatch)
        if assessment.failed:
            raise PolicyViolations(assessment.failed, assessment, mismatch=mismatch)
        if mismatch:
            raise PasswordMismatch()
        try:
            self._write(flow, profile, entry, password, must_change=profile.must_change_after_reset)
        except CurrentPassword:
            # The current password's rule, answered by the write itself (nothing was written).
            policy = self.policy_for_account(profile, entry, by_user=False)
            assessment.failed.insert(0, policy.current_rule())
            raise PolicyViolations(assessment.failed, assessment, mismatch=False) from None
        notice = partial(
            self._notifier.password_changed, entry=entry, profile=profile.id, lang=flow.lang
        )
        notify_after_write(
            self._audit, "password_changed", notice, user_dn=flow.dn, profile=flow.profile
        )
        return profile

    def send_temporary(self, flow: Flow) -> Profile:
        """Generate a password the policy accepts, write it as must-change, and mail it."""
        flow, profile, entry = self._proven(flow)
        if not profile.temporary_password:
            raise StepNotAllowed()
        policy = self.policy_for_account(profile, entry, by_user=False)
        password = generate_password(policy, user_context(entry))
        self._write(flow, profile, entry, password, must_change=True)
        try:
            # Mailed after the write, so a mail never holds a password the directory refused.
            self._notifier.temporary_password(
                entry=entry, profile=profile.id, lang=flow.lang, password=password
            )
        except DeliveryFailed:
            # The user may ask again (another password is written and mailed then).
            self._restore(flow)
            raise
        return profile

    def _proven(self, flow: Flow) -> tuple[Flow, Profile, UserEntry]:
        if not flow.proven or flow.dn is None:
            raise StepNotAllowed()
        profile = self._settings.profile(flow.profile)
        entry = self._directory.read_user(flow.dn)
        if profile is None or entry is None or password_state(entry) != flow.password_state:
            self._flows.close(flow.id)
            raise FlowExpired()
        self.refuse_unusable(flow, entry)
        return flow, profile, entry

    def refuse_unusable(self, flow: Flow, entry: UserEntry) -> None:
        """End the flow of a disabled or expired account: a new password would not log in."""
        if entry.unusable is None:
            return
        self._audit.record(
            AuditEvent.PASSWORD_CHANGED, Outcome.FAILURE, user_dn=entry.dn,
            profile=flow.profile, cause=f"account_{entry.unusable}",
        )  # fmt: skip
        self._flows.close(flow.id)
        raise AccountUnusable(entry.unusable)

    def assess(
        self,
        profile: Profile,
        entry: UserEntry,
        password: str,
        *,
        known_current: str | None = None,
        by_user: bool = False,
        current_by_write: bool = False,
    ) -> Assessment:
        """Measure a new password; the directory and the range service are asked last.

        `known_current` is the current password when the user has just proven it: then the
        directory need not be asked whether the new one is the same. The directory's own
        rules count (`by_user`: a change with the user's rights, else a reset). With
        `current_by_write` the caller writes a password that passes and turns CurrentPassword
        into not_current.
        """
        policy = self.policy_for_account(profile, entry, by_user=by_user)
        assessment = policy.assess(password, user_context(entry))
        failed = assessment.failed
        if policy.not_current and (
            password == known_current
            if known_current is not None
            else self._asks_current(entry.dn, policy, current_by_write, failed)
            and self._directory.is_current_password(entry.dn, password)
        ):
            failed.insert(0, policy.current_rule())
        if policy.not_breached and not failed and self._breaches is not None:
            # Only a password that passes everything else is worth a call, and a leak.
            verdict = self._breaches.verdict(password, user_dn=entry.dn, profile=profile.id)
            if verdict is BreachVerdict.BREACHED:
                failed.append(Rule("not_breached"))
            elif verdict is BreachVerdict.UNAVAILABLE_BLOCKED:
                failed.append(Rule("breach_unavailable"))
        return assessment

    def _asks_current(
        self, dn: str, policy: PasswordPolicy, by_write: bool, failed: list[Rule]
    ) -> bool:
        """Whether not_current needs a question to the directory before the write.

        Not when the write itself refuses the current password, unless the password fails
        anyway (every failed rule is shown at once) or goes to the range service next (the
        current password's hash prefix is not sent there).
        """
        by_write = by_write and self._directory.refuses_current_password(dn)
        return not by_write or bool(failed) or (policy.not_breached and self._breaches is not None)

    def _write(
        self, flow: Flow, profile: Profile, entry: UserEntry, password: str, *, must_change: bool
    ) -> None:
        """Write the password, the flow taken first: after the write no store step can fail.

        A store that fails before the write stops everything (nothing changed, and the page
        says so); once the directory has the password, the user is told it changed whatever
        the store does next.
        """
        if self._flows.take(flow.id) is None:
            raise FlowExpired()  # another request is using (or has used) this flow
        reason = "temporary" if must_change else None
        try:
            self._directory.set_password(entry.dn, password, must_change=must_change)
        except CurrentPassword:
            self._restore(flow)  # a rule the page shows, not a refusal to audit
            raise
        except PasswordRefused as refused:
            self._audit.record(
                AuditEvent.PASSWORD_CHANGED, Outcome.FAILURE, user_dn=entry.dn, profile=profile.id,
                cause=refused.reason.value,
            )  # fmt: skip
            self._restore(flow)
            raise
        except PartialWrite as partial:
            # The password did change: the user is told so and the flow ends as on success;
            # only the must-change flag is off, which the audit line says for the helpdesk.
            reason = f"{reason or 'reset'}: {partial.not_written} not written"
        except BaseException:
            self._restore(flow)  # nothing was written: the user may try again
            raise
        self._audit.record(
            AuditEvent.PASSWORD_CHANGED, Outcome.SUCCESS, user_dn=entry.dn, profile=profile.id,
            cause=reason, channel="+".join(flow.proved) or None,
        )  # fmt: skip

    def _restore(self, flow: Flow) -> None:
        """Put back a flow taken for a write that did not happen."""
        with contextlib.suppress(StoreUnavailable):
            self._flows.touch(flow.id, flow.state())


def user_context(entry: UserEntry) -> UserContext:
    """What the policy knows of an account: its login, names (display name too, as AD's
    complexity reads it) and mail addresses."""
    names = (*entry.name_parts, entry.display_name) if entry.display_name else entry.name_parts
    return UserContext(entry.login, names, entry.mails)
