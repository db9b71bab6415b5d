"""Audit events: one structured JSON line per security event, never a secret.

The schema (docs/operations.md, "Audit trail"): every line has `time`, `event`, `outcome`
and the standard fields below, null when they do not apply. `cause` says why (a failure's
cause, or a state such as "temporary"); `agent_note` is the written reason a helpdesk agent
gave. Extra fields of an event (`state` of an unlock) follow.
"""

from __future__ import annotations

import enum
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from sspr.domain.errors import StoreUnavailable
from sspr.domain.ports import AuditTrail, Clock, SystemClock

# Keys a caller may never put in an event, whatever it passes: a last line of defence.
_SECRET_KEYS = frozenset({"password", "new_password", "answer", "answers", "code", "token"})


class AuditEvent(enum.StrEnum):
    """Every event the audit trail knows; `family.action`, the family saying who acts."""

    RESET_REQUESTED = "reset.requested"
    PROOF_SUCCEEDED = "proof.succeeded"
    PROOF_FAILED = "proof.failed"
    ACCOUNT_BLOCKED = "account.blocked"  # failed proofs used up: the account is blocked
    CODE_SENT = "code.sent"
    RATELIMIT_HIT = "ratelimit.hit"  # a per-source or per-destination limit refused
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - the end of a reset
    PASSWORD_BREACH_CHECKED = "password.breach_checked"  # noqa: S105 - an event name
    NOTIFICATION_SENT = "notification.sent"
    CAPTCHA_REFUSED = "captcha.refused"
    ACCOUNT_LOGIN = "account.login"  # « Mon compte »
    # Changed in « Mon compte », knowing the old one.
    ACCOUNT_PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 - an event name
    ENROLMENT_CHANGED = "enrolment.changed"
    HELPDESK_LOGIN = "helpdesk.login"
    HELPDESK_LOGOUT = "helpdesk.logout"
    HELPDESK_RESET_SENT = "helpdesk.reset_sent"
    HELPDESK_IDENTITY_CODE_SENT = "helpdesk.identity_code_sent"
    HELPDESK_IDENTITY_CHECKED = "helpdesk.identity_checked"
    HELPDESK_TEMPORARY_PASSWORD = "helpdesk.temporary_password"  # noqa: S105 - an event name
    HELPDESK_UNLOCK = "helpdesk.unlock"
    HELPDESK_RECOVERY_CLEARED = "helpdesk.recovery_cleared"
    # Staff changing their own expired (or reset) password before using the console.
    HELPDESK_PASSWORD_CHANGED = "helpdesk.password_changed"  # noqa: S105 - an event name
    ADMIN_EXPLAIN = "admin.explain"  # an admin asked why an account is (not) found


class Outcome(enum.StrEnum):
    """How an event ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    NO_ACCOUNT = "no_account"  # a reset for an identifier that names no account
    NOT_ENROLLED = "not_enrolled"  # a reset for an account with nothing to prove itself with
    # password.breach_checked: the verdict of the range service (sspr.domain.breach).
    CLEAN = "clean"
    BREACHED = "breached"
    UNAVAILABLE_ALLOWED = "unavailable_allowed"
    UNAVAILABLE_BLOCKED = "unavailable_blocked"


@dataclass(frozen=True)
class AuditRecord:
    """One audit event, as written."""

    time: str
    event: AuditEvent
    outcome: Outcome
    user_dn: str | None = None
    profile: str | None = None
    # The name of the directory holding the account (its profile's, else its DN's).
    directory: str | None = None
    channel: str | None = None
    cause: str | None = None
    agent: str | None = None
    agent_note: str | None = None
    request_id: str | None = None
    source_ip: str | None = None
    detail: Mapping[str, str | int | None] = field(default_factory=dict)

    def as_line(self) -> dict[str, object]:
        """The JSON object of the line: the standard fields, then the event's details."""
        # Fields read directly: asdict() deep-copies, three times the cost of the line.
        line: dict[str, object] = {name: getattr(self, name) for name in _LINE_FIELDS}
        line.update((k, v) for k, v in self.detail.items() if k not in line)
        return line


