"""Email over SMTP with smtplib: plain, STARTTLS or implicit TLS, optional AUTH, timeouts.

Sessions are kept open between messages (a code the user waits for then costs one
transaction, not a TCP and TLS handshake and a login): a few per process, each used by one
thread at a time, dropped when the server closed them or after a short idle time.
"""

from __future__ import annotations

import os
import re
import select
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from email.message import Message
from email.utils import parseaddr
from typing import Literal

from sspr.config import MailConfig
from sspr.delivery.mime import build_message
from sspr.domain.errors import DeliveryFailed
from sspr.domain.ports import OutgoingMail

Security = Literal["none", "starttls", "tls"]
# Idle sessions kept per process: the request threads and the outbox's sender share them.
KEPT_SESSIONS = 2
# Well under the 5 minutes a server waits for the next command (RFC 5321 §4.5.3.2.7), and
# than most firewalls' idle timeouts: a kept session is then rarely found dead.
KEEP_SECONDS = 60.0


class SmtpMailer:
    """A Mailer on kept-alive SMTP sessions; every failure is DeliveryFailed."""

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
        self._guard = threading.Lock()
        self._pid = os.getpid()
        self._idle: list[tuple[Session, float]] = []  # with the time each went idle

    def send(self, message: OutgoingMail) -> None:
        """Send one message, or raise DeliveryFailed."""
        try:
            mail = self.build(message)
        except ValueError as exc:  # a header with a line break, or an unusable address
            raise DeliveryFailed("smtp: the message headers are invalid") from exc
        self._transaction(lambda smtp: smtp.send_message(mail))

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
        # Built and flattened as for a send (the same work), but never given to the server.
        _dot_stuffed(mail.as_bytes(policy=mail.policy.clone(linesep="\r\n")))
        sender = parseaddr(self._sender)[1]

        def aborted(smtp: smtplib.SMTP) -> None:
            # As many round trips as a send (MAIL, RCPT, DATA, the final dot): NOOP stands
            # for DATA, and RSET, which drops the transaction, for the dot.
            for command in (f"MAIL FROM:<{sender}>", f"RCPT TO:<{sender}>", "NOOP", "RSET"):
                code, _ = smtp.docmd(command)
                if code >= 400:
                    raise smtplib.SMTPResponseException(code, b"")

        self._transaction(aborted)

    def probe(self) -> str:
        """Connect, secure and log in, send nothing; the first line of the EHLO greeting."""
        with self._errors():
            smtp = self._open()
            greeting = smtp.ehlo_resp or b""
            _quit(smtp)
        return greeting.decode("utf-8", "replace").partition("\n")[0].strip()[:80]

    def build(self, message: OutgoingMail) -> Message:
        """The MIME message (sspr.delivery.mime); ValueError for unusable headers."""
        return build_message(self._sender, self._reply_to, message)

    def _transaction(self, work: Callable[[smtplib.SMTP], object]) -> None:
        """Run one mail transaction on a kept session, or on a new one.

        A kept session the server dropped unnoticed (it fails before MAIL FROM is answered,
        so nothing was accepted) is replaced once by a new session.
        """
        with self._errors():
            smtp, kept = self._checkout()
            try:
                try:
                    work(smtp)
                except (smtplib.SMTPServerDisconnected, OSError):
                    if not kept or smtp.answered:
                        raise
                    _close(smtp)
                    smtp = self._open()
                    work(smtp)
            except BaseException:
                _close(smtp)  # a refusal leaves the session in a state not worth keeping
                raise
            self._checkin(smtp)

    def _checkout(self) -> tuple[Session, bool]:
        """(A session ready for a transaction, whether it was kept from an earlier one)."""
        with self._guard:
            if self._pid != os.getpid():
                # Inherited across a fork: the sockets are the parent's; just forget them.
                self._pid, self._idle = os.getpid(), []
            while self._idle:
                smtp, since = self._idle.pop()
                if time.monotonic() - since < KEEP_SECONDS and not _dropped(smtp):
                    smtp.answered = False
                    return smtp, True
                _quit(smtp)
        return self._open(), False

    def _checkin(self, smtp: Session) -> None:
        with self._guard:
            if len(self._idle) < KEPT_SESSIONS and self._pid == os.getpid():
                self._idle.append((smtp, time.monotonic()))
                return
        _quit(smtp)

    def _open(self) -> Session:
        """A connected, secured and authenticated session."""
        smtp = _new_session(self._host, self._port, self._timeout, self._security,
                            self._ssl_context)  # fmt: skip
        try:
            _greet(smtp)
            if self._security == "starttls":
                if not smtp.has_extn("starttls"):  # never fall back to clear text
                    raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
                smtp.starttls(context=self._ssl_context)
                _greet(smtp)
            if self._username:
                smtp.login(self._username, self._password or "")
        except BaseException:
            _close(smtp)
            raise
        return smtp

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Every failure of smtplib or of the network as DeliveryFailed, with its cause."""
        try:
            yield
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts and TLS
            where = f"smtp {self._host}:{self._port}"
            if _timed_out(exc):
                raise DeliveryFailed(f"{where}: timeout after {self._timeout:g} s") from exc
            raise DeliveryFailed(f"{where}: {_describe(exc)}") from exc


class _Answered:
    """Notes when the server answers MAIL FROM: a failure before it means a dead session."""

    answered = True

    def mail(self, sender: str, options: tuple[str, ...] = ()) -> tuple[int, bytes]:
        reply: tuple[int, bytes] = super().mail(sender, options)  # type: ignore[misc]
        self.answered = True
        return reply

    def docmd(self, cmd: str, args: str = "") -> tuple[int, bytes]:
        reply: tuple[int, bytes] = super().docmd(cmd, args)  # type: ignore[misc]
        self.answered = True
        return reply


class _PlainSession(_Answered, smtplib.SMTP):
    pass


class _TlsSession(_Answered, smtplib.SMTP_SSL):
    pass


Session = _PlainSession | _TlsSession


def _new_session(
    host: str, port: int, timeout: float, security: Security, context: ssl.SSLContext
) -> Session:
    if security == "tls":
        return _TlsSession(host, port, timeout=timeout, context=context)
    return _PlainSession(host, port, timeout=timeout)


def _dropped(smtp: smtplib.SMTP) -> bool:
    """True when an idle session has something to read: the server closed it (or said 421)."""
    sock = smtp.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _quit(smtp: smtplib.SMTP) -> None:
    """QUIT without waiting for the reply, then close: a polite end at no round trip's cost."""
    with suppress(smtplib.SMTPException, OSError):
        if smtp.sock is not None:
            smtp.putcmd("quit")
    _close(smtp)


def _close(smtp: smtplib.SMTP) -> None:
    with suppress(OSError):
        smtp.close()


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
