"""The ALTCHA captcha on the identify and code-request forms, through the Flask test client.

Payloads are solved here with the altcha package's own solver, as a browser would; the
directory is the real slapd and mail goes through the real SMTP catcher.
"""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

import altcha
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from sspr.domain.ports import Clock
from sspr.domain.sources import Source
from tests.clock import FakeClock
from tests.helpers import WebAccount as Account
from tests.web.conftest import build_app, csrf_token, https_client, submit

# Cheap challenges: the tests check the protocol, the browser test the real cost.
CHEAP = {"cost": 100, "max_counter": 50}
REFUSED = "Veuillez confirmer que vous n&#39;êtes pas un robot"
EXPIRED = "La vérification anti-robot a expiré"


def captcha_app(
    settings: Settings,
    outbox: Outbox,
    audit: io.StringIO,
    profile: str = "usager",
    *,
    mode: str = "always",
    section: dict[str, Any] | None = None,
    clock: Clock | None = None,
    **changes: Any,
) -> Flask:
    """The demo app with one profile's captcha `mode` set (and other `changes`)."""
    raw = settings.model_dump(mode="json")
    raw["captcha"] = {**CHEAP, **(section or {})}
    for entry in raw["profiles"]:
        if entry["id"] == profile:
            entry.update({"captcha": mode, **changes})
    given = {"clock": clock} if clock is not None else {}
    return build_app(Settings.model_validate(raw), outbox, audit, **given)


