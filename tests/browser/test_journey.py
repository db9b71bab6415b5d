"""The whole journey in Debian's chromium, each page checked with axe-core."""

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

NEW_PASSWORD = "Chemin-des-Vignes-42"
RULE_OK = re.compile(r"\brule-ok\b")
RULE_FAILED = re.compile(r"\brule-failed\b")


def visit(page: Page, name: str) -> None:
    screenshot(page, name)
    violations = check_accessibility(page)
    assert violations == [], [(v["id"], v["help"], v["nodes"][0]["html"]) for v in violations]


def test_reset_with_the_security_question(
    page: Page, live_server: LiveServer, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("usager", {"birth_city": "Saint-Étienne"})
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié ?")
    visit(page, "1-chooser")

    page.get_by_role("link", name="Je suis un usager des services de la Région").click()
    page.get_by_label("Nom d'utilisateur").fill(account.login)
    visit(page, "2-identify")
    page.get_by_role("button", name="Poursuivre").click()

    expect(page.get_by_label("Dans quelle ville êtes-vous né(e) ?")).to_be_visible()
    visit(page, "3-question")
    page.get_by_label("Dans quelle ville êtes-vous né(e) ?").fill("saint etienne".replace(" ", "-"))
    page.get_by_role("button", name="Valider").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez un nouveau mot de passe")
    upper = page.locator('li[data-rule="min_upper"]')
    expect(upper).not_to_have_class(RULE_OK)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    # The live checklist ticked the rules the browser can check.
    for rule in ("min_length", "min_upper", "min_lower", "min_special"):
        expect(page.locator(f'li[data-rule="{rule}"]')).to_have_class(RULE_OK)
    page.get_by_label("Spécifiez à nouveau le mot de passe").fill(NEW_PASSWORD)
    visit(page, "4-password")
    page.get_by_role("button", name="Réinitialiser").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe est modifié")
    expect(page.get_by_role("link", name="Continuer")).to_have_attribute(
        "href", "https://www.example.org/connexion"
    )
    visit(page, "5-success")

    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_every_failing_rule_is_shown_without_javascript(
    browser: Any, live_server: LiveServer, make_account: Any, outbox: Outbox
) -> None:
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    account = make_account("agent-lycee", mobile="0611223344")
    page.goto(live_server.url + "/?profile=agent-lycee&login_hint=" + account.login)
    page.get_by_role("button", name="Poursuivre").click()
    code = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert code
    page.get_by_label("Code de sécurité").fill(code.group(1))
    page.get_by_role("button", name="Valider").click()
    page.get_by_label("Nouveau mot de passe", exact=True).fill("abc")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("abc")
    page.get_by_role("button", name="Réinitialiser").click()
    for rule in ("length", "min_digit", "min_special_or_accented"):
        expect(page.locator(f'li[data-rule="{rule}"]')).to_have_class(RULE_FAILED)
    expect(page.locator('li[data-rule="min_letters"]')).to_have_class(RULE_OK)
    screenshot(page, "6-password-errors-no-js")
    context.close()
