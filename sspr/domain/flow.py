"""A reset flow in progress, and what the reset's services share."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sspr.domain.answers import AnswerHasher, parse_custom_questions, parse_stored
from sspr.domain.audit import AuditLog
from sspr.domain.breach import BreachCheck
from sspr.domain.codes import CodeService
from sspr.domain.limits import Counter
from sspr.domain.notify import Notifier
from sspr.domain.ports import Clock, Directory, Store, SystemClock, UserEntry
from sspr.domain.settings import DomainSettings


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
    # No new code was sent on entering the step: one went out less than a cooldown ago.
    code_reused: bool = False
    # How the step's last code went out when it did not simply go: "failed" (nothing was
    # sent: the user may ask again) or "late" (the provider did not answer: it may arrive).
    delivery: str = ""
    # The account's password policy entry and last change (epoch seconds), read with it:
    # the password page shows the directory's rules without reading the account again.
    policy_dn: str | None = None
    changed_at: float | None = None
    # The channels proved so far, in order: the end of the reset names them ("email+sms").
    proved: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        """Whether every step has been proved."""
        return self.done >= len(self.steps)

    def options(self) -> tuple[str, ...]:
        """The channels the user may pick for the current step."""
        if self.proven:
            return ()
        return tuple(c for c in self.steps[self.done] if c in self.available)

    def with_sole_channel(self) -> Flow:
        """The flow with its step's channel chosen when the step offers only one."""
        options = self.options()
        return replace(self, channel=options[0]) if len(options) == 1 else self

    def account(self) -> UserEntry | None:
        """What the flow knows of its account for the directory's policy (its DN, policy and
        last change: not its names), or None for a decoy."""
        if self.dn is None:
            return None
        changed = datetime.fromtimestamp(self.changed_at, UTC) if self.changed_at else None
        return UserEntry(self.dn, "", policy_dn=self.policy_dn, password_changed_at=changed)

    def state(self) -> dict[str, object]:
        """What the session keeps: everything but the id, which is the session's token."""
        # Read directly, not with asdict(): its deep copy costs more than the JSON after it.
        return {name: getattr(self, name) for name in _STATE_FIELDS}

    @classmethod
    def from_state(cls, token: str, data: dict[str, Any]) -> Flow:
        """Read back what state() gave, here or on a host of another version (a rolling
        upgrade): a field this version lacks is left out, one it adds takes its default."""
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["id"] = token
        data["steps"] = tuple(tuple(step) for step in data["steps"])
        data.setdefault("proved", ())
        for name in ("available", "questions", "proved"):
            data[name] = tuple(data[name])
        return cls(**data)


_STATE_FIELDS = tuple(name for name in Flow.__dataclass_fields__ if name != "id")


def password_state(entry: UserEntry) -> str:
    """A fingerprint of the password's state: proofs die when the password changes.

    Built from the exact time of the last change (to the microsecond the directory keeps),
    so any new password, however soon after the previous one, gives a new fingerprint.
    """
    changed = entry.password_changed_at
    text = changed.astimezone(UTC).isoformat() if changed is not None else ""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Collaborators:
    """What the reset flow works with, passed in by the application."""

    directory: Directory
    store: Store
    # The shared counters every limit counts with.
    counter: Counter
    audit: AuditLog
    hasher: AnswerHasher
    codes: CodeService
    notifier: Notifier
    # Asked by policies with not_breached; None when no policy asks it.
    breaches: BreachCheck | None = None
    # Tells whether the directory's minimum password age still forbids a change.
    clock: Clock = field(default_factory=SystemClock)


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