def solved(client: FlaskClient) -> str:
    """Fetch a challenge and solve it, as the widget does in a browser."""
    response = client.get("/captcha/challenge")
    challenge = altcha.Challenge.from_dict(response.get_json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def events(audit: io.StringIO, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in audit.getvalue().splitlines()]
    return [e for e in lines if e["event"] == name]


def requested(audit: io.StringIO) -> list[dict[str, Any]]:
    return events(audit, "reset.requested")


def identify(  # type: ignore[no-untyped-def]
    client: FlaskClient, identifier: str, payload: str | None = None, profile: str = "usager"
):
    data = {"identifier": identifier}
    if payload is not None:
        data["altcha"] = payload
    return submit(client, f"/reset/{profile}", data)


def test_the_challenge_endpoint(settings: Settings, outbox: Outbox) -> None:
    client = https_client(captcha_app(settings, outbox, io.StringIO()))
    response = client.get("/captcha/challenge")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # no session, no cookie
    challenge = response.get_json()
    parameters = challenge["parameters"]
    assert parameters["algorithm"] == "PBKDF2/SHA-256"
    assert parameters["cost"] == CHEAP["cost"]
    assert abs(parameters["expiresAt"] - (time.time() + 600)) < 5
    assert parameters["keySignature"] and challenge["signature"]
    # Deterministic mode: the counter is not in the challenge, only a prefix of its key.
    assert "counter" not in json.dumps(challenge)


def test_always_refuses_a_post_without_a_solved_payload_and_does_nothing(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    client = https_client(captcha_app(settings, outbox, audit_lines))
    account: Account = make_account("usager", {"birth_city": "Lyon"})
    page = client.get("/reset/usager")
    assert "<altcha-widget" in page.text and 'challenge="/captcha/challenge"' in page.text
    assert 'src="/static/js/captcha.js"' in page.text and 'type="module"' in page.text
    assert "/static/vendor/altcha/altcha.css" in page.text
    for payload in (None, "", "not base64 at all", base64.b64encode(b'{"x": 1}').decode()):
        response = identify(client, account.login, payload)
        assert response.status_code == 200, payload
        assert REFUSED in response.text
        assert account.login in response.text  # what was typed stays in the field
        assert "<altcha-widget" in response.text
    # No search, no flow: the directory was never asked.
    assert requested(audit_lines) == []
    refused = events(audit_lines, "captcha.refused")
    assert [e["cause"] for e in refused] == ["missing", "missing", "invalid", "invalid"]
    assert {e["profile"] for e in refused} == {"usager"}
    assert all(e["source_ip"] == "127.0.0.1" for e in refused)
    assert client.get("/reset/question").status_code == 400  # no flow in the session


def test_a_solved_payload_is_accepted_once(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = captcha_app(settings, outbox, audit_lines)
    client = https_client(app)
    account: Account = make_account("usager", {"birth_city": "Lyon"})
    payload = solved(client)
    response = identify(client, account.login, payload)
    assert response.headers["Location"] == "/reset/question"
    assert [e["outcome"] for e in requested(audit_lines)] == ["success"]
    # Replayed, from another browser: refused, and nothing happens.
    other = https_client(app)
    response = identify(other, account.login, payload)
    assert response.status_code == 200 and REFUSED in response.text
    assert len(requested(audit_lines)) == 1
    assert [e["cause"] for e in events(audit_lines, "captcha.refused")] == ["replayed"]


def test_a_forged_payload_is_refused(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = captcha_app(settings, outbox, audit_lines)
    client = https_client(app)
    account: Account = make_account("usager", {"birth_city": "Lyon"})
    genuine = json.loads(base64.b64decode(solved(client)))
    wrong_key = json.loads(json.dumps(genuine))
    wrong_key["solution"]["derivedKey"] = "00" * 32
    easier = json.loads(json.dumps(genuine))
    easier["challenge"]["parameters"]["cost"] = 1
    # A challenge signed by someone else (another secret) is not ours.
    elsewhere = altcha.create_challenge(
        "PBKDF2/SHA-256", 100, counter=3, expires_at=int(time.time()) + 600, hmac_secret="x"
    )
    foreign = altcha.solve_challenge(elsewhere)
    assert foreign is not None
    for forged in (wrong_key, easier, altcha.Payload(elsewhere, foreign).to_dict()):
        payload = base64.b64encode(json.dumps(forged).encode()).decode()
        response = identify(client, account.login, payload)
        assert response.status_code == 200 and REFUSED in response.text
    assert requested(audit_lines) == []


def test_an_expired_payload_is_refused(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    clock = FakeClock(time.time())
    client = https_client(captcha_app(settings, outbox, audit_lines, clock=clock))
    account: Account = make_account("usager", {"birth_city": "Lyon"})
    payload = solved(client)
    clock.advance(601)
    response = identify(client, account.login, payload)
    assert response.status_code == 200 and EXPIRED in response.text
    assert requested(audit_lines) == []
    assert [e["cause"] for e in events(audit_lines, "captcha.refused")] == ["expired"]


def test_the_refusal_is_in_english_too(settings: Settings, outbox: Outbox) -> None:
    client = https_client(captcha_app(settings, outbox, io.StringIO()))
    client.get("/lang/en?next=/")
    page = client.get("/reset/usager")
    assert '"label": "I am not a robot"' in page.text
    response = identify(client, "someone")
    assert "Please confirm that you are not a robot" in response.text
    french = https_client(captcha_app(settings, outbox, io.StringIO()))
    assert '"label": "Je ne suis pas un robot"' in french.get("/reset/usager").text


def test_off_shows_nothing_and_needs_nothing(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = captcha_app(settings, outbox, audit_lines, mode="off")
    client = https_client(app)
    account: Account = make_account("usager", {"birth_city": "Lyon"})
    assert "altcha" not in client.get("/reset/usager").text
    assert identify(client, account.login).headers["Location"] == "/reset/question"
    # No profile waits for failures: none is counted.
    assert app.extensions["sspr"].captcha.gate.failures(Source("127.0.0.1")) == 0


# -- after failures -------------------------------------------------------------------------


def test_after_failures_kicks_in_after_n_identifications_from_an_address(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = captcha_app(settings, outbox, audit_lines, mode="after_failures")
    client = https_client(app)
    account: Account = make_account("usager", {"birth_city": "Lyon"})
    # Every identification counts, known or not: the captcha must not tell which exist.
    for identifier in ("nobody.here", account.login, "nobody.either"):
        assert "altcha-widget" not in client.get("/reset/usager").text
        assert identify(client, identifier).headers["Location"] == "/reset/question"
    page = client.get("/reset/usager")
    assert "<altcha-widget" in page.text
    response = identify(client, account.login)
    assert response.status_code == 200 and REFUSED in response.text
    assert len(requested(audit_lines)) == 3
    # Another address is not concerned.
    elsewhere = https_client(app)
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert identify(elsewhere, account.login).headers["Location"] == "/reset/question"
    # And the captcha, solved, lets the first address through.
    assert identify(client, account.login, solved(client)).headers["Location"] == "/reset/question"


def test_wrong_answers_count_as_failures(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = captcha_app(settings, outbox, audit_lines, mode="after_failures")
    client = https_client(app)
    account: Account = make_account("usager", {"birth_city": "Lyon"})
    identify(client, account.login)
    for _ in range(2):
        response = submit(client, "/reset/question", {"answer_0": "Paris"})
        assert response.status_code == 200 and "alert-error" in response.text
    assert "<altcha-widget" in client.get("/reset/usager").text


def test_wrong_codes_count_as_failures(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = captcha_app(
        settings, outbox, audit_lines, "elu", mode="after_failures", section={"failures_before": 2}
    )
    client = https_client(app)
    account: Account = make_account("elu")
    assert identify(client, account.login, profile="elu").headers["Location"] == "/reset/code"
    page = client.get("/reset/code")
    assert "altcha-widget" not in page.text
    # A well-formed wrong code (a malformed one is told so without counting).
    submit(client, "/reset/code", {"code": "ABCDEF"})
    # identify + one wrong code: the resend form now asks for the captcha.
    assert "<altcha-widget" in client.get("/reset/code").text


# -- code requests --------------------------------------------------------------------------


def resend(client: FlaskClient, payload: str | None = None):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client.get("/reset/code").text)}
    if payload is not None:
        data["altcha"] = payload
    return client.post("/reset/code/resend", data=data)


def test_resending_a_code_needs_the_captcha(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["codes"]["email"]["resend_cooldown_seconds"] = 0
    app = captcha_app(Settings.model_validate(raw), outbox, audit_lines, "elu")
    client = https_client(app)
    account: Account = make_account("elu")
    response = identify(client, account.login, solved(client), profile="elu")
    assert response.headers["Location"] == "/reset/code"
    assert len(outbox.mails) == 1
    page = client.get("/reset/code")
    resend_form = page.text.split('action="/reset/code/resend"')[1]
    assert "<altcha-widget" in resend_form  # inside the resend form, not the code form
    assert resend(client).headers["Location"] == "/reset/code"
    assert REFUSED in client.get("/reset/code").text
    assert len(outbox.mails) == 1  # nothing sent
    assert resend(client, solved(client)).headers["Location"] == "/reset/code"
    assert "Un nouveau code vient de vous être envoyé" in client.get("/reset/code").text
    assert len(outbox.mails) == 2


def test_choosing_a_channel_needs_the_captcha(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    app = captcha_app(settings, outbox, audit_lines, channels=[["email", "sms"]])
    client = https_client(app)
    account: Account = make_account("usager", mail="jo@mairie.fr", mobile="0611223344")
    response = identify(client, account.login, solved(client))
    assert response.headers["Location"] == "/reset/choose"
    assert "<altcha-widget" in client.get("/reset/choose").text
    response = submit(client, "/reset/choose", {"channel": "sms"})
    assert response.status_code == 200 and REFUSED in response.text
    assert list(outbox.sms) == []
    response = submit(client, "/reset/choose", {"channel": "sms", "altcha": solved(client)})
    assert response.headers["Location"] == "/reset/code"
    assert len(outbox.sms) == 1


def test_challenges_are_limited_per_address(settings: Settings, outbox: Outbox) -> None:
    client = https_client(build_app(settings, outbox, io.StringIO()))
    statuses = [client.get("/captcha/challenge").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429
