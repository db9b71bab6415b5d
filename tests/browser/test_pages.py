"""Every page at phone width (390 px): its own title, no sideways scrolling, landmarks, focus."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from sspr.demo.data import DEMO_PASSWORD, DEMO_STAFF
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from tests.browser.conftest import AXE, LiveServer, check_accessibility, screenshot
from tests.helpers import lock_out

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
AGENT = next(staff for staff in DEMO_STAFF if staff.helpdesk)
GOOD = "Chemin-des-Vignes-42"


@pytest.fixture
def server(audited_server: LiveServer) -> LiveServer:
    """sspr with its audit trail in a file (tests/browser/conftest.py)."""
    return audited_server


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    yield page
    context.close()


# Elements that stick out of the right edge of their card (a card may hide, not scroll, it).
OVERFLOWING = """() => [...document.querySelectorAll('.card')].flatMap(card => {
  const edge = card.getBoundingClientRect().right + 1;
  return [...card.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > edge && !el.closest('.table-scroll'))
    .map(el => el.outerHTML.slice(0, 80));
})"""


class Tour:
    """Checks each page visited and remembers its title."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.titles: dict[str, str] = {}

    def check(self, name: str, *, error: bool = False) -> None:
        page = self.page
        page.wait_for_load_state("load")
        screenshot(page, f"phone-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: the page is {width} px wide"
        assert page.evaluate(OVERFLOWING) == [], f"{name}: content wider than its card"
        violations = check_accessibility(page)
        assert violations == [], (name, [(v["id"], v["nodes"][0]["html"]) for v in violations])
        regions = landmark_violations(page)
        assert regions == [], (name, regions)
        title = page.title()
        assert title.startswith("Erreur : ") == error, (name, title)
        assert title not in self.titles.values(), f"{name} has the title of another page: {title}"
        self.titles[name] = title


def landmark_violations(page: Page) -> list[str]:
    """axe's `region` rule (content outside landmarks), whatever its impact."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'rule', values: ['region']}})"
    )
    return [node["html"] for v in result["violations"] for node in v["nodes"]]


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_the_reset_pages(
    phone: Page, server: LiveServer, make_account: Any, outbox: Outbox
) -> None:
    page, tour = phone, Tour(phone)
    account = make_account("usager", {"birth_city": "Saint-Étienne"})
    page.goto(server.url + "/")
    tour.check("chooser")
    page.get_by_role("link", name="Je suis un usager des services de la Région").click()
    tour.check("identify")
    page.get_by_role("button", name="Poursuivre").click()
    tour.check("identify-empty", error=True)
    assert focused_id(page) == "identifier"
    page.get_by_role("textbox").first.fill(account.login)
    page.get_by_role("button", name="Poursuivre").click()
    tour.check("question")

    answer = page.get_by_label("Dans quelle ville êtes-vous né(e) ?")
    answer.fill("Lyon")
    page.get_by_role("button", name="Valider").click()
    tour.check("question-wrong", error=True)
    expect(answer).to_have_attribute("aria-invalid", "true")
    expect(answer).to_have_attribute("aria-describedby", re.compile(r"\bform-errors\b"))
    assert focused_id(page) == "answer_0"
    answer.fill("saint-etienne")
    page.get_by_role("button", name="Valider").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez un nouveau mot de passe")
    tour.check("password")
    assert focused_id(page) == "password"
    # « (vérifié à l'envoi) » reads on with its rule, not wrapped into a column of its own.
    note = page.locator('li[data-rule="history"] .rule-note').bounding_box()
    assert note is not None and note["width"] > 100, note
    page.locator("#password").fill("abc")
    page.locator("#confirmation").fill("abd")
    page.get_by_role("button", name="Réinitialiser").click()
    tour.check("password-refused", error=True)
    password = page.locator("#password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", re.compile(r"\bpolicy-error\b"))
    expect(page.locator("#confirmation")).to_have_attribute("aria-invalid", "true")
    assert focused_id(page) == "password"
    # One state per rule: the server's, then the script's in its place.
    upper = page.locator('li[data-rule="min_upper"] .visually-hidden')
    expect(upper).to_have_count(1)
    expect(upper).to_have_text(" — non respecté")
    password.fill(GOOD)
    expect(upper).to_have_count(1)
    expect(upper).to_have_text(" — respecté")
    page.locator("#confirmation").fill(GOOD)
    page.get_by_role("button", name="Réinitialiser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe est modifié")
    tour.check("success")

    page.goto(server.url + "/support")
    tour.check("support")
    page.goto(server.url + "/reset/question")
    tour.check("expired", error=True)
    page.goto(server.url + "/nowhere")
    tour.check("not-found", error=True)

    # A wrong situation is no dead end: the code page says what to do, and leads back.
    page.goto(server.url + "/?profile=elu&login_hint=jeanne.inconnue")
    page.get_by_role("button", name="Poursuivre").click()
    expect(page.get_by_role("heading", name="Vous n'avez rien reçu ?")).to_be_visible()
    expect(page.get_by_text("courriers indésirables (spam)")).to_be_visible()
    tour.check("code")
    page.get_by_role("button", name="Choisir une autre situation").click()
    expect(page).to_have_url(server.url + "/")
    page.goto(server.url + "/reset/code")
    expect(page.get_by_role("heading", level=1)).to_have_text("Démarche expirée")


def test_the_account_pages(phone: Page, server: LiveServer, make_account: Any) -> None:
    page, tour = phone, Tour(phone)
    account = make_account("usager", mail="jean.de.la-fontaine.long-address@services.example.org")
    page.goto(server.url + "/account/")
    tour.check("account-choose")
    page.get_by_role("link", name="Je suis un usager des services de la Région").click()
    tour.check("account-login")
    page.locator("#identifier").fill(account.login)
    page.locator("#password").fill(account.password)
    page.get_by_role("button", name="Connexion").click()
    tour.check("account-reminder")
    page.get_by_label("Ne plus afficher ce rappel").check()
    page.get_by_role("button", name="Poursuivre").click()
    expect(page.get_by_text("pour une durée de 6 mois")).to_be_visible()
    tour.check("account-home")

    page.get_by_role("link", name="Modifier ma question/réponse").click()
    tour.check("account-questions")
    answer = page.locator("#answer_0")
    show = page.get_by_role("button", name="Afficher Réponse", exact=True)
    expect(answer).to_have_attribute("type", "password")
    show.focus()
    page.keyboard.press("Enter")
    expect(answer).to_have_attribute("type", "text")
    expect(page.get_by_role("button", name="Masquer Réponse", exact=True)).to_be_focused()
    page.keyboard.press("Space")
    expect(answer).to_have_attribute("type", "password")
    answer.fill("ab")
    page.locator("#confirm_0").fill("ac")
    page.get_by_role("button", name="Enregistrer").click()
    tour.check("account-questions-refused", error=True)
    expect(page.get_by_text("La réponse doit comporter au moins 3 caractères.")).to_be_visible()
    expect(page.get_by_text("Les deux réponses ne sont pas identiques.")).to_be_visible()
    assert focused_id(page) == "answer_0"

    page.goto(server.url + "/change/")
    tour.check("change-choose")
    page.goto(server.url + "/change/usager")
    tour.check("change-form")
    page.goto(server.url + "/account/mobile")
    tour.check("account-mobile")
    page.goto(server.url + "/account/password")
    tour.check("account-password")
    assert focused_id(page) == "current"
    page.locator("#current").fill(account.password)
    page.locator("#password").fill("court")
    page.locator("#confirmation").fill("court")
    page.get_by_role("button", name="Modifier mon mot de passe").click()
    tour.check("account-password-refused", error=True)
    assert focused_id(page) == "password"


LONG_NAME = "prenom.nom.compose.tres.long@region.auvergne.rhone.alpes.fr"


def test_the_helpdesk_pages(
    phone: Page, server: LiveServer, make_account: Any, slapd: Slapd
) -> None:
    page, tour = phone, Tour(phone)
    account = make_account("agent-lycee", mobile="06 11 22 33 77")
    lock_out(slapd, account.dn)
    page.goto(server.url + "/helpdesk/")
    tour.check("helpdesk-login")
    page.get_by_label("Identifiant").fill(AGENT.login)
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    tour.check("helpdesk-search")
    page.get_by_label("Identifiant, adresse email ou nom").fill(account.login)
    page.get_by_role("button", name="Rechercher").click()
    tour.check("helpdesk-results")
    page.get_by_role("row").filter(has_text=account.login).get_by_role("link").click()
    tour.check("helpdesk-user")
    # A long unbroken name (a login, an address) wraps instead of widening the page: the
    # test accounts' logins grow with the suite, and real ones can be longer still.
    page.evaluate(f"document.querySelector('h1').textContent = '{LONG_NAME}'")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.reload()
    page.get_by_role("link", name="Déverrouiller le compte").click()
    tour.check("helpdesk-confirm")
    page.get_by_role("link", name="Journal d'audit").click()
    tour.check("helpdesk-audit")
