"""In chromium: the strict CSP breaks nothing, and a blocked user is told clearly (fr, en)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import LiveServer, check_accessibility, screenshot

pytestmark = pytest.mark.browser


def test_pages_work_under_the_strict_csp(
    browser: Browser, live_server: LiveServer, make_account: Any
) -> None:
    context = browser.new_context(locale="fr-FR")  # no bypass: the real policy applies
    page = context.new_page()
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(message.text)

    page.on("console", watch)
    account = make_account("usager", {"birth_city": "Paris"})
    page.goto(f"{live_server.url}/?profile=usager&login_hint={account.login}")
    page.get_by_role("button", name="Poursuivre").click()
    page.get_by_label("Dans quelle ville êtes-vous né(e) ?").fill("paris")
    page.get_by_role("button", name="Valider").click()
    page.get_by_label("Nouveau mot de passe", exact=True).fill("Un-Mot-De-Passe-Solide")
    # The live checklist runs: our script loads from 'self' under the policy.
    expect(page.locator('li[data-rule="min_upper"]')).to_have_class(re.compile(r"\brule-ok\b"))
    assert page.evaluate("getComputedStyle(document.body).display") == "flex"  # CSS applied
    assert problems == []
    context.close()


@pytest.mark.parametrize(
    ("locale", "heading", "message"),
    [
        ("fr-FR", "Accès temporairement bloqué", "Réessayez dans 15 minutes."),
        ("en-GB", "Access temporarily blocked", "Try again in 15 minutes."),
    ],
)
def test_a_blocked_user_is_told_how_long(
    browser: Browser, live_server: LiveServer, make_account: Any,
    locale: str, heading: str, message: str,
) -> None:  # fmt: skip
    context = browser.new_context(locale=locale, bypass_csp=True)
    page: Page = context.new_page()
    account = make_account("usager", {"birth_city": "Paris"})
    page.goto(f"{live_server.url}/?profile=usager&login_hint={account.login}")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    for _ in range(5):
        page.locator("input[name=answer_0]").fill("Lyon")
        page.locator("form input[type=submit], form button[type=submit]").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_text(message)).to_be_visible()
    screenshot(page, f"blocked-{locale}")
    violations = check_accessibility(page)
    assert violations == [], [(v["id"], v["help"]) for v in violations]
    context.close()
