"""The reset flow: identify, prove on each step's channel, then set the new password."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial

from sspr.domain.answers import parse_stored, upgraded_values
from sspr.domain.audit import AuditEvent, Outcome
from sspr.domain.channels import CODE_CHANNELS, Channel
from sspr.domain.codes import CodePolicy
from sspr.domain.errors import (
    AccountBlocked,
    CodeExpired,
    CodeInvalid,
    DeliveryFailed,
    DeliveryUncertain,
    FlowExpired,
    NotEnrolled,
    ResendTooSoon,
    SsprError,
    StepNotAllowed,
    WrongAnswer,
)
from sspr.domain.flow import (
    Collaborators,
    Flow,
    password_state,
)
from sspr.domain.flow_codes import FlowCodes
from sspr.domain.keys import account_subject
from sspr.domain.limits import AttemptLimiter
from sspr.domain.new_flows import NewFlows
from sspr.domain.password_step import PasswordStep
from sspr.domain.policy import Assessment, PasswordPolicy
from sspr.domain.ports import UserEntry
from sspr.domain.sessions import TokenSessions
from sspr.domain.settings import DomainSettings, Profile


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
        self._notifier = parts.notifier
        self._policies = policies
        self._code_policies = code_policies
        self._secret = secret
        self._flow_codes = FlowCodes(settings, parts, code_policies)
        self._new_flows = NewFlows(settings, secret, self._flow_codes.destination)
        # The flow's id is its session token: the only thing the browser holds.
        self._flows = TokenSessions(parts.store, "flow", settings.flow_ttl_seconds, parts.clock)
        self._limiter = AttemptLimiter(
            parts.store, parts.counter, "proofs", settings.proof_attempts
        )
        self._password = PasswordStep(settings, parts, policies, self._flows)
        self._apart = frozenset(p.id for p in settings.profiles if settings.apart(p))

    # -- step 1: identify ------------------------------------------------------------------

    def start(self, profile: Profile, identifier: str, lang: str = "fr") -> Flow:
        """Find the account behind an identifier; unknown ones get an indistinguishable flow."""
        identifier = identifier.strip()
        entry = self.identify(profile, identifier)
        subject = self._new_flows.subject(profile, identifier, entry)
        self._limiter.ensure_allowed(subject)
        if entry is not None and (missing := self._new_flows.missing_channel(profile, entry)):
            self._audit.record(
                AuditEvent.RESET_REQUESTED, Outcome.NOT_ENROLLED, user_dn=entry.dn,
                profile=profile.id, channel=missing,
            )  # fmt: skip
            if profile.not_enrolled.explicit:
                raise NotEnrolled(profile.id, missing)
            entry = None  # From here on, exactly like an unknown account.
        flow = self._new_flow(profile, identifier, subject, entry, lang)
        if entry is not None:
            self._audit.record(
                AuditEvent.RESET_REQUESTED, Outcome.SUCCESS, user_dn=entry.dn, profile=profile.id,
            )  # fmt: skip
        else:
            self._audit.record(AuditEvent.RESET_REQUESTED, Outcome.NO_ACCOUNT, profile=profile.id)
        return self._enter_step(flow, entry, saved=flow)

    def identify(self, profile: Profile, identifier: str) -> UserEntry | None:
        """Return the one account the identifier names in this profile, or None if ambiguous."""
        if not identifier:
            return None
        if profile.id in self._apart:
            # One search answers who and whether in the profile, for every case alike: an
            # account outside the filter, unknown or ambiguous costs that same one search.
            found = self._directory.find_users(
                profile.base, profile.identifier, identifier, limit=2, within=profile.filter
            )
            return found[0] if len(found) == 1 else None
        entries = self._directory.find_users(profile.base, profile.identifier, identifier, limit=2)
        # Membership is decided by the server, and a user in several profiles is ambiguous.
        # Each candidate costs one search whether it holds the account or not, so no case
        # (and the profile's base stands in for a missing account) takes longer than another.
        candidates = [(p.id, p.base, p.filter) for p in self._settings.overlapping(profile)]
        if len(entries) != 1:
            self._directory.memberships(profile.base, candidates)
            return None
        if self._directory.memberships(entries[0].dn, candidates) != {profile.id}:
            return None
        return entries[0]

    def _new_flow(
        self, profile: Profile, identifier: str, subject: str, entry: UserEntry | None, lang: str
    ) -> Flow:
        flow = self._new_flows.build(profile, identifier, subject, entry, lang).with_sole_channel()
        return replace(flow, id=self._flows.open(flow.state()))

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
            chosen = self._send_first_code(chosen, self._read(flow))
        self._save(chosen)
        return chosen

    def resend(self, flow_id: str) -> Flow:
        """Send a new code on the current channel (cooldown and hourly cap apply)."""
        flow = self.load(flow_id)
        if flow.channel not in CODE_CHANNELS:
            raise StepNotAllowed()
        self._limiter.ensure_allowed(flow.subject)
        try:
            self._flow_codes.send(flow, self._read(flow))
            sent = replace(flow, code_reused=False, delivery="")
        except DeliveryUncertain:
            sent = replace(flow, code_reused=False, delivery="late")
        if sent != flow:
            self._save(sent)
        return sent

    def resend_wait_of(self, flow: Flow) -> float | None:
        """Seconds before this flow may ask for another code, or None."""
        return self._codes.resend_wait(subject=flow.subject, channel=flow.channel)

    def answer(self, flow_id: str, answers: Mapping[str, str]) -> Flow:
        """Check the answers; every question is hashed whatever happens, so timing says nothing."""
        flow = self._current(self.load(flow_id), Channel.QUESTION)
        entry = self._read(flow)
        stored = {a.question_id: a for a in parse_stored(entry.answers)} if entry else {}
        results = [self._hasher.verify(stored.get(q), answers.get(q, "")) for q in flow.questions]
        if entry is None or not all(results):
            left = self._fail(flow, "wrong_answer")
            raise WrongAnswer(attempts_left=left)
        self._upgrade_answers(flow, entry, {q: answers.get(q, "") for q in flow.questions})
        return self._prove(flow, entry)

    def _upgrade_answers(self, flow: Flow, entry: UserEntry, typed: Mapping[str, str]) -> None:
        """Rewrite answers stored in an older format, now that their text is known right."""
        values = upgraded_values(entry.answers, self._hasher, typed)
        if values is None:
            return
        fields = {"user_dn": entry.dn, "profile": flow.profile, "cause": "answers_format"}
        try:
            self._directory.write_recovery(entry.dn, {"answers": values})
        except SsprError:
            # The proof stands: the old values still work, the next proof tries again.
            self._audit.record(AuditEvent.ENROLMENT_CHANGED, Outcome.FAILURE, **fields)
            return
        self._audit.record(AuditEvent.ENROLMENT_CHANGED, Outcome.SUCCESS, **fields)

    def verify_code(self, flow_id: str, code: str) -> Flow:
        """Check a typed code of the current code channel."""
        flow = self.load(flow_id)
        if flow.channel not in CODE_CHANNELS:
            raise StepNotAllowed()
        flow = self._current(flow)
        # A typing slip (a letter in an SMS code, a digit missing) is no guess: no try used.
        self._code_policies[flow.channel].check_shape(code)
        check = partial(
            self._codes.verify, subject=flow.subject, channel=flow.channel, code=code,
            password_state=flow.password_state,
        )  # fmt: skip
        return self._check_code(flow, check)

    def verify_link(self, reference: str) -> Flow:
        """Prove the step with an email link: it stands for the code it was sent with, once.

        The link works in any browser: it opens a session of its own on the flow it was sent
        from, and once the proof holds, the session that asked for the code is closed.
        """
        proof = self._codes.redeem_link(reference)
        state = self._flows.load_by_fingerprint(proof.target)
        if state is None:
            raise CodeExpired("expired")
        flow = Flow.from_state(self._flows.open(state), state)
        try:
            if flow.proven or (flow.subject, flow.channel) != (proof.subject, proof.channel):
                raise CodeExpired("expired")
            self._limiter.ensure_allowed(flow.subject)
            check = partial(self._codes.verify_link, proof, password_state=flow.password_state)
            proven = self._check_code(flow, check)
        except BaseException:
            self._flows.close(flow.id)
            raise
        self._flows.close_by_fingerprint(proof.target)
        return proven

    def _check_code(self, flow: Flow, check: Callable[[], None]) -> Flow:
        try:
            check()
        except CodeInvalid as invalid:
            left = self._fail(flow, "wrong_code")
            raise CodeInvalid(min(invalid.attempts_left, left)) from invalid
        except CodeExpired as expired:
            if expired.reason == "attempts":  # the last wrong try of the code: a guess
                self._fail(flow, "code_attempts")
                raise
            # No live code to guess (used, replaced, expired, or the password changed):
            # recorded, but no failure counted, so a stale code locks no one out.
            self._audit.record(
                AuditEvent.PROOF_FAILED, Outcome.FAILURE, user_dn=flow.dn, profile=flow.profile,
                channel=flow.channel, cause=f"code_{expired.reason}",
            )  # fmt: skip
            raise
        entry = self._read(flow)
        if entry is None:
            # Only decoys get here, and their code is never sent: count it as wrong.
            raise CodeInvalid(self._fail(flow, "wrong_code"))
        return self._prove(flow, entry)

    def _current(self, flow: Flow, channel: str | None = None) -> Flow:
        """The flow, if a proof on `channel` (by default its own) is what it waits for."""
        if flow.proven or flow.channel != (channel or flow.channel):
            raise StepNotAllowed()
        self._limiter.ensure_allowed(flow.subject)
        return flow

    def _prove(self, flow: Flow, entry: UserEntry) -> Flow:
        if password_state(entry) != flow.password_state:
            self._drop(flow)
            raise FlowExpired()
        proved = (*flow.proved, flow.channel)
        advanced = replace(flow, done=flow.done + 1, channel="", proved=proved).with_sole_channel()
        # A new id at each proof (the old one worthless after it); of two at once, one goes on.
        if (new_id := self._flows.rotate(flow.id, advanced.state())) is None:
            raise FlowExpired()
        self._limiter.succeed(flow.subject)
        self._audit.record(
            AuditEvent.PROOF_SUCCEEDED, Outcome.SUCCESS, user_dn=entry.dn, profile=flow.profile,
            channel=flow.channel,
        )  # fmt: skip
        advanced = replace(advanced, id=new_id)
        if advanced.proven:
            # Told only now, to the account's owner: identification kept the neutral answer.
            self._password.refuse_unusable(advanced, entry)
        return self._enter_step(advanced, entry, saved=advanced)

    def _enter_step(self, flow: Flow, entry: UserEntry | None, *, saved: Flow) -> Flow:
        """Select a step's only channel by itself, sending its code straight away; the flow
        is written again only when that changed it from what was `saved`."""
        flow = flow.with_sole_channel()
        if flow.channel in CODE_CHANNELS and len(flow.options()) == 1:
            flow = self._send_first_code(flow, entry)
        if flow != saved:
            self._save(flow)
        return flow

    def _send_first_code(self, flow: Flow, entry: UserEntry | None) -> Flow:
        """Send the step's code; within the cooldown (a restarted flow) the last one stands.

        A send that fails still opens the step: its page says what happened, and offers to
        send again (the failure is audited by the sender).
        """
        try:
            self._flow_codes.send(flow, entry)
        except ResendTooSoon:
            return replace(flow, code_reused=True, delivery="")
        except DeliveryUncertain:
            return replace(flow, code_reused=False, delivery="late")
        except DeliveryFailed:
            return replace(flow, code_reused=False, delivery="failed")
        return replace(flow, code_reused=False, delivery="")

    def _fail(self, flow: Flow, reason: str) -> int:
        """Count a failed proof for the account; raise AccountBlocked when it is blocked."""
        fields: dict[str, str | None] = {
            "user_dn": flow.dn,
            "profile": flow.profile,
            "channel": flow.channel,
        }
        self._audit.record(AuditEvent.PROOF_FAILED, Outcome.FAILURE, cause=reason, **fields)
        try:
            return self._limiter.fail(flow.subject)
        except AccountBlocked:
            self._audit.record(
                AuditEvent.ACCOUNT_BLOCKED, Outcome.FAILURE, cause="too_many_failures", **fields,
            )  # fmt: skip
            self._drop(flow)
            if flow.channel in CODE_CHANNELS:
                self._codes.cancel(subject=flow.subject, channel=flow.channel)
            raise

    def proof_block(self, dn: str) -> float | None:
        """Seconds left of the account's block after failed proofs, or None."""
        try:
            self._limiter.ensure_allowed(self._account(dn))
        except AccountBlocked as blocked:
            return blocked.retry_after
        return None

    def lift_proof_block(self, dn: str) -> None:
        """End the account's block after failed proofs (a helpdesk agent unlocks it)."""
        self._limiter.unblock(self._account(dn))

    def resend_wait(self, dn: str, channel: str) -> float | None:
        """Seconds before the account's reset may send another code on `channel`, or None."""
        return self._codes.resend_wait(subject=self._account(dn), channel=channel)

    def _account(self, dn: str) -> str:
        return account_subject(self._settings.directory_of(dn), dn)

    # -- codes -----------------------------------------------------------------------------

    def code_policy(self, channel: str) -> CodePolicy:
        """The rules of a code channel."""
        return self._code_policies[channel]

    # -- step 3: new password (password_step.py) --------------------------------------------

    def policy_for(self, profile: Profile) -> PasswordPolicy:
        """The password policy a profile uses."""
        return self._password.policy_for(profile)

    def policy_for_account(
        self, profile: Profile, entry: UserEntry | None, *, by_user: bool
    ) -> PasswordPolicy:
        """The profile's policy with the directory's rules for the account merged in."""
        return self._password.policy_for_account(profile, entry, by_user=by_user)

    def policy_for_flow(self, profile: Profile, flow: Flow) -> PasswordPolicy:
        """The policy of a proven flow's new password: the profile's and the directory's,
        from what the flow kept of the account (no directory read)."""
        return self.policy_for_account(profile, flow.account(), by_user=False)

    def choose_password(self, flow_id: str, password: str, confirmation: str) -> Profile:
        """Check the new password against every rule, then write it; return the profile."""
        return self._password.choose(self.load(flow_id), password, confirmation)

    def send_temporary_password(self, flow_id: str) -> Profile:
        """Generate a password the policy accepts, write it as must-change, and mail it."""
        return self._password.send_temporary(self.load(flow_id))

    def assess(
        self,
        profile: Profile,
        entry: UserEntry,
        password: str,
        *,
        known_current: str | None = None,
        by_user: bool = False,
    ) -> Assessment:
        """Measure a new password (PasswordStep.assess)."""
        return self._password.assess(
            profile, entry, password, known_current=known_current, by_user=by_user
        )

    # -- helpers ---------------------------------------------------------------------------

    def _read(self, flow: Flow) -> UserEntry | None:
        return self._directory.read_user(flow.dn) if flow.dn else None

    def _save(self, flow: Flow) -> None:
        self._flows.touch(flow.id, flow.state())

    def _drop(self, flow: Flow) -> None:
        self._flows.close(flow.id)
