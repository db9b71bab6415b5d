"""check-config's probes: SMTP against real aiosmtpd servers, Twilio through its SDK's transport."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sspr.checks import smtp_check, twilio_format_check, twilio_live_check
from sspr.config import MailConfig, SmsConfig
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.slapd import free_port
from tests.delivery.test_twilio import Transport
from tests.helpers import Tls, self_signed_tls

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "fedcba9876543210" * 2
SERVICE = "MG" + "0123456789abcdef" * 2
USER = "sspr-mailer"
PASSWORD = "s3cret-Pa55"
ACCOUNT_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json"


@dataclass
class Server:
    """An aiosmtpd handler that keeps what reaches DATA and checks AUTH for one account."""

    data: list[bytes] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data.append(envelope.original_content)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        expected = (USER.encode(), PASSWORD.encode())
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == expected
        if ok:
            self.logins.append(data.login)
        return AuthResult(success=ok, handled=False, auth_data=data)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return self_signed_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def starttls_server(tls: Tls) -> Iterator[tuple[int, Server]]:
    """STARTTLS required, then AUTH required: what a submission port (587) looks like."""
    handler = Server()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=tls.server, require_starttls=True,
        authenticator=handler.authenticate, auth_required=True, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    yield port, handler
    controller.stop()


def smtp(port: int, **changes: Any) -> MailConfig:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 3}
    values.update(changes)
    return MailConfig.model_validate({"smtp": values, "sender": "sspr@example.org"})


def sms(**changes: Any) -> SmsConfig:
    values: dict[str, Any] = {
        "account_sid_env": "TEST_TWILIO_SID",
        "auth_token_env": "TEST_TWILIO_TOKEN",
        "messaging_service_sid": SERVICE,
    }
    values.update(changes)
    return SmsConfig.model_validate(values)


# -- SMTP -----------------------------------------------------------------------------------


def test_smtp_connects_and_greets_without_sending(mail_catcher: tuple[MailCatcher, Outbox]) -> None:
    catcher, outbox = mail_catcher
    before = len(outbox.mails)
    check = smtp_check(smtp(catcher.port), None)
    assert check.ok, check.detail
    assert check.name == "smtp: connect + EHLO"
    assert check.detail.startswith(f"127.0.0.1:{catcher.port} (none): EHLO ")
    assert len(outbox.mails) == before


def test_smtp_refused_port_is_named() -> None:
    port = free_port()
    check = smtp_check(smtp(port), None)
    assert not check.ok
    assert check.detail == f"smtp 127.0.0.1:{port}: connection refused"


def test_smtp_starttls_and_login(starttls_server: tuple[int, Server], tls: Tls) -> None:
    port, server = starttls_server
    config = smtp(port, security="starttls", username=USER)
    check = smtp_check(config, PASSWORD, ssl_context=tls.client)
    assert check.ok, check.detail
    assert f"(starttls, logged in as {USER})" in check.detail
    assert server.logins == [USER.encode()]
    assert server.data == []


def test_smtp_wrong_password_is_refused_without_quoting_it(
    starttls_server: tuple[int, Server], tls: Tls
) -> None:
    port, _ = starttls_server
    config = smtp(port, security="starttls", username=USER)
    check = smtp_check(config, "not-the-one", ssl_context=tls.client)
    assert not check.ok
    assert check.detail.startswith(f"smtp 127.0.0.1:{port}: authentication refused (535")
    assert "not-the-one" not in check.detail


def test_smtp_untrusted_certificate(starttls_server: tuple[int, Server]) -> None:
    port, _ = starttls_server
    check = smtp_check(smtp(port, security="starttls", username=USER), PASSWORD)
    assert not check.ok
    assert "certificate not trusted" in check.detail


def test_smtp_starttls_missing_is_not_a_fallback(mail_catcher: tuple[MailCatcher, Outbox]) -> None:
    check = smtp_check(smtp(mail_catcher[0].port, security="starttls"), None)
    assert not check.ok
    assert check.detail.endswith(": the server does not offer STARTTLS")


def test_smtp_implicit_tls_on_a_plain_port(mail_catcher: tuple[MailCatcher, Outbox]) -> None:
    check = smtp_check(smtp(mail_catcher[0].port, security="tls"), None)
    assert not check.ok
    assert "TLS handshake failed" in check.detail


def test_smtp_login_in_clear_text_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="authentication \\(username\\) needs security"):
        smtp(25, security="none", username=USER)


# -- Twilio: format -------------------------------------------------------------------------


def test_twilio_format_ok() -> None:
    check = twilio_format_check(sms(), SID, TOKEN)
    assert check.ok, check.detail
    assert TOKEN not in check.detail


@pytest.mark.parametrize(
    ("sid", "token", "expected"),
    [
        ("", TOKEN, "twilio: account SID must look like AC + 32 hex digits"),
        ("AC123", TOKEN, "twilio: account SID must look like AC + 32 hex digits"),
        (SID.upper(), TOKEN, "twilio: account SID must look like AC + 32 hex digits"),
        (SERVICE, TOKEN, "twilio: account SID must look like AC + 32 hex digits"),
        (SID, "", "twilio: auth token must be 32 hex digits"),
        (SID, "x" * 32, "twilio: auth token must be 32 hex digits"),
        (SID, TOKEN + "0", "twilio: auth token must be 32 hex digits"),
    ],
)
def test_twilio_credential_formats(sid: str, token: str, expected: str) -> None:
    check = twilio_format_check(sms(), sid, token)
    assert not check.ok
    assert check.detail == expected


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ({"messaging_service_sid": "MG12"}, "messaging_service_sid must look like MG + 32 hex"),
        ({"messaging_service_sid": None, "from_number": "0612345678"}, 'from_number "0612345678"'),
        ({"messaging_service_sid": None, "from_number": "+33 6 12 34 56 78"}, "is not a valid"),
        ({"messaging_service_sid": None, "from_number": "+3361234567"}, "E.164"),
    ],
)
def test_twilio_sender_formats(sender: dict[str, Any], expected: str) -> None:
    check = twilio_format_check(sms(**sender), SID, TOKEN)
    assert not check.ok
    assert expected in check.detail


def test_twilio_from_number_in_e164_passes() -> None:
    check = twilio_format_check(
        sms(messaging_service_sid=None, from_number="+33612345678"), SID, TOKEN
    )
    assert check.ok, check.detail


# -- Twilio: live ---------------------------------------------------------------------------


def test_twilio_live_check_fetches_the_account() -> None:
    transport = Transport(
        status=200, body={"sid": SID, "status": "active", "friendly_name": "Région"}
    )
    check = twilio_live_check(sms(), SID, TOKEN, http_client=transport)
    assert check.ok, check.detail
    assert check.detail == "account Région is active"
    [request] = transport.sent
    assert (request.method, request.url, request.auth) == ("GET", ACCOUNT_URL, (SID, TOKEN))


def test_twilio_live_check_reports_refused_credentials() -> None:
    body = {"code": 20003, "message": "Authenticate", "status": 401}
    check = twilio_live_check(sms(), SID, TOKEN, http_client=Transport(status=401, body=body))
    assert not check.ok
    assert check.detail == "twilio: credentials refused (HTTP 401, error 20003)"
    assert TOKEN not in check.detail


def test_twilio_live_check_reports_a_suspended_account() -> None:
    transport = Transport(status=200, body={"sid": SID, "status": "suspended"})
    check = twilio_live_check(sms(), SID, TOKEN, http_client=transport)
    assert check.detail == "twilio: the account is suspended"


def test_twilio_live_check_reports_an_unreachable_api() -> None:
    transport = Transport(failure=requests.ConnectionError("no route"))
    check = twilio_live_check(sms(), SID, TOKEN, http_client=transport)
    assert check.detail == "twilio: cannot reach the API (ConnectionError)"
