"""The reset flow: identify, prove on each step's channel, then set the new password."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any

from sspr.domain.answers import AnswerHasher, parse_custom_questions, parse_stored
from sspr.domain.audit import AuditLog
from sspr.domain.codes import CodePolicy, CodeService, LinkSigner
from sspr.domain.errors import (
    CodeExpired,
    CodeInvalid,
    DeliveryFailed,
    FlowExpired,
    NotEnrolled,
    PasswordMismatch,
    PasswordRefused,
    PolicyViolations,
    ResendTooSoon,
    StepNotAllowed,
    StoreUnavailable,
    TooManyAttempts,
    TooManySends,
    WrongAnswer,
)
from sspr.domain.limits import AttemptLimiter, subject_key
from sspr.domain.masks import decoy_email, decoy_mobile, mask_email
from sspr.domain.notify import Notifier, notify_after_write
from sspr.domain.phone import first_mobile, mask_mobile
from sspr.domain.policy import (
    PasswordPolicy,
    Rule,
    UserContext,
    generate_password,
    normalize_password,
)
from sspr.domain.ports import Directory, Store, UserEntry
from sspr.domain.sessions import TokenSessions
from sspr.domain.settings import DomainSettings, Profile

CODE_CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class Flow:
    """One reset in progress, kept server-side so the cookie reveals nothing about the account."""

    id: str
    profile: str
    subject: str
    steps: tuple[tuple[str, ...], ...]
    available: tuple[str, ...]
    questions: tuple[str, ...] = ()
    custom_questions: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    dn: str | None = None
    done: int = 0
    channel: str = ""
    password_state: str = ""
    lang: str = "fr"
    identifier: str = ""

    @property
    def proven(self) -> bool:
        """Whether every step has been proved."""
        return self.done >= len(self.steps)

    def options(self) -> tuple[str, ...]:
        """The channels the user may pick for the current step."""
        if self.proven:
            return ()
        return tuple(c for c in self.steps[self.done] if c in self.available)

    def state(self) -> dict[str, object]:
        """What the session keeps: everything but the id, which is the session's token."""
        data = asdict(self)
        data.pop("id")
        return data

    @classmethod
    def from_state(cls, token: str, data: dict[str, Any]) -> Flow:
        """Read back what state() gave."""
        data = dict(data, id=token)
        data["steps"] = tuple(tuple(step) for step in data["steps"])
        for name in ("available", "questions"):
            data[name] = tuple(data[name])
        return cls(**data)


