"""Issue 11 §1 against a real Samba AD DC, end to end over HTTP.

Every write is checked on the DC itself: a bind as the user (the new password works, the
old one is refused) and the attributes AD keeps (pwdLastSet, lockoutTime,
userAccountControl).
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask import Flask
from flask.testing import FlaskClient
from ldap3 import MODIFY_REPLACE

from sspr.demo.outbox import Outbox
from tests.ad.samba_dc import AdAccount, AdUsers, SambaDC
from tests.helpers import https_client, submit
from tests.web.test_code_channels import email_code, set_password, type_code

NEW_PASSWORD = "Nouveau-Secret-2027"


def audit_events(audit_lines: io.StringIO, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in audit_lines.getvalue().splitlines()]
    return [line for line in lines if line["event"] == event]


def text(response: Any) -> str:
    """A page's text with entities decoded (Jinja escapes apostrophes)."""
    return html.unescape(response.text)


def binds(dc: SambaDC, account: AdAccount, password: str) -> bool:
    return dc.bind_result(account.dn, password)[0]


def log_in(client: FlaskClient, identifier: str, password: str, profile: str = "agent"):  # type: ignore[no-untyped-def]
    data = {"identifier": identifier, "password": password}
    return submit(client, f"/account/login/{profile}", data)


def change(client: FlaskClient, current: str, new: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    data = {"current": current, "password": new, "confirmation": new}
    return submit(client, "/account/password", data)


def prove_by_email(client: FlaskClient, outbox: Outbox, identifier: str):  # type: ignore[no-untyped-def]
    """Identify, then type the code the DC's user received: the last proof's response."""
    assert submit(client, "/reset/agent", {"identifier": identifier}).status_code == 302
    return type_code(client, email_code(outbox))


def staff_login(client: FlaskClient, staff: AdAccount, password: str | None = None):  # type: ignore[no-untyped-def]
    data = {"identifier": staff.login, "password": password or staff.password}
    return submit(client, "/helpdesk/login", data)


def filetime_of(value: str) -> datetime:
    return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value) // 10)


# -- 1. answers ----------------------------------------------------------------------------


def test_enrolment_adds_the_auxiliary_class_then_the_answers(
    samba_dc: SambaDC, ad_users: AdUsers, ad_client: FlaskClient
) -> None:
    account = ad_users.create(mobile="+33612345678")
    assert log_in(ad_client, account.login, account.password).headers["Location"] == "/account/"
    data = {"question_0": "birth_city", "answer_0": "Limoges", "confirm_0": "Limoges"}
    response = submit(ad_client, "/account/questions", data)
    assert response.headers["Location"] == "/account/"
    entry = samba_dc.read(account.dn, "objectClass", "ssprRecoveryAnswer")
    assert "ssprAccount" in entry["objectClass"]
    [stored] = entry["ssprRecoveryAnswer"]
    assert re.match(r"sspr\d:birth_city:\$argon2id\$", stored), stored
    # And the reset asks it back.
    data = {"question_0": "first_pet", "answer_0": "Médor", "confirm_0": "Médor"}
    assert submit(ad_client, "/account/questions", data).headers["Location"] == "/account/"
    [stored] = samba_dc.read(account.dn, "ssprRecoveryAnswer")["ssprRecoveryAnswer"]
    assert re.match(r"sspr\d:first_pet:", stored), stored


# -- 2. must-change and expired passwords ----------------------------------------------------


def test_a_helpdesk_temporary_password_is_changed_at_account(
    samba_dc: SambaDC,
    ad_users: AdUsers,
    staff: AdAccount,
    ad_app: Flask,
    audit_lines: io.StringIO,
) -> None:
    account = ad_users.create()
    agent = https_client(ad_app)
    assert staff_login(agent, staff).headers["Location"] == "/helpdesk/search"
    page = submit(
        agent, f"/helpdesk/user/temporary-password?dn={account.dn}", {"reason": "appel"},
        follow_redirects=True,
    )  # fmt: skip
    secret = re.search(r'<p class="secret"><code>(.*?)</code>', page.text)
    assert secret, page.text
    temporary = html.unescape(secret.group(1))
    assert samba_dc.read(account.dn, "pwdLastSet")["pwdLastSet"] == ["0"]
    assert "data 773" in samba_dc.bind_result(account.dn, temporary)[1]

    user = https_client(ad_app)
    assert log_in(user, account.login, temporary).headers["Location"] == "/account/password"
    page = change(user, "not-the-temporary-one")
    assert "Mot de passe actuel incorrect." in page.text
    assert audit_events(audit_lines, "account.password_changed")[-1]["cause"] == (
        "invalid_credentials"
    )
    assert change(user, temporary).headers["Location"] == "/account/"
    assert binds(samba_dc, account, NEW_PASSWORD)
    assert not binds(samba_dc, account, temporary)
    assert samba_dc.read(account.dn, "pwdLastSet")["pwdLastSet"] != ["0"]


