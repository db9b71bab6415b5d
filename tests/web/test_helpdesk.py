"""The helpdesk console against the real slapd, SMTP server and Twilio transport."""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.config.secrets import Secrets
from sspr.demo.data import DEMO_PASSWORD, DEMO_STAFF, helpdesk_group_dn
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd, ssha
from sspr.domain.codes import EMAIL_ALPHABET
from sspr.explain import run_explain
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock
from tests.helpers import WebAccount as Account
from tests.helpers import (
    build_app,
    can_bind,
    csrf_token,
    https_client,
    lock_out,
    operational,
    submit,
)

AGENT = next(staff for staff in DEMO_STAFF if staff.helpdesk)
OUTSIDER = next(staff for staff in DEMO_STAFF if not staff.helpdesk)
LINK = re.compile(r"https://motdepasse\.example\.org/reset/link/(\S+)")
NEW_PASSWORD = "Un-Nouveau-Mot2passe"


def audit_events(audit_lines: io.StringIO, event: str | None = None) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in audit_lines.getvalue().splitlines()]
    return [line for line in lines if event is None or line["event"] == event]


def staff_login(client: FlaskClient, login: str = AGENT.login, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
    return submit(client, "/helpdesk/login", {"identifier": login, "password": password})


@pytest.fixture
def agent(client: FlaskClient) -> FlaskClient:
    """The test client, logged in as the demo helpdesk agent."""
    assert staff_login(client).headers["Location"] == "/helpdesk/search"
    return client


def user_url(account: Account, page: str = "") -> str:
    return f"/helpdesk/user{page}?dn={account.dn}"


def act(client: FlaskClient, account: Account, page: str, **data: str):  # type: ignore[no-untyped-def]
    return submit(client, user_url(account, page), data)


def variant(
    settings: Settings, outbox: Outbox, audit: io.StringIO, **helpdesk: Any
) -> dict[str, Any]:
    """The settings, raw, with the helpdesk section changed."""
    raw = settings.model_dump(mode="json")
    if helpdesk.pop("disabled", False):
        raw["helpdesk"] = None
    else:
        raw["helpdesk"].update(helpdesk)
    return raw


def app_with(settings: Settings, outbox: Outbox, audit: io.StringIO, **helpdesk: Any) -> Flask:
    raw = variant(settings, outbox, audit, **helpdesk)
    return build_app(Settings.model_validate(raw), outbox, audit)


# -- access -----------------------------------------------------------------------------------


def test_the_console_exists_only_when_configured(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO
) -> None:
    client = https_client(app_with(settings, outbox, audit_lines, disabled=True))
    assert client.get("/helpdesk/login").status_code == 404
    assert client.get("/helpdesk/search").status_code == 404


def test_anonymous_visitors_go_to_the_login_page(client: FlaskClient) -> None:
    for url in ("/helpdesk/", "/helpdesk/search?q=martin", "/helpdesk/audit"):
        response = client.get(url, follow_redirects=True)
        assert response.request.path == "/helpdesk/login"
        assert "Connectez-vous avec votre compte de l'annuaire." in response.text


def test_staff_outside_the_group_and_wrong_passwords_are_refused_alike(
    client: FlaskClient, audit_lines: io.StringIO
) -> None:
    outsider = staff_login(client, OUTSIDER.login)
    wrong = staff_login(client, AGENT.login, "not-the-password")
    unknown = staff_login(client, "nobody.here")
    for page in (outsider, wrong, unknown):
        assert page.status_code == 200
        assert "Identifiant ou mot de passe incorrect, ou accès non autorisé." in page.text
    assert client.get("/helpdesk/search").headers["Location"] == "/helpdesk/login"
    failures = audit_events(audit_lines, "helpdesk.login")
    assert [(e["outcome"], e.get("agent"), e["cause"]) for e in failures] == [
        ("failure", OUTSIDER.login, "not_staff"),
        ("failure", AGENT.login, "invalid_credentials"),
        ("failure", None, "invalid_credentials"),
    ]
    assert "not-the-password" not in audit_lines.getvalue()


def test_a_staff_password_typed_with_decomposed_accents_logs_in(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, slapd: Slapd
) -> None:
    password = "Réunion-à-l'Hôtel-9"
    login = f"nfd.agent.{uuid.uuid4().hex[:8]}"
    lines = [
        f"dn: uid={login},ou=staff,{slapd.suffix}",
        "objectClass: inetOrgPerson",
        f"uid: {login}",
        "cn: NFD Agent",
        "sn: Agent",
        f"userPassword: {ssha(password)}",
    ]
    slapd.add("\n".join(lines) + "\n")
    app = app_with(settings, outbox, audit_lines, group_dn=None, filter=f"(uid={login})")
    page = staff_login(https_client(app), login, unicodedata.normalize("NFD", password))
    assert page.headers["Location"] == "/helpdesk/search"


def test_end_users_cannot_use_the_console(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager")
    page = staff_login(client, account.login, account.password)
    assert "Identifiant ou mot de passe incorrect, ou accès non autorisé." in page.text


def test_who_am_i_and_logout(agent: FlaskClient, audit_lines: io.StringIO) -> None:
    page = agent.get("/helpdesk/search")
    assert f"Connecté : {AGENT.given_name} {AGENT.surname}" in page.text
    assert "Se déconnecter" in page.text
    cookie = agent.get_cookie("__Host-sspr-helpdesk")
    assert cookie is not None and cookie.http_only and cookie.secure
    assert cookie.same_site == "Strict"
    stolen = cookie.value
    response = agent.post("/helpdesk/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.headers["Location"] == "/helpdesk/login"
    # Ended server side: the old token is worth nothing.
    agent.set_cookie("__Host-sspr-helpdesk", stolen, domain="localhost")
    assert agent.get("/helpdesk/search").headers["Location"] == "/helpdesk/login"
    assert [e["outcome"] for e in audit_events(audit_lines, "helpdesk.logout")] == ["success"]
    assert audit_events(audit_lines, "helpdesk.login")[0]["agent"] == AGENT.login


def test_forms_need_their_csrf_token(agent: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager")
    response = agent.post(user_url(account, "/unlock"), data={"reason": "appel"})
    assert response.status_code == 400
    assert agent.post("/helpdesk/logout").status_code == 400


def test_the_session_rotates_at_login(client: FlaskClient) -> None:
    staff_login(client)
    first = client.get_cookie("__Host-sspr-helpdesk")
    staff_login(client)
    second = client.get_cookie("__Host-sspr-helpdesk")
    assert first is not None and second is not None and first.value != second.value
    client.set_cookie("__Host-sspr-helpdesk", first.value, domain="localhost")
    assert client.get("/helpdesk/search").headers["Location"] == "/helpdesk/login"


def test_the_console_session_is_separate_from_end_user_sessions(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    # A "Mon compte" session opens nothing in the console…
    submit(client, "/account/login/usager", {"identifier": account.login,
                                             "password": account.password})  # fmt: skip
    assert client.get("/account/").status_code == 200
    assert client.get("/helpdesk/search").headers["Location"] == "/helpdesk/login"
    # …and the agent's session opens nothing of "Mon compte" nor of a reset.
    fresh = https_client(client.application)
    staff_login(fresh)
    assert fresh.get("/account/").headers["Location"] == "/account/login"
    assert fresh.get("/reset/password").status_code == 400
    # A reset or a login in the same browser clears the end users' session, not the agent's.
    submit(fresh, "/reset/usager", {"identifier": account.login})
    submit(fresh, "/account/login/usager", {"identifier": account.login,
                                            "password": account.password})  # fmt: skip
    assert fresh.get("/helpdesk/search").status_code == 200


def test_idle_timeout(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, tmp_path: Path
) -> None:
    clock = FakeClock(1_800_000_000.0)
    app = build_app(settings, outbox, audit_lines, clock=clock,
                    store=SqliteStore(tmp_path / "s.sqlite3", clock))  # fmt: skip
    client = https_client(app)
    staff_login(client)
    clock.advance(14 * 60)
    assert client.get("/helpdesk/search").status_code == 200  # activity slides the timeout
    clock.advance(14 * 60)
    assert client.get("/helpdesk/search").status_code == 200
    clock.advance(16 * 60)
    response = client.get("/helpdesk/search", follow_redirects=True)
    assert response.request.path == "/helpdesk/login"
    assert "Votre session a expiré. Connectez-vous à nouveau." in response.text
    # The dead cookie is gone: the next visit is an ordinary anonymous one.
    again = client.get("/helpdesk/search", follow_redirects=True)
    assert "Votre session a expiré" not in again.text


def test_losing_the_group_ends_the_session(client: FlaskClient, slapd: Slapd) -> None:
    login = f"agent.{uuid.uuid4().hex[:8]}"
    dn = f"uid={login},ou=staff,{slapd.suffix}"
    slapd.add(f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {login}\ncn: Temp Agent\n"
              f"sn: Agent\nuserPassword: {ssha(DEMO_PASSWORD)}\n")  # fmt: skip
    group = helpdesk_group_dn(slapd.suffix)
    slapd.modify(f"dn: {group}\nchangetype: modify\nadd: member\nmember: {dn}\n")
    assert staff_login(client, login).headers["Location"] == "/helpdesk/search"
    assert client.get("/helpdesk/search").status_code == 200
    slapd.modify(f"dn: {group}\nchangetype: modify\ndelete: member\nmember: {dn}\n")
    response = client.get("/helpdesk/search", follow_redirects=True)
    assert response.request.path == "/helpdesk/login"
    assert "Votre accès à la console du support a été retiré." in response.text


def test_an_agent_in_a_nested_group_gets_in_and_out(client: FlaskClient, slapd: Slapd) -> None:
    login = f"agent.{uuid.uuid4().hex[:8]}"
    dn = f"uid={login},ou=staff,{slapd.suffix}"
    slapd.add(f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {login}\ncn: Nested Agent\n"
              f"sn: Agent\nuserPassword: {ssha(DEMO_PASSWORD)}\n")  # fmt: skip
    # The agent is in a team, the team in a service, the service in the console's group.
    team, service = (f"cn={name}-{login},ou=groups,{slapd.suffix}" for name in ("team", "service"))
    slapd.add(f"dn: {team}\nobjectClass: groupOfNames\ncn: team-{login}\nmember: {dn}\n")
    slapd.add(f"dn: {service}\nobjectClass: groupOfNames\ncn: service-{login}\nmember: {team}\n")
    group = helpdesk_group_dn(slapd.suffix)
    slapd.modify(f"dn: {group}\nchangetype: modify\nadd: member\nmember: {service}\n")
    try:
        assert staff_login(client, login).headers["Location"] == "/helpdesk/search"
        # A groupOfNames keeps at least one member: the agent is replaced, not deleted.
        nobody = f"uid=nobody,ou=staff,{slapd.suffix}"
        slapd.modify(f"dn: {team}\nchangetype: modify\nreplace: member\nmember: {nobody}\n")
        response = client.get("/helpdesk/search", follow_redirects=True)
        assert response.request.path == "/helpdesk/login"
    finally:
        slapd.modify(f"dn: {group}\nchangetype: modify\ndelete: member\nmember: {service}\n")


# -- search -----------------------------------------------------------------------------------


def test_search_pages_through_the_profiles_accounts(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    agent = https_client(app_with(settings, outbox, audit_lines, page_size=5))
    staff_login(agent)
    token = "zq" + uuid.uuid4().hex[:8]
    accounts = [make_account("usager", mail=f"{token}.{i}@example.org") for i in range(6)]
    accounts.append(make_account("elu", mail=f"{token}.elu@example.org"))
    first = agent.get(f"/helpdesk/search?q={token.upper()}")
    assert "page 1" in first.text and "Page suivante" in first.text
    assert "Page précédente" not in first.text
    second = agent.get(f"/helpdesk/search?q={token}&page=2")
    assert "Page précédente" in second.text and "Page suivante" not in second.text
    logins = [a.login for a in accounts]
    shown = [login for login in logins if login in first.text + second.text]
    assert sorted(shown) == sorted(logins)
    assert sum(first.text.count(f">{login}<") for login in logins) == 5  # the page size
    assert "Je suis un usager des services de la Région" in first.text
    assert "Je suis un élu de la Région" in first.text + second.text
    assert "Annuaire" not in first.text  # one directory: no column naming it


@pytest.mark.parametrize("query", ["*", "*)(uid=*", ")("])
def test_search_treats_filter_syntax_as_text(agent: FlaskClient, query: str) -> None:
    page = agent.get("/helpdesk/search", query_string={"q": query})
    assert page.status_code == 200
    assert "Aucun compte ne correspond" in page.text or "au moins 2 caractères" in page.text


def test_search_never_leaves_the_profiles(agent: FlaskClient, account: Any) -> None:
    # Staff (ou=staff) and accounts outside every profile base (ou=tests) are not found.
    for query in (OUTSIDER.login, AGENT.login, account.login):
        page = agent.get("/helpdesk/search", query_string={"q": query})
        assert "Aucun compte ne correspond" in page.text, query
    assert agent.get("/helpdesk/user", query_string={"dn": account.dn}).status_code == 404
    staff_dn = AGENT.dn("dc=example,dc=org")
    for dn in (staff_dn, "not a dn", "uid=nobody,ou=usagers,ou=people,dc=example,dc=org", ""):
        assert agent.get("/helpdesk/user", query_string={"dn": dn}).status_code == 404, dn


def test_a_short_query_asks_for_more(agent: FlaskClient) -> None:
    assert "Saisissez au moins 2 caractères." in agent.get("/helpdesk/search?q=a").text


# -- the user page ----------------------------------------------------------------------------


def test_the_user_page_shows_channels_and_state_never_answers(
    agent: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris", "first_pet": "Médor"},
                                    mail="zoe@mairie.fr", mobile="0612345678")  # fmt: skip
    lock_out(slapd, account.dn)
    page = agent.get(user_url(account))
    assert page.status_code == 200
    for shown in ("Oui (2 questions)", "06 •• •• •• 78", "z•••@m•••.fr",
                  "Je suis un usager des services de la Région", "depuis le"):  # fmt: skip
        assert shown in page.text, shown
    for hidden in ("Paris", "Médor", "M&#233;dor", "argon2", "sspr1:", "0612345678", "zoe@"):
        assert hidden not in page.text, hidden
    assert "Dernier changement" in page.text
    assert "Annuaire" not in page.text  # one directory: nothing to tell apart


def test_the_user_page_tells_an_administrative_lock(
    agent: FlaskClient, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager")
    slapd.modify(
        f"dn: {account.dn}\nchangetype: modify\n"
        "replace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"
    )
    page = agent.get(user_url(account))
    assert "jusqu'à déverrouillage par un administrateur" in page.text
    assert "depuis le" not in page.text


def test_a_user_without_recovery_data(agent: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager")
    page = agent.get(user_url(account))
    assert "Aucun numéro enregistré" in page.text
    assert re.search(r"Questions de sécurité</dt>\s*<dd><span class=\"missing\">Non", page.text)


# -- unlock -----------------------------------------------------------------------------------


def test_unlock_clears_the_directory_lock_and_the_proof_block(
    agent: FlaskClient, app: Flask, make_account: Any, slapd: Slapd, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    lock_out(slapd, account.dn)
    user = https_client(app)
    submit(user, "/reset/usager", {"identifier": account.login})
    for _ in range(5):
        submit(user, "/reset/question", {"answer_0": "Lyon"})
    reset = app.extensions["sspr"].reset
    assert reset.proof_block(account.dn) is not None
    assert "Bloquée encore 15 minutes" in agent.get(user_url(account)).text

    response = act(agent, account, "/unlock", reason="Appel du 12/03, ticket 4521")
    assert response.headers["Location"].startswith("/helpdesk/user?dn=")

    assert operational(slapd, account.dn, "pwdAccountLockedTime", "pwdFailureTime") == {}
    assert can_bind(slapd.url, account.dn, account.password)
    assert reset.proof_block(account.dn) is None
    [line] = audit_events(audit_lines, "helpdesk.unlock")
    assert line["outcome"] == "success" and line["agent"] == AGENT.login
    assert line["agent_note"] == "Appel du 12/03, ticket 4521"
    assert (line["user_dn"], line["profile"], line["state"]) == (account.dn, "usager", "locked")
    assert {"time", "request_id", "source_ip"} <= set(line)
    assert "Le compte est déverrouillé." in agent.get(user_url(account)).text


# -- clear recovery data ----------------------------------------------------------------------


def test_clearing_recovery_data_needs_a_reason_then_removes_it(
    agent: FlaskClient, make_account: Any, slapd: Slapd, outbox: Outbox, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"}, mobile="0612345678")
    page = act(agent, account, "/clear-recovery", reason="  ")
    assert "Indiquez la raison de cette action." in page.text
    assert "ssprRecoveryAnswer" in slapd.search(account.dn, "(objectClass=*)", "ssprRecoveryAnswer")
    assert audit_events(audit_lines, "helpdesk.recovery_cleared") == []

    response = act(agent, account, "/clear-recovery", reason="Mobile perdu")
    assert response.status_code == 302
    values = operational(slapd, account.dn, "ssprRecoveryAnswer", "mobile", "mail")
    assert values == {"mail": [account.mail]}
    [line] = audit_events(audit_lines, "helpdesk.recovery_cleared")
    assert (line["agent"], line["agent_note"], line["user_dn"]) == (
        AGENT.login, "Mobile perdu", account.dn
    )  # fmt: skip
    assert [mail.subject for mail in outbox.mails] == [
        "Modification de vos informations personnelles"
    ]
    assert "Aucun numéro enregistré" in agent.get(user_url(account)).text


# -- identity check and temporary password ----------------------------------------------------


def sms_code(outbox: Outbox) -> str:
    match = re.search(r"\b(\d{6})\b", outbox.sms[0].body)
    assert match, outbox.sms[0].body
    return match.group(1)


def test_temporary_password_after_an_identity_check(
    agent: FlaskClient,
    make_account: Any,
    slapd: Slapd,
    outbox: Outbox,
    audit_lines: io.StringIO,
) -> None:
    account: Account = make_account("agent-lycee", {"school": "Lycée Montaigne"},
                                    mobile="0611223355")  # fmt: skip
    pages: list[str] = []
    # Without the check, nothing is written.
    page = act(agent, account, "/temporary-password", reason="appel")
    pages.append(page.text)
    assert "Vérifiez d'abord l'identité de l'appelant." in page.text
    assert can_bind(slapd.url, account.dn, account.password)
    [refused] = audit_events(audit_lines, "helpdesk.temporary_password")
    assert (refused["outcome"], refused["cause"]) == ("failure", "identity_not_checked")

    page = agent.get(user_url(account, "/identity"))
    pages.append(page.text)
    response = act(agent, account, "/identity", channel="sms", reason="")
    assert response.status_code == 302
    (sms,) = outbox.sms
    assert sms.to == "+33611223355"
    assert "Code à communiquer à l'agent du support" in sms.body
    code = sms_code(outbox)
    code_page = agent.get(response.headers["Location"])
    pages.append(code_page.text)
    assert "06 •• •• •• 55" in code_page.text
    wrong = "000000" if code != "000000" else "111111"
    page = submit(agent, response.headers["Location"], {"code": wrong})
    pages.append(page.text)
    assert "Code incorrect" in page.text
    checked = submit(agent, response.headers["Location"], {"code": code}, follow_redirects=True)
    pages.append(checked.text)
    assert "Identité vérifiée : vous pouvez agir sur ce compte pendant 10 minutes." in checked.text

    page = agent.get(user_url(account, "/temporary-password"))
    pages.append(page.text)
    page = submit(agent, user_url(account, "/temporary-password"), {}, follow_redirects=True)
    match = re.search(r'<p class="secret"><code>([^<]+)</code>', page.text)
    assert match, page.text
    password = match.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    password = password.replace("&#34;", '"').replace("&#39;", "'")
    assert can_bind(slapd.url, account.dn, password)
    assert operational(slapd, account.dn, "pwdReset") == {"pwdReset": ["TRUE"]}
    pages.append(agent.get(user_url(account)).text)
    pages.append(agent.get("/helpdesk/audit").text)

    events = audit_events(audit_lines)
    names = [e["event"] for e in events if e["event"].startswith("helpdesk.") and
             e["event"] != "helpdesk.login"]  # fmt: skip
    assert names == ["helpdesk.temporary_password", "helpdesk.identity_code_sent",
                     "helpdesk.identity_checked", "helpdesk.identity_checked",
                     "helpdesk.temporary_password"]  # fmt: skip
    done = [e for e in events if e["event"] == "helpdesk.temporary_password"][-1]
    assert (done["outcome"], done["agent"], done["proof"]) == ("success", AGENT.login,
                                                               "identity_check")  # fmt: skip
    # Secrets appear nowhere: not the code in any page or line, not the password in a line.
    assert all(code not in text for text in pages)
    assert code not in audit_lines.getvalue() and password not in audit_lines.getvalue()
    assert "Lycée Montaigne" not in "".join(pages)
    # The user hears of it by mail, without the password.
    assert outbox.mails[0].subject == "Votre mot de passe a été modifié"
    assert password not in outbox.mails[0].text

    # The user logs in with it and must change it.
    user = https_client(agent.application)
    response = submit(user, "/account/login/agent-lycee", {"identifier": account.login,
                                                           "password": password})  # fmt: skip
    assert response.headers["Location"] == "/account/password"


def test_the_identity_check_belongs_to_the_agents_session(
    agent: FlaskClient, app: Flask, make_account: Any, outbox: Outbox
) -> None:
    account: Account = make_account("elu")
    act(agent, account, "/identity", channel="email")
    (mail,) = outbox.mails
    assert mail.to == account.mail
    assert mail.subject == "Votre code de vérification pour le support"
    match = re.search(rf"\b([{EMAIL_ALPHABET}]{{6}})\b", mail.text.split("suivant :")[1])
    assert match
    page = submit(agent, user_url(account, "/identity/code") + "&channel=email",
                  {"code": match.group(1).lower()}, follow_redirects=True)  # fmt: skip
    assert "Identité vérifiée" in page.text
    # Another agent session has not checked anything.
    other = https_client(app)
    staff_login(other)
    page = act(other, account, "/temporary-password", reason="x")
    assert "Vérifiez d'abord l'identité de l'appelant." in page.text


def test_a_written_reason_may_replace_the_check_where_configured(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    client = https_client(
        app_with(settings, outbox, audit_lines, temporary_password_requires="reason")
    )
    staff_login(client)
    account: Account = make_account("elu")
    page = act(client, account, "/temporary-password", reason="")
    assert "Indiquez la raison de cette action." in page.text
    assert can_bind(slapd.url, account.dn, account.password)
    page = submit(client, user_url(account, "/temporary-password"),
                  {"reason": "Responsable présent au guichet"}, follow_redirects=True)  # fmt: skip
    assert '<p class="secret">' in page.text
    assert operational(slapd, account.dn, "pwdReset") == {"pwdReset": ["TRUE"]}
    done = audit_events(audit_lines, "helpdesk.temporary_password")[-1]
    assert (done["outcome"], done["proof"], done["agent_note"]) == (
        "success", "reason", "Responsable présent au guichet"
    )  # fmt: skip


# -- sending the user's reset -----------------------------------------------------------------


def test_send_reset_mails_the_link_that_continues_in_the_users_browser(
    agent: FlaskClient, app: Flask, make_account: Any, outbox: Outbox, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("elu")
    page = agent.get(user_url(account, "/reset"))
    assert "Par email" in page.text and "Par SMS" not in page.text
    response = act(agent, account, "/reset", channel="email", reason="ticket 77")
    assert response.status_code == 302
    (mail,) = outbox.mails
    assert mail.to == account.mail
    after = agent.get(response.headers["Location"]).text
    assert "Le message de réinitialisation est envoyé" in after
    token = LINK.search(mail.text).group(1)  # type: ignore[union-attr]
    assert token not in after
    user = https_client(app)
    user.get(f"/reset/link/{token}")
    assert submit(user, "/reset/link", {}).headers["Location"] == "/reset/password"
    [line] = audit_events(audit_lines, "helpdesk.reset_sent")
    assert (line["channel"], line["agent"], line["agent_note"], line["profile"]) == (
        "email", AGENT.login, "ticket 77", "elu"
    )  # fmt: skip
    # The code served, so another reset may go at once; then the one just sent still works,
    # and nothing new is sent.
    assert act(agent, account, "/reset", channel="email").status_code == 302
    page = act(agent, account, "/reset", channel="email")
    # The real clock runs here: a loaded machine may take a second between the two sends.
    wait = re.search(r"Patientez (\d+) secondes?", page.text)
    assert wait is not None and 0 < int(wait.group(1)) <= 60
    assert len(outbox.mails) == 2


def test_a_code_sent_by_the_helpdesk_works_in_the_flow_the_user_has_open(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any,
    tmp_path: Path, slapd: Slapd,
) -> None:  # fmt: skip
    clock = FakeClock(1_800_000_000.0)
    app = build_app(settings, outbox, audit_lines, clock=clock,
                    store=SqliteStore(tmp_path / "s.sqlite3", clock))  # fmt: skip
    account: Account = make_account("agent-lycee", mobile="0611223366")
    user = https_client(app)
    submit(user, "/reset/agent-lycee", {"identifier": account.login})
    assert len(outbox.sms) == 1  # "je n'ai rien reçu"
    clock.advance(61)
    agent = https_client(app)
    staff_login(agent)
    assert act(agent, account, "/reset", channel="sms").status_code == 302
    assert len(outbox.sms) == 2
    response = submit(user, "/reset/code", {"code": sms_code(outbox)})
    assert response.headers["Location"] == "/reset/password"


def test_nothing_to_send_for_a_question_profile(agent: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    page = agent.get(user_url(account, "/reset"))
    assert "Aucun envoi possible" in page.text
    page = act(agent, account, "/reset", channel="email")
    assert page.status_code == 200 and "secret" not in page.text


# -- audit trail page -------------------------------------------------------------------------


@pytest.fixture
def audited(settings: Settings, outbox: Outbox, tmp_path: Path) -> Iterator[FlaskClient]:
    """The console with its audit trail in a file, as in production."""
    path = tmp_path / "audit.jsonl"
    raw = settings.model_dump(mode="json")
    raw["audit"]["file"] = str(path)
    with path.open("a", encoding="utf-8") as stream:
        app = build_app(Settings.model_validate(raw), outbox, stream)  # type: ignore[arg-type]
        client = https_client(app)
        staff_login(client)
        yield client


def test_the_audit_page_filters_by_user_and_type(audited: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager")
    other: Account = make_account("usager")
    act(audited, account, "/unlock", reason="Appel de Mme Z")
    act(audited, other, "/unlock", reason="Appel de M. Y")
    page = audited.get("/helpdesk/audit", query_string={"user": account.login})
    assert "Support : déverrouillage" in page.text and "Appel de Mme Z" in page.text
    assert "Appel de M. Y" not in page.text
    page = audited.get("/helpdesk/audit", query_string={"user": account.dn, "event": "helpdesk"})
    assert "Appel de Mme Z" in page.text
    logins = {"user": account.login, "event": "account.login"}
    page = audited.get("/helpdesk/audit", query_string=logins)
    assert "Appel de Mme Z" not in page.text and "Aucun événement récent." in page.text
    # By agent, every type.
    page = audited.get("/helpdesk/audit", query_string={"user": AGENT.login})
    assert "Appel de Mme Z" in page.text and "Appel de M. Y" in page.text
    assert "Support : connexion" in page.text
    # The user page lists the account's own events.
    assert "Appel de Mme Z" in audited.get(user_url(account)).text


def test_an_explain_run_is_named_on_the_user_page(
    audited: FlaskClient, make_account: Any, settings: Settings, slapd: Slapd
) -> None:
    account: Account = make_account("usager")
    # The command writes to the store's trail the console reads, as the service does.
    run_explain(
        settings, Secrets(ldap_passwords={"default": slapd.service_password}), account.login, None
    )
    page = audited.get(user_url(account))
    assert "Diagnostic d&#39;un administrateur (sspr explain)" in page.text or (
        "Diagnostic d'un administrateur (sspr explain)" in page.text
    )


def test_the_audit_page_reads_the_store_without_any_file(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["audit"]["file"] = None
    client = https_client(build_app(Settings.model_validate(raw), outbox, audit_lines))
    staff_login(client)
    account: Account = make_account("usager")
    act(client, account, "/unlock", reason="Appel de Mme W")
    page = client.get("/helpdesk/audit", query_string={"user": account.login})
    assert "Appel de Mme W" in page.text


# -- one action per submission, results shown once (issue 9, 1.4) ----------------------------


def test_the_temporary_password_is_shown_once_and_a_reload_sets_no_other(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    client = https_client(
        app_with(settings, outbox, audit_lines, temporary_password_requires="reason")
    )
    staff_login(client)
    account: Account = make_account("elu")
    url = user_url(account, "/temporary-password")
    form = client.get(url).text
    data = {
        "csrf_token": csrf_token(form),
        "submission": re.search(r'name="submission"[^>]*?value="([^"]+)"', form).group(1),  # type: ignore[union-attr]
        "reason": "Appel de l'usager",
    }
    # POST, then redirect, then GET: the password is read from the store, not from the POST.
    response = client.post(url, data=data)
    assert response.status_code == 302
    shown_url = response.headers["Location"]
    assert shown_url.startswith("/helpdesk/user/temporary-password/shown?")
    shown = client.get(shown_url)
    match = re.search(r'<p class="secret"><code>([^<]+)</code>', shown.text)
    assert match, shown.text
    password = match.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    password = password.replace("&#34;", '"').replace("&#39;", "'")
    assert can_bind(slapd.url, account.dn, password)

    # A reload shows it no more, and writes nothing.
    again = client.get(shown_url, follow_redirects=True)
    assert '<p class="secret">' not in again.text
    assert "Le mot de passe temporaire a déjà été affiché" in again.text
    # The same form sent again (a double click, a resent POST) acts no more.
    repeat = client.post(url, data=data)
    assert repeat.status_code == 302 and repeat.headers["Location"] == shown_url
    assert '<p class="secret">' not in client.get(shown_url, follow_redirects=True).text
    assert can_bind(slapd.url, account.dn, password)
    done = audit_events(audit_lines, "helpdesk.temporary_password")
    assert [e["outcome"] for e in done] == ["success"]
    # Kept sealed: the store never holds the password itself.
    path = Path(client.application.extensions["sspr"].settings.store.path)
    stored = b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*"))
    assert stored and password.encode() not in stored


def test_a_repeated_submission_of_an_action_acts_once(
    agent: FlaskClient, make_account: Any, audit_lines: io.StringIO
) -> None:
    account: Account = make_account("usager")
    url = user_url(account, "/unlock")
    form = agent.get(url).text
    submission = re.search(r'name="submission"[^>]*?value="([^"]+)"', form)
    assert submission
    data = {"csrf_token": csrf_token(form), "submission": submission.group(1)}
    first, second = agent.post(url, data=data), agent.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(audit_events(audit_lines, "helpdesk.unlock")) == 1
    # A new rendering of the form is a new submission.
    assert act(agent, account, "/unlock").status_code == 302
    assert len(audit_events(audit_lines, "helpdesk.unlock")) == 2


def test_a_refused_action_can_be_corrected_and_sent_again(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any
) -> None:
    client = https_client(app_with(settings, outbox, audit_lines, reasons_required=["unlock"]))
    staff_login(client)
    account: Account = make_account("usager")
    url = user_url(account, "/unlock")
    form = client.get(url).text
    submission = re.search(r'name="submission"[^>]*?value="([^"]+)"', form)
    assert submission
    data = {"csrf_token": csrf_token(form), "submission": submission.group(1)}
    refused = client.post(url, data={**data, "reason": ""})
    assert "Indiquez la raison de cette action." in refused.text
    assert client.post(url, data={**data, "reason": "Appel"}).status_code == 302
    assert [e["outcome"] for e in audit_events(audit_lines, "helpdesk.unlock")] == ["success"]


def test_event_details_are_in_words_in_french_and_english(
    audited: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("elu")
    staff_login(https_client(audited.application), AGENT.login, "not-the-password")
    act(audited, account, "/reset", channel="email", reason="ticket 1")
    act(audited, account, "/reset", channel="email", reason="ticket 2")  # within the cooldown
    page = html.unescape(audited.get("/helpdesk/audit").text)
    for raw in ("invalid_credentials", "ResendTooSoon"):
        assert raw not in page, raw
    assert "Cause : identifiant ou mot de passe incorrect" in page
    assert "Cause : code déjà envoyé il y a moins d'une minute" in page
    assert "Canal : email" in page
    english = html.unescape(audited.get("/helpdesk/audit", headers={"Accept-Language": "en"}).text)
    assert "wrong username or password" in english
    assert "a code was sent less than a minute ago" in english


def test_the_last_change_shows_when_the_directory_knows_it(
    agent: FlaskClient, make_account: Any, directory: Any
) -> None:
    account: Account = make_account("usager")
    # Seeded accounts (slapadd, or an add without an aging policy) have no pwdChangedTime.
    assert "Dernier changement</dt>\n    <dd>Inconnu" in agent.get(user_url(account)).text
    directory.set_password(account.dn, NEW_PASSWORD, must_change=False)
    page = agent.get(user_url(account)).text
    shown = re.search(r"Dernier changement</dt>\s*<dd>([^<]+)</dd>", page)
    assert shown is not None and shown.group(1) != "Inconnu"
    assert re.search(r"\d{4}", shown.group(1))  # a date, in the console's time zone
