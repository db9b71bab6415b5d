"""SMS through Twilio (numbers are normalised and masked by sspr.domain.phone)."""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sspr.domain.errors import DeliveryFailed


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
        self._client = Client(
            account_sid,
            auth_token,
            http_client=http_client or TwilioHttpClient(timeout=timeout),
        )

    def rehearse(self) -> None:
        """An authenticated API round trip that sends nothing: the latency of a send."""
        try:
            self._client.api.v2010.accounts(self._client.account_sid).fetch()
        except TwilioRestException as exc:
            raise DeliveryFailed(f"twilio: HTTP {exc.status} error {exc.code}") from exc
        except (TwilioException, requests.RequestException, OSError) as exc:
            raise DeliveryFailed(f"twilio: {type(exc).__name__}") from exc

    def send(self, to_e164: str, body: str) -> None:
        """Send one SMS, or raise DeliveryFailed."""
        try:
            self._client.messages.create(to=to_e164, body=body, **self._sender)
        except TwilioRestException as exc:
            # Status and Twilio's error code only: the message text may quote the number.
            raise DeliveryFailed(f"twilio: HTTP {exc.status} error {exc.code}") from exc
        except (TwilioException, requests.RequestException, OSError) as exc:
            raise DeliveryFailed(f"twilio: {type(exc).__name__}") from exc