def test_an_expired_password_is_changed_at_account(
    samba_dc: SambaDC, ad_users: AdUsers, ad_client: FlaskClient
) -> None:
    account = ad_users.create("password_expired")
    response = log_in(ad_client, account.login, account.password)
    assert response.headers["Location"] == "/account/password"
    assert "Votre mot de passe a expiré" in ad_client.get("/account/password").text
    assert change(ad_client, account.password).headers["Location"] == "/account/"
    assert ad_client.get("/account/").status_code == 200  # the session follows the change
    assert binds(samba_dc, account, NEW_PASSWORD)
    assert not binds(samba_dc, account, account.password)
    assert filetime_of(samba_dc.read(account.dn, "pwdLastSet")["pwdLastSet"][0]) > datetime.now(
        UTC
    ) - timedelta(minutes=5)


def test_an_expired_change_refused_by_history_is_said_and_logged(
    samba_dc: SambaDC,
    ad_users: AdUsers,
    ad_client: FlaskClient,
    audit_lines: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account = ad_users.create(password="Premier-Secret-2025")
    samba_dc.modify(
        account.dn, {"unicodePwd": [(MODIFY_REPLACE, ['"Second-Secret-2026"'.encode("utf-16-le")])]}
    )
    samba_dc.age_password(account.dn, days=100)
    assert log_in(ad_client, account.login, "Second-Secret-2026").headers["Location"] == (
        "/account/password"
    )
    with caplog.at_level(logging.WARNING, logger="sspr.directory"):
        page = change(ad_client, "Second-Secret-2026", new="Premier-Secret-2025")
    assert "Ce mot de passe a déjà été utilisé récemment." in page.text
    assert audit_events(audit_lines, "account.password_changed")[-1]["cause"] == "in_history"
    assert any("0000052D" in record.getMessage() for record in caplog.records)
    assert "data 532" in samba_dc.bind_result(account.dn, "Second-Secret-2026")[1]


def test_expired_staff_change_their_password_then_use_the_console(
    samba_dc: SambaDC,
    ad_users: AdUsers,
    helpdesk_group: str,
    ad_client: FlaskClient,
    audit_lines: io.StringIO,
) -> None:
    staff = ad_users.create(
        "password_expired", unit=f"OU=staff,{samba_dc.unit}", groups=(helpdesk_group,)
    )
    response = staff_login(ad_client, staff)
    assert response.headers["Location"] == "/helpdesk/password"
    page = ad_client.get("/helpdesk/password")
    assert "Votre mot de passe doit être changé avant d'accéder à la console." in text(page)
    data = {
        "identifier": f"{samba_dc.netbios_domain}\\{staff.login}",
        "current": staff.password,
        "password": NEW_PASSWORD,
        "confirmation": NEW_PASSWORD,
    }
    assert submit(ad_client, "/helpdesk/password", data).headers["Location"] == "/helpdesk/login"
    assert binds(samba_dc, staff, NEW_PASSWORD)
    assert not binds(samba_dc, staff, staff.password)
    assert staff_login(ad_client, staff, NEW_PASSWORD).headers["Location"] == "/helpdesk/search"
    [changed] = audit_events(audit_lines, "helpdesk.password_changed")
    assert (changed["outcome"], changed["agent"]) == ("success", staff.login)


# -- 3. reminder snooze ----------------------------------------------------------------------


def test_the_reminder_snooze_is_written_with_a_fraction(
    samba_dc: SambaDC, ad_users: AdUsers, ad_client: FlaskClient
) -> None:
    account = ad_users.create()  # no mobile: the reminder comes up
    assert log_in(ad_client, account.login, account.password).headers["Location"] == (
        "/account/reminder"
    )
    response = submit(ad_client, "/account/reminder", {"snooze": "y"})
    assert response.headers["Location"] == "/account/"
    [until] = samba_dc.read(account.dn, "ssprReminderSnoozedUntil")["ssprReminderSnoozedUntil"]
    assert until.endswith(".0Z")
    assert datetime.strptime(until[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC) > datetime.now(UTC)
    ad_client.post("/account/logout", data={})
    # Snoozed: the next login goes straight home.
    assert log_in(ad_client, account.login, account.password).headers["Location"] == "/account/"


# -- 4 and 5. the current password, and the history on resets --------------------------------


def test_a_reset_to_the_current_password_is_refused(
    samba_dc: SambaDC, ad_users: AdUsers, ad_client: FlaskClient, outbox: Outbox
) -> None:
    account = ad_users.create(password="Actuel-Secret-2026")
    assert prove_by_email(ad_client, outbox, account.login).headers["Location"] == (
        "/reset/password"
    )
    page = set_password(ad_client, "Actuel-Secret-2026")
    assert 'data-rule="not_current" class="rule-failed' in page.text
    assert set_password(ad_client, NEW_PASSWORD).headers["Location"] == "/reset/done"
    assert binds(samba_dc, account, NEW_PASSWORD)
    assert not binds(samba_dc, account, "Actuel-Secret-2026")
    # The probe's failed bind is gone with the reset (lockoutTime 0 clears the count).
    state = samba_dc.read(account.dn, "badPwdCount", "lockoutTime")
    assert state["lockoutTime"] in ([], ["0"])
    assert state["badPwdCount"] in ([], ["0"])


def test_samba_has_no_policy_hints_so_resets_fall_back_to_sspr_checks(
    samba_dc: SambaDC, ad_users: AdUsers, ad_app: Flask, ad_client: FlaskClient, outbox: Outbox
) -> None:
    directory = ad_app.extensions["sspr"].directory
    # Samba 4.17 lists neither 1.2.840.113556.1.4.2239 nor …2066 (and answers 12 to both).
    assert directory.policy_hints_control() is None
    account = ad_users.create()
    prove_by_email(ad_client, outbox, account.login)
    assert set_password(ad_client, NEW_PASSWORD).headers["Location"] == "/reset/done"
    assert binds(samba_dc, account, NEW_PASSWORD)


def test_a_password_in_the_history_is_said_to_be_already_used(
    samba_dc: SambaDC, ad_users: AdUsers, ad_client: FlaskClient
) -> None:
    account = ad_users.create()
    log_in(ad_client, account.login, account.password)
    assert change(ad_client, account.password).headers["Location"] == "/account/"
    page = change(ad_client, NEW_PASSWORD, new=account.password)
    assert "Ce mot de passe a déjà été utilisé récemment." in page.text
    assert "trop faible" not in page.text
    assert binds(samba_dc, account, NEW_PASSWORD)


# -- 6. disabled and expired accounts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "title", "data"),
    [("disabled", "Compte désactivé", "data 533"), ("account_expired", "Compte expiré", "701")],
)
def test_a_disabled_or_expired_account_is_told_after_the_proof_and_not_reset(
    samba_dc: SambaDC,
    ad_users: AdUsers,
    ad_client: FlaskClient,
    outbox: Outbox,
    audit_lines: io.StringIO,
    state: str,
    title: str,
    data: str,
) -> None:
    account = ad_users.create(state)
    before = samba_dc.read(account.dn, "pwdLastSet", "userAccountControl")
    # Identification answers as for anyone (the unknown get the same page).
    response = submit(ad_client, "/reset/agent", {"identifier": account.login})
    assert response.headers["Location"] == "/reset/code"
    page = type_code(ad_client, email_code(outbox))
    assert page.status_code == 403
    assert title in page.text
    assert "Vous pouvez dès lors vous connecter" not in page.text
    assert ad_client.get("/reset/password").status_code != 200
    assert samba_dc.read(account.dn, "pwdLastSet", "userAccountControl") == before
    assert data in samba_dc.bind_result(account.dn, account.password)[1]
    refused = audit_events(audit_lines, "password.changed")[-1]
    assert refused["cause"] == f"account_{state.removeprefix('account_')}"


def test_identification_does_not_tell_a_disabled_account_from_an_unknown_one(
    ad_users: AdUsers, ad_app: Flask
) -> None:
    disabled = ad_users.create("disabled")
    answers = []
    for identifier in (disabled.login, "personne.inconnue"):
        client = https_client(ad_app)
        response = submit(client, "/reset/agent", {"identifier": identifier})
        page = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], page.status_code))
    assert answers[0] == answers[1] == (302, "/reset/code", 200)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("disabled", "Votre compte est désactivé."),
        ("account_expired", "Votre compte a expiré."),
    ],
)
def test_account_login_names_a_disabled_or_expired_account_to_its_owner_only(
    ad_users: AdUsers, ad_client: FlaskClient, state: str, message: str
) -> None:
    account = ad_users.create(state)
    assert message in log_in(ad_client, account.login, account.password).text
    page = log_in(ad_client, account.login, "not the password")
    assert "Identifiant ou mot de passe incorrect." in page.text
    assert message not in page.text


