"""The outbox of notices: durable in the store, sent off the request path, retried, audited.

A real SMTP server (aiosmtpd) receives what goes out; a closed loopback port plays the mail
server that is down. The store is a real SQLite file whose clock the test moves.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

from sspr.delivery.outbox import LEASE_SECONDS, MAX_ATTEMPTS, Notice, Outbox
from sspr.delivery.smtp import SmtpMailer
from sspr.demo.outbox import MailCatcher
from sspr.demo.outbox import Outbox as Caught
from sspr.demo.slapd import free_port
from sspr.domain.audit import AuditLog
from sspr.domain.ports import OutgoingMail
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer(
        "127.0.0.1", port, security="none", username=None, password=None, timeout=2,
        sender="noreply@sspr.test",
    )  # fmt: skip


def _notice(to: str = "jeanne@example.org") -> Notice:
    mail = OutgoingMail(to=to, subject="Votre mot de passe a été modifié", text="Bonjour")
    return Notice(mail, "password_changed", "uid=jeanne,ou=people,dc=sspr", "usager")


def _events(lines: io.StringIO) -> list[tuple[str, str, str]]:
    parsed = [json.loads(line) for line in lines.getvalue().splitlines()]
    return [(e["event"], e["outcome"], e["cause"]) for e in parsed]


def _caught(mail_catcher: tuple[MailCatcher, Caught], to: str) -> list[Any]:
    return [mail for mail in mail_catcher[1].mails if mail.to == to]


def test_a_notice_waits_for_the_mail_server_even_across_a_restart(
    tmp_path: Path, mail_catcher: tuple[MailCatcher, Caught]
) -> None:
    clock, lines = FakeClock(), io.StringIO()
    store = SqliteStore(tmp_path / "store.sqlite3", clock)
    audit = AuditLog([lines], clock=clock)
    down = Outbox(store, _mailer(free_port()), audit, background=False)
    down.enqueue(_notice("restart@example.org"))
    assert down.drain() == 0  # the mail server is down: kept for later
    # A new worker (after a restart) with the server back: the notice is still there.
    restarted = Outbox(
        SqliteStore(tmp_path / "store.sqlite3", clock), _mailer(mail_catcher[0].port), audit,
        background=False,
    )  # fmt: skip
    assert restarted.drain() == 0  # leased by the first attempt until the retry is due
    clock.advance(LEASE_SECONDS)
    assert restarted.drain() == 1
    assert len(_caught(mail_catcher, "restart@example.org")) == 1
    assert _events(lines) == [("notification.sent", "success", "password_changed")]
    clock.advance(LEASE_SECONDS)
    assert restarted.drain() == 0  # sent once, never again


def test_a_notice_that_never_goes_out_is_given_up_and_audited(tmp_path: Path) -> None:
    clock, lines = FakeClock(), io.StringIO()
    store = SqliteStore(tmp_path / "store.sqlite3", clock)
    outbox = Outbox(store, _mailer(free_port()), AuditLog([lines], clock=clock), background=False)
    outbox.enqueue(_notice())
    for _ in range(MAX_ATTEMPTS):
        assert outbox.drain() == 0
        clock.advance(LEASE_SECONDS)
    assert _events(lines) == [("notification.sent", "failure", "password_changed: gave_up")]
    assert store.claim("notices", lease=1) is None


def test_the_sender_thread_sends_without_anyone_waiting(
    tmp_path: Path, mail_catcher: tuple[MailCatcher, Caught]
) -> None:
    store = SqliteStore(tmp_path / "store.sqlite3")
    sent = threading.Event()
    outbox = Outbox(store, _mailer(mail_catcher[0].port), AuditLog([io.StringIO()]))
    outbox.enqueue(_notice("thread@example.org"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not sent.is_set():
        if _caught(mail_catcher, "thread@example.org"):
            sent.set()
        else:
            sent.wait(0.02)
    assert sent.is_set()
