"""Password quality on the pages, without JavaScript: entropy, guessability, breaches, tips.

The elu profile of the demo configuration uses the "region" policy: cnil-2022-restricted,
zxcvbn score 3 and not_breached, asked to a real local range server.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from sspr.demo.range_server import RangeServer
from sspr.demo.slapd import Slapd
from tests.helpers import WebAccount as Account
from tests.helpers import can_bind
from tests.web.conftest import build_app, csrf_token, https_client, submit
from tests.web.test_code_channels import email_code, set_password, type_code

STRONG = "Girafe!Trompette42"


def quality_app(
    settings: Settings, outbox: Outbox, audit: io.StringIO, url: str, **breach: Any
) -> Flask:
    raw = settings.model_dump(mode="json")
    raw["breach"].update(url=url, **breach)
    return build_app(Settings.model_validate(raw), outbox, audit)


@pytest.fixture
def quality(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, range_server: RangeServer
) -> FlaskClient:
    return https_client(quality_app(settings, outbox, audit_lines, range_server.url))


def proven(client: FlaskClient, outbox: Outbox, make_account: Any, **extra: Any) -> Account:
    """An elu account that has proved itself: the next page is the new password."""
    account: Account = make_account("elu", **extra)
    submit(client, "/reset/elu", {"identifier": account.login})
    assert type_code(client, email_code(outbox)).headers["Location"] == "/reset/password"
    return account


def audit(lines: io.StringIO, event: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in lines.getvalue().splitlines()]
    return [line for line in parsed if line["event"] == event]


def test_a_breached_password_is_refused_and_the_account_kept(
    quality: FlaskClient, outbox: Outbox, make_account: Any, slapd: Slapd,
    audit_lines: io.StringIO,
) -> None:  # fmt: skip
    account = proven(quality, outbox, make_account)
    page = set_password(quality, "Vacances-Bretagne-2016")
    assert page.status_code == 200
    assert "Ce mot de passe figure dans des fuites de données connues" in page.text
    assert "Vacances-Bretagne-2016" not in page.text
    assert can_bind(slapd.url, account.dn, account.password)
    [checked] = audit(audit_lines, "password.breach_checked")
    assert checked["outcome"] == "breached" and checked["profile"] == "elu"
    metrics = quality.get("/metrics").text
    assert 'sspr_breach_checks_total{outcome="breached"} 1.0' in metrics
    # A clean password goes through, after its own check.
    assert set_password(quality, STRONG).headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, STRONG)
    assert [c["outcome"] for c in audit(audit_lines, "password.breach_checked")] == [
        "breached", "clean",
    ]  # fmt: skip


def test_a_password_failing_other_rules_is_never_sent_to_the_range_service(
    quality: FlaskClient, outbox: Outbox, make_account: Any, range_server: RangeServer
) -> None:
    proven(quality, outbox, make_account)
    set_password(quality, "azerty123")
    assert range_server.requests == []


@pytest.mark.parametrize(("setting", "done"), [("block", False), ("allow", True)])
def test_an_unreachable_range_service_blocks_or_allows_as_configured(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any,
    slapd: Slapd, setting: str, done: bool,
) -> None:  # fmt: skip
    server = RangeServer([]).start()
    server.stop()
    client = https_client(
        quality_app(settings, outbox, audit_lines, server.url, on_unavailable=setting)
    )
    account = proven(client, outbox, make_account)
    page = set_password(client, STRONG)
    if done:
        assert page.headers["Location"] == "/reset/done"
    else:
        assert "ne répond pas pour le moment" in page.text
        assert can_bind(slapd.url, account.dn, account.password)
    [checked] = audit(audit_lines, "password.breach_checked")
    assert checked["outcome"] == f"unavailable_{'allowed' if done else 'blocked'}"


def test_without_javascript_the_refusal_says_the_bits_reached(
    quality: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    proven(quality, outbox, make_account)
    page = quality.get("/reset/password").text
    assert "Entropie : 0 bits sur 50 requis" in page and "<meter" in page
    assert "ou être une phrase de passe d&#39;au moins 7 mots" in page
    refused = set_password(quality, "xkqmpqlwz").text  # 9 lower-case letters: 42.3 bits
    assert "Entropie : 42 bits sur 50 requis" in refused
    assert 'value="42"' in refused
    assert 'data-rule="min_entropy_bits" class="rule-failed' in refused


def test_guessable_passwords_are_explained_in_the_users_language_never_echoed(
    quality: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    proven(quality, outbox, make_account)
    password = "zxcvbnm,./zxcvbnm"
    page = set_password(quality, password).text
    assert "Ce mot de passe est facile à deviner :" in page
    assert "Les rangées de touches du clavier sont faciles à deviner." in page
    assert password not in page
    quality.get("/lang/en?next=/reset/password")
    english = set_password(quality, password).text
    assert "Straight rows of keys are easy to guess." in english
    assert "Entropy: 102 bits of the 50 required" in english


def test_the_live_check_answers_for_the_proven_account_only(
    quality: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    def check(password: str, token: str | None, context: str = "reset") -> Any:
        headers = {"X-CSRFToken": token} if token else {}
        return quality.post("/password/check", json={"context": context, "password": password},
                            headers=headers)  # fmt: skip

    token = csrf_token(quality.get("/reset/elu").text)
    assert check(STRONG, token).status_code == 403  # no proven flow yet
    account = proven(quality, outbox, make_account)
    token = csrf_token(quality.get("/reset/password").text)
    assert check(STRONG, None).status_code == 400  # CSRF
    answer = check("M4rseille2024!", token)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert "forbidden_words" in answer.json["failed"]
    assert "M4rseille" not in answer.text
    mine = check(f"Xk9#{account.login}!", token).json
    assert "no_user_parts" in mine["failed"]
    clean = check(STRONG, token).json
    assert clean == {
        "failed": [], "checked": ["no_user_parts", "forbidden_words", "min_guess_score"],
        "bits": 119, "words": 2, "advice": [],
    }  # fmt: skip
    guessable = check("zxcvbnm,./zxcvbnm", token).json
    assert guessable["failed"] == ["min_guess_score"] and guessable["advice"]
    assert check(STRONG, token, context="account").status_code == 403


def test_live_checks_are_limited_per_address(
    quality: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    proven(quality, outbox, make_account)
    token = csrf_token(quality.get("/reset/password").text)
    statuses = [
        quality.post("/password/check", json={"context": "reset", "password": "x"},
                     headers={"X-CSRFToken": token}).status_code
        for _ in range(121)
    ]  # fmt: skip
    assert statuses[:120] == [200] * 120 and statuses[120] == 429


def test_a_suggested_passphrase_is_accepted_and_still_checked(
    quality: FlaskClient, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account = proven(quality, outbox, make_account)
    token = csrf_token(quality.get("/reset/password").text)
    first = quality.post("/password/suggest", json={"context": "reset"},
                         headers={"X-CSRFToken": token}).json  # fmt: skip
    second = quality.post("/password/suggest", json={"context": "reset"},
                          headers={"X-CSRFToken": token}).json  # fmt: skip
    assert first["password"] != second["password"] and first["bits"] >= 50
    # What is submitted is checked again: the suggestion is no pass.
    assert "rule-failed" in set_password(quality, "azerty").text
    assert set_password(quality, first["password"]).headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, first["password"])


def test_long_passwords_of_any_characters_are_kept_whole(
    quality: FlaskClient, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account = proven(quality, outbox, make_account)
    password = "Un 🐙 poulpe rêveur mange des crêpes au beurre salé près du phare de Brest !!"
    assert len(password) > 64
    assert set_password(quality, password).headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, password)
    assert not can_bind(slapd.url, account.dn, password[:64])


def test_the_tips_are_set_per_profile(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any,
    range_server: RangeServer,
) -> None:  # fmt: skip
    raw = settings.model_dump(mode="json")
    raw["breach"]["url"] = range_server.url
    elu = next(p for p in raw["profiles"] if p["id"] == "elu")
    elu["password_tips"] = {"fr": "Changez-le régulièrement.\nVerrouillez votre machine."}
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    proven(client, outbox, make_account)
    page = client.get("/reset/password").text
    assert "<summary>Aide pour le choix du mot de passe</summary>" in page
    assert "<li>Changez-le régulièrement.</li>" in page
    assert "<li>Verrouillez votre machine.</li>" in page
    elu["password_tips"] = False
    elu["password_generator"] = False
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    proven(client, outbox, make_account)
    page = client.get("/reset/password").text
    assert "Aide pour le choix du mot de passe" not in page
    assert "Générer un mot de passe" not in page


def test_default_tips_and_the_generator_are_there_for_every_password_page(
    quality: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    proven(quality, outbox, make_account)
    page = quality.get("/reset/password").text
    assert "Préférez une phrase de passe" in page
    assert "data-generate" in page and "Générer un mot de passe" in page
    assert 'data-check-url="/password/check"' in page and 'data-context="reset"' in page


def test_mon_compte_shows_the_same_measures_and_answers_live_checks(
    quality: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    from tests.web.test_account import logged_in

    account: Account = make_account("elu")
    logged_in(quality, account, "elu")
    page = quality.get("/account/password").text
    assert "Entropie : 0 bits sur 50 requis" in page and 'data-context="account"' in page
    token = csrf_token(page)
    answer = quality.post("/password/check", json={"context": "account", "password": "azerty"},
                          headers={"X-CSRFToken": token})  # fmt: skip
    assert answer.status_code == 200 and "forbidden_words" in answer.json["failed"]
    assert quality.post("/password/check", json={"context": "reset", "password": "x"},
                        headers={"X-CSRFToken": token}).status_code == 403  # fmt: skip
    refused = submit(quality, "/account/password", {"current": account.password,
                     "password": "Vacances-Bretagne-2016",
                     "confirmation": "Vacances-Bretagne-2016"})  # fmt: skip
    assert "fuites de données connues" in refused.text
    assert can_bind(slapd.url, account.dn, account.password)


def test_password_fields_welcome_managers_and_paste(
    quality: FlaskClient, outbox: Outbox, make_account: Any
) -> None:
    proven(quality, outbox, make_account)
    page = quality.get("/reset/password").text
    fields = re.findall(r"<input[^>]*type=\"password\"[^>]*>", page)
    assert len(fields) == 2
    assert all('autocomplete="new-password"' in field for field in fields)
    assert all('maxlength="256"' in field for field in fields)  # ASVS asks 64 at least
    assert not re.search(r"onpaste|oncopy|autocomplete=\"off\"", page)


def test_the_one_form_change_checks_what_needs_no_account_and_the_breach_after_the_proof(
    quality: FlaskClient, make_account: Any, slapd: Slapd, range_server: RangeServer
) -> None:
    account: Account = make_account("elu")
    page = quality.get("/change/elu").text
    assert 'data-context="change:elu"' in page and "Entropie : 0 bits sur 50 requis" in page
    token = csrf_token(page)

    def post(url: str, **body: str) -> Any:
        return quality.post(url, json={"context": "change:elu", **body},
                            headers={"X-CSRFToken": token})  # fmt: skip

    # No account is known yet: only the rules that read no account are answered.
    answer = post("/password/check", password=f"{account.login}-Trompette42!").json
    assert "no_user_parts" not in answer["failed"] + answer["checked"]
    assert "forbidden_words" in post("/password/check", password="M4rseille2024!").json["failed"]
    assert post("/password/suggest").json["bits"] >= 50
    assert post("/password/check", password="x").status_code == 200
    assert quality.post("/password/check", json={"context": "change:nope", "password": "x"},
                        headers={"X-CSRFToken": token}).status_code == 403  # fmt: skip

    def change(current: str, new: str) -> Any:
        data = {"csrf_token": token, "identifier": account.login, "current": current,
                "password": new, "confirmation": new}  # fmt: skip
        return quality.post("/change/elu", data=data)

    # A wrong current password: nothing is checked, nothing leaves for the range service.
    assert "actuel incorrect" in change("not-the-password", "Vacances-Bretagne-2016").text
    assert range_server.requests == []
    refused = change(account.password, "Vacances-Bretagne-2016")
    assert "fuites de données connues" in refused.text
    assert can_bind(slapd.url, account.dn, account.password)
