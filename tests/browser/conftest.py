"""Playwright on Debian's chromium, and sspr served over real HTTP for it."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd, free_port
from tests.web.conftest import build_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SSPR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


class LiveServer:
    """sspr served by werkzeug in a thread, on a free loopback port."""

    def __init__(self, app: Flask, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(
    slapd: Slapd, tmp_path: Path, mail_catcher: tuple[MailCatcher, Outbox], outbox: Outbox
) -> Iterator[LiveServer]:
    port = free_port()
    settings = demo_settings(slapd, tmp_path, f"http://127.0.0.1:{port}", mail_catcher[0].port)
    with LiveServer(build_app(settings, outbox, io.StringIO()), port) as server:
        yield server


@pytest.fixture
def audited_server(
    slapd: Slapd, tmp_path: Path, mail_catcher: tuple[MailCatcher, Outbox], outbox: Outbox
) -> Iterator[LiveServer]:
    """sspr with its audit trail in a file as well as in the store, which the helpdesk reads."""
    port = free_port()
    settings = demo_settings(slapd, tmp_path, f"http://127.0.0.1:{port}", mail_catcher[0].port)
    assert settings.audit.file is not None
    with settings.audit.file.open("a", encoding="utf-8") as trail:
        app = build_app(settings, outbox, trail)  # type: ignore[arg-type]
        with LiveServer(app, port) as server:
            yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # bypass_csp: axe-core is injected by the test, never served by sspr.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def check_accessibility(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page; return the serious and critical violations."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of each page in the git-ignored test-artifacts/ folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
