"""Email over SMTP with smtplib: plain, STARTTLS or implicit TLS, optional AUTH, timeouts."""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

from sspr.config import MailConfig
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

    def rehearse(self, message: OutgoingMail) -> None:
        """A send up to its point of no return, for decoy flows: the same work, nothing sent.

        The same message is built, the same session opened, the same envelope and data
        sent; the final dot that commits the message is not. Dropping the connection before
        it makes the server discard the transaction (RFC 5321 §3.8, §4.1.1.4). The envelope
        names the sender itself, so no outside address is ever given to the relay.
        """
        try:
            mail = self.build(message)
        except ValueError as exc:
            raise DeliveryFailed("smtp: the message headers are invalid") from exc
        data = _dot_stuffed(mail.as_bytes(policy=mail.policy.clone(linesep="\r\n")))
        sender = parseaddr(self._sender)[1]
        with self._session() as smtp:
            # NOOP stands for the round trip of the final dot, which a rehearsal cannot make.
            for command in (f"MAIL FROM:<{sender}>", f"RCPT TO:<{sender}>", "NOOP", "DATA"):
                code, _ = smtp.docmd(command)
                if code >= 400:
                    raise smtplib.SMTPResponseException(code, b"")
            smtp.send(data)
            smtp.close()

    def probe(self) -> str:
        """Connect, secure and log in, send nothing; the first line of the EHLO greeting."""
        with self._session() as smtp:
            greeting = smtp.ehlo_resp or b""
        return greeting.decode("utf-8", "replace").partition("\n")[0].strip()[:80]

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
            smtp = self._connect()
            try:
                _greet(smtp)
                if self._security == "starttls":
                    if not smtp.has_extn("starttls"):  # never fall back to clear text
                        raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
                    smtp.starttls(context=self._ssl_context)
                    _greet(smtp)
                if self._username:
                    smtp.login(self._username, self._password or "")
                yield smtp
                # QUIT, without waiting for its reply: the work is done, and a rehearsal
                # could not spend that round trip alike.
                if smtp.sock is not None:
                    smtp.putcmd("quit")
            finally:
                smtp.close()
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


def smtp_mailer(
    mail: MailConfig, password: str | None, *, ssl_context: ssl.SSLContext | None = None
) -> SmtpMailer:
    """The mailer a mail section describes; the password comes from sspr.config.secrets."""
    smtp = mail.smtp
    return SmtpMailer(
        smtp.host, smtp.port, security=smtp.security, username=smtp.username,
        password=password, timeout=smtp.timeout, sender=mail.sender, reply_to=mail.reply_to,
        ssl_context=ssl_context,
    )  # fmt: skip


def _greet(smtp: smtplib.SMTP) -> None:
    code, _ = smtp.ehlo()
    if code != 250:
        raise smtplib.SMTPHeloError(code, b"EHLO refused")


def _dot_stuffed(data: bytes) -> bytes:
    """The data as DATA carries it (RFC 5321 §4.5.2), without the final "." line."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _describe(exc: BaseException) -> str:
    """A reason an admin can act on; never the server's text, which may quote an address."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or type(exc).__name__})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return str(exc) or "the server does not support this"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {exc.smtp_code} ({type(exc).__name__})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection (wrong port or security setting?)"
    return type(exc).__name__


def _timed_out(exc: BaseException) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected, keeping the timeout as context.
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
