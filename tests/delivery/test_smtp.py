"""SmtpMailer against a real SMTP server (aiosmtpd): plain, STARTTLS, implicit TLS, AUTH."""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sspr.delivery import smtp as smtp_module
from sspr.delivery.smtp import SmtpMailer
from sspr.domain.errors import DeliveryFailed
from sspr.domain.ports import OutgoingMail
from tests.helpers import Tls, self_signed_tls
from tests.store.conftest import free_port

SENDER = "SSPR <no-reply@example.org>"
USER = "sspr-mailer"
PASSWORD = "s3cret-Pa55"
MAIL = OutgoingMail(
    to="jeanne.martin@example.org",
    subject="Votre code de vérification",
    text="Votre code : T3A8XQ\n",
    html="<p>Votre code : <strong>T3A8XQ</strong></p>",
)


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    login: bytes | None

    def parsed(self) -> email.message.EmailMessage:
        message = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


@dataclass
class Keeper:
    """An aiosmtpd handler that keeps every message, and checks AUTH against one account."""

    messages: list[Received] = field(default_factory=list)
    mechanisms: list[str] = field(default_factory=list)
    # Every transaction's envelope recipients, kept at RCPT: delivered or not.
    recipients: list[str] = field(default_factory=list)
    # The client's address and port of each message: one per connection.
    peers: list[Any] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.recipients.append(address)
        if address in self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        ssl_object = server.transport.get_extra_info("ssl_object")
        auth = session.auth_data
        self.peers.append(session.peer)
        self.messages.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content,
                tls=ssl_object is not None or session.ssl is not None,
                login=auth.login if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        self.mechanisms.append(mechanism)
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        # handled=False: aiosmtpd answers 535 itself on failure.
        return AuthResult(success=ok, handled=False, auth_data=data)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return self_signed_tls(tmp_path_factory.mktemp("tls"))


Start = Callable[..., tuple[int, Keeper]]


