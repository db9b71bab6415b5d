"""The reset flow: identify, prove with security answers, choose a new password."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

from sspr.config import Profile, Settings
from sspr.domain.answers import AnswerHasher, parse_stored
from sspr.domain.audit import AuditLog
from sspr.domain.errors import (
    FlowExpired,
    NotEnrolled,
    PasswordMismatch,
    PasswordRefused,
    PolicyViolations,
    StepNotAllowed,
    TooManyAttempts,
    WrongAnswer,
)
from sspr.domain.limits import AttemptLimiter, Limit, subject_key
from sspr.domain.policy import PasswordPolicy, Rule, UserContext, normalize_password
from sspr.domain.ports import Directory, Store, UserEntry

CHANNEL = "question"


@dataclass(frozen=True)
class Flow:
    """One reset in progress, kept server-side so the cookie reveals nothing about the account."""

    id: str
    profile: str
    subject: str
    questions: tuple[str, ...]
    dn: str | None = None
    proven: bool = False
    password_state: str = ""
    started_at: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Serialise for the store."""
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Flow:
        """Read back what to_json wrote."""
        data = json.loads(raw)
        data["questions"] = tuple(data["questions"])
        return cls(**data)


def password_state(entry: UserEntry) -> str:
    """A fingerprint of the password's state: proofs die when the password changes."""
    return hashlib.sha256(entry.password_changed_at.encode()).hexdigest()[:16]


