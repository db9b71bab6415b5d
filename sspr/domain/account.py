""" "Mon compte": login, recovery data (questions, mobile, email) and password change."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sspr.domain.answer_rules import NewAnswer, answer_problems
from sspr.domain.answers import encode_custom_question
from sspr.domain.audit import AuditEvent, Outcome
from sspr.domain.channels import Channel
from sspr.domain.codes import CodePolicy
from sspr.domain.errors import (
    AccountUnusable,
    AnswerProblems,
    CodeExpired,
    InvalidContact,
    InvalidCredentials,
    PasswordMismatch,
    PasswordRefusal,
    PasswordRefused,
    PolicyViolations,
)
from sspr.domain.flow import Collaborators, password_state, registered_questions
from sspr.domain.keys import account_subject, subject_key
from sspr.domain.masks import decoy_dn, mask_email
from sspr.domain.notify import notify_after_write
from sspr.domain.phone import first_mobile, mask_mobile, normalize_mobile
from sspr.domain.policy import normalize_password
from sspr.domain.ports import LoginResult, RecoveryField, UserEntry
from sspr.domain.reset import ResetService
from sspr.domain.sessions import TokenSessions
from sspr.domain.settings import DomainSettings, Profile


@dataclass
class AccountSession:
    """A logged-in user, as kept in the account's TokenSessions."""

    dn: str
    profile: str
    state: str  # "ok", "must_change" or "expired"
    proved_at: float
    grace_left: int | None = None
    # The password's state at login: the session dies when the password changes elsewhere.
    password_state: str = ""
    # A new mobile or address waiting for its code, masked, by kind ("mobile", "email").
    pending: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountStatus:
    """What "Mon compte" shows: the questions set (never the answers), masked contacts."""

    question_ids: tuple[str, ...]
    mobile: str
    email: str