@pytest.fixture
def smtp_server() -> Iterator[Start]:
    """Start aiosmtpd servers with the given SMTP options; all stop at teardown."""
    controllers: list[Controller] = []

    def start(**options: Any) -> tuple[int, Keeper]:
        keeper = Keeper()
        if options.pop("auth", False):
            options["authenticator"] = keeper.authenticate
        port = free_port()
        controller = Controller(keeper, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return port, keeper

    yield start
    for controller in controllers:
        controller.stop()


def mailer(port: int, **options: Any) -> SmtpMailer:
    settings: dict[str, Any] = {
        "security": "none",
        "username": None,
        "password": None,
        "timeout": 5.0,
        "sender": SENDER,
    }
    settings.update(options)
    return SmtpMailer("127.0.0.1", port, **settings)


def test_plain_delivery_with_headers_and_both_parts(smtp_server: Start) -> None:
    port, keeper = smtp_server()
    mailer(port, reply_to="support@example.org").send(MAIL)
    [received] = keeper.messages
    assert received.mail_from == "no-reply@example.org"
    assert received.rcpt_tos == ["jeanne.martin@example.org"]
    assert not received.tls
    message = received.parsed()
    assert message["From"] == SENDER
    assert message["To"] == "jeanne.martin@example.org"
    assert message["Subject"] == "Votre code de vérification"
    assert message["Reply-To"] == "support@example.org"
    assert message["Message-ID"].endswith("@example.org>")
    sent_at = email.utils.parsedate_to_datetime(message["Date"])
    assert abs(sent_at.timestamp() - time.time()) < 60
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and text.get_content().replace("\r\n", "\n") == MAIL.text
    assert html is not None and "<strong>T3A8XQ</strong>" in html.get_content()


def test_text_only_and_per_message_reply_to(smtp_server: Start) -> None:
    port, keeper = smtp_server()
    message = OutgoingMail(to="a@example.org", subject="s", text="t", reply_to="r@example.org")
    mailer(port, reply_to="default@example.org").send(message)
    parsed = keeper.messages[0].parsed()
    assert parsed.get_content_type() == "text/plain"
    assert parsed["Reply-To"] == "r@example.org"


def test_starttls(smtp_server: Start, tls: Tls) -> None:
    port, keeper = smtp_server(tls_context=tls.server, require_starttls=True)
    mailer(port, security="starttls", ssl_context=tls.client).send(MAIL)
    assert keeper.messages[0].tls


def test_no_clear_text_fallback_when_starttls_is_required(smtp_server: Start) -> None:
    port, keeper = smtp_server()  # a server that does not offer STARTTLS
    with pytest.raises(DeliveryFailed):
        mailer(port, security="starttls").send(MAIL)
    assert keeper.messages == []


def test_implicit_tls(smtp_server: Start, tls: Tls) -> None:
    port, keeper = smtp_server(ssl_context=tls.server)
    mailer(port, security="tls", ssl_context=tls.client).send(MAIL)
    assert keeper.messages[0].tls


def test_untrusted_certificate_is_refused(smtp_server: Start, tls: Tls) -> None:
    port, keeper = smtp_server(ssl_context=tls.server)
    with pytest.raises(DeliveryFailed):
        mailer(port, security="tls").send(MAIL)  # the system CAs do not know this cert
    assert keeper.messages == []


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_auth_over_starttls(smtp_server: Start, tls: Tls, mechanism: str) -> None:
    other = "PLAIN" if mechanism == "LOGIN" else "LOGIN"
    port, keeper = smtp_server(
        tls_context=tls.server,
        require_starttls=True,
        auth=True,
        auth_required=True,
        auth_require_tls=True,
        auth_exclude_mechanism=[other],
    )
    mailer(
        port, security="starttls", ssl_context=tls.client, username=USER, password=PASSWORD
    ).send(MAIL)
    assert keeper.mechanisms == [mechanism]
    assert keeper.messages[0].login == USER.encode()


def test_auth_over_implicit_tls(smtp_server: Start, tls: Tls) -> None:
    # aiosmtpd only counts STARTTLS as TLS, so it would hide AUTH on an implicit TLS port;
    # the connection is TLS all the same, as the received message shows.
    port, keeper = smtp_server(ssl_context=tls.server, auth=True, auth_require_tls=False)
    mailer(port, security="tls", ssl_context=tls.client, username=USER, password=PASSWORD).send(
        MAIL
    )
    assert keeper.messages[0].login == USER.encode()
    assert keeper.messages[0].tls


def test_wrong_password_fails_without_revealing_it(smtp_server: Start, tls: Tls) -> None:
    port, keeper = smtp_server(
        tls_context=tls.server, require_starttls=True, auth=True, auth_required=True
    )
    with pytest.raises(DeliveryFailed) as failed:
        mailer(
            port, security="starttls", ssl_context=tls.client, username=USER, password="wrong-one"
        ).send(MAIL)
    assert "wrong-one" not in str(failed.value) and "T3A8XQ" not in str(failed.value)
    assert "535" in failed.value.reason
    assert keeper.messages == []


def test_authentication_needs_tls() -> None:
    with pytest.raises(ValueError):
        mailer(25, username=USER, password=PASSWORD)


def test_server_down_fails_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as failed:
        mailer(free_port()).send(MAIL)
    assert time.monotonic() - started < 2
    assert "T3A8XQ" not in str(failed.value)


def test_silent_server_times_out() -> None:
    # Accepts the TCP connection (the kernel does it) but never greets: only the timeout helps.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as failed:
            mailer(port, timeout=0.5).send(MAIL)
        elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 3
    assert "timeout after 0.5 s" in failed.value.reason


def test_header_injection_is_refused(smtp_server: Start) -> None:
    port, keeper = smtp_server()
    evil = OutgoingMail(to="a@example.org\r\nBcc: victim@example.org", subject="s", text="t")
    with pytest.raises(DeliveryFailed):
        mailer(port).send(evil)
    assert keeper.messages == []


def test_a_rehearsal_does_all_but_send(smtp_server: Start, tls: Tls) -> None:
    port, keeper = smtp_server(tls_context=tls.server, require_starttls=True, auth=True)
    secured = mailer(port, security="starttls", username=USER, password=PASSWORD,
                     ssl_context=tls.client)  # fmt: skip
    secured.rehearse(MAIL)
    # The whole transaction up to the final dot, addressed to the sender itself: dropped.
    assert keeper.recipients == ["no-reply@example.org"] and keeper.messages == []
    secured.send(MAIL)  # the server is fine after an aborted transaction
    assert [m.rcpt_tos for m in keeper.messages] == [["jeanne.martin@example.org"]]
    with pytest.raises(DeliveryFailed):
        mailer(free_port()).rehearse(MAIL)  # a decoy fails like a send when the server is down


# -- kept sessions ----------------------------------------------------------------------------


def test_messages_and_rehearsals_share_one_kept_session(smtp_server: Start, tls: Tls) -> None:
    port, keeper = smtp_server(tls_context=tls.server, require_starttls=True, auth=True)
    secured = mailer(port, security="starttls", username=USER, password=PASSWORD,
                     ssl_context=tls.client)  # fmt: skip
    secured.send(MAIL)
    secured.rehearse(MAIL)
    secured.send(MAIL)
    assert len(keeper.messages) == 2 and len(set(keeper.peers)) == 1
    assert len(keeper.mechanisms) == 1  # one login for the three


def test_a_refusal_is_still_a_delivery_failure_and_the_next_send_works(
    smtp_server: Start,
) -> None:
    port, keeper = smtp_server()
    keeper.refused.add(MAIL.to)
    plain = mailer(port)
    with pytest.raises(DeliveryFailed, match="RecipientsRefused"):
        plain.send(MAIL)
    keeper.refused.clear()
    plain.send(MAIL)
    assert [m.rcpt_tos for m in keeper.messages] == [[MAIL.to]]


def test_a_session_the_server_closed_is_replaced(smtp_server: Start) -> None:
    port, keeper = smtp_server()
    plain = mailer(port)
    plain.send(MAIL)
    [(kept, _)] = plain._idle
    kept.sock.shutdown(socket.SHUT_RDWR)  # as a server's idle timeout would end it
    plain.send(MAIL)
    assert len(keeper.messages) == 2 and len(set(keeper.peers)) == 2


def test_a_kept_session_found_dead_at_mail_from_is_retried_once(
    smtp_server: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, keeper = smtp_server()
    plain = mailer(port)
    plain.send(MAIL)
    [(kept, _)] = plain._idle
    kept.sock.shutdown(socket.SHUT_RDWR)
    # Dropped without a word (a firewall): nothing to read, so only MAIL FROM finds out.
    monkeypatch.setattr(smtp_module, "_dropped", lambda smtp: False)
    plain.send(MAIL)
    assert len(keeper.messages) == 2


def test_an_idle_session_is_not_kept_past_its_time(
    smtp_server: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, keeper = smtp_server()
    plain = mailer(port)
    monkeypatch.setattr(smtp_module, "KEEP_SECONDS", 0.0)
    plain.send(MAIL)
    plain.send(MAIL)
    assert len(set(keeper.peers)) == 2


def test_accented_names_and_an_international_address(smtp_server: Start) -> None:
    port, keeper = smtp_server(enable_SMTPUTF8=True)
    accented = mailer(port, sender="Région Île-de-France <no-reply@example.org>")
    accented.send(MAIL)
    accented.send(OutgoingMail(to="jérôme@exemple.fr", subject="Code", text="Votre code : é"))
    first, second = (received.parsed() for received in keeper.messages)
    assert first["From"] == "Région Île-de-France <no-reply@example.org>"
    assert first["Subject"] == "Votre code de vérification"
    assert keeper.messages[1].rcpt_tos == ["jérôme@exemple.fr"]  # sent with SMTPUTF8
    assert second["To"] == "jérôme@exemple.fr" and "Votre code : é" in second.get_content()
