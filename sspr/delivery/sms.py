"""SMS through Twilio (numbers are normalised and masked by sspr.domain.phone)."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sspr.config import SmsConfig
from sspr.domain.errors import DeliveryFailed, DeliveryUncertain


@dataclass(frozen=True)
class TwilioAccount:
    """What Twilio says of the account the credentials open."""

    sid: str
    name: str
    status: str


class TwilioSmsSender:
    """An SmsSender over Twilio's Messages API, from a number or a Messaging Service."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        http_client: HttpClient | None = None,
        timeout: float = 10,
    ) -> None:
        if (from_number is None) == (messaging_service_sid is None):
            raise ValueError("give either a From number or a Messaging Service SID")
        self._sender: dict[str, str] = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid is not None
            else {"from_": str(from_number)}
        )
        self._timeout = timeout
        self._client = Client(
            account_sid,
            auth_token,
            http_client=http_client or TwilioHttpClient(timeout=timeout),
        )

    def rehearse(self) -> None:
        """An authenticated API round trip that sends nothing: the latency of a send."""
        self.account()

    def account(self) -> TwilioAccount:
        """Fetch the account resource: proves the credentials without sending an SMS."""
        sid = self._client.account_sid
        try:
            account = self._client.api.v2010.accounts(sid).fetch()
        except requests.ReadTimeout as exc:
            # As for a send (a decoy's rehearsal must fail the way a real send would).
            raise DeliveryUncertain(f"twilio: no answer within {self._timeout:g} s") from exc
        except (TwilioException, requests.RequestException, OSError) as exc:
            raise DeliveryFailed(_describe(exc)) from exc
        return TwilioAccount(sid, account.friendly_name or sid, account.status or "unknown")

    def send(self, to_e164: str, body: str) -> None:
        """Send one SMS, or raise DeliveryFailed (DeliveryUncertain when it may still go)."""
        try:
            self._client.messages.create(to=to_e164, body=body, **self._sender)
        except requests.ReadTimeout as exc:
            # The request reached Twilio, whose answer did not come: the SMS may be on its way.
            raise DeliveryUncertain(f"twilio: no answer within {self._timeout:g} s") from exc
        except (TwilioException, requests.RequestException, OSError) as exc:
            raise DeliveryFailed(_describe(exc)) from exc


def twilio_sender(
    sms: SmsConfig, account_sid: str, auth_token: str, *, http_client: HttpClient | None = None
) -> TwilioSmsSender:
    """The sender an sms section describes; the credentials come from sspr.config.secrets."""
    return TwilioSmsSender(
        account_sid, auth_token, from_number=sms.from_number,
        messaging_service_sid=sms.messaging_service_sid, http_client=http_client,
        timeout=sms.timeout,
    )  # fmt: skip


def _describe(exc: BaseException) -> str:
    """Status and Twilio's error code only: the message text may quote the number."""
    if isinstance(exc, TwilioRestException):
        if exc.status in (401, 403):
            return f"twilio: credentials refused (HTTP {exc.status}, error {exc.code})"
        return f"twilio: HTTP {exc.status} error {exc.code}"
    return f"twilio: cannot reach the API ({type(exc).__name__})"
