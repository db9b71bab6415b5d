"""The live checklist counts with the directory's own policy (a stricter ppolicy), in chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sspr.demo.slapd import Slapd
from tests.browser.conftest import LiveServer
from tests.helpers import add_policy

pytestmark = pytest.mark.browser
RULE_OK = re.compile(r"\brule-ok\b")


def test_the_checklist_ticks_the_directorys_minimum_length(
    page: Page, live_server: LiveServer, make_account: Any, slapd: Slapd
) -> None:
    add_policy(slapd, "browser-strict", pwdMinLength="14", pwdCheckQuality="1", pwdInHistory="8")
    account = make_account(
        "usager", extra=f"pwdPolicySubentry: cn=browser-strict,ou=policies,{slapd.suffix}"
    )
    page.goto(live_server.url + "/account/login/usager")
    page.get_by_label("Identifiant ou adresse email").fill(account.login)
    page.get_by_label("Mot de passe", exact=True).fill(account.password)
    page.get_by_role("button", name="Connexion").click()
    page.goto(live_server.url + "/account/password")
    length = page.locator('li[data-rule="min_length"]')
    expect(length).to_contain_text("comporter au moins 14 caractères")
    expect(page.locator('li[data-rule="history"]')).to_contain_text("vérifié à l'envoi")
    field = page.get_by_label("Nouveau mot de passe", exact=True)
    field.fill("Girafe!Rose1")  # 12: enough for the profile (10), not for the directory
    expect(page.locator('li[data-rule="min_upper"]')).to_have_class(RULE_OK)
    expect(length).not_to_have_class(RULE_OK)
    field.fill("Girafe!Rose-Trompette1")
    expect(length).to_have_class(RULE_OK)