def password_state(entry: UserEntry) -> str:
    """A fingerprint of the password's state: proofs die when the password changes."""
    return hashlib.sha256(entry.password_changed_at.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Collaborators:
    """What the reset flow works with, passed in by the application."""

    directory: Directory
    store: Store
    audit: AuditLog
    hasher: AnswerHasher
    codes: CodeService
    links: LinkSigner
    notifier: Notifier


class ResetService:
    """The reset journey, with its collaborators passed in."""

    def __init__(
        self,
        *,
        settings: DomainSettings,
        parts: Collaborators,
        policies: Mapping[str, PasswordPolicy],
        code_policies: Mapping[str, CodePolicy],
        secret: bytes,
    ) -> None:
        self._settings = settings
        self._directory = parts.directory
        self._store = parts.store
        self._audit = parts.audit
        self._hasher = parts.hasher
        self._codes = parts.codes
        self._links = parts.links
        self._notifier = parts.notifier
        self._policies = policies
        self._code_policies = code_policies
        self._secret = secret
        # The flow's id is its session token: the only thing the browser holds.
        self._flows = TokenSessions(parts.store, "flow", settings.flow_ttl_seconds)
        self._limiter = AttemptLimiter(
            parts.store,
            "proofs",
            settings.proof_attempts,
        )

    # -- step 1: identify ------------------------------------------------------------------

    def start(self, profile: Profile, identifier: str, lang: str = "fr") -> Flow:
        """Find the account behind an identifier; unknown ones get an indistinguishable flow."""
        identifier = identifier.strip()
        entry = self.identify(profile, identifier)
        subject = self._subject(profile, identifier, entry)
        self._limiter.ensure_allowed(subject)
        if entry is not None and (missing := self._missing_channel(profile, entry)):
            self._audit.record(
                "reset.requested", "not_enrolled", user_dn=entry.dn, profile=profile.id,
                channel=missing,
            )  # fmt: skip
            if profile.not_enrolled.explicit:
                raise NotEnrolled(profile.id, missing)
            entry = None  # From here on, exactly like an unknown account.
        flow = self._new_flow(profile, identifier, subject, entry, lang)
        if entry is not None:
            self._audit.record("reset.requested", "success", user_dn=entry.dn, profile=profile.id)
        else:
            self._audit.record("reset.requested", "no_account", profile=profile.id)
        return self._enter_step(flow, entry)

    def identify(self, profile: Profile, identifier: str) -> UserEntry | None:
        """Return the one account the identifier names in this profile, or None if ambiguous."""
        if not identifier:
            return None
        entries = self._directory.find_users(profile.identifier, identifier, limit=2)
        if len(entries) != 1:
            # The membership query a found account costs, on the profile's base instead:
            # deliberate directory work, so the response time does not tell the cases apart.
            self._directory.memberships(profile.base, [(profile.id, profile.base, profile.filter)])
            return None
        entry = entries[0]
        candidates = [(p.id, p.base, p.filter) for p in self._settings.profiles]
        # Membership is decided by the server, and a user in several profiles is ambiguous.
        if self._directory.memberships(entry.dn, candidates) != {profile.id}:
            return None
        return entry

    def _new_flow(
        self, profile: Profile, identifier: str, subject: str, entry: UserEntry | None, lang: str
    ) -> Flow:
        flow = self._unsaved_flow(profile, identifier, subject, entry, lang)
        return replace(flow, id=self._flows.open(flow.state()))

    def _unsaved_flow(
        self, profile: Profile, identifier: str, subject: str, entry: UserEntry | None, lang: str
    ) -> Flow:
        if entry is None:
            return Flow(
                id="",
                profile=profile.id,
                subject=subject,
                steps=profile.steps(),
                available=tuple(c for step in profile.steps() for c in step),
                questions=self._decoy_questions(profile, identifier),
                contacts=self._decoy_contacts(identifier),
                lang=lang,
                identifier=identifier,
            )
        return Flow(
            id="",
            profile=profile.id,
            subject=subject,
            steps=profile.steps(),
            available=self._available(entry),
            questions=self._questions_of(entry)[: profile.questions_asked],
            custom_questions=parse_custom_questions(entry.answers),
            contacts=self._contacts(entry),
            dn=entry.dn,
            password_state=password_state(entry),
            lang=lang,
            identifier=identifier,
        )

    # -- step 2: prove on each step's channel -----------------------------------------------

    def load(self, flow_id: str) -> Flow:
        """Return the flow behind a session's id, or raise FlowExpired."""
        state = self._flows.load(flow_id)
        if state is None:
            raise FlowExpired()
        return Flow.from_state(flow_id, state)

    def choose(self, flow_id: str, channel: str) -> Flow:
        """Pick the channel of a step that offers several; a code channel sends its code."""
        flow = self.load(flow_id)
        if channel not in flow.options():
            raise StepNotAllowed()
        self._limiter.ensure_allowed(flow.subject)
        chosen = replace(flow, channel=channel)
        if channel in CODE_CHANNELS:
            self._send_first_code(chosen, self._read(flow))
        self._save(chosen)
        return chosen

    def resend(self, flow_id: str) -> Flow:
        """Send a new code on the current channel (cooldown and hourly cap apply)."""
        flow = self.load(flow_id)
        if flow.channel not in CODE_CHANNELS:
            raise StepNotAllowed()
        self._limiter.ensure_allowed(flow.subject)
        self._send_code(flow, self._read(flow))
        return flow

    def answer(self, flow_id: str, answers: Mapping[str, str]) -> Flow:
        """Check the answers; every question is hashed whatever happens, so timing says nothing."""
        flow = self._current(flow_id, "question")
        entry = self._read(flow)
        stored = {a.question_id: a for a in parse_stored(entry.answers)} if entry else {}
        results = [self._hasher.verify(stored.get(q), answers.get(q, "")) for q in flow.questions]
        if entry is None or not all(results):
            left = self._fail(flow, "wrong_answer")
            raise WrongAnswer(attempts_left=left)
        return self._prove(flow, entry)

    def verify_code(self, flow_id: str, code: str) -> Flow:
        """Check a typed code of the current code channel."""
        flow = self.load(flow_id)
        if flow.channel not in CODE_CHANNELS:
            raise StepNotAllowed()
        return self._check_code(self._current(flow_id, flow.channel), code)

    def verify_link(self, token: str) -> Flow:
        """Check the code an email link carries; the link is bound to its own flow and account."""
        max_age = self._code_policies["email"].ttl
        flow_id, code = self._links.read(token, max_age, channel="email")
        flow = self.load(flow_id)
        if flow.channel != "email":
            raise CodeExpired("expired")
        self._links.read(token, max_age, channel="email", password_state=flow.password_state)
        return self._check_code(self._current(flow_id, "email"), code)

    def _check_code(self, flow: Flow, code: str) -> Flow:
        try:
            self._codes.verify(
                subject=flow.subject, channel=flow.channel, code=code,
                password_state=flow.password_state,
            )  # fmt: skip
        except CodeInvalid as invalid:
            left = self._fail(flow, "wrong_code")
            raise CodeInvalid(min(invalid.attempts_left, left)) from invalid
        except CodeExpired as expired:
            self._fail(flow, f"code_{expired.reason}")
            raise
        entry = self._read(flow)
        if entry is None:
            # Only decoys get here, and their code is never sent: count it as wrong.
            raise CodeInvalid(self._fail(flow, "wrong_code"))
        return self._prove(flow, entry)

    def _current(self, flow_id: str, channel: str) -> Flow:
        flow = self.load(flow_id)
        if flow.proven or flow.channel != channel:
            raise StepNotAllowed()
        self._limiter.ensure_allowed(flow.subject)
        return flow

    def _prove(self, flow: Flow, entry: UserEntry) -> Flow:
        if password_state(entry) != flow.password_state:
            self._drop(flow)
            raise FlowExpired()
        self._limiter.succeed(flow.subject)
        self._audit.record(
            "proof.succeeded", "success", user_dn=entry.dn, profile=flow.profile,
            channel=flow.channel,
        )  # fmt: skip
        # A new id at each proof: a flow id seen before the proof is worth nothing after it.
        advanced = replace(flow, id=self._flows.rotate(flow.id), done=flow.done + 1, channel="")
        return self._enter_step(advanced, entry)

    def _enter_step(self, flow: Flow, entry: UserEntry | None) -> Flow:
        """Select a step's only channel by itself, sending its code straight away."""
        options = flow.options()
        if len(options) == 1:
            flow = replace(flow, channel=options[0])
            if flow.channel in CODE_CHANNELS:
                self._send_first_code(flow, entry)
        self._save(flow)
        return flow

    def _send_first_code(self, flow: Flow, entry: UserEntry | None) -> None:
        # A code went to this account moments ago (a restarted flow): that one still works.
        with contextlib.suppress(ResendTooSoon):
            self._send_code(flow, entry)

    def _fail(self, flow: Flow, reason: str) -> int:
        """Count a failed proof for the account; raise TooManyAttempts when it is blocked."""
        fields: dict[str, str | int | None] = {
            "user_dn": flow.dn,
            "profile": flow.profile,
            "channel": flow.channel,
        }
        self._audit.record("proof.failed", "failure", reason=reason, **fields)
        try:
            return self._limiter.fail(flow.subject)
        except TooManyAttempts:
            self._audit.record("account.blocked", "failure", reason="too_many_failures", **fields)
            self._drop(flow)
            if flow.channel in CODE_CHANNELS:
                self._codes.cancel(subject=flow.subject, channel=flow.channel)
            raise

    def proof_block(self, dn: str) -> float | None:
        """Seconds left of the account's block after failed proofs, or None."""
        try:
            self._limiter.ensure_allowed(subject_key("dn", dn.casefold()))
        except TooManyAttempts as blocked:
            return blocked.retry_after
        return None

    def lift_proof_block(self, dn: str) -> None:
        """End the account's block after failed proofs (a helpdesk agent unlocks it)."""
        self._limiter.unblock(subject_key("dn", dn.casefold()))

    def resend_wait(self, dn: str, channel: str) -> float | None:
        """Seconds before the account's reset may send another code on `channel`, or None."""
        return self._codes.resend_wait(subject=subject_key("dn", dn.casefold()), channel=channel)

    # -- codes -----------------------------------------------------------------------------

    def code_policy(self, channel: str) -> CodePolicy:
        """The rules of a code channel."""
        return self._code_policies[channel]

    def _send_code(self, flow: Flow, entry: UserEntry | None) -> None:
        policy = self._code_policies[flow.channel]
        destination = self._destination(flow.channel, entry) if entry else None
        deliver: Callable[[str], None]
        if destination is None:
            # A decoy: a code is issued, so limits and cooldowns behave alike, but never sent;
            # the sender still does all but the sending, so the time taken tells nothing.
            destination = flow.identifier.casefold()
            channel = flow.channel

            def deliver(code: str) -> None:
                self._notifier.rehearse(channel)
        else:
            deliver = self._deliverer(flow, destination, policy)
        try:
            self._codes.issue(
                subject=flow.subject, channel=flow.channel, destination=destination,
                password_state=flow.password_state, policy=policy, deliver=deliver,
            )  # fmt: skip
        except DeliveryFailed as failed:
            self._audit.record(
                "code.sent", "failure", user_dn=flow.dn, profile=flow.profile,
                channel=flow.channel, reason=failed.reason,
            )  # fmt: skip
            raise
        except TooManySends:
            self._audit.record(
                "ratelimit.hit", "failure", user_dn=flow.dn, profile=flow.profile,
                channel=flow.channel, reason="destination",
            )  # fmt: skip
            raise
        self._audit.record(
            "code.sent", "success", user_dn=flow.dn, profile=flow.profile, channel=flow.channel
        )

    def _deliverer(self, flow: Flow, destination: str, policy: CodePolicy) -> Callable[[str], None]:
        minutes = max(1, int(policy.ttl // 60))

        def deliver(code: str) -> None:
            if flow.channel == "sms":
                self._notifier.sms_code(to=destination, lang=flow.lang, code=code, minutes=minutes)
                return
            token = self._links.make(flow.id, "email", code, flow.password_state)
            link = f"{self._settings.public_url}/reset/link/{token}"
            self._notifier.email_code(
                to=destination, profile=flow.profile, lang=flow.lang, code=code, link=link,
                minutes=minutes,
            )  # fmt: skip

        return deliver

    def _destination(self, channel: str, entry: UserEntry) -> str | None:
        if channel == "email":
            return entry.mails[0] if entry.mails else None
        return first_mobile(list(entry.mobiles), self._settings.region)

    # -- step 3: new password ----------------------------------------------------------------

    def policy_for(self, profile: Profile) -> PasswordPolicy:
        """The password policy a profile uses."""
        return self._policies[profile.policy]

    def choose_password(self, flow_id: str, password: str, confirmation: str) -> Profile:
        """Check the new password against every rule, then write it; return the profile."""
        flow, profile, entry = self._proven(flow_id)
        password = normalize_password(password)
        if password != normalize_password(confirmation):
            raise PasswordMismatch()
        failed = self.failed_rules(profile, entry, password)
        if failed:
            raise PolicyViolations(failed)
        self._write(flow, profile, entry, password, must_change=profile.must_change_after_reset)
        notice = partial(
            self._notifier.password_changed, entry=entry, profile=profile.id, lang=flow.lang
        )
        notify_after_write(
            self._audit, "password_changed", notice, user_dn=flow.dn, profile=flow.profile
        )
        return profile

    def send_temporary_password(self, flow_id: str) -> Profile:
        """Generate a password the policy accepts, write it as must-change, and mail it."""
        flow, profile, entry = self._proven(flow_id)
        if not profile.temporary_password:
            raise StepNotAllowed()
        context = UserContext(entry.login, entry.name_parts)
        password = generate_password(self.policy_for(profile), context)
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

    def _proven(self, flow_id: str) -> tuple[Flow, Profile, UserEntry]:
        flow = self.load(flow_id)
        if not flow.proven or flow.dn is None:
            raise StepNotAllowed()
        profile = self._settings.profile(flow.profile)
        entry = self._directory.read_user(flow.dn)
        if profile is None or entry is None or password_state(entry) != flow.password_state:
            self._drop(flow)
            raise FlowExpired()
        return flow, profile, entry

    def failed_rules(self, profile: Profile, entry: UserEntry, password: str) -> list[Rule]:
        """Every rule the password breaks, the directory answering for the current password."""
        policy = self.policy_for(profile)
        failed = policy.check(password, UserContext(entry.login, entry.name_parts))
        if policy.not_current and self._directory.is_current_password(entry.dn, password):
            failed.insert(0, Rule("not_current"))
        return failed

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
        try:
            self._directory.set_password(entry.dn, password, must_change=must_change)
        except PasswordRefused as refused:
            self._audit.record(
                "password.changed", "failure", user_dn=entry.dn, profile=profile.id,
                reason=refused.reason.value,
            )  # fmt: skip
            self._restore(flow)
            raise
        except BaseException:
            self._restore(flow)  # nothing was written: the user may try again
            raise
        self._audit.record(
            "password.changed", "success", user_dn=entry.dn, profile=profile.id,
            reason="temporary" if must_change else None,
        )  # fmt: skip

    # -- helpers ---------------------------------------------------------------------------

    def _read(self, flow: Flow) -> UserEntry | None:
        return self._directory.read_user(flow.dn) if flow.dn else None

    def _available(self, entry: UserEntry) -> tuple[str, ...]:
        channels = []
        if self._questions_of(entry):
            channels.append("question")
        if entry.mails and self._settings.mail_enabled:
            channels.append("email")
        if self._settings.sms_region is not None and self._destination("sms", entry):
            channels.append("sms")
        return tuple(channels)

    def _missing_channel(self, profile: Profile, entry: UserEntry) -> str | None:
        """The first step the account cannot prove, as its first channel; None if all can."""
        available = set(self._available(entry))
        for step in profile.steps():
            if not available.intersection(step):
                return "sms" if "sms" in step else step[0]
        return None

    def _contacts(self, entry: UserEntry) -> dict[str, str]:
        contacts = {}
        if entry.mails:
            contacts["email"] = mask_email(entry.mails[0])
        mobile = self._destination("sms", entry) if self._settings.sms_region else None
        if mobile:
            contacts["sms"] = mask_mobile(mobile, self._settings.region)
        return contacts

    def _decoy_contacts(self, identifier: str) -> dict[str, str]:
        seed = self._seed("contacts", identifier)
        return {"email": decoy_email(identifier, seed), "sms": decoy_mobile(seed)}

    def _questions_of(self, entry: UserEntry) -> tuple[str, ...]:
        """Registered questions that can be asked: the admin's in order, then the user's own."""
        return registered_questions(self._settings, entry)

    def _decoy_questions(self, profile: Profile, identifier: str) -> tuple[str, ...]:
        """Questions for an unknown account, stable per identifier so retries look real."""
        ids = [q.id for q in self._settings.questions]
        if not ids:
            return ()
        chosen: list[str] = []
        for byte in self._seed(profile.id, identifier):
            candidate = ids[byte % len(ids)]
            if candidate not in chosen:
                chosen.append(candidate)
            if len(chosen) == min(profile.questions_asked, len(ids)):
                break
        return tuple(chosen)

    def _seed(self, purpose: str, identifier: str) -> bytes:
        message = f"{purpose}\0{identifier.casefold()}".encode()
        return hmac.new(self._secret, message, "sha256").digest()

    def _subject(self, profile: Profile, identifier: str, entry: UserEntry | None) -> str:
        if entry is not None:
            return subject_key("dn", entry.dn.casefold())
        return subject_key("id", profile.id, identifier.casefold())

    def _save(self, flow: Flow) -> None:
        self._flows.touch(flow.id, flow.state())

    def _restore(self, flow: Flow) -> None:
        """Put back a flow taken for a write that did not happen."""
        with contextlib.suppress(StoreUnavailable):
            self._save(flow)

    def _drop(self, flow: Flow) -> None:
        self._flows.close(flow.id)


def registered_questions(settings: DomainSettings, entry: UserEntry) -> tuple[str, ...]:
    """The account's answered questions that still exist: the admin's, then its own."""
    registered = {answer.question_id for answer in parse_stored(entry.answers)}
    custom = parse_custom_questions(entry.answers)
    listed = [q.id for q in settings.questions if q.id in registered]
    return (*listed, *(qid for qid in custom if qid in registered and qid not in listed))


def questions_text(
    settings: DomainSettings, question_ids: Sequence[str], lang: str, custom: Mapping[str, str]
) -> list[str]:
    """The text of each question, in the user's language (the user's own, as written)."""
    texts = []
    for question_id in question_ids:
        question = settings.question(question_id)
        texts.append(question.text.get(lang) if question else custom.get(question_id, ""))
    return texts
