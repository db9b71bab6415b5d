"""The app `bench/http.py` serves under `sspr serve`: the production factory, SMS to a local sink.

Everything is what production builds from SSPR_CONFIG, except the Twilio SDK's HTTP
transport, which posts each message to the bench's own loopback sink (BENCH_SMS_SINK) so the
bench can read the codes: the SDK itself still builds and sends every request.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

from twilio.http import HttpClient
from twilio.http.response import Response

from sspr.config import load_settings
from sspr.delivery.sms import twilio_sender
from sspr.web.app import create_app


class SinkTransport(HttpClient):  # type: ignore[misc]
    """Twilio's HTTP boundary, answering as Twilio does; the message goes to the sink."""

    def __init__(self, sink_url: str) -> None:
        super().__init__(logging.getLogger("bench.sms"), is_async=False, timeout=None)
        self._sink_url = sink_url

    def request(self, method: str, uri: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:  # fmt: skip
        """Hand the message to the sink; a GET (a decoy's rehearsal) reads the account."""
        if method.upper() == "GET":
            return Response(200, json.dumps({"sid": "AC" + "d" * 32, "status": "active"}))
        message = {"to": (data or {}).get("To"), "body": (data or {}).get("Body")}
        request = urllib.request.Request(  # noqa: S310 - the bench's loopback sink
            self._sink_url, data=json.dumps(message).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            answer.read()
        return Response(201, json.dumps({"sid": "SM" + "0" * 32, "status": "queued"}))


def _app() -> Any:
    settings = load_settings(os.environ["SSPR_CONFIG"])
    assert settings.sms is not None
    transport = SinkTransport(os.environ["BENCH_SMS_SINK"])
    sender = twilio_sender(settings.sms, "AC" + "a" * 32, "b" * 32, http_client=transport)
    return create_app(settings, sms_sender=sender)


app = _app()
