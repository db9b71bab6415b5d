"""The demo's mail catcher (a real SMTP server) and SMS outbox (Twilio's SDK, kept local).

Only `sspr demo` builds these and hands the outbox page to create_app: no configuration
file can turn the page on.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cached_property
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Blueprint, render_template
from twilio.http import HttpClient
from twilio.http.response import Response

from sspr.demo.slapd import free_port

KEPT = 50


@dataclass(frozen=True)
class CapturedMail:
    """One message as the catcher received it, parsed when first read.

    The catcher runs inside the app's process (demo and tests): receiving stays as cheap as
    handing a message to a real relay, whose own work does not weigh on sspr's process.
    """

    at: datetime
    raw: bytes

    @cached_property
    def _message(self) -> EmailMessage:
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    @property
    def to(self) -> str:
        """The To header."""
        return str(self._message["To"])

    @property
    def subject(self) -> str:
        """The Subject header, decoded."""
        return str(self._message["Subject"])

    @property
    def text(self) -> str:
        """The plain-text part."""
        body = self._message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


@dataclass(frozen=True)
class CapturedSms:
    """One SMS as the Twilio SDK would have posted it."""

    at: datetime
    to: str
    body: str


class Outbox:
    """What the demo sent, newest first, shared between threads."""

    def __init__(self) -> None:
        self.mails: deque[CapturedMail] = deque(maxlen=KEPT)
        self.sms: deque[CapturedSms] = deque(maxlen=KEPT)
        self._lock = threading.Lock()

    def add_mail(self, mail: CapturedMail) -> None:
        """Keep a received mail."""
        with self._lock:
            self.mails.appendleft(mail)

    def mails_to(self, address: str) -> list[CapturedMail]:
        """The mails kept for one address, newest first (safe while others arrive)."""
        with self._lock:
            kept = list(self.mails)
        return [mail for mail in kept if mail.to == address]

    def add_sms(self, sms: CapturedSms) -> None:
        """Keep a sent SMS."""
        with self._lock:
            self.sms.appendleft(sms)


class _Catcher:
    """aiosmtpd handler: every message is accepted and kept."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Keep the message (parsed when read)."""
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self._outbox.add_mail(CapturedMail(datetime.now(UTC), content))
        return "250 Message accepted for delivery"


class MailCatcher:
    """A real SMTP server on a free loopback port that keeps what it receives."""

    def __init__(self, outbox: Outbox) -> None:
        self.port = free_port()
        self._controller = Controller(_Catcher(outbox), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        """Start serving SMTP in a thread."""
        self._controller.start()

    def stop(self) -> None:
        """Stop the server."""
        self._controller.stop()


class OutboxTransport(HttpClient):  # type: ignore[misc]
    """Twilio's HTTP boundary for the demo: messages land in the outbox, not on a phone."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(logging.getLogger("sspr.demo.sms"), is_async=False, timeout=None)
        self._outbox = outbox

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Keep the message and answer as Twilio does when it queues one."""
        if method.upper() == "GET":  # a rehearsal (decoy flows): the account, as Twilio has it
            return Response(200, json.dumps({"sid": "AC" + "d" * 32, "status": "active"}))
        data = data or {}
        self._outbox.add_sms(
            CapturedSms(datetime.now(UTC), str(data.get("To")), str(data.get("Body")))
        )
        reply = {"sid": "SM" + "0" * 32, "status": "queued", "to": data.get("To")}
        return Response(201, json.dumps(reply))


def outbox_blueprint(outbox: Outbox) -> Blueprint:
    """The demo-only page that lists captured mails and SMS."""
    blueprint = Blueprint("demo", __name__)

    @blueprint.get("/demo/outbox")
    def show() -> str:
        return render_template("demo/outbox.html", mails=list(outbox.mails), sms=list(outbox.sms))

    @blueprint.app_context_processor
    def banner() -> dict[str, bool]:
        return {"demo_outbox": True}

    return blueprint
