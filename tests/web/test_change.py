"""« Changer mon mot de passe »: one GET, one POST, the same checks as everywhere else."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from tests.helpers import (
    build_app,
    can_bind,
    counting_directory,
    csrf_token,
    https_client,
    lock_out,
)

NEW_PASSWORD = "Nouveau-Mot2passe!"


def _change(client: FlaskClient, identifier: str, current: str, new: str = NEW_PASSWORD,
            confirmation: str | None = None, profile: str = "usager") -> Any:  # fmt: skip
    page = client.get(f"/change/{profile}")
    data = {
        "csrf_token": csrf_token(page.text), "identifier": identifier, "current": current,
        "password": new, "confirmation": new if confirmation is None else confirmation,
    }  # fmt: skip
    return client.post(f"/change/{profile}", data=data)


def _events(audit_lines: io.StringIO, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in audit_lines.getvalue().splitlines()]
    return [line for line in lines if line["event"] == name]


def test_one_get_and_one_post_change_the_password(
    client: FlaskClient, make_account: Any, slapd: Slapd, outbox: Outbox,
    audit_lines: io.StringIO,
) -> None:  # fmt: skip
    account = make_account("usager")
    response = _change(client, account.login, account.password)
    assert response.status_code == 200
    assert "Votre mot de passe est modifié" in response.text
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    assert not can_bind(slapd.url, account.dn, account.password)
    changed = _events(audit_lines, "account.password_changed")
    assert [(e["outcome"], e["channel"]) for e in changed] == [("success", None)]
    assert _events(audit_lines, "password.changed") == []  # not the end of a reset
    assert any(mail.to == account.mail and "modifié" in mail.subject for mail in outbox.mails)


def test_one_bind_proves_the_current_password_and_carries_the_change(
    settings: Settings, outbox: Outbox, make_account: Any, slapd: Slapd
) -> None:
    # The policy entry is read once and cached: not this flow's own work.
    directory, operations = counting_directory(
        settings.directory, slapd.service_password, ignored=("password_rules",)
    )
    lines = io.StringIO()
    client = https_client(build_app(settings, outbox, lines, directory=directory))
    account = make_account("usager")
    _change(client, account.login, "not-the-password")
    assert operations == ["find_users", "change_own_password"]
    # A wrong password is a failed login, not a failed change.
    assert [e["cause"] for e in _events(lines, "account.login")] == ["invalid_credentials"]
    assert _events(lines, "account.password_changed") == []
    operations.clear()
    assert "modifié" in _change(client, account.login, account.password).text
    assert operations == ["find_users", "change_own_password"]
    assert [e["outcome"] for e in _events(lines, "account.login")] == ["failure", "success"]
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    directory.close()


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*', "", html)


def test_a_wrong_password_and_an_unknown_account_get_the_same_page(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("usager")
    wrong = _change(client, account.login, "not-the-password")
    unknown = _change(client, "nobody.here", "not-the-password")
    assert "Identifiant ou mot de passe actuel incorrect." in wrong.text
    assert wrong.status_code == unknown.status_code == 200
    # Alike but for the identifier typed, which the form keeps.
    same_wrong = _without_token(wrong.text).replace(account.login, "someone")
    assert same_wrong == _without_token(unknown.text).replace("nobody.here", "someone")
    assert can_bind(slapd.url, account.dn, account.password)


def test_nothing_is_said_of_the_new_password_before_the_current_one_is_proven(
    client: FlaskClient, make_account: Any
) -> None:
    account = make_account("usager")
    # The account's own name inside the new password would break a rule: not told here.
    response = _change(client, account.login, "not-the-password", new=f"{account.login}a")
    assert "Identifiant ou mot de passe actuel incorrect." in response.text
    assert "rule-failed" not in response.text


def test_every_failing_rule_is_listed_and_not_current_needs_no_directory(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("usager", password="Initial-Passw0rd!")
    response = _change(client, account.login, account.password, new=account.password)
    assert 'data-rule="history" class="rule-failed' in response.text
    short = _change(client, account.login, account.password, new="court")
    assert 'data-rule="min_length" class="rule-failed' in short.text
    assert can_bind(slapd.url, account.dn, account.password)


def test_a_mismatched_confirmation_changes_nothing(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("usager")
    response = _change(client, account.login, account.password, confirmation="Autre-Mot2passe!")
    assert "Les deux mots de passe ne sont pas identiques." in response.text
    assert can_bind(slapd.url, account.dn, account.password)


def test_a_mismatch_still_lists_every_failing_rule(client: FlaskClient, make_account: Any) -> None:
    account = make_account("usager")
    page = _change(client, account.login, account.password, new="court", confirmation="courte")
    assert page.text.count('class="rule-failed') == 3
    assert "Les deux mots de passe ne sont pas identiques." in page.text
    assert "<title>Erreur : " in page.text


def test_a_locked_account_is_told_so(client: FlaskClient, make_account: Any, slapd: Slapd) -> None:
    account = make_account("usager")
    lock_out(slapd, account.dn)
    response = _change(client, account.login, account.password)
    assert "Votre compte est verrouillé" in response.text


def test_an_account_that_must_change_its_password_can(
    client: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account = make_account("usager", extra="pwdReset: TRUE")
    response = _change(client, account.login, account.password)
    assert "Votre mot de passe est modifié" in response.text
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_the_chooser_and_the_english_page(client: FlaskClient) -> None:
    chooser = client.get("/change/")
    assert 'href="/change/usager"' in chooser.text
    assert client.get("/change/?profile=elu").headers["Location"].endswith("/change/elu")
    english = client.get("/change/usager", headers={"Accept-Language": "en"})
    assert "Change my password" in english.text
    assert client.get("/change/nope").status_code == 404
