"""Email over SMTP with smtplib: plain, STARTTLS or implicit TLS, optional AUTH, timeouts."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

from sspr.domain.errors import DeliveryFailed
from sspr.domain.ports import OutgoingMail

Security = Literal["none", "starttls", "tls"]


class SmtpMailer:
    """A Mailer that opens one SMTP connection per message; every failure is DeliveryFailed."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security,
        username: str | None,
        password: str | None,
        timeout: float,
        sender: str,
        reply_to: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"unknown SMTP security {security!r}")
        if username and security == "none":
            # The password would cross the network in clear.
            raise ValueError("SMTP authentication needs security starttls or tls")
        self._host = host
        self._port = port
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._sender = sender
        self._reply_to = reply_to
        # Verifies the certificate and host name against the system's CAs.
        self._ssl_context = ssl_context or ssl.create_default_context()

    def send(self, message: OutgoingMail) -> None:
        """Send one message, or raise DeliveryFailed."""
        try:
            mail = self.build(message)
        except ValueError as exc:  # a header with a line break, or an unusable address
            raise DeliveryFailed("smtp: the message headers are invalid") from exc
        with self._session() as smtp:
            smtp.send_message(mail)

    def rehearse(self) -> None:
        """Everything a send does but the message: the same latency, for decoy flows."""
        with self._session() as smtp:
            smtp.noop()

    def build(self, message: OutgoingMail) -> EmailMessage:
        """The MIME message: a text part, and an HTML alternative when given."""
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=True)
        # The sender's domain, so the id is unique without revealing this host's name.
        domain = parseaddr(self._sender)[1].rpartition("@")[2]
        mail["Message-ID"] = make_msgid(domain=domain or None)
        reply_to = message.reply_to or self._reply_to
        if reply_to:
            mail["Reply-To"] = reply_to
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """A connected, secured and authenticated session; every failure is DeliveryFailed."""
        try:
            with self._connect() as smtp:
                if self._security == "starttls":
                    # Raises when the server does not offer STARTTLS: never fall back to clear.
                    smtp.starttls(context=self._ssl_context)
                if self._username:
                    smtp.login(self._username, self._password or "")
                yield smtp
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts and TLS
            where = f"smtp {self._host}:{self._port}"
            if _timed_out(exc):
                raise DeliveryFailed(f"{where}: timeout after {self._timeout:g} s") from exc
            raise DeliveryFailed(f"{where}: {_describe(exc)}") from exc

    def _connect(self) -> smtplib.SMTP:
        if self._security == "tls":
            return smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=self._ssl_context
            )
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)


def _describe(exc: BaseException) -> str:
    """A short, safe account of the failure: the class and SMTP code, never message text."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    return type(exc).__name__


def _timed_out(exc: BaseException) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected, keeping the timeout as context.
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
