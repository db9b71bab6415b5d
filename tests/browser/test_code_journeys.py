"""Email and SMS code journeys in Debian's chromium, codes read from what was sent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from tests.browser.conftest import LiveServer, check_accessibility, screenshot
from tests.helpers import can_bind

pytestmark = pytest.mark.browser


def visit(page: Page, name: str) -> None:
    screenshot(page, name)
    violations = check_accessibility(page)
    assert violations == [], [(v["id"], v["help"]) for v in violations]


def new_password(page: Page, password: str) -> None:
    page.get_by_label("Nouveau mot de passe", exact=True).fill(password)
    page.get_by_label("Confirmez le nouveau mot de passe").fill(password)
    page.get_by_role("button", name="Réinitialiser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe est modifié")


def test_reset_with_an_email_code(
    page: Page, live_server: LiveServer, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("elu", mail="claire.b@mairie.fr")
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Je suis un élu de la Région").click()
    page.get_by_label("Identifiant ou adresse email").fill("claire.b@mairie.fr")
    page.get_by_role("button", name="Poursuivre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez le code de sécurité")
    expect(page.get_by_text("c•••@•••")).to_be_visible()
    visit(page, "email-1-code")
    code = re.search(r"réinitialisation de mot de passe :\s+(\w{6})", outbox.mails[0].text)
    assert code
    page.get_by_label("Code de sécurité").fill(code.group(1))
    page.get_by_role("button", name="Valider").click()
    new_password(page, "Une-Phrase-De-Passe-2026")
    visit(page, "email-2-success")
    assert can_bind(slapd.url, account.dn, "Une-Phrase-De-Passe-2026")


def test_reset_with_an_sms_code(
    page: Page, live_server: LiveServer, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("agent-lycee", mobile="06 11 22 33 99")
    page.goto(f"{live_server.url}/?profile=agent-lycee&login_hint={account.login}")
    page.get_by_role("button", name="Poursuivre").click()
    expect(page.get_by_text("06 •• •• •• 99")).to_be_visible()
    visit(page, "sms-1-code")
    code = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert code and outbox.sms[0].to == "+33611223399"
    field = page.get_by_label("Code de sécurité")
    expect(field).to_have_attribute("inputmode", "numeric")  # the phone's digit keypad
    expect(
        page.get_by_text("Le code comporte 6 chiffres et expire dans 10 minutes.")
    ).to_be_visible()
    field.fill("12a45")  # a slip: told so, no try used
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("Le code comporte 6 chiffres.", exact=True)).to_be_visible()
    page.get_by_label("Code de sécurité").fill(code.group(1))
    page.get_by_role("button", name="Valider").click()
    new_password(page, "ab12!xyz-9")
    assert can_bind(slapd.url, account.dn, "ab12!xyz-9")


def test_email_then_sms_shows_the_progress(
    page: Page, live_server: LiveServer, outbox: Outbox, make_account: Any
) -> None:
    account = make_account("agent-siege", mobile="0798765400")
    page.goto(f"{live_server.url}/?profile=agent-siege&login_hint={account.login}")
    page.get_by_role("button", name="Poursuivre").click()
    expect(page.get_by_text("Étape 1 sur 2")).to_be_visible()
    code = re.search(r"réinitialisation de mot de passe :\s+(\w{6})", outbox.mails[0].text)
    assert code
    page.get_by_label("Code de sécurité").fill(code.group(1))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("Étape 2 sur 2")).to_be_visible()
    visit(page, "chain-2-sms")
    sms = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert sms
    page.get_by_label("Code de sécurité").fill(sms.group(1))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez un nouveau mot de passe")


def test_starting_again_within_the_minute_says_the_last_code_still_works(
    page: Page, live_server: LiveServer, outbox: Outbox, make_account: Any
) -> None:
    account = make_account("agent-lycee", mobile="06 11 22 33 98")
    for _ in range(2):  # the user starts again before the SMS arrives
        page.goto(f"{live_server.url}/?profile=agent-lycee&login_hint={account.login}")
        page.get_by_role("button", name="Poursuivre").click()
    assert len(outbox.sms) == 1
    status = page.get_by_role("status").filter(has_text="il y a moins d'une minute")
    expect(status).to_contain_text("utilisez le dernier reçu")
    expect(status).to_contain_text(re.compile(r"dans \d+ secondes"))
    visit(page, "sms-restarted")
    code = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert code
    page.get_by_label("Code de sécurité").fill(code.group(1))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez un nouveau mot de passe")