_LINE_FIELDS = tuple(name for name in AuditRecord.__dataclass_fields__ if name != "detail")


# Every line carries these, null when they do not apply, so the trail has one schema.
STANDARD_FIELDS = tuple(
    name
    for name in AuditRecord.__dataclass_fields__
    if name not in {"time", "event", "outcome", "detail"}
)

ContextProvider = Callable[[], Mapping[str, str | None]]
# The directory an event is about, from its profile id and its account's DN (or None).
DirectoryResolver = Callable[[str | None, str | None], str | None]
# Called with each record once written (the metrics are built this way, outside the domain).
Observer = Callable[[AuditRecord], None]

_logger = logging.getLogger(__name__)


class AuditLog:
    """Write audit events as JSON lines to text streams, and to the store's shared trail."""

    def __init__(
        self,
        streams: list[IO[str]],
        *,
        clock: Clock | None = None,
        context: ContextProvider | None = None,
        observers: Sequence[Observer] = (),
        trail: AuditTrail | None = None,
        trail_failed: Callable[[], None] | None = None,
        directory_of: DirectoryResolver | None = None,
    ) -> None:
        self._streams = streams
        self._clock = clock or SystemClock()
        self._context = context
        self._observers = tuple(observers)
        self._directory_of = directory_of
        self._lock = threading.Lock()
        self._trail = trail
        self._trail_failed = trail_failed
        # The trail lines of the request this thread serves, written together at its end.
        self._held = threading.local()

    def record(
        self,
        event: AuditEvent,
        outcome: Outcome,
        *,
        user_dn: str | None = None,
        profile: str | None = None,
        channel: str | None = None,
        cause: str | None = None,
        agent: str | None = None,
        agent_note: str | None = None,
        directory: str | None = None,
        **detail: str | int | None,
    ) -> AuditRecord:
        """Write one event; request fields come from the context, the directory resolved."""
        context = self._context() if self._context is not None else {}
        if directory is None and self._directory_of is not None:
            directory = self._directory_of(profile, user_dn)
        record = AuditRecord(
            time=datetime.fromtimestamp(self._clock.now(), UTC).isoformat(),
            event=event, outcome=outcome, user_dn=user_dn, profile=profile, directory=directory,
            channel=channel,
            cause=cause, agent=agent, agent_note=agent_note,
            request_id=context.get("request_id"), source_ip=context.get("source_ip"),
            detail={k: v for k, v in detail.items() if k not in _SECRET_KEYS},
        )  # fmt: skip
        text = json.dumps(record.as_line(), ensure_ascii=False, sort_keys=True)
        with self._lock:
            for stream in self._streams:
                stream.write(text + "\n")
                stream.flush()
        held: list[str] | None = getattr(self._held, "lines", None)
        if held is None:
            self._to_trail([text])
        else:
            held.append(text)
        self._notify(record)
        return record

    def hold(self) -> None:
        """Keep this thread's trail lines until release(): one store write per request."""
        self._held.lines = []

    def release(self) -> None:
        """Write the lines held since hold() to the trail, in one go."""
        lines: list[str] | None = getattr(self._held, "lines", None)
        self._held.lines = None
        if lines:
            self._to_trail(lines)

    def newest(self) -> Iterator[str]:
        """The shared trail's events, newest first (none without a trail)."""
        return self._trail.newest() if self._trail is not None else iter(())

    def _to_trail(self, lines: list[str]) -> None:
        if self._trail is None:
            return
        try:
            self._trail.append(lines)
        except StoreUnavailable:
            # The streams have the events: a store hiccup must not fail the user's request.
            _logger.warning("audit trail: %d event(s) not kept in the store", len(lines))
            if self._trail_failed is not None:
                self._trail_failed()

    def _notify(self, record: AuditRecord) -> None:
        for observer in self._observers:
            try:
                observer(record)
            except Exception:
                # Counting an event must never undo it: the reset already happened.
                _logger.exception("audit observer failed on %s", record.event)
