"""Twilio failing during a reset: a clear page that stays on the step, and late SMS still work.

The real twilio SDK builds every request; only its HTTP transport is replaced, answering 500,
429, or taking the message and then timing out (the SMS then arrives, late).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from twilio.http.response import Response

from sspr.config import Settings
from sspr.delivery.sms import TwilioSmsSender
from sspr.demo.outbox import Outbox, OutboxTransport
from sspr.demo.slapd import Slapd
from tests.helpers import TWILIO_SID, build_app, can_bind, https_client, submit

NEW_PASSWORD = "Nouv3au-Mot2passe!"


class FaultyTwilio(OutboxTransport):
    """Answers as Twilio does when it fails; `timeout` takes the message, then no answer."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(outbox)
        self.mode = "ok"

    def request(self, method: str, uri: str, *args: Any, **kwargs: Any) -> Response:
        if self.mode in ("500", "429") and method.upper() == "POST":
            code = 20429 if self.mode == "429" else 20500
            return Response(int(self.mode), json.dumps({"code": code, "status": self.mode}))
        answer = super().request(method, uri, *args, **kwargs)
        if self.mode == "timeout":
            raise requests.ReadTimeout("no answer")
        return answer


@pytest.fixture
def twilio(outbox: Outbox) -> FaultyTwilio:
    return FaultyTwilio(outbox)


@pytest.fixture
def sms_client(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, twilio: FaultyTwilio
) -> FlaskClient:
    assert settings.sms is not None
    sender = TwilioSmsSender(
        TWILIO_SID, "test-token", from_number=settings.sms.from_number, http_client=twilio
    )
    return https_client(build_app(settings, outbox, audit_lines, sms_sender=sender))


def _events(audit_lines: io.StringIO, name: str) -> list[tuple[str, str]]:
    lines = [json.loads(line) for line in audit_lines.getvalue().splitlines()]
    return [(e["outcome"], str(e.get("reason"))) for e in lines if e["event"] == name]


@pytest.mark.parametrize("status", ["500", "429"])
def test_a_refused_sms_leaves_the_user_on_the_step_with_the_truth(
    sms_client: FlaskClient, twilio: FaultyTwilio, make_account: Any, outbox: Outbox,
    audit_lines: io.StringIO, status: str,
) -> None:  # fmt: skip
    account = make_account("agent-lycee", mobile="06 11 22 33 91")
    twilio.mode = status
    response = submit(sms_client, "/reset/agent-lycee", {"identifier": account.login})
    assert response.headers["Location"] == "/reset/code"
    page = sms_client.get("/reset/code")  # the step, not « Request expired »
    assert page.status_code == 200
    assert "Le message n'a pas pu être envoyé" in page.text
    assert "un code vous a été envoyé" not in page.text
    assert not outbox.sms
    assert _events(audit_lines, "code.sent")[0][0] == "failure"
    twilio.mode = "ok"  # Twilio is back: no cooldown nor quota was used by the failure
    sms_client.post("/reset/code/resend", data={"csrf_token": _token(page.text)})
    assert len(outbox.sms) == 1


def test_a_late_sms_still_works_and_the_page_says_it_may_be_late(
    sms_client: FlaskClient, twilio: FaultyTwilio, make_account: Any, outbox: Outbox,
    slapd: Slapd,
) -> None:  # fmt: skip
    account = make_account("agent-lycee", mobile="06 11 22 33 92")
    twilio.mode = "timeout"
    submit(sms_client, "/reset/agent-lycee", {"identifier": account.login})
    page = sms_client.get("/reset/code")
    assert "peut arriver avec quelques minutes de retard" in page.text
    (late,) = outbox.sms  # it did arrive after all
    code = re.findall(r"\d{6}", late.body)[0]
    # The timed-out send counts (it may have cost an SMS): no second one right away.
    sms_client.post("/reset/code/resend", data={"csrf_token": _token(page.text)})
    assert len(outbox.sms) == 1
    proven = submit(sms_client, "/reset/code", {"code": code})
    assert proven.headers["Location"] == "/reset/password"
    data = {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    assert submit(sms_client, "/reset/password", data).headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)