def test_the_helpdesk_shows_disabled_and_expired_accounts_and_refuses_to_reset_them(
    samba_dc: SambaDC, ad_users: AdUsers, staff: AdAccount, ad_client: FlaskClient
) -> None:
    disabled = ad_users.create("disabled")
    expired = ad_users.create("account_expired")
    staff_login(ad_client, staff)
    assert "Désactivé dans l'annuaire" in text(ad_client.get(f"/helpdesk/user?dn={disabled.dn}"))
    found = text(ad_client.get(f"/helpdesk/search?q={disabled.login}"))
    assert "Désactivé dans l'annuaire" in found
    assert "Expiré depuis le" in ad_client.get(f"/helpdesk/user?dn={expired.dn}").text
    page = submit(
        ad_client, f"/helpdesk/user/temporary-password?dn={disabled.dn}", {"reason": "x"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Ce compte est désactivé dans l'annuaire" in text(page)
    assert samba_dc.read(disabled.dn, "pwdLastSet")["pwdLastSet"] != ["0"]


# -- 7. messages that name the cause ----------------------------------------------------------


def test_a_permission_refusal_is_not_an_outage_and_is_logged(
    samba_dc: SambaDC,
    ad_users: AdUsers,
    ad_client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # CN=Users: the service account was delegated nothing there.
    account = ad_users.create(unit=f"CN=Users,{samba_dc.base_dn}", mobile="+33612345678")
    log_in(ad_client, account.login, account.password, profile="sans-droits")
    data = {"question_0": "birth_city", "answer_0": "Limoges", "confirm_0": "Limoges"}
    with caplog.at_level(logging.WARNING):
        page = submit(ad_client, "/account/questions", data)
    assert page.status_code == 500
    assert "Une erreur est survenue" in page.text
    assert "indisponible" not in page.text  # not the outage page (503)
    assert any("insufficientAccessRights" in record.getMessage() for record in caplog.records)


# -- 8. dates in the helpdesk -----------------------------------------------------------------


@pytest.mark.parametrize(("lang", "locale"), [("fr", "fr_FR"), ("en", "en")])
def test_the_helpdesk_shows_ad_times_as_dates_in_the_users_language(
    samba_dc: SambaDC,
    ad_users: AdUsers,
    staff: AdAccount,
    ad_client: FlaskClient,
    lang: str,
    locale: str,
) -> None:
    account = ad_users.create("locked")
    state = samba_dc.read(account.dn, "lockoutTime", "pwdLastSet")
    ad_client.get(f"/lang/{lang}")
    staff_login(ad_client, staff)
    page = ad_client.get(f"/helpdesk/user?dn={account.dn}").text
    paris = ZoneInfo("Europe/Paris")
    for name in ("lockoutTime", "pwdLastSet"):
        raw = state[name][0]
        assert raw not in page
        when = format_datetime(filetime_of(raw), "medium", tzinfo=paris, locale=locale)
        assert when in page


# -- 9. logins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["sAMAccountName", "userPrincipalName", "DOMAINE\\login"])
def test_logins_by_every_ad_name(
    samba_dc: SambaDC, ad_users: AdUsers, ad_client: FlaskClient, form: str
) -> None:
    account = ad_users.create(mobile="+33612345678")
    identifier = {
        "sAMAccountName": account.login,
        "userPrincipalName": account.upn,
        "DOMAINE\\login": f"{samba_dc.netbios_domain.lower()}\\{account.login}",
    }[form]
    assert log_in(ad_client, identifier, account.password).headers["Location"] == "/account/"


def test_another_domains_login_is_nobody(ad_users: AdUsers, ad_client: FlaskClient) -> None:
    account = ad_users.create(mobile="+33612345678")
    page = log_in(ad_client, f"AUTRE\\{account.login}", account.password)
    assert "Identifiant ou mot de passe incorrect." in page.text


def test_the_one_form_change_works_for_an_expired_ad_password(
    samba_dc: SambaDC, ad_users: AdUsers, ad_client: FlaskClient
) -> None:
    account = ad_users.create("password_expired")
    data = {
        "identifier": account.upn,
        "current": account.password,
        "password": NEW_PASSWORD,
        "confirmation": NEW_PASSWORD,
    }
    page = submit(ad_client, "/change/agent", data)
    assert page.status_code == 200
    assert "Votre mot de passe est modifié" in page.text
    assert binds(samba_dc, account, NEW_PASSWORD)
    assert not binds(samba_dc, account, account.password)
