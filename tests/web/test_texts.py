"""The admin's wording in the pages, and the reference portals' words in the demo profiles."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import force_locale

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from tests.web.conftest import build_app, https_client, submit
from tests.web.test_captcha import solved


def client_with(settings: Settings, outbox: Outbox, **texts: Any) -> FlaskClient:
    raw = settings.model_dump(mode="json")
    raw["texts"] = texts.pop("global_texts", {})
    for profile in raw["profiles"]:
        profile["texts"] = {**profile.get("texts", {}), **texts.get(profile["id"], {})}
    return https_client(build_app(Settings.model_validate(raw), outbox, io.StringIO()))


def test_a_profile_text_replaces_the_default_in_its_language_only(
    settings: Settings, outbox: Outbox
) -> None:
    client = client_with(
        settings, outbox,
        **{"agent-siege": {"identify.title": {"fr": "Accès agents <b>siège</b>"}}},
        global_texts={"chooser.title": {"fr": "Bienvenue", "en": "Welcome"}},
    )  # fmt: skip
    page = client.get("/reset/agent-siege")
    # The admin's wording is text, never markup.
    assert "<h1>Accès agents &lt;b&gt;siège&lt;/b&gt;</h1>" in page.text
    assert "<h1>Mot de passe oublié ?</h1>" in client.get("/reset/elu").text
    assert "<h1>Bienvenue</h1>" in client.get("/").text
    client.get("/lang/en?next=/")
    assert "<h1>Forgot your password?</h1>" in client.get("/reset/agent-siege").text
    assert "<h1>Welcome</h1>" in client.get("/").text


def test_placeholders_are_filled_in_the_admins_wording(
    settings: Settings, outbox: Outbox, make_account: Any
) -> None:
    texts = {"code.sent.sms": {"fr": "Code parti vers %(destination)s (100 %% sûr)."}}
    client = client_with(settings, outbox, **{"agent-lycee": texts})
    account = make_account("agent-lycee", mobile="0611223344")
    submit(client, "/reset/agent-lycee", {"identifier": account.login})
    page = client.get("/reset/code")
    assert "Code parti vers 06 •• •• •• 44 (100 % sûr)." in page.text


def test_the_websig_words_on_the_usager_pages(client: FlaskClient, make_account: Any) -> None:
    page = client.get("/reset/usager")
    assert "Vous ne parvenez pas à vous connecter ?" in page.text
    assert ">Nom d&#39;utilisateur</label>" in page.text
    assert ">Nous contacter</a>" in page.text
    account = make_account("usager", {"birth_city": "Paris"})
    submit(client, "/reset/usager", {"identifier": account.login})
    page = client.get("/reset/question")
    assert "Si votre réponse est correcte, votre mot de passe sera redéfini." in page.text
    submit(client, "/reset/question", {"answer_0": "Paris"})
    assert ">Spécifiez à nouveau le mot de passe</label>" in client.get("/reset/password").text


def test_the_region_words_on_the_email_code_page(client: FlaskClient, make_account: Any) -> None:
    account = make_account("elu")
    submit(client, "/reset/elu", {"identifier": account.login})
    assert "Saisissez le code que vous avez reçu par email." in client.get("/reset/code").text


def test_the_citoyen_profile_mails_a_temporary_password_behind_a_captcha(
    client: FlaskClient, make_account: Any, outbox: Outbox
) -> None:
    account = make_account("citoyen", {"school": "Jean Jaurès"})
    page = client.get("/reset/citoyen")
    assert "<altcha-widget" in page.text
    assert 'value="Confirmer"' in page.text and ">Identifiant</label>" in page.text
    refused = submit(client, "/reset/citoyen", {"identifier": account.login})
    assert refused.status_code == 200 and not outbox.mails
    data = {"identifier": account.login, "altcha": solved(client)}
    assert submit(client, "/reset/citoyen", data).headers["Location"] == "/reset/question"
    page = client.get("/reset/question")
    assert "Répondez à votre question" in page.text and 'value="Confirmer"' in page.text
    response = submit(client, "/reset/question", {"answer_0": "jean jaures"})
    assert response.headers["Location"] == "/reset/temporary"
    assert submit(client, "/reset/temporary", {}).headers["Location"] == "/reset/done"
    done = client.get("/reset/done").text
    assert "Un email vous est envoyé contenant un nouveau mot de passe." in done
    (mail,) = outbox.mails
    assert mail.subject == "Votre nouveau mot de passe provisoire"
    assert re.search(r"^    \S{8,}\r?$", mail.text, re.M)


def test_the_way_back_reads_as_english(client: FlaskClient) -> None:
    client.get("/lang/en?next=/")
    page = client.get("/reset/elu")
    assert "Not your situation?" in page.text and "Choose another situation" in page.text
    assert "Change my situation" not in page.text


def test_each_application_keeps_its_own_texts(settings: Settings, outbox: Outbox) -> None:
    # Texts are kept once looked up: per application, so two in one process never mix.
    kicker = {"identify.kicker": {"fr": "Portail des agents", "en": "Staff portal"}}
    worded = client_with(settings, outbox, **{"agent-siege": kicker})
    plain = client_with(settings, outbox)
    for _round in range(2):
        assert "Portail des agents" in worded.get("/reset/agent-siege").text
        assert "Portail des agents" not in plain.get("/reset/agent-siege").text
        # The profile is part of what is kept: another profile of the same app has no kicker.
        assert "Portail des agents" not in worded.get("/reset/elu").text
    worded.get("/lang/en?next=/")
    assert "Staff portal" in worded.get("/reset/agent-siege").text
    worded.get("/lang/fr?next=/")
    assert "Portail des agents" in worded.get("/reset/agent-siege").text


def test_a_text_follows_force_locale_within_a_request(app: Flask) -> None:
    page = "{{ t('chooser.title') }}"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert render_template_string(page) == "Mot de passe oublié ?"
        with force_locale("en"):
            assert render_template_string(page) == "Forgot your password?"
        assert render_template_string(page) == "Mot de passe oublié ?"
