"""Notices go out through a durable queue in the store, off the request path.

"Votre mot de passe a été modifié" and the other notices are rendered during the request and
pushed to the store's queue; a thread of each worker sends them, retrying while the mail
server refuses or does not answer. The queue lives in the store (the SQLite file, or Redis),
so a restart loses nothing: whatever is pending is sent by the next worker to start. Codes,
which the user is waiting for, do not come this way.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.channels import Channel
from sspr.domain.errors import SsprError
from sspr.domain.ports import Mailer, OutgoingMail, Store

QUEUE = "notices"
# A notice still undelivered after a day is dropped, and the audit trail says so.
KEEP_SECONDS = 86400.0
# How long a claimed notice stays hidden: the pause before a retry, and the time a worker
# has to send it before another may.
LEASE_SECONDS = 300.0
MAX_ATTEMPTS = 12
# How often an idle sender looks for notices pushed by other workers or hosts.
POLL_SECONDS = 5.0

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """A rendered mail and what its audit line says about it."""

    mail: OutgoingMail
    kind: str
    user_dn: str | None = None
    profile: str | None = None

    def encode(self) -> bytes:
        """The queue's value."""
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Notice:
        """Read back what encode wrote."""
        data = json.loads(raw)
        return cls(mail=OutgoingMail(**data.pop("mail")), **data)


class Outbox:
    """The queue of notices, and the sender that empties it."""

    def __init__(
        self, store: Store, mailer: Mailer, audit: AuditLog, *, background: bool = True
    ) -> None:
        self._store = store
        self._background = background
        self._mailer = mailer
        self._audit = audit
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_pid = 0
        self._lock = threading.Lock()

    def enqueue(self, notice: Notice) -> None:
        """Keep a notice for sending; the sender thread is woken (and started if needed)."""
        self._store.push(QUEUE, notice.encode(), KEEP_SECONDS)
        if self._background:
            self.start()
            self._wake.set()

    def drain(self, limit: int = 100) -> int:
        """Send the notices that are due, at most `limit`; return how many went out."""
        sent = 0
        for _ in range(limit):
            item = self._store.claim(QUEUE, LEASE_SECONDS)
            if item is None:
                break
            notice = Notice.decode(item.value)
            if self._send(notice, item.claims):
                sent += 1
                self._store.ack(QUEUE, item.id)
            elif item.claims >= MAX_ATTEMPTS:
                self._store.ack(QUEUE, item.id)
                self._record(notice, Outcome.FAILURE, "gave_up")
        return sent

    def start(self) -> None:
        """Run the sender in a thread of this process (again after a fork: threads do not
        survive one)."""
        with self._lock:
            if self._thread is not None and self._thread_pid == os.getpid():
                return
            self._thread = threading.Thread(target=self._run, name="sspr-outbox", daemon=True)
            self._thread_pid = os.getpid()
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.drain()
            except SsprError as error:  # the store is down: try again later
                _logger.warning("outbox: %s", error)
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def _send(self, notice: Notice, attempt: int) -> bool:
        try:
            self._mailer.send(notice.mail)
        except SsprError as error:
            _logger.warning("outbox: %s not sent (attempt %d): %s", notice.kind, attempt, error)
            return False
        self._record(notice, Outcome.SUCCESS, None)
        return True

    def _record(self, notice: Notice, outcome: Outcome, reason: str | None) -> None:
        self._audit.record(
            AuditEvent.NOTIFICATION_SENT, outcome, user_dn=notice.user_dn, profile=notice.profile,
            channel=Channel.EMAIL, cause=f"{notice.kind}: {reason}" if reason else notice.kind,
        )  # fmt: skip
