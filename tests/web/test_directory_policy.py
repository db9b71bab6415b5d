"""The directory's own policy on the pages, against the real slapd: shown before typing,
checked live, and a password it would refuse stopped before any write."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from tests.helpers import WebAccount as Account
from tests.helpers import add_policy, age_password, build_app, can_bind, csrf_token, https_client
from tests.web.test_account import logged_in
from tests.web.test_reset_flow import answer, choose, identify

# Valid for the usager profile (WebSIG: 10+ characters, upper, lower, special) but 12 long.
TWELVE = "Girafe!Rose1"
LONG_ENOUGH = "Girafe!Rose-Trompette7"
STRICT = {"pwdMinLength": "14", "pwdCheckQuality": "1", "pwdInHistory": "8"}


def strict_account(make_account: Any, slapd: Slapd, **answers: str) -> Account:
    """A usager under a ppolicy entry of its own: 14 characters, 8 in history."""
    add_policy(slapd, "web-strict", **STRICT)
    extra = f"pwdPolicySubentry: cn=web-strict,ou=policies,{slapd.suffix}"
    return make_account("usager", answers or None, extra=extra)


def rules_data(html: str) -> list[dict[str, Any]]:
    found = re.search(r"data-rules='([^']*)'", html)
    assert found is not None
    return json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"'))


def events(lines: io.StringIO, name: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in lines.getvalue().splitlines()]
    return [line for line in parsed if line["event"] == name]


def live_check(client: FlaskClient, page: str, context: str, password: str) -> dict[str, Any]:
    response = client.post(
        "/password/check", json={"context": context, "password": password},
        headers={"X-CSRFToken": csrf_token(page)},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json or {})


def test_mon_compte_shows_and_checks_the_accounts_ppolicy(
    client: FlaskClient, make_account: Any, slapd: Slapd, audit_lines: io.StringIO
) -> None:
    account = strict_account(make_account, slapd)
    logged_in(client, account)
    page = client.get("/account/password").text
    assert "comporter au moins 14 caractères" in page
    assert "être différent de vos 8 derniers mots de passe" in page
    assert {"code": "min_length", "value": 14} in rules_data(page)
    # The live checklist counts with the directory's minimum.
    assert "min_length" in live_check(client, page, "account", TWELVE)["failed"]
    assert "min_length" not in live_check(client, page, "account", LONG_ENOUGH)["failed"]
    # Submitted anyway: refused by sspr, before any write.
    response = client.post(
        "/account/password",
        data={"csrf_token": csrf_token(page), "current": account.password,
              "password": TWELVE, "confirmation": TWELVE},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Le mot de passe ne respecte pas toutes les règles" in response.text
    assert can_bind(slapd.url, account.dn, account.password)
    assert events(audit_lines, "account.password_changed") == []


def test_the_reset_page_shows_the_directorys_rules_and_refuses_before_writing(
    client: FlaskClient, make_account: Any, slapd: Slapd, audit_lines: io.StringIO
) -> None:
    account = strict_account(make_account, slapd, birth_city="Nantes")
    identify(client, account.login)
    assert answer(client, "Nantes").headers["Location"] == "/reset/password"
    page = client.get("/reset/password").text
    assert "comporter au moins 14 caractères" in page
    assert "comporter au moins 10 caractères" not in page  # one length rule: the stricter
    assert "min_length" in live_check(client, page, "reset", TWELVE)["failed"]
    response = choose(client, TWELVE)
    assert response.status_code == 200
    assert 'data-rule="min_length" class="rule-failed' in response.text
    assert can_bind(slapd.url, account.dn, account.password)
    assert events(audit_lines, "password.changed") == []
    assert choose(client, LONG_ENOUGH).status_code == 302
    assert can_bind(slapd.url, account.dn, LONG_ENOUGH)


def test_the_one_form_change_shows_the_default_policy_then_the_accounts(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account = strict_account(make_account, slapd)
    page = client.get("/change/usager").text
    # Before the account is known: the default ppolicy (cn=default: 5 in history).
    assert "être différent de vos 5 derniers mots de passe" in page
    data = {
        "csrf_token": csrf_token(page), "identifier": account.login,
        "current": account.password, "password": TWELVE, "confirmation": TWELVE,
    }  # fmt: skip
    response = client.post("/change/usager", data=data)
    # Proven by its current password, the account learns its own rules from the refusal.
    assert "comporter au moins 14 caractères" in response.text
    assert can_bind(slapd.url, account.dn, account.password)


def test_a_password_changed_too_recently_is_announced_before_typing(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    add_policy(slapd, "web-young", pwdMinAge="3600", pwdCheckQuality="1", pwdMinLength="6")
    account = make_account(
        "usager", extra=f"pwdPolicySubentry: cn=web-young,ou=policies,{slapd.suffix}"
    )
    age_password(slapd, account.dn, 60)
    logged_in(client, account)
    page = client.get("/account/password").text
    assert "Votre mot de passe a été changé trop récemment" in page
    # An hour later (the same account, logged in anew: its password state moved).
    age_password(slapd, account.dn, 7200)
    logged_in(client, account)
    later = client.get("/account/password")
    assert later.status_code == 200 and "Le mot de passe doit" in later.text
    assert "trop récemment" not in later.text


def test_the_reset_page_reads_the_policy_once_and_the_account_not_again(
    settings: Settings, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    operations: list[str] = []
    directory = LdapDirectory(
        settings.directory, slapd.service_password,
        on_latency=lambda operation, _: operations.append(operation),
    )  # fmt: skip
    client = https_client(build_app(settings, outbox, io.StringIO(), directory=directory))
    try:
        seen: list[list[str]] = []
        for _ in range(2):
            account = strict_account(make_account, slapd, birth_city="Nantes")
            identify(client, account.login)
            assert answer(client, "Nantes").headers["Location"] == "/reset/password"
            operations.clear()
            assert "comporter au moins 14 caractères" in client.get("/reset/password").text
            seen.append(list(operations))
        # The first page reads the policy entry; under the same policy, the next costs no
        # round trip at all (the account was read at the proof, its policy with it).
        assert seen == [["password_rules"], []]
    finally:
        directory.close()
