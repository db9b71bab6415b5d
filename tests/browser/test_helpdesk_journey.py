""" "Je suis bloqué" at the helpdesk, in chromium: find, check identity, temporary password."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sspr.demo.data import DEMO_PASSWORD, DEMO_STAFF
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from tests.browser.conftest import LiveServer, check_accessibility, screenshot
from tests.helpers import lock_out

pytestmark = pytest.mark.browser

AGENT = next(staff for staff in DEMO_STAFF if staff.helpdesk)


@pytest.fixture
def console(audited_server: LiveServer) -> LiveServer:
    """sspr with its audit trail in a file (tests/browser/conftest.py)."""
    return audited_server


def visit(page: Page, name: str) -> None:
    screenshot(page, name)
    violations = check_accessibility(page)
    assert violations == [], [(v["id"], v["help"]) for v in violations]


def test_an_agent_serves_a_locked_user(
    page: Page, console: LiveServer, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("agent-lycee", mobile="06 11 22 33 77")
    lock_out(slapd, account.dn)

    page.goto(console.url + "/helpdesk/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Console du support")
    page.get_by_label("Identifiant").fill(AGENT.login)
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    visit(page, "helpdesk-1-login")
    page.get_by_role("button", name="Connexion").click()

    expect(page.get_by_text(f"Connecté : {AGENT.given_name} {AGENT.surname}")).to_be_visible()
    page.get_by_label("Identifiant, adresse email ou nom").fill(account.login)
    page.get_by_role("button", name="Rechercher").click()
    row = page.get_by_role("row").filter(has_text=account.login)
    expect(row.get_by_text("Verrouillé")).to_be_visible()
    visit(page, "helpdesk-2-search")
    row.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Test {account.login}")
    expect(page.get_by_text("06 •• •• •• 77")).to_be_visible()
    visit(page, "helpdesk-3-user")
    page.get_by_role("link", name="Vérifier l'identité de l'appelant").click()
    page.get_by_label("Par SMS").check()
    visit(page, "helpdesk-4-identity")
    page.get_by_role("button", name="Confirmer").click()

    # The caller reads the code out from the SMS.
    code = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert code and outbox.sms[0].to == "+33611223377"
    expect(page.get_by_text("Un code a été envoyé à 06 •• •• •• 77.")).to_be_visible()
    page.get_by_label("Code lu par l'appelant").fill(code.group(1))
    visit(page, "helpdesk-5-code")
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text(re.compile("^Identité vérifiée : vous pouvez agir"))).to_be_visible()

    page.get_by_role("link", name="Définir un mot de passe temporaire").click()
    page.get_by_label("Raison").fill("Compte bloqué, appel de l'usager")
    visit(page, "helpdesk-6-temporary-confirm")
    page.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe temporaire")
    password = page.locator(".secret code").inner_text()
    visit(page, "helpdesk-7-temporary-shown")
    page.get_by_role("link", name="Retour au compte").click()
    expect(page.get_by_text("Identité vérifiée (encore")).to_be_visible()
    visit(page, "helpdesk-8-user-after")
    page.get_by_role("link", name="Journal d'audit").click()
    expect(page.get_by_text("Support : mot de passe temporaire").first).to_be_visible()
    visit(page, "helpdesk-9-audit")

    # The user logs in with it, and must choose a new password first.
    page.goto(f"{console.url}/account/login/agent-lycee")
    page.get_by_label("Identifiant").fill(account.login)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(f"{console.url}/account/password")
    expect(page.get_by_text("Votre mot de passe a été réinitialisé")).to_be_visible()
