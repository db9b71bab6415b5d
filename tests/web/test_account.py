""" "Mon compte" against the real slapd, SMTP server and Twilio transport."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import parse_custom_questions, parse_stored
from sspr.domain.handed import HAND_ON_SECONDS
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock
from tests.helpers import WebAccount as Account
from tests.helpers import add_policy, age_password, can_bind, counting_directory, lock_out
from tests.store.conftest import free_port
from tests.web.conftest import build_app, csrf_token, https_client, submit

NEW_PASSWORD = "Mon-Nouveau-Secret-42"


def log_in(
    client: FlaskClient, account: Account, profile: str = "usager", password: str | None = None
):  # type: ignore[no-untyped-def]
    return submit(
        client,
        f"/account/login/{profile}",
        {"identifier": account.login, "password": password or account.password},
    )


def logged_in(client: FlaskClient, account: Account, profile: str = "usager") -> None:
    response = log_in(client, account, profile)
    assert response.status_code == 302, response.text


def read(slapd: Slapd, dn: str, attribute: str) -> list[str]:
    return re.findall(
        rf"^{attribute}:+ (.+)$", slapd.search(dn, "(objectClass=*)", attribute), re.M
    )


@pytest.fixture
def directory_for(settings: Settings, slapd: Slapd):  # type: ignore[no-untyped-def]
    def make() -> LdapDirectory:
        return LdapDirectory(settings.directory, slapd.service_password)

    return make


# -- login ----------------------------------------------------------------------------------


def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager")
    for identifier, password in ((account.login, "wrong"), ("nobody", "wrong")):
        page = submit(
            client, "/account/login/usager", {"identifier": identifier, "password": password}
        )
        assert page.status_code == 200
        assert "Identifiant ou mot de passe incorrect." in page.text


def test_login_shows_the_recovery_status(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"}, mail="zoe@mairie.fr",
                                    mobile="0612345678")  # fmt: skip
    assert log_in(client, account).headers["Location"] == "/account/"
    page = client.get("/account/")
    assert "Dans quelle ville êtes-vous né(e) ?" in page.text
    assert "06 •• •• •• 78" in page.text
    assert "z•••@m•••.fr" in page.text
    assert "Paris" not in page.text  # never the answer


def test_the_session_rotates_at_login_and_dies_at_logout(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    client.get("/account/login/usager")
    before = client.get_cookie("__Host-sspr")
    logged_in(client, account)
    after = client.get_cookie("__Host-sspr")
    assert before is not None and after is not None and before.value != after.value
    stolen = after.value
    token = csrf_token(client.get("/account/").text)
    assert client.post("/account/logout", data={"csrf_token": token}).status_code == 302
    client.set_cookie("__Host-sspr", stolen, domain="localhost")
    response = client.get("/account/")
    assert response.headers["Location"] == "/account/login"


def test_idle_timeout(settings: Settings, outbox: Outbox, audit_lines: io.StringIO,
                      make_account: Any, tmp_path: Path) -> None:  # fmt: skip
    clock = FakeClock(1_800_000_000.0)
    raw = settings.model_dump(mode="json")
    app = build_app(Settings.model_validate(raw), outbox, audit_lines, clock=clock,
                    store=SqliteStore(tmp_path / "s.sqlite3", clock))  # fmt: skip
    client = https_client(app)
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    clock.advance(14 * 60)
    assert client.get("/account/").status_code == 200  # activity slides the timeout
    clock.advance(14 * 60)
    assert client.get("/account/").status_code == 200
    clock.advance(16 * 60)
    assert client.get("/account/").headers["Location"] == "/account/login"
    assert "Votre session a expiré" in client.get("/account/login").text


def test_changes_need_a_fresh_password(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, tmp_path: Path
) -> None:
    clock = FakeClock(1_800_000_000.0)
    app = build_app(settings, outbox, audit_lines, clock=clock,
                    store=SqliteStore(tmp_path / "s.sqlite3", clock))  # fmt: skip
    client = https_client(app)
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    assert client.get("/account/questions").status_code == 200
    clock.advance(6 * 60)
    response = client.get("/account/questions")
    assert response.headers["Location"] == "/account/confirm?next=/account/questions"
    page = submit(client, "/account/confirm?next=/account/questions", {"password": "wrong"})
    assert "Mot de passe incorrect." in page.text
    response = submit(client, "/account/confirm?next=/account/questions",
                      {"password": account.password})  # fmt: skip
    assert response.headers["Location"] == "/account/questions"


ACCENTED = "Été-à-Noël-2026!"  # written NFC, as every sspr page writes it


def test_a_password_typed_with_decomposed_accents_logs_in_and_confirms(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, tmp_path: Path
) -> None:
    decomposed = unicodedata.normalize("NFD", ACCENTED)
    assert decomposed != ACCENTED
    clock = FakeClock(1_800_000_000.0)
    app = build_app(settings, outbox, audit_lines, clock=clock,
                    store=SqliteStore(tmp_path / "s.sqlite3", clock))  # fmt: skip
    client = https_client(app)
    account: Account = make_account("usager", mobile="0612345678", password=ACCENTED)
    assert log_in(client, account, password=decomposed).headers["Location"] == "/account/"
    clock.advance(6 * 60)
    response = submit(client, "/account/confirm?next=/account/questions",
                      {"password": decomposed})  # fmt: skip
    assert response.headers["Location"] == "/account/questions"


def test_locked_account(client: FlaskClient, make_account: Any, slapd: Slapd) -> None:
    account: Account = make_account("usager")
    lock_out(slapd, account.dn)
    page = log_in(client, account)
    assert "Votre compte est verrouillé" in page.text


def test_must_change_after_a_reset_goes_to_the_change_page(
    client: FlaskClient, make_account: Any, directory_for: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager")
    directory_for().set_password(account.dn, "Temporaire-2026!", must_change=True)
    response = log_in(client, account, password="Temporaire-2026!")
    assert response.headers["Location"] == "/account/password"
    assert client.get("/account/").headers["Location"] == "/account/password"
    assert client.get("/account/questions").headers["Location"] == "/account/password"
    response = submit(client, "/account/password", {"current": "Temporaire-2026!",
                      "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})  # fmt: skip
    assert response.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    assert read(slapd, account.dn, "pwdReset") == []


def test_expired_password_is_offered_the_change_page(
    client: FlaskClient, make_account: Any, directory_for: Any, slapd: Slapd
) -> None:
    policy = add_policy(slapd, "expiring-without-grace", pwdMaxAge="3600",
                        pwdGraceAuthNLimit="0", pwdInHistory="5")  # fmt: skip
    account: Account = make_account(
        "usager", extra=f"pwdPolicySubentry: cn={policy},ou=policies,{slapd.suffix}"
    )
    directory_for().set_password(account.dn, "Ancien-Secret-2026")
    age_password(slapd, account.dn, 7200)
    response = log_in(client, account, password="Ancien-Secret-2026")
    assert response.headers["Location"] == "/account/password"
    assert "Votre mot de passe a expiré" in client.get("/account/password").text
    response = submit(client, "/account/password", {"current": "Ancien-Secret-2026",
                      "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})  # fmt: skip
    assert response.headers["Location"] == "/account/"


def test_grace_logins_are_announced(
    client: FlaskClient, make_account: Any, directory_for: Any, slapd: Slapd
) -> None:
    policy = add_policy(slapd, "expiring-with-grace", pwdMaxAge="3600",
                        pwdGraceAuthNLimit="3", pwdInHistory="5")  # fmt: skip
    subentry = f"pwdPolicySubentry: cn={policy},ou=policies,{slapd.suffix}"
    account: Account = make_account("usager", mobile="0612345678", extra=subentry)
    directory_for().set_password(account.dn, "Ancien-Secret-2026")
    age_password(slapd, account.dn, 7200)
    log_in(client, account, password="Ancien-Secret-2026")
    assert "Il vous reste 2 connexion(s) pour le changer." in client.get("/account/").text


# -- questions -----------------------------------------------------------------------------


def questions(client: FlaskClient, question: str, answer: str, confirmation: str | None = None,
              custom: str = ""):  # type: ignore[no-untyped-def]  # fmt: skip
    return submit(client, "/account/questions", {"question_0": question, "custom_0": custom,
                  "answer_0": answer, "confirm_0": confirmation or answer})  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "confirmation", "message"),
    [
        ("Toulouse", "Toulon", "Les deux réponses ne sont pas identiques."),
        ("ab", None, "La réponse doit comporter au moins 3 caractères."),
        ("ville", None, "La réponse ne doit pas reprendre le texte de la question."),
        ("LOGIN", None, "La réponse ne doit pas contenir votre identifiant."),
    ],
)
def test_answers_are_checked(client: FlaskClient, make_account: Any, answer: str,
                             confirmation: str | None, message: str) -> None:  # fmt: skip
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    answer = account.login if answer == "LOGIN" else answer
    page = questions(client, "birth_city", answer, confirmation)
    assert message.replace("'", "&#39;") in page.text


def test_every_problem_of_an_answer_is_reported(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    page = questions(client, "birth_city", "ab", "ac")
    assert "La réponse doit comporter au moins 3 caractères." in page.text
    assert "Les deux réponses ne sont pas identiques." in page.text
    # Each message sits by its own field.
    assert 'id="confirm_0-error">Les deux réponses' in page.text


def test_answers_are_stored_hashed_and_confirmed_by_mail(
    client: FlaskClient, make_account: Any, slapd: Slapd, outbox: Outbox, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    assert questions(client, "first_pet", " Médor ").headers["Location"] == "/account/"
    (stored,) = parse_stored(read(slapd, account.dn, "ssprRecoveryAnswer"))
    assert stored.question_id == "first_pet"
    assert "dor" not in stored.hash
    (mail,) = outbox.mails
    assert mail.subject == "Modification de vos informations personnelles"
    assert "Une modification de vos informations personnelles a été effectuée ce jour" in mail.text
    assert account.login in mail.text
    assert '"enrolment.changed"' in audit_lines.getvalue()
    assert "Médor" not in audit_lines.getvalue()


def test_custom_questions_only_where_the_profile_allows(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    client = https_client(build_app(settings, outbox, audit_lines))
    logged_in(client, account)
    page = questions(client, "custom", "Rex", custom="Nom du chien de mon voisin ?")
    assert page.status_code == 200  # "custom" is not among the choices: refused by the form
    raw = settings.model_dump(mode="json")
    raw["profiles"][0]["custom_questions"] = True
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    logged_in(client, account)
    response = questions(client, "custom", "Rex le chien", custom="Nom du chien de mon voisin ?")
    assert response.headers["Location"] == "/account/"
    values = read(slapd, account.dn, "ssprRecoveryAnswer")
    assert parse_custom_questions(_decode(values)) == {"custom-1": "Nom du chien de mon voisin ?"}
    # The reset flow then asks that question.
    submit(client, "/reset/usager", {"identifier": account.login})
    assert "Nom du chien de mon voisin ?" in client.get("/reset/question").text


def _decode(values: list[str]) -> list[str]:
    import base64

    return [v if v.startswith("sspr") else base64.b64decode(v).decode() for v in values]


# -- mobile and email ----------------------------------------------------------------------


def test_a_new_mobile_takes_effect_once_its_code_is_typed(
    client: FlaskClient, make_account: Any, slapd: Slapd, outbox: Outbox
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    logged_in(client, account)
    response = submit(client, "/account/mobile", {"value": "07 81 22 33 44"})
    assert response.headers["Location"] == "/account/mobile/code"
    assert read(slapd, account.dn, "mobile") == []  # not yet
    (sms,) = outbox.sms
    assert sms.to == "+33781223344"
    assert "07 •• •• •• 44" in client.get("/account/mobile/code").text
    page = submit(client, "/account/mobile/code", {"code": "000000"})
    assert "Code incorrect" in page.text
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)  # type: ignore[union-attr]
    assert submit(client, "/account/mobile/code", {"code": code}).headers["Location"] == "/account/"
    assert read(slapd, account.dn, "mobile") == ["+33781223344"]
    assert "Vos modifications ont bien été prises en compte" in client.get("/account/").text
    assert outbox.mails[0].subject == "Modification de vos informations personnelles"


def test_an_invalid_mobile_is_refused(client: FlaskClient, make_account: Any) -> None:
    logged_in(client, make_account("usager", mobile="0612345678"))
    page = submit(client, "/account/mobile", {"value": "12"})
    assert "numéro de mobile n" in page.text


def test_a_new_email_warns_the_old_address(
    client: FlaskClient, make_account: Any, slapd: Slapd, outbox: Outbox
) -> None:
    account: Account = make_account("usager", mobile="0612345678", mail="old@mairie.fr")
    logged_in(client, account)
    submit(client, "/account/email", {"value": "new@mairie.fr"})
    (mail,) = outbox.mails
    assert mail.to == "new@mairie.fr"
    code = re.search(r"code suivant :\s+(\w{6})", mail.text).group(1)  # type: ignore[union-attr]
    assert submit(client, "/account/email/code", {"code": code}).headers["Location"] == "/account/"
    assert read(slapd, account.dn, "mail") == ["new@mairie.fr"]
    by_recipient = {m.to: m.subject for m in reversed(outbox.mails)}  # newest wins
    assert by_recipient["old@mairie.fr"] == "L'adresse email de votre compte a été modifiée"
    assert by_recipient["new@mairie.fr"] == "Modification de vos informations personnelles"


# -- password ------------------------------------------------------------------------------


def test_change_password_lists_every_rule_and_notifies(
    client: FlaskClient, make_account: Any, slapd: Slapd, outbox: Outbox
) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    page = submit(client, "/account/password", {"current": account.password,
                  "password": "court", "confirmation": "court"})  # fmt: skip
    assert page.text.count('class="rule-failed') == 3
    page = submit(client, "/account/password", {"current": "wrong",
                  "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})  # fmt: skip
    assert "Mot de passe actuel incorrect." in page.text
    page = submit(client, "/account/password", {"current": account.password,
                  "password": account.password, "confirmation": account.password})  # fmt: skip
    assert 'data-rule="history" class="rule-failed' in page.text
    response = submit(client, "/account/password", {"current": account.password,
                      "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})  # fmt: skip
    assert response.headers["Location"] == "/account/"
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    assert outbox.mails[-1].subject == "Votre mot de passe a été modifié"
    assert NEW_PASSWORD not in outbox.mails[-1].text


def test_a_mismatch_on_the_change_page_still_lists_every_rule(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    page = submit(client, "/account/password", {"current": account.password,
                  "password": "court", "confirmation": "courte"})  # fmt: skip
    assert page.text.count('class="rule-failed') == 3
    assert "Les deux mots de passe ne sont pas identiques." in page.text


def test_a_first_visit_is_not_told_its_session_expired(client: FlaskClient) -> None:
    response = client.get("/account/")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "expiré" not in page.text


# -- reminder ------------------------------------------------------------------------------


def test_mobile_reminder_and_its_snooze(client: FlaskClient, app: Flask, make_account: Any,
                                        slapd: Slapd) -> None:  # fmt: skip
    account: Account = make_account("usager", {"birth_city": "Paris"})
    assert log_in(client, account).headers["Location"] == "/account/reminder"
    page = client.get("/account/reminder")
    assert "Ne plus afficher ce rappel" in page.text
    assert submit(client, "/account/reminder", {}).headers["Location"] == "/account/"
    again = https_client(app)
    assert log_in(again, account).headers["Location"] == "/account/reminder"
    assert submit(again, "/account/reminder", {"snooze": "y"}).headers["Location"] == "/account/"
    home = again.get("/account/")
    assert "ce rappel ne s&#39;affichera plus pour une durée de 6 mois." in home.text
    (until,) = read(slapd, account.dn, "ssprReminderSnoozedUntil")
    assert until.endswith("Z") and until[:4] >= "2026"
    assert log_in(https_client(app), account).headers["Location"] == "/account/"


def test_no_reminder_with_a_mobile(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    assert log_in(client, account).headers["Location"] == "/account/"


# -- done when ----------------------------------------------------------------------------


def test_enrol_then_reset_with_what_was_enrolled(
    client: FlaskClient, app: Flask, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager")  # no recovery data at all
    logged_in(client, account)
    submit(client, "/account/reminder", {})
    assert questions(client, "school", "Lycée Victor Hugo").headers["Location"] == "/account/"
    token = csrf_token(client.get("/account/").text)
    client.post("/account/logout", data={"csrf_token": token})
    fresh = https_client(app)
    submit(fresh, "/reset/usager", {"identifier": account.login})
    assert "premier établissement scolaire" in fresh.get("/reset/question").text
    assert (
        submit(fresh, "/reset/question", {"answer_0": "lycee victor hugo"}).headers["Location"]
        == "/reset/password"
    )
    submit(fresh, "/reset/password", {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_the_session_dies_when_the_password_changes_elsewhere(
    client: FlaskClient, make_account: Any, directory_for: Any
) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    assert client.get("/account/").status_code == 200
    directory_for().set_password(account.dn, "Reset-Ailleurs-2026")  # a reset, or the helpdesk
    response = client.get("/account/")
    assert response.headers["Location"] == "/account/login"
    assert "Votre mot de passe a changé" in client.get("/account/login").text


def _counted_app(settings: Settings, outbox: Outbox, slapd: Slapd, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FakeClock(1_800_000_000.0)
    # The policy entry is read once and cached: not a page's own work.
    directory, operations = counting_directory(
        settings.directory, slapd.service_password, ignored=("password_rules",)
    )
    app = build_app(settings, outbox, io.StringIO(), clock=clock, directory=directory,
                    store=SqliteStore(tmp_path / "s.sqlite3", clock))  # fmt: skip
    return https_client(app), clock, operations


def test_the_page_a_login_or_a_change_leads_to_takes_the_entry_just_read(
    settings: Settings, outbox: Outbox, make_account: Any, slapd: Slapd, tmp_path: Path
) -> None:
    client, _, operations = _counted_app(settings, outbox, slapd, tmp_path)
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    operations.clear()
    assert client.get("/account/").status_code == 200
    assert operations == []  # the login's own entry, handed on
    assert client.get("/account/").status_code == 200
    assert operations == ["read_user"]  # any other page reads the directory
    response = submit(client, "/account/password", {
        "current": account.password, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD,
    })  # fmt: skip
    assert response.headers["Location"] == "/account/"
    operations.clear()
    assert "Votre mot de passe est modifié" in client.get("/account/").text
    assert operations == []  # the entry the change read after writing, handed on


def test_a_handed_entry_older_than_its_seconds_is_read_again(
    settings: Settings, outbox: Outbox, make_account: Any, slapd: Slapd, tmp_path: Path,
    directory_for: Any,
) -> None:  # fmt: skip
    client, clock, _ = _counted_app(settings, outbox, slapd, tmp_path)
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    directory_for().set_password(account.dn, "Reset-Ailleurs-2026")  # a reset, or the helpdesk
    clock.advance(HAND_ON_SECONDS + 0.5)
    assert client.get("/account/").headers["Location"] == "/account/login"
    assert "Votre mot de passe a changé" in client.get("/account/login").text


def test_the_own_password_change_keeps_the_session(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    submit(client, "/account/password", {"current": account.password,
           "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})  # fmt: skip
    assert client.get("/account/").status_code == 200


def test_a_notice_that_cannot_be_sent_waits_and_the_change_stands(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    raw = settings.model_dump(mode="json")
    raw["mail"]["smtp"]["port"] = free_port()  # nobody listens there: every send fails
    app = build_app(Settings.model_validate(raw), outbox, audit_lines)
    client = https_client(app)
    account: Account = make_account("usager", mobile="0612345678")
    logged_in(client, account)
    response = submit(client, "/account/password", {"current": account.password,
                      "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})  # fmt: skip
    assert response.headers["Location"] == "/account/"
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    lines = [json.loads(line) for line in audit_lines.getvalue().splitlines()]
    # Not sent, not lost: the notice waits in the outbox for its retries (and its audit line).
    assert not [line for line in lines if line["event"] == "notification.sent"]
    store_file = sqlite3.connect(app.extensions["sspr"].settings.store.path)
    [(queued, attempts)] = store_file.execute("SELECT value, claims FROM queue").fetchall()
    assert b"password_changed" in queued and attempts == 1
