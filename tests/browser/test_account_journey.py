"""Enrol in "Mon compte", log out, then reset with what was enrolled — in chromium."""

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


def test_enrol_a_question_and_a_mobile_then_reset(
    page: Page, live_server: LiveServer, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("usager")  # nothing registered
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=re.compile("Gérer mon compte")).click()
    page.get_by_role("link", name="Je suis un usager des services de la Région").click()
    page.get_by_label("Identifiant ou adresse email").fill(account.login)
    page.get_by_label("Mot de passe", exact=True).fill(account.password)
    visit(page, "account-1-login")
    page.get_by_role("button", name="Connexion").click()

    # The DGFiP portal's reminder: no mobile yet.
    expect(page.get_by_role("heading", level=1)).to_have_text("Enregistrez votre numéro de mobile")
    visit(page, "account-2-reminder")
    page.get_by_role("link", name="Enregistrer mon numéro de mobile").click()
    page.get_by_label("Nouveau numéro de mobile").fill("06 98 76 54 31")
    page.get_by_role("button", name="Recevoir un code de confirmation").click()
    code = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert code and outbox.sms[0].to == "+33698765431"
    page.get_by_label("Code de sécurité").fill(code.group(1))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("06 •• •• •• 31")).to_be_visible()

    page.get_by_role("link", name="Modifier ma question/réponse").click()
    page.get_by_label("Question", exact=True).select_option("first_pet")
    page.get_by_label("Réponse", exact=True).fill("Pompon")
    page.get_by_label("Confirmez la réponse").fill("Pompon")
    visit(page, "account-3-questions")
    page.get_by_role("button", name="Enregistrer").click()
    expect(
        page.get_by_text("Quel était le nom de votre premier animal de compagnie ?")
    ).to_be_visible()
    visit(page, "account-4-home")
    page.get_by_role("button", name="Se déconnecter").click()

    page.goto(f"{live_server.url}/?profile=usager&login_hint={account.login}")
    page.get_by_role("button", name="Poursuivre").click()
    page.get_by_label("Quel était le nom de votre premier animal de compagnie ?").fill("POMPON")
    page.get_by_role("button", name="Valider").click()
    page.get_by_label("Nouveau mot de passe", exact=True).fill("Jardin-Des-Plantes-75")
    page.get_by_label("Spécifiez à nouveau le mot de passe").fill("Jardin-Des-Plantes-75")
    page.get_by_role("button", name="Réinitialiser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe est modifié")
    assert can_bind(slapd.url, account.dn, "Jardin-Des-Plantes-75")
