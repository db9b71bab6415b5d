"""The ALTCHA widget in Debian's chromium: solved for real, under a strict CSP, in French and
in English, by keyboard and by the submit button, and checked with axe-core."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Response
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from sspr.config import Settings
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd, free_port
from tests.browser.conftest import SCREENSHOTS, LiveServer, check_accessibility, screenshot
from tests.web.conftest import build_app

pytestmark = pytest.mark.browser

# The policy sspr is getting; set here too, so the widget is proven to work under it.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
# Stricter still: the vendored build starts its worker from our static folder, never a blob.
NO_BLOB_CSP = STRICT_CSP.replace("worker-src 'self' blob:", "worker-src 'self'")
# Remembers every Content-Security-Policy violation the page reports.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(params=[STRICT_CSP, NO_BLOB_CSP], ids=["strict-csp", "no-blob-csp"])
def captcha_server(
    request: pytest.FixtureRequest,
    slapd: Slapd,
    tmp_path: Path,
    mail_catcher: tuple[MailCatcher, Outbox],
    outbox: Outbox,
) -> Iterator[LiveServer]:
    """The demo with the usager profile's forms behind the captcha, at its default cost."""
    csp: str = request.param
    port = free_port()
    settings = demo_settings(slapd, tmp_path, f"http://127.0.0.1:{port}", mail_catcher[0].port)
    raw = settings.model_dump(mode="json")
    raw["profiles"][0]["captcha"] = "always"
    app = build_app(Settings.model_validate(raw), outbox, io.StringIO())

    def strict_csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = csp
        return response

    app.after_request(strict_csp)
    with LiveServer(app, port) as server:
        yield server


class Watched:
    """A page without bypass_csp, whose console and CSP reports are kept."""

    def __init__(self, browser: Browser, locale: str) -> None:
        self.context = browser.new_context(locale=locale)
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._keep)

    def _keep(self, message: ConsoleMessage) -> None:
        # sspr has no favicon: the browser's own request for one is no concern here.
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type in ("error", "warning"):
            self.console.append(message.text)

    def csp_violations(self) -> list[str]:
        reported: list[str] = self.page.evaluate("window.__cspViolations")
        logged = [m for m in self.console if "Content Security Policy" in m]
        return reported + logged

    def check(self, name: str) -> None:
        """Screenshot, axe-core, and no CSP violation so far."""
        screenshot(self.page, name)
        violations = check_accessibility(self.page)
        assert violations == [], [(v["id"], v["help"], v["nodes"][0]["html"]) for v in violations]
        assert self.csp_violations() == []


@pytest.fixture
def french(browser: Browser) -> Iterator[Watched]:
    watched = Watched(browser, "fr-FR")
    yield watched
    watched.context.close()


@pytest.fixture
def english(browser: Browser) -> Iterator[Watched]:
    watched = Watched(browser, "en-GB")
    yield watched
    watched.context.close()


def solve_time(page: Page) -> float:
    """Seconds the widget's workers took, as its payload reports it."""
    payload = page.locator("input[type=hidden][name=altcha]").input_value()
    solution: dict[str, Any] = json.loads(base64.b64decode(payload))["solution"]
    return float(solution["time"]) / 1000


def test_french_by_keyboard_under_the_strict_csp(
    captcha_server: LiveServer, french: Watched, make_account: Any
) -> None:
    page = french.page
    account = make_account("usager", {"birth_city": "Saint-Étienne"})
    response = page.goto(captcha_server.url + "/reset/usager")
    assert response is not None
    assert response.headers["content-security-policy"] in (STRICT_CSP, NO_BLOB_CSP)
    widget = page.locator("altcha-widget .altcha")
    expect(widget).to_have_attribute("data-state", "unverified")
    checkbox = page.get_by_role("checkbox", name="Je ne suis pas un robot")
    expect(checkbox).to_be_visible()
    expect(page.get_by_text("sans service extérieur ni cookie")).to_be_visible()
    french.check("captcha-1-identify-fr")

    # Only the keyboard: the identifier has the focus, Tab reaches the box, Space ticks it.
    expect(page.get_by_label("Nom d'utilisateur")).to_be_focused()
    page.keyboard.type(account.login)
    page.keyboard.press("Tab")
    expect(checkbox).to_be_focused()
    page.keyboard.press("Space")
    expect(widget).to_have_attribute("data-state", "verified", timeout=30_000)
    expect(page.get_by_text("Vérification réussie").first).to_be_attached()
    expect(page.locator("#captcha-status")).to_have_text("Vérification réussie")
    french.check("captcha-2-verified-fr")
    seconds = solve_time(page)
    with (SCREENSHOTS.parent / "captcha-solve-times.txt").open("a") as times:
        times.write(f"{seconds:.3f}\n")
    assert seconds < 20

    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Poursuivre")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(captcha_server.url + "/reset/question")
    expect(page.get_by_label("Dans quelle ville êtes-vous né(e) ?")).to_be_visible()
    assert french.csp_violations() == []
    assert french.console == []


def test_english_by_the_submit_button(
    captcha_server: LiveServer, english: Watched, make_account: Any
) -> None:
    page = english.page
    account = make_account("usager", {"birth_city": "Lyon"})
    page.goto(captcha_server.url + "/reset/usager")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("checkbox", name="I am not a robot")).to_be_visible()
    page.get_by_label("Username").fill(account.login)
    english.check("captcha-3-identify-en")
    # The button alone: the widget holds the form back, solves, then sends it.
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(captcha_server.url + "/reset/question", timeout=30_000)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    english.check("captcha-4-question-en")
    assert english.console == []


def test_the_server_refusal_reads_clearly(
    captcha_server: LiveServer, browser: Browser, make_account: Any
) -> None:
    # Without JavaScript the widget cannot run: the page says why, and the server refuses.
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    account = make_account("usager", {"birth_city": "Lyon"})
    page.goto(captcha_server.url + "/reset/usager")
    # (Playwright's switch still parses <noscript> as if scripts ran: read it in the source.)
    assert "Cette vérification a besoin de JavaScript" in page.content()
    page.get_by_label("Nom d'utilisateur").fill(account.login)
    page.get_by_role("button", name="Poursuivre").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Veuillez confirmer que vous n'êtes pas un robot"
    )
    expect(page).to_have_url(captcha_server.url + "/reset/usager")
    screenshot(page, "captcha-5-refused-fr")
    context.close()
