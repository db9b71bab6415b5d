"""The reset journey through the Flask test client, against the real slapd."""

from __future__ import annotations

import html
import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.slapd import Slapd, free_port
from tests.helpers import WebAccount as Account
from tests.helpers import can_bind, counting_directory, lock_out
from tests.web.conftest import build_app, csrf_token, https_client, submit

GOOD_PASSWORD = "Nouveau-Mot2passe!"


def audit_events(audit_lines: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in audit_lines.getvalue().splitlines()]


def identify(client: FlaskClient, identifier: str, profile: str = "usager"):  # type: ignore[no-untyped-def]
    return submit(client, f"/reset/{profile}", {"identifier": identifier})


def answer(client: FlaskClient, text: str):  # type: ignore[no-untyped-def]
    return submit(client, "/reset/question", {"answer_0": text})


def choose(client: FlaskClient, password: str, confirmation: str | None = None):  # type: ignore[no-untyped-def]
    data = {"password": password, "confirmation": confirmation or password}
    return submit(client, "/reset/password", data)


# -- chooser and language -------------------------------------------------------------------


def test_chooser_lists_profiles_and_support_in_french(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Je suis un usager des services de la Région" in page.text
    assert "Exemples : demandeur d&#39;aide, gestionnaire d&#39;un lycée" in page.text
    assert "Je suis un agent du siège" in page.text
    assert "J&#39;ai besoin de support" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_english_from_accept_language_and_from_the_switch(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.text
    assert "I use the Region&#39;s services" in page.text
    assert "Forgot your password?" in page.text
    client.get("/lang/fr?next=/")
    page = client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in page.text


def test_language_switch_never_redirects_off_site(client: FlaskClient) -> None:
    for target in ("https://evil.example", "//evil.example", "javascript:alert(1)", "/\r", "/a\nb"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_support_page(client: FlaskClient) -> None:
    page = client.get("/support")
    assert "support@example.org" in page.text
    assert "05 00 00 00 00" in page.text


def test_profile_parameter_skips_the_chooser_and_keeps_the_login_hint(client: FlaskClient) -> None:
    response = client.get("/?profile=agent-lycee&login_hint=marc.leroy")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert 'value="marc.leroy"' in page.text
    assert "Nom d'utilisateur" in page.text


def test_unknown_profile_is_a_404_page(client: FlaskClient) -> None:
    page = client.get("/reset/nope")
    assert page.status_code == 404
    assert "Page introuvable" in page.text


# -- the whole journey ----------------------------------------------------------------------


def test_full_reset_with_the_security_question(
    client: FlaskClient, make_account: Any, slapd: Slapd, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("usager", {"birth_city": "Saint-Étienne"})
    response = identify(client, account.login)
    assert response.status_code == 302 and response.headers["Location"] == "/reset/question"

    page = client.get("/reset/question")
    assert "Dans quelle ville êtes-vous né(e) ?" in page.text
    assert "n'est sensible ni aux majuscules, ni aux accents" in page.text

    response = answer(client, "  saint-ÉTIENNE ")
    assert response.headers["Location"] == "/reset/password"

    page = client.get("/reset/password")
    for rule in (
        "être différent de vos 5 derniers mots de passe",
        "comporter au moins 10 caractères",
        "comporter au moins 1 majuscule",
        "comporter au moins 1 minuscule",
        "comporter au moins 1 caractère spécial",
    ):
        assert rule in page.text
    response = choose(client, GOOD_PASSWORD)
    assert response.headers["Location"] == "/reset/done"
    page = client.get("/reset/done")
    assert "Votre mot de passe est modifié" in page.text
    assert 'href="https://www.example.org/connexion"' in page.text
    assert can_bind(slapd.url, account.dn, GOOD_PASSWORD)
    assert not can_bind(slapd.url, account.dn, account.password)

    events = [(e["event"], e["outcome"]) for e in audit_events(audit_lines)]
    assert events == [
        ("reset.requested", "success"),
        ("proof.succeeded", "success"),
        ("password.changed", "success"),
        ("notification.sent", "success"),  # the notice, sent from the outbox
    ]
    assert GOOD_PASSWORD not in audit_lines.getvalue()
    assert "tienne" not in audit_lines.getvalue()


def test_identify_by_email_when_the_profile_allows_it(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {"first_pet": "Médor"})
    identify(client, account.mail.upper())
    assert "premier animal de compagnie" in client.get("/reset/question").text


def test_a_flow_ends_after_success(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    answer(client, "paris")
    choose(client, GOOD_PASSWORD)
    page = client.get("/reset/password")
    assert page.status_code == 400
    assert "Démarche expirée" in page.text


def test_the_language_chosen_stays_through_a_reset_and_after_it(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    client.get("/lang/en?next=/")
    identify(client, account.login)  # a new flow starts from a clean session
    assert '<html lang="en">' in client.get("/reset/question").text
    answer(client, "paris")
    choose(client, GOOD_PASSWORD)
    assert '<html lang="en">' in client.get("/reset/done").text
    assert '<html lang="en">' in client.get("/").text


# -- server-side checks of the new password -----------------------------------------------


def test_every_failing_rule_is_listed_at_once(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    answer(client, "Paris")
    page = choose(client, "abc")
    assert page.status_code == 200
    failed = page.text.count('class="rule-failed')
    assert failed == 3  # length, upper, special (lower holds)
    assert "ne respecte pas toutes les règles" in page.text


def test_the_current_password_is_refused_through_the_directory(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"}, password="Ancien-Passw0rd")
    identify(client, account.login)
    answer(client, "Paris")
    page = choose(client, "Ancien-Passw0rd")
    assert 'data-rule="history" class="rule-failed' in page.text


def test_the_write_itself_answers_not_current_and_the_flow_goes_on(
    settings: Settings, outbox: Any, make_account: Any, slapd: Slapd
) -> None:
    # The policy entry is read once and cached: not this flow's own work.
    directory, operations = counting_directory(
        settings.directory, slapd.service_password, ignored=("password_rules",)
    )
    lines = io.StringIO()
    client = https_client(build_app(settings, outbox, lines, directory=directory))
    account: Account = make_account("usager", {"birth_city": "Paris"}, password="Ancien-Passw0rd")
    identify(client, account.login)
    answer(client, "Paris")
    operations.clear()
    page = choose(client, "Ancien-Passw0rd")
    assert 'data-rule="history" class="rule-failed' in page.text
    # No question before the write: slapd refused the current password, nothing was written.
    assert operations == ["read_user", "set_password"]
    assert [e for e in audit_events(lines) if e["event"] == "password.changed"] == []
    assert choose(client, GOOD_PASSWORD).headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, GOOD_PASSWORD)
    directory.close()


def test_confirmation_must_match(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    answer(client, "Paris")
    page = choose(client, GOOD_PASSWORD, GOOD_PASSWORD + "x")
    assert "Les deux mots de passe ne sont pas identiques." in page.text


def test_a_mismatch_still_lists_every_failing_rule(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    answer(client, "Paris")
    page = choose(client, "abc", "abd")
    assert page.text.count('class="rule-failed') == 3
    assert "Les deux mots de passe ne sont pas identiques." in page.text


def test_the_language_switch_keeps_a_page_shown_after_a_failed_submit(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    page = answer(client, "Lyon")
    assert "/lang/en?next=/reset/question" in page.text
    assert client.get("/lang/en?next=/reset/question").headers["Location"] == "/reset/question"
    assert "Answer your security question" in client.get("/reset/question").text
    failed = identify(client, "")
    assert "/lang/fr?next=/reset/usager" in failed.text


def test_a_password_in_the_directory_history_is_refused_clearly(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    for password in (GOOD_PASSWORD, "Second-Passw0rd!"):
        identify(client, account.login)
        answer(client, "Paris")
        choose(client, password)
    identify(client, account.login)
    answer(client, "Paris")
    page = choose(client, GOOD_PASSWORD)
    assert "déjà été utilisé récemment" in page.text
    assert can_bind(slapd.url, account.dn, "Second-Passw0rd!")


def test_the_proof_dies_when_the_password_changes_meanwhile(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    answer(client, "Paris")
    other = https_client(client.application)
    identify(other, account.login)
    answer(other, "Paris")
    choose(other, GOOD_PASSWORD)
    page = choose(client, "Autre-Passw0rd!!")
    assert "Démarche expirée" in page.text
    assert can_bind(slapd.url, account.dn, GOOD_PASSWORD)


# -- guards -------------------------------------------------------------------------------


def test_no_skipping_to_the_new_password_without_the_proof(
    client: FlaskClient, make_account: Any
) -> None:
    assert client.get("/reset/password").status_code == 400
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    response = client.get("/reset/password")
    assert response.headers["Location"] == "/reset/question"
    token = csrf_token(client.get("/reset/question").text)
    response = client.post(
        "/reset/password",
        data={"csrf_token": token, "password": GOOD_PASSWORD, "confirmation": GOOD_PASSWORD},
    )
    assert response.headers["Location"] == "/reset/question"


def test_csrf_is_enforced(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    client.get("/reset/usager")
    page = client.post("/reset/usager", data={"identifier": account.login})
    assert page.status_code == 400
    assert "Votre session a expiré" in page.text
    page = client.post("/reset/usager", data={"identifier": account.login, "csrf_token": "forged"})
    assert page.status_code == 400


# -- neutral answers ----------------------------------------------------------------------


def neutral_page(client: FlaskClient, identifier: str, profile: str = "usager") -> str:
    response = identify(client, identifier, profile)
    assert response.status_code == 302
    assert response.headers["Location"] == "/reset/question"
    page = client.get("/reset/question")
    assert page.status_code == 200
    return page.text


def test_unknown_account_gets_a_question_like_any_other(client: FlaskClient) -> None:
    text = neutral_page(client, "nobody.here")
    assert any(
        q in text for q in ("Dans quelle ville", "premier animal", "établissement", "jeune fille")
    )
    page = answer(client, "anything")
    assert "Réponse incorrecte. Il vous reste 4 essais." in page.text


def test_decoy_question_is_stable_per_identifier(app: Flask) -> None:
    def question_of(identifier: str) -> str:
        client = https_client(app)
        text = neutral_page(client, identifier)
        return text.split('class="label"', 2)[1].split("</label>")[0]

    assert question_of("nobody.here") == question_of("NOBODY.here")


def test_account_in_another_profile_is_neutral(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("elu", {"birth_city": "Paris"})
    neutral_page(client, account.login, "usager")
    page = answer(client, "Paris")
    assert "Réponse incorrecte" in page.text


def test_identifier_matching_several_entries_is_neutral(
    client: FlaskClient, make_account: Any
) -> None:
    first: Account = make_account("usager", {"birth_city": "Paris"}, mail="shared@example.org")
    make_account("usager", {"birth_city": "Paris"}, mail="shared@example.org")
    neutral_page(client, "shared@example.org")
    assert "Réponse incorrecte" in answer(client, "Paris").text
    neutral_page(client, first.login)  # by login it is unambiguous
    assert answer(client, "Paris").headers["Location"] == "/reset/password"


def test_user_found_in_several_profiles_is_neutral(
    settings: Settings, make_account: Any, audit_lines: io.StringIO, outbox: Any
) -> None:
    overlapping = settings.model_dump(mode="json")
    wide = dict(overlapping["profiles"][0], id="tous", base="ou=people,dc=example,dc=org")
    overlapping["profiles"].append(wide)
    app = build_app(Settings.model_validate(overlapping), outbox, audit_lines)
    client = https_client(app)
    account: Account = make_account("usager", {"birth_city": "Paris"})
    neutral_page(client, account.login, "usager")
    assert "Réponse incorrecte" in answer(client, "Paris").text


def test_not_enrolled_gets_the_profile_text_when_explicit(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {})
    page = identify(client, account.login)
    assert page.status_code == 200
    assert "Vous n&#39;avez pas configuré votre compte : contactez le service SIG." in page.text


def test_not_enrolled_is_neutral_by_default(
    settings: Settings, make_account: Any, audit_lines: io.StringIO, outbox: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["profiles"][0]["not_enrolled"]["explicit"] = False
    app = build_app(Settings.model_validate(raw), outbox, audit_lines)
    client = https_client(app)
    account: Account = make_account("usager", {})
    neutral_page(client, account.login, "usager")
    assert "Réponse incorrecte" in answer(client, "Paris").text


# -- attempts and lock --------------------------------------------------------------------


def test_five_wrong_answers_lock_temporarily(
    client: FlaskClient, make_account: Any, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    for left in (4, 3, 2):
        assert f"Il vous reste {left} essais." in answer(client, "Lyon").text
    assert "Il vous reste 1 essai avant un blocage temporaire." in answer(client, "Lyon").text
    page = answer(client, "Lyon")
    assert page.status_code == 429
    assert "Réessayez dans 15 minutes." in page.text
    # Even the right answer, through a new flow, is refused while blocked.
    page = identify(client, account.login)
    assert page.status_code == 429
    events = [e["event"] for e in audit_events(audit_lines)]
    assert events.count("proof.failed") == 5
    assert "account.blocked" in events


def test_unknown_accounts_lock_the_same_way(client: FlaskClient) -> None:
    identify(client, "ghost.user")
    for _ in range(4):
        answer(client, "x")
    assert answer(client, "x").status_code == 429
    assert identify(client, "ghost.user").status_code == 429


# -- the directory is down ----------------------------------------------------------------


def test_directory_down_gives_a_clear_503(
    settings: Settings, audit_lines: io.StringIO, outbox: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["directory"]["urls"] = [f"ldap://127.0.0.1:{free_port()}"]
    raw["directory"]["connect_timeout"] = 1
    app = build_app(Settings.model_validate(raw), outbox, audit_lines)
    client = https_client(app)
    page = identify(client, "jeanne.martin")
    assert page.status_code == 503
    assert "Service temporairement indisponible" in page.text
    assert "Aucune modification" in page.text


def test_a_directory_refusal_is_an_error_not_an_outage(
    settings: Settings, audit_lines: io.StringIO, outbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    raw = settings.model_dump(mode="json")
    raw["profiles"][0]["base"] = "not a distinguished name"  # refused before it is sent
    app = build_app(Settings.model_validate(raw), outbox, audit_lines)
    page = identify(https_client(app), "jeanne.martin")
    assert page.status_code == 500
    assert "Une erreur est survenue" in page.text and "Aucune modification" not in page.text
    assert "LDAPInvalidDnError" in caplog.text  # the cause, for the administrator
    app.extensions["sspr"].directory.close()


@pytest.mark.parametrize("path", ["/reset/question", "/reset/password", "/reset/done"])
def test_steps_without_a_flow_never_fail(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code in (302, 400)


def test_must_change_after_reset_sets_pwd_reset(
    settings: Settings, make_account: Any, slapd: Slapd, audit_lines: io.StringIO, outbox: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["profiles"][0]["must_change_after_reset"] = True
    app = build_app(Settings.model_validate(raw), outbox, audit_lines)
    client = https_client(app)
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    answer(client, "Paris")
    assert choose(client, GOOD_PASSWORD).headers["Location"] == "/reset/done"
    assert "pwdReset: TRUE" in slapd.search(account.dn, "(objectClass=*)", "pwdReset")


def test_a_reset_unlocks_an_account_locked_by_ppolicy(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    lock_out(slapd, account.dn)
    identify(client, account.login)
    answer(client, "Paris")
    choose(client, GOOD_PASSWORD)
    assert "pwdAccountLockedTime" not in slapd.search(account.dn, "(objectClass=*)", "+")
    assert can_bind(slapd.url, account.dn, GOOD_PASSWORD)


def test_the_flow_id_rotates_at_each_proof(
    app: Flask, client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    with client.session_transaction() as session:
        before = session["flow"]
    answer(client, "Paris")
    with client.session_transaction() as session:
        after = session["flow"]
    assert after != before
    # Someone who learnt the id before the proof cannot use it after.
    fixated = https_client(app)
    with fixated.session_transaction() as session:
        session["flow"] = before
    assert fixated.get("/reset/password").status_code == 400
    assert client.get("/reset/password").status_code == 200


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    expected = ["default-src 'self'", "script-src 'self'", "style-src 'self'"]
    expected += ["frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"]
    for directive in expected:
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert all(len(headers.getlist(name)) == 1 for name, _ in headers)
    client.get("/reset/usager")  # the form's CSRF token opens a session
    cookie = client.get_cookie("__Host-sspr")
    assert cookie is not None and cookie.secure and cookie.http_only
    assert cookie.same_site == "Lax"


def test_no_inline_script_or_style_in_pages(client: FlaskClient, make_account: Any) -> None:
    import re

    account: Account = make_account("usager", {"birth_city": "Paris"})
    pages = [client.get("/").text, client.get("/support").text]
    identify(client, account.login)
    pages.append(client.get("/reset/question").text)
    answer(client, "Paris")
    pages.append(client.get("/reset/password").text)
    for page in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert " style=" not in page and "<style" not in page
        assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_forwarded_for_is_ignored_without_trusted_proxies(
    client: FlaskClient, audit_lines: io.StringIO
) -> None:
    identify(client, "someone", "usager")  # the test client comes from 127.0.0.1
    submit(client, "/reset/usager", {"identifier": "x"}, headers={"X-Forwarded-For": "203.0.113.7"})
    assert "203.0.113.7" not in audit_lines.getvalue()


def test_forwarded_for_is_used_behind_a_configured_proxy(
    settings: Settings, audit_lines: io.StringIO, outbox: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["proxy"] = {"trusted_hops": 1}
    app = build_app(Settings.model_validate(raw), outbox, audit_lines)
    client = https_client(app)
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    submit(client, "/reset/usager", {"identifier": "x"}, headers=headers)
    sources = {e.get("source_ip") for e in audit_events(audit_lines)}
    assert sources == {"203.0.113.7"}  # the last hop's view, never the client's claim


@pytest.mark.parametrize("value", ["jeanne\nmartin", "tab\there", "nul\x00byte", "esc\x1b[31m"])
def test_control_characters_are_refused_with_a_message(client: FlaskClient, value: str) -> None:
    page = identify(client, value)
    assert page.status_code == 200
    assert "caractères non autorisés" in page.text


def test_overlong_fields_are_refused_with_a_message(client: FlaskClient) -> None:
    page = identify(client, "x" * 300)
    assert "Cet identifiant est trop long." in page.text


@pytest.mark.parametrize("value", ["*", ")(", "\\00", "*)(uid=*", "jeanne*", "*)(|(uid=*))"])
def test_ldap_injection_in_the_identifier_matches_nothing(
    client: FlaskClient, value: str, audit_lines: io.StringIO
) -> None:
    assert identify(client, value).headers["Location"] == "/reset/question"
    assert '"no_account"' in audit_lines.getvalue()
    assert '"success"' not in audit_lines.getvalue()


def test_identification_attempts_are_limited_per_address(
    settings: Settings, audit_lines: io.StringIO, outbox: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["rate_limits"] = {"reset": "3/minute"}
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    for number in range(3):
        assert identify(client, f"someone{number}").status_code == 302
    page = identify(client, "someone-else")
    assert page.status_code == 429
    assert "Réessayez dans 1 minute." in page.text
    assert '"ratelimit.hit"' in audit_lines.getvalue()
    # Another address is not affected.
    other = https_client(client.application)
    other.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert identify(other, "someone").status_code == 302


def test_account_blocks_last_a_day_by_default() -> None:
    from sspr.config import AttemptLimit

    limit = AttemptLimit()
    assert (limit.max_failures, limit.window_seconds, limit.lockout_seconds) == (5, 3600, 86400)


def test_answers_ignore_punctuation_and_old_answers_are_upgraded_without_a_lockout(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    from argon2 import PasswordHasher

    from sspr.demo.slapd import ldif_attr
    from sspr.domain.answers import normalize_answer_v1

    # Stored by an earlier version (sspr1: punctuation kept), before this change.
    digest = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
        normalize_answer_v1("Saint-Étienne")
    )
    value = f"sspr1:birth_city:{digest}"
    account: Account = make_account("usager", extra=ldif_attr("ssprRecoveryAnswer", value))
    identify(client, account.login)
    page = client.get("/reset/question").text
    assert "ni à la ponctuation (tirets, apostrophes, points)" in html.unescape(page)
    # Checked the old way: what worked still works (and no more than that).
    assert "Réponse incorrecte" in answer(client, "saint etienne").text
    assert answer(client, "saint-ETIENNE").headers["Location"] == "/reset/password"
    stored = slapd.search(account.dn, "(objectClass=*)", "ssprRecoveryAnswer")
    assert "sspr2:birth_city:" in base64_values(stored) and "sspr1:" not in base64_values(stored)
    # Upgraded on that proof: punctuation no longer matters.
    other = https_client(client.application)
    identify(other, account.login)
    assert answer(other, "saint etienne").headers["Location"] == "/reset/password"


def base64_values(ldif: str) -> str:
    """The LDIF's values, base64 ones decoded."""
    import base64

    return " ".join(
        base64.b64decode(line.split(":: ", 1)[1]).decode() if ":: " in line else line
        for line in ldif.splitlines()
    )