class AccountService:
    """The account pages' operations, each on behalf of one logged-in user."""

    def __init__(
        self,
        *,
        settings: DomainSettings,
        reset: ResetService,
        parts: Collaborators,
        code_policies: Mapping[str, CodePolicy],
        now: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._reset = reset
        self._directory = parts.directory
        self._store = parts.store
        self._audit = parts.audit
        self._hasher = parts.hasher
        self._codes = parts.codes
        self._notifier = parts.notifier
        self._code_policies = code_policies
        self._now = now
        # The logged-in users: the cookie holds only a random token.
        self.sessions = TokenSessions(
            parts.store, "acct", settings.account_idle_seconds, parts.clock
        )

    def now(self) -> float:
        """The service's clock, so sessions and snoozes follow an injected one in tests."""
        return self._now()

    # -- login -------------------------------------------------------------------------------

    def login(
        self, profile: Profile, identifier: str, password: str
    ) -> tuple[UserEntry, LoginResult]:
        """Bind as the user; unknown accounts and wrong passwords fail alike."""
        entry = self._reset.identify(profile, identifier.strip())
        password = normalize_password(password)  # é typed either way: the form written (NFC)
        result = self._bind(profile, entry, password)
        return self._judge_login(profile, entry, result), result

    def _bind(self, profile: Profile, entry: UserEntry | None, password: str) -> LoginResult:
        """Bind as the account; an unknown one binds to a decoy, in the same time, and fails."""
        if entry is None:
            self._directory.authenticate(decoy_dn(profile.base), password)
            return LoginResult(False)
        return self._directory.authenticate(entry.dn, password)

    def _judge_login(
        self, profile: Profile, entry: UserEntry | None, result: LoginResult
    ) -> UserEntry:
        """The account a bind proved, or the error to show; audited either way."""
        dn = entry.dn if entry else None
        right_password = result.ok or result.expired or result.locked
        if entry is None or not (right_password or result.disabled or result.account_expired):
            self._login_audit(Outcome.FAILURE, dn, profile.id, "invalid_credentials")
            raise InvalidCredentials()
        if result.locked:
            self._login_audit(Outcome.FAILURE, dn, profile.id, "locked")
            raise PasswordRefused(PasswordRefusal.LOCKED)
        unusable = "disabled" if result.disabled else "expired" if result.account_expired else None
        if unusable:
            # Said only to whoever typed the right password: AD checks it before the state.
            self._login_audit(Outcome.FAILURE, dn, profile.id, f"account_{unusable}")
            raise AccountUnusable(unusable)
        state = "expired" if result.expired else "must_change" if result.must_change else None
        self._login_audit(Outcome.SUCCESS, dn, profile.id, state)
        return entry

    def confirm_password(self, entry: UserEntry, password: str) -> None:
        """Check the current password again before a sensitive change."""
        if not self._directory.authenticate(entry.dn, normalize_password(password)).ok:
            self._login_audit(Outcome.FAILURE, entry.dn, None, "reauth")
            raise InvalidCredentials()

    def _login_audit(
        self, outcome: Outcome, dn: str | None, profile: str | None, cause: str | None
    ) -> None:
        self._audit.record(
            AuditEvent.ACCOUNT_LOGIN, outcome, user_dn=dn, profile=profile, cause=cause
        )

    def entry(self, dn: str) -> UserEntry:
        """The account, read again: pages always show the directory's current data."""
        entry = self._directory.read_user(dn)
        if entry is None:
            raise InvalidCredentials()
        return entry

    # -- status and reminder -----------------------------------------------------------------

    def status(self, entry: UserEntry) -> AccountStatus:
        """Questions set, masked mobile and masked email."""
        mobile = first_mobile(list(entry.mobiles), self._region())
        return AccountStatus(
            question_ids=registered_questions(self._settings, entry),
            mobile=mask_mobile(mobile, self._region()) if mobile else "",
            email=mask_email(entry.mails[0]) if entry.mails else "",
        )

    def reminder_due(self, profile: Profile, entry: UserEntry) -> bool:
        """As the DGFiP portal: remind to add a mobile at each login, unless snoozed."""
        if not profile.remind_mobile or first_mobile(list(entry.mobiles), self._region()):
            return False
        return self._snoozed_until(entry) <= self._now()

    def snooze_reminder(self, entry: UserEntry) -> None:
        """ "Ne plus afficher ce rappel": quiet for the configured months, across restarts."""
        days = self._settings.reminder_snooze_days
        until = datetime.fromtimestamp(self._now(), UTC) + timedelta(days=days)
        if self._settings.reminder_in_directory:
            self._directory.write_recovery(entry.dn, {"reminder": [until]})
        else:
            self._store.set(self._snooze_key(entry), b"1", days * 86400)
        self._audit.record(
            AuditEvent.ENROLMENT_CHANGED, Outcome.SUCCESS, user_dn=entry.dn,
            cause="reminder_snoozed",
        )  # fmt: skip

    def _snoozed_until(self, entry: UserEntry) -> float:
        if not self._settings.reminder_in_directory:
            left = self._store.ttl(self._snooze_key(entry))
            return self._now() + left if left else 0.0
        until = entry.reminder_snoozed_until
        return until.timestamp() if until is not None else 0.0

    def _snooze_key(self, entry: UserEntry) -> str:
        return "reminder:" + account_subject(self._settings.directory_of(entry.dn), entry.dn)

    # -- security questions ------------------------------------------------------------------

    def set_answers(
        self, profile: Profile, entry: UserEntry, answers: Sequence[NewAnswer], lang: str
    ) -> None:
        """Check and store the answers (normalised, argon2id), replacing the previous ones."""
        problems = answer_problems(self._settings, profile, entry, answers, lang)
        if problems:
            raise AnswerProblems(problems)
        values: list[str] = []
        for index, new in enumerate(answers):
            question_id = new.question_id
            if question_id == "custom":
                question_id = f"custom-{index + 1}"
                values.append(encode_custom_question(question_id, new.custom_text.strip()))
            values.append(self._hasher.store(question_id, new.answer).encode())
        self._directory.write_recovery(entry.dn, {"answers": values})
        self._changed(profile, entry, "questions", lang)

    # -- mobile and email --------------------------------------------------------------------

    def request_contact_change(
        self, profile: Profile, entry: UserEntry, channel: str, value: str, lang: str
    ) -> str:
        """Send a code to the new destination; the change waits for it. Return it masked."""
        destination = self._normalized_contact(channel, value)
        policy = self._code_policies[channel]
        minutes = max(1, int(policy.ttl // 60))

        def deliver(code: str) -> None:
            if channel == Channel.SMS:
                self._notifier.sms_code(to=destination, lang=lang, code=code, minutes=minutes)
            else:
                self._notifier.contact_code(to=destination, profile=profile.id, lang=lang,
                                            code=code, minutes=minutes)  # fmt: skip

        self._codes.issue(
            subject=self._enrol_subject(entry), channel=channel, destination=destination,
            password_state=password_state(entry), policy=policy, deliver=deliver,
        )  # fmt: skip
        self._store.set(self._pending_key(entry, channel), destination.encode(), policy.ttl)
        return (
            mask_mobile(destination, self._region())
            if channel == Channel.SMS
            else mask_email(destination)
        )

    def confirm_contact_change(
        self, profile: Profile, entry: UserEntry, channel: str, code: str, lang: str
    ) -> None:
        """Write the new destination once its code is typed back, then tell the user."""
        pending = self._store.get(self._pending_key(entry, channel))
        if pending is None:
            raise CodeExpired("expired")
        self._codes.verify(subject=self._enrol_subject(entry), channel=channel, code=code,
                           password_state=password_state(entry))  # fmt: skip
        destination = pending.decode()
        self._store.delete(self._pending_key(entry, channel))
        field_name: RecoveryField = "mobile" if channel == Channel.SMS else "mail"
        self._directory.write_recovery(entry.dn, {field_name: [destination]})
        if channel == Channel.EMAIL:
            self._warn_old_addresses(profile, entry, destination, lang)
        self._changed(
            profile,
            entry,
            field_name,
            lang,
            new_mail=destination if channel == Channel.EMAIL else None,
        )

    def _warn_old_addresses(
        self, profile: Profile, entry: UserEntry, destination: str, lang: str
    ) -> None:
        for old in entry.mails:
            if old.casefold() == destination.casefold():
                continue
            self._notify("email_changed", entry, profile, partial(
                self._notifier.email_changed, to=old, profile=profile.id, lang=lang,
                login=entry.login, new=mask_email(destination),
            ))  # fmt: skip

    def _normalized_contact(self, channel: str, value: str) -> str:
        value = value.strip()
        if channel == Channel.SMS:
            mobile = normalize_mobile(value, self._region())
            if mobile is None:
                raise InvalidContact(value)
            return mobile
        local, at, domain = value.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in value):
            raise InvalidContact(value)
        return value

    def _enrol_subject(self, entry: UserEntry) -> str:
        return subject_key("enrol", entry.dn.casefold())

    def _pending_key(self, entry: UserEntry, channel: str) -> str:
        return f"pending:{channel}:{self._enrol_subject(entry)}"

    # -- password ----------------------------------------------------------------------------

    def change_password(
        self, profile: Profile, entry: UserEntry, old: str, new: str, confirmation: str, lang: str
    ) -> None:
        """Change a known password with the user's own rights, after the profile's rules."""
        new = normalize_password(new)
        mismatch = new != normalize_password(confirmation)
        old = normalize_password(old)
        # The old password is at hand: no directory round trip (on AD, no failed bind either).
        assessment = self._reset.assess(profile, entry, new, known_current=old, by_user=True)
        if assessment.failed:
            raise PolicyViolations(assessment.failed, assessment, mismatch=mismatch)
        if mismatch:
            raise PasswordMismatch()
        self._write_own(profile, entry, old, new, lang)

    def change_known_password(
        self, profile: Profile, identifier: str, old: str, new: str, confirmation: str, lang: str
    ) -> None:
        """The one-form change: identifier, current password and the new one, in one request.

        One bind proves the current password and carries the change. Nothing about the new
        password is said before that proof: the rules that read the account (names inside,
        the current password) would tell on it.
        """
        old, new = normalize_password(old), normalize_password(new)
        mismatch = new != normalize_password(confirmation)
        entry = self._reset.identify(profile, identifier.strip())

        def proven(result: LoginResult) -> None:
            account = self._judge_login(profile, entry, result)
            # The typed current password has just been proven: no directory round trip.
            assessment = self._reset.assess(profile, account, new, known_current=old, by_user=True)
            if assessment.failed:
                raise PolicyViolations(assessment.failed, assessment, mismatch=mismatch)
            if mismatch:
                raise PasswordMismatch()

        if entry is None or not old:
            return proven(self._bind(profile, entry, old))  # fails as a wrong password
        self._write_own(profile, entry, old, new, lang, before=proven)
        return None

    def _write_own(
        self, profile: Profile, entry: UserEntry, old: str, new: str, lang: str,
        before: Callable[[LoginResult], None] | None = None,
    ) -> None:  # fmt: skip
        # What `before` refuses (a wrong password, a rule) was audited there, not a change.
        judged = before is None

        def check(result: LoginResult) -> None:
            nonlocal judged
            if before is not None:
                before(result)
            judged = True

        try:
            self._directory.change_own_password(entry.dn, old, new, before=check)
        except (InvalidCredentials, PasswordRefused) as refused:
            reason = getattr(getattr(refused, "reason", None), "value", "invalid_credentials")
            if judged:
                self._audit.record(
                    AuditEvent.ACCOUNT_PASSWORD_CHANGED, Outcome.FAILURE, user_dn=entry.dn,
                    profile=profile.id, cause=reason,
                )  # fmt: skip
            raise
        self._audit.record(
            AuditEvent.ACCOUNT_PASSWORD_CHANGED, Outcome.SUCCESS, user_dn=entry.dn,
            profile=profile.id,
        )  # fmt: skip
        self._notify("password_changed", entry, profile, lambda: self._notifier.password_changed(
            entry=entry, profile=profile.id, lang=lang))  # fmt: skip

    # -- helpers -----------------------------------------------------------------------------

    def _changed(
        self, profile: Profile, entry: UserEntry, what: str, lang: str, new_mail: str | None = None
    ) -> None:
        """Audit a change of personal data and confirm it by mail (as the DGFiP portal)."""
        self._audit.record(
            AuditEvent.ENROLMENT_CHANGED, Outcome.SUCCESS, user_dn=entry.dn, profile=profile.id,
            cause=what,
        )  # fmt: skip
        to = new_mail or (entry.mails[0] if entry.mails else None)
        if to:
            self._notify("personal_data_changed", entry, profile,
                         lambda: self._notifier.personal_data_changed(
                             to=to, profile=profile.id, lang=lang, login=entry.login))  # fmt: skip

    def _notify(
        self, kind: str, entry: UserEntry, profile: Profile, send: Callable[[], None]
    ) -> None:
        notify_after_write(self._audit, kind, send, user_dn=entry.dn, profile=profile.id)

    def _region(self) -> str:
        return self._settings.region