class ResetService:
    """The reset journey, with its collaborators passed in."""

    def __init__(
        self,
        *,
        settings: Settings,
        directory: Directory,
        store: Store,
        audit: AuditLog,
        hasher: AnswerHasher,
        policies: Mapping[str, PasswordPolicy],
        secret: bytes,
        now: float | None = None,
    ) -> None:
        self._settings = settings
        self._directory = directory
        self._store = store
        self._audit = audit
        self._hasher = hasher
        self._policies = policies
        self._secret = secret
        attempts = settings.answer_attempts
        self._limiter = AttemptLimiter(
            store,
            "answers",
            Limit(attempts.max_failures, attempts.window_seconds, attempts.lockout_seconds),
        )

    # -- step 1: identify ------------------------------------------------------------------

    def start(self, profile: Profile, identifier: str, *, started_at: float = 0.0) -> Flow:
        """Find the account behind an identifier; unknown ones get an indistinguishable flow."""
        identifier = identifier.strip()
        entry = self.identify(profile, identifier)
        subject = self._subject(profile, identifier, entry)
        self._limiter.ensure_allowed(subject)
        questions = self._questions_of(entry) if entry else ()
        if entry and not questions and profile.not_enrolled.explicit:
            self._audit.record(
                "reset.requested", "not_enrolled", user_dn=entry.dn, profile=profile.id
            )
            raise NotEnrolled(profile.id)
        questions = questions[: profile.questions_asked] or self._decoy_questions(
            profile, identifier
        )
        flow = Flow(
            id=secrets.token_urlsafe(32),
            profile=profile.id,
            subject=subject,
            questions=questions,
            dn=entry.dn if entry and self._questions_of(entry) else None,
            started_at=started_at,
        )
        self._save(flow)
        self._audit.record(
            "reset.requested",
            "success" if flow.dn else "no_account",
            user_dn=entry.dn if entry else None,
            profile=profile.id,
            channel=CHANNEL,
        )
        return flow

    def identify(self, profile: Profile, identifier: str) -> UserEntry | None:
        """Return the one account the identifier names in this profile, or None if ambiguous."""
        if not identifier:
            return None
        entries = self._directory.find_users(profile.identifier, identifier, limit=2)
        if len(entries) != 1:
            return None
        entry = entries[0]
        candidates = [(p.id, p.base, p.filter) for p in self._settings.profiles]
        # Membership is decided by the server, and a user in several profiles is ambiguous.
        if self._directory.memberships(entry.dn, candidates) != {profile.id}:
            return None
        return entry

    # -- step 2: prove -----------------------------------------------------------------------

    def load(self, flow_id: str) -> Flow:
        """Return the flow behind a session's id, or raise FlowExpired."""
        raw = self._store.get(self._flow_key(flow_id)) if flow_id else None
        if raw is None:
            raise FlowExpired()
        return Flow.from_json(raw)

    def answer(self, flow_id: str, answers: Mapping[str, str]) -> Flow:
        """Check the answers; every question is hashed whatever happens, so timing says nothing."""
        flow = self.load(flow_id)
        if flow.proven:
            return flow
        self._limiter.ensure_allowed(flow.subject)
        entry = self._directory.read_user(flow.dn) if flow.dn else None
        stored = {a.question_id: a for a in parse_stored(entry.answers)} if entry else {}
        results = [self._hasher.verify(stored.get(q), answers.get(q, "")) for q in flow.questions]
        if entry is None or not all(results):
            self._fail(flow)
        assert entry is not None
        self._limiter.succeed(flow.subject)
        proven = replace(flow, proven=True, password_state=password_state(entry))
        self._save(proven)
        self._audit.record(
            "proof.succeeded", "success", user_dn=entry.dn, profile=flow.profile, channel=CHANNEL
        )
        return proven

    def _fail(self, flow: Flow) -> None:
        fields: dict[str, str | int | None] = {
            "user_dn": flow.dn,
            "profile": flow.profile,
            "channel": CHANNEL,
        }
        try:
            left = self._limiter.fail(flow.subject)
        except TooManyAttempts:
            self._audit.record("proof.failed", "failure", reason="wrong_answer", **fields)
            self._audit.record("account.blocked", "failure", reason="too_many_failures", **fields)
            self._store.delete(self._flow_key(flow.id))
            raise
        self._audit.record("proof.failed", "failure", reason="wrong_answer", **fields)
        raise WrongAnswer(attempts_left=left)

    # -- step 3: new password ----------------------------------------------------------------

    def policy_for(self, profile: Profile) -> PasswordPolicy:
        """The password policy a profile uses."""
        return self._policies[profile.policy]

    def choose_password(self, flow_id: str, password: str, confirmation: str) -> Profile:
        """Check the new password against every rule, then write it; return the profile."""
        flow = self.load(flow_id)
        if not flow.proven or flow.dn is None:
            raise StepNotAllowed()
        profile = self._settings.profile(flow.profile)
        entry = self._directory.read_user(flow.dn)
        if profile is None or entry is None or password_state(entry) != flow.password_state:
            self._store.delete(self._flow_key(flow.id))
            raise FlowExpired()
        password = normalize_password(password)
        if password != normalize_password(confirmation):
            raise PasswordMismatch()
        failed = self.failed_rules(profile, entry, password)
        if failed:
            raise PolicyViolations(failed)
        self._write(flow, profile, password)
        return profile

    def failed_rules(self, profile: Profile, entry: UserEntry, password: str) -> list[Rule]:
        """Every rule the password breaks, the directory answering for the current password."""
        policy = self.policy_for(profile)
        failed = policy.check(password, UserContext(entry.login, entry.name_parts))
        if policy.not_current and self._directory.is_current_password(entry.dn, password):
            failed.insert(0, Rule("not_current"))
        return failed

    def _write(self, flow: Flow, profile: Profile, password: str) -> None:
        assert flow.dn is not None
        try:
            self._directory.set_password(
                flow.dn, password, must_change=profile.must_change_after_reset
            )
        except PasswordRefused as refused:
            self._audit.record(
                "password.changed",
                "failure",
                user_dn=flow.dn,
                profile=profile.id,
                reason=refused.reason.value,
            )
            raise
        self._store.delete(self._flow_key(flow.id))
        self._audit.record(
            "password.changed", "success", user_dn=flow.dn, profile=profile.id, channel=CHANNEL
        )

    # -- helpers ---------------------------------------------------------------------------

    def _questions_of(self, entry: UserEntry) -> tuple[str, ...]:
        registered = {answer.question_id for answer in parse_stored(entry.answers)}
        return tuple(q.id for q in self._settings.questions if q.id in registered)

    def _decoy_questions(self, profile: Profile, identifier: str) -> tuple[str, ...]:
        """Questions for an unknown account, stable per identifier so retries look real."""
        ids = [q.id for q in self._settings.questions]
        seed = hmac.new(self._secret, f"{profile.id}\0{identifier.casefold()}".encode(), "sha256")
        digest = seed.digest()
        chosen: list[str] = []
        for byte in digest:
            candidate = ids[byte % len(ids)]
            if candidate not in chosen:
                chosen.append(candidate)
            if len(chosen) == min(profile.questions_asked, len(ids)):
                break
        return tuple(chosen)

    def _subject(self, profile: Profile, identifier: str, entry: UserEntry | None) -> str:
        if entry is not None:
            return subject_key("dn", entry.dn.casefold())
        return subject_key("id", profile.id, identifier.casefold())

    def _save(self, flow: Flow) -> None:
        self._store.set(self._flow_key(flow.id), flow.to_json(), self._settings.flow_ttl_seconds)

    @staticmethod
    def _flow_key(flow_id: str) -> str:
        # Hashed: a dump of the store must not hand out live flows.
        return "flow:" + hashlib.sha256(flow_id.encode()).hexdigest()


def questions_text(settings: Settings, question_ids: Sequence[str], lang: str) -> list[str]:
    """The text of each question, in the user's language."""
    texts = []
    for question_id in question_ids:
        question = settings.question(question_id)
        texts.append(question.text.get(lang) if question else question_id)
    return texts
