"""The password page in chromium: entropy bar, live checks, generator, toggles, no JavaScript.

The elu profile uses the demo's "region" policy (cnil-2022-restricted, zxcvbn score 3,
not_breached) with a real local range server.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.range_server import RangeServer
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd, free_port
from tests.browser.conftest import LiveServer, check_accessibility, screenshot
from tests.helpers import can_bind
from tests.web.conftest import build_app
from tests.web.test_code_channels import email_code

pytestmark = pytest.mark.browser

RULE_OK = re.compile(r"\brule-ok\b")
STRONG = "Girafe!Trompette42"


@pytest.fixture
def server(
    slapd: Slapd, tmp_path: Path, mail_catcher: tuple[MailCatcher, Outbox], outbox: Outbox,
    range_server: RangeServer,
) -> Iterator[LiveServer]:  # fmt: skip
    port = free_port()
    settings = demo_settings(
        slapd, tmp_path, f"http://127.0.0.1:{port}", mail_catcher[0].port, range_server.url
    )
    with LiveServer(build_app(settings, outbox, io.StringIO()), port) as live:
        yield live


def reach_password_page(page: Page, server: LiveServer, outbox: Outbox, login: str) -> None:
    page.goto(server.url + "/reset/elu")
    page.get_by_label("Identifiant ou adresse email").fill(login)
    page.get_by_role("button", name="Poursuivre").click()
    page.get_by_label("Code de sécurité").fill(email_code(outbox))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez un nouveau mot de passe")


def no_violations(page: Page, name: str) -> None:
    screenshot(page, name)
    violations = check_accessibility(page)
    assert violations == [], [(v["id"], v["help"], v["nodes"][0]["html"]) for v in violations]


def test_the_entropy_bar_and_the_server_rules_follow_the_typing(
    page: Page, server: LiveServer, outbox: Outbox, make_account: Any
) -> None:
    account = make_account("elu")
    reach_password_page(page, server, outbox, account.login)
    label = page.locator(".entropy-label")
    meter = page.locator("meter.entropy-meter")
    expect(label).to_have_text("Entropie : 0 bits sur 50 requis")
    field = page.get_by_label("Nouveau mot de passe", exact=True)
    field.fill("xkqmpqlwz")
    expect(label).to_have_text("Entropie : 42 bits sur 50 requis")
    expect(meter).to_have_js_property("value", 42)
    expect(page.locator('li[data-rule="min_entropy_bits"]')).not_to_have_class(RULE_OK)
    # A common password in disguise: the server's round trip says so while typing.
    field.fill("M4rseille2024!")
    expect(page.locator('li[data-rule="min_guess_score"]')).to_have_class(RULE_OK)
    expect(page.locator('li[data-rule="forbidden_words"]')).not_to_have_class(RULE_OK)
    expect(page.locator('li[data-rule="forbidden_words"] .rule-live-state')).to_have_text(
        " — non respecté"
    )
    field.fill("zxcvbnm,./zxcvbnm")
    advice = page.locator("#policy-advice")
    expect(advice).to_contain_text("Les rangées de touches du clavier sont faciles à deviner.")
    field.fill(STRONG)
    for rule in ("min_entropy_bits", "forbidden_words", "no_user_parts", "min_guess_score"):
        expect(page.locator(f'li[data-rule="{rule}"]')).to_have_class(RULE_OK)
    expect(label).to_have_text("Entropie : 119 bits sur 50 requis")
    expect(advice).to_be_empty()
    no_violations(page, "quality-1-live")


def test_a_breached_password_is_refused_after_submission(
    page: Page, server: LiveServer, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("elu")
    reach_password_page(page, server, outbox, account.login)
    page.get_by_label("Nouveau mot de passe", exact=True).fill("Vacances-Bretagne-2016")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("Vacances-Bretagne-2016")
    page.get_by_role("button", name="Réinitialiser").click()
    expect(page.get_by_role("alert").filter(has_text="fuites de données")).to_be_visible()
    assert can_bind(slapd.url, account.dn, account.password)
    no_violations(page, "quality-2-breached")


def test_generator_copy_and_toggles_work_by_keyboard_under_the_strict_csp(
    browser: Browser, server: LiveServer, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    # No bypass_csp here: the page runs under sspr's own Content-Security-Policy.
    context = browser.new_context(locale="fr-FR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    account = make_account("elu")
    reach_password_page(page, server, outbox, account.login)

    generate = page.get_by_role("button", name="Générer un mot de passe")
    generate.focus()
    page.keyboard.press("Enter")
    proposed = page.locator("output#generated-value")
    expect(proposed).to_have_text(re.compile(r"^[A-Za-z]+(-[A-Za-z]+){4,}$"))
    passphrase = proposed.text_content() or ""
    page.get_by_role("button", name="Copier").click()
    expect(page.get_by_role("status").filter(has_text="Copié")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == passphrase
    page.get_by_role("button", name="Utiliser ce mot de passe").click()

    field = page.get_by_label("Nouveau mot de passe", exact=True)
    expect(field).to_have_value(passphrase)
    expect(field).to_have_attribute("type", "password")
    toggle = page.get_by_role("button", name="Afficher Nouveau mot de passe", exact=True)
    expect(toggle).to_contain_text("Afficher")
    toggle.focus()
    page.keyboard.press("Space")
    expect(field).to_have_attribute("type", "text")
    hide = page.get_by_role("button", name="Masquer Nouveau mot de passe", exact=True)
    expect(hide).to_contain_text("Masquer")
    expect(page.locator(".entropy-label")).to_contain_text("sur 50 requis")
    page.get_by_role("button", name="Réinitialiser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe est modifié")
    assert can_bind(slapd.url, account.dn, passphrase)
    assert refused == []
    context.close()


def test_the_generator_and_help_pass_axe(
    page: Page, server: LiveServer, outbox: Outbox, make_account: Any
) -> None:
    account = make_account("elu")
    reach_password_page(page, server, outbox, account.login)
    page.get_by_role("button", name="Générer un mot de passe").click()
    expect(page.locator("output#generated-value")).not_to_be_empty()
    page.get_by_text("Aide pour le choix du mot de passe").click()
    expect(page.get_by_text("Préférez une phrase de passe")).to_be_visible()
    no_violations(page, "quality-3-generator")


def test_without_javascript_the_server_says_the_bits(
    browser: Browser, server: LiveServer, outbox: Outbox, make_account: Any
) -> None:
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    account = make_account("elu")
    reach_password_page(page, server, outbox, account.login)
    # What needs a script stays hidden; the tips are plain HTML.
    expect(page.get_by_role("button", name="Générer un mot de passe")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("^Afficher"))).to_have_count(0)
    page.get_by_text("Aide pour le choix du mot de passe").click()
    expect(page.get_by_text("Préférez une phrase de passe")).to_be_visible()
    page.get_by_label("Nouveau mot de passe", exact=True).fill("xkqmpqlwz")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("xkqmpqlwz")
    page.get_by_role("button", name="Réinitialiser").click()
    expect(page.locator(".entropy-label")).to_have_text("Entropie : 42 bits sur 50 requis")
    expect(page.locator('li[data-rule="min_entropy_bits"]')).to_have_class(
        re.compile(r"\brule-failed\b")
    )
    context.close()
