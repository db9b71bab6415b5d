"""TwilioSmsSender through the real twilio SDK, its HTTP transport replaced by a recorder."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response

from sspr.delivery.sms import TwilioSmsSender
from sspr.domain.errors import DeliveryFailed

SID = "AC" + "1234567890abcdef" * 2
TOKEN = "auth-token-from-the-environment"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
SERVICE = "MG" + "fedcba0987654321" * 2
BODY = "Votre code de réinitialisation : 482913"


@dataclass
class Sent:
    """One HTTP request as the SDK made it."""

    method: str
    url: str
    params: dict[str, object] | None
    data: dict[str, object] | None
    headers: dict[str, str] | None
    auth: tuple[str, str] | None


@dataclass
class Transport(HttpClient):
    """Twilio's HTTP boundary: records each request and answers with a canned response."""

    status: int = 201
    body: dict[str, object] = field(
        default_factory=lambda: {"sid": "SM" + "0" * 32, "status": "queued"}
    )
    failure: Exception | None = None
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(logging.getLogger("tests.twilio"), is_async=False, timeout=None)

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.sent.append(Sent(method, uri, params, data, headers, auth))
        if self.failure is not None:
            raise self.failure
        return Response(self.status, json.dumps(self.body))


def test_from_number_mode_makes_the_exact_request() -> None:
    transport = Transport()
    sender = TwilioSmsSender(SID, TOKEN, from_number="+15005550006", http_client=transport)
    sender.send("+33612345678", BODY)
    [request] = transport.sent
    assert request.method == "POST"
    assert request.url == MESSAGES_URL
    assert request.data == {"To": "+33612345678", "From": "+15005550006", "Body": BODY}
    assert request.auth == (SID, TOKEN)
    assert not request.params


def test_messaging_service_mode_makes_the_exact_request() -> None:
    transport = Transport()
    sender = TwilioSmsSender(SID, TOKEN, messaging_service_sid=SERVICE, http_client=transport)
    sender.send("+33612345678", BODY)
    [request] = transport.sent
    assert (request.method, request.url, request.auth) == ("POST", MESSAGES_URL, (SID, TOKEN))
    assert request.data == {"To": "+33612345678", "MessagingServiceSid": SERVICE, "Body": BODY}


def test_twilio_error_becomes_delivery_failed() -> None:
    transport = Transport(
        status=400,
        body={
            "code": 21211,
            "message": "The 'To' number +33612345678 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
    )
    sender = TwilioSmsSender(SID, TOKEN, from_number="+15005550006", http_client=transport)
    with pytest.raises(DeliveryFailed) as failed:
        sender.send("+33612345678", BODY)
    assert failed.value.reason == "twilio: HTTP 400 error 21211"
    assert "482913" not in str(failed.value) and TOKEN not in str(failed.value)


def test_transport_error_becomes_delivery_failed() -> None:
    transport = Transport(failure=requests.ConnectTimeout("api.twilio.com timed out"))
    sender = TwilioSmsSender(SID, TOKEN, messaging_service_sid=SERVICE, http_client=transport)
    with pytest.raises(DeliveryFailed) as failed:
        sender.send("+33612345678", BODY)
    assert failed.value.reason == "twilio: cannot reach the API (ConnectTimeout)"


@pytest.mark.parametrize(
    "sender", [{}, {"from_number": "+15005550006", "messaging_service_sid": SERVICE}]
)
def test_exactly_one_sender_is_configured(sender: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        TwilioSmsSender(SID, TOKEN, **sender)  # type: ignore[arg-type]


def test_a_rehearsal_fetches_the_account_and_sends_nothing() -> None:
    transport = Transport(status=200, body={"sid": SID, "status": "active"})
    TwilioSmsSender(SID, TOKEN, from_number="+15005550006", http_client=transport).rehearse()
    [request] = transport.sent
    assert (request.method, request.url) == (
        "GET",
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json",
    )
    failing = Transport(status=401, body={"code": 20003, "message": "Authenticate"})
    with pytest.raises(DeliveryFailed, match="401"):
        TwilioSmsSender(SID, TOKEN, from_number="+15005550006", http_client=failing).rehearse()
