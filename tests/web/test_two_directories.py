"""Two directories end to end: two real slapds, the demo's split (agents in their own).

usagers, élus, citoyens and the helpdesk staff live in the "collectivite" slapd; the agents
of the lycées and of the siège in the "agents" slapd, under another suffix.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from sspr.checks import directory_checks
from sspr.config import Settings
from sspr.config.secrets import read_secrets
from sspr.demo.data import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_STAFF
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd
from sspr.directory.routing import RoutingDirectory
from sspr.explain import run_explain
from tests.helpers import build_app, can_bind, https_client, submit

NEW_PASSWORD = "Un-Nouveau-Mot2passe!"
# The agents of the lycées are under the dgfip policy: 8 to 20 characters.
AGENT_PASSWORD = "ab12!xyz-9"
AGENT = next(staff for staff in DEMO_STAFF if staff.helpdesk)


def demo(login: str) -> Any:
    return next(account for account in DEMO_ACCOUNTS if account.login == login)


@pytest.fixture
def settings(
    slapds: tuple[Slapd, Slapd], tmp_path: Path, mail_catcher: tuple[MailCatcher, Outbox]
) -> Settings:
    first, agents = slapds
    public = "https://motdepasse.example.org"
    return demo_settings(first, tmp_path, public, mail_catcher[0].port, agents=agents)


@pytest.fixture
def app(settings: Settings, outbox: Outbox, audit_lines: io.StringIO) -> Iterator[Flask]:
    application = build_app(settings, outbox, audit_lines)
    yield application
    application.extensions["sspr"].directory.close()


def events(audit_lines: io.StringIO, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in audit_lines.getvalue().splitlines()]
    return [line for line in lines if line["event"] == event]


def test_the_app_routes_between_the_two_directories(app: Flask) -> None:
    directory = app.extensions["sspr"].directory
    assert isinstance(directory, RoutingDirectory)
    assert list(directory.directories) == ["collectivite", "agents"]
    directory.ping()


def test_a_reset_in_the_first_directory(
    app: Flask, slapds: tuple[Slapd, Slapd], audit_lines: io.StringIO
) -> None:
    jeanne = demo("jeanne.martin")
    client = https_client(app)
    assert submit(client, "/reset/usager", {"identifier": jeanne.login}).status_code == 302
    assert submit(client, "/reset/question", {"answer_0": jeanne.answer}).status_code == 302
    done = submit(
        client, "/reset/password", {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    )
    assert done.headers["Location"] == "/reset/done"
    first, _ = slapds
    assert can_bind(first.url, jeanne.dn(first.suffix), NEW_PASSWORD)
    [changed] = events(audit_lines, "password.changed")
    assert (changed["directory"], changed["profile"]) == ("collectivite", "usager")
    assert {line["directory"] for line in events(audit_lines, "reset.requested")} == {
        "collectivite"
    }


def test_a_reset_in_the_agents_directory(
    app: Flask, slapds: tuple[Slapd, Slapd], outbox: Outbox, audit_lines: io.StringIO
) -> None:
    marc = demo("marc.leroy")
    client = https_client(app)
    submit(client, "/reset/agent-lycee", {"identifier": marc.login})
    (sms,) = outbox.sms
    code = re.search(r"\b(\d{6})\b", sms.body)
    assert code is not None
    assert submit(client, "/reset/code", {"code": code.group(1)}).status_code == 302
    done = submit(
        client, "/reset/password", {"password": AGENT_PASSWORD, "confirmation": AGENT_PASSWORD}
    )
    assert done.headers["Location"] == "/reset/done"
    first, agents = slapds
    assert can_bind(agents.url, marc.dn(agents.suffix), AGENT_PASSWORD)
    assert not can_bind(first.url, marc.dn(agents.suffix), AGENT_PASSWORD)
    [changed] = events(audit_lines, "password.changed")
    assert (changed["directory"], changed["user_dn"]) == ("agents", marc.dn(agents.suffix))
    metrics = app.extensions["sspr"].metrics.registry
    started = {"profile": "agent-lycee", "directory": "agents"}
    assert metrics.get_sample_value("sspr_resets_started_total", started) == 1
    latency = {"operation": "set_password", "directory": "agents"}
    assert metrics.get_sample_value("sspr_directory_operation_seconds_count", latency) == 1


def test_the_helpdesk_finds_and_acts_on_users_of_both_directories(
    app: Flask, slapds: tuple[Slapd, Slapd], audit_lines: io.StringIO
) -> None:
    agent = https_client(app)
    login = submit(agent, "/helpdesk/login", {"identifier": AGENT.login, "password": DEMO_PASSWORD})
    assert login.headers["Location"] == "/helpdesk/search"
    page = agent.get("/helpdesk/search", query_string={"q": "demo.sspr.test"}).text
    for account in DEMO_ACCOUNTS:
        assert f">{account.login}<" in page, account.login
    assert '<th scope="col">Annuaire</th>' in page
    assert page.count("<td>agents</td>") == 2  # the agent des lycées and du siège
    _, agents = slapds
    sophie = demo("sophie.moreau").dn(agents.suffix)
    card = agent.get("/helpdesk/user", query_string={"dn": sophie})
    assert card.status_code == 200
    assert "<dt>Annuaire</dt><dd>agents</dd>" in card.text
    url = f"/helpdesk/user/unlock?dn={sophie}"
    assert submit(agent, url, {"reason": "Appel du 12/03"}).status_code == 302
    [unlock] = events(audit_lines, "helpdesk.unlock")
    assert (unlock["directory"], unlock["user_dn"]) == ("agents", sophie)
    [logged_in] = events(audit_lines, "helpdesk.login")
    assert logged_in["outcome"] == "success"


def test_check_config_names_each_directory_in_its_rows(settings: Settings) -> None:
    secrets = read_secrets(settings, parts=("directory",))
    rows = {check.name: check for check in directory_checks(settings, secrets.ldap_passwords)}
    for name in ("collectivite", "agents"):
        assert rows[f"directory {name}: service bind"].ok
        assert rows[f"schema: directories.{name}"].ok
        assert rows[f"directory {name}: password modify"].ok
    assert rows["profile usager: users (directory collectivite)"].ok
    assert rows["profile agent-lycee: users (directory agents)"].ok
    assert "profile agent-lycee: users (directory collectivite)" not in rows
    assert all(check.ok for check in rows.values()), [c for c in rows.values() if not c.ok]


def test_explain_searches_every_directory(settings: Settings, slapds: tuple[Slapd, Slapd]) -> None:
    secrets = read_secrets(settings, parts=("directory",))
    _, agents = slapds
    found = run_explain(settings, secrets, "sophie.moreau", None)
    [match] = found.matches
    assert (match.entry.dn, match.directory) == (demo("sophie.moreau").dn(agents.suffix), "agents")
    assert match.profiles == ("agent-siege",)
    verdicts = {verdict.profile: verdict.page for verdict in found.verdicts}
    assert verdicts["agent-siege"].startswith("code page")
    assert verdicts["usager"].startswith("neutral page")
