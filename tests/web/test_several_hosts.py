"""Two sspr instances on one real redis-server, as two hosts behind a proxy with no stickiness.

Each instance is a whole application built from the same configuration and secret key, with
its own Redis connections, LDAP connections and audit stream; the browser keeps its cookies
and goes to whichever instance the proxy picks.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.config.secrets import Secrets
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from tests.helpers import WebAccount as Account
from tests.helpers import build_app, can_bind, https_client, submit
from tests.store.conftest import start_redis, stop_redis
from tests.web.test_code_channels import email_code
from tests.web.test_helpdesk import staff_login

NEW_PASSWORD = "Nouveau-Mot2passe!"


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of this module's own: its per-source counters start at zero."""
    process: subprocess.Popen[bytes]
    process, url = start_redis(tmp_path_factory.mktemp("shared-redis"))
    yield url
    stop_redis(process)


class Hosts:
    """Two instances and one browser that the proxy sends to either, cookies kept."""

    def __init__(self, apps: list[Flask], streams: list[io.StringIO]) -> None:
        self.apps = apps
        self.streams = streams
        self.browser = https_client(apps[0])

    def on(self, host: int) -> FlaskClient:
        """The browser, its next requests going to `host`."""
        self.browser.application = self.apps[host]
        return self.browser

    def new_browser(self) -> None:
        """Another visitor: no cookies."""
        self.browser = https_client(self.apps[0])

    def events(self, host: int) -> list[str]:
        """The events `host` itself wrote (its own stdout or file)."""
        return [json.loads(line)["event"] for line in self.streams[host].getvalue().splitlines()]


@pytest.fixture
def hosts(settings: Settings, outbox: Outbox, slapd: Slapd, shared_redis: str) -> Hosts:
    raw = settings.model_dump(mode="json")
    raw["store"] = {"backend": "redis"}
    shared = Settings.model_validate(raw)
    # What each host reads from its environment: the same key and the same Redis everywhere.
    secrets = Secrets(
        secret_key="s" * 64,
        ldap_passwords={"default": slapd.service_password},
        redis_url=shared_redis,
    )
    streams = [io.StringIO(), io.StringIO()]
    apps = [build_app(shared, outbox, stream, secrets=secrets) for stream in streams]
    assert apps[0].extensions["sspr"].store is not apps[1].extensions["sspr"].store
    return Hosts(apps, streams)


def test_a_reset_started_on_one_host_finishes_on_the_other(
    hosts: Hosts, make_account: Any, slapd: Slapd
) -> None:
    account: Account = make_account("usager", {"birth_city": "Saint-Étienne"})
    response = submit(hosts.on(0), "/reset/usager", {"identifier": account.login})
    assert response.headers["Location"] == "/reset/question"
    # The question page and its form come from host B, the answer goes to host A.
    page = hosts.on(1).get("/reset/question")
    assert "Dans quelle ville êtes-vous né(e) ?" in page.text
    response = submit(hosts.on(0), "/reset/question", {"answer_0": "saint-étienne"})
    assert response.headers["Location"] == "/reset/password"
    data = {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    response = submit(hosts.on(1), "/reset/password", data)
    assert response.headers["Location"] == "/reset/done"
    assert "Votre mot de passe est modifié" in hosts.on(0).get("/reset/done").text
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    assert hosts.events(0)[:2] == ["reset.requested", "proof.succeeded"]
    assert "password.changed" in hosts.events(1)


def test_a_code_sent_by_one_host_is_checked_by_the_other(
    hosts: Hosts, make_account: Any, outbox: Outbox, slapd: Slapd
) -> None:
    account: Account = make_account("elu", mail="claire.hosts@demo.sspr.test")
    response = submit(hosts.on(0), "/reset/elu", {"identifier": account.login})
    assert response.headers["Location"] == "/reset/code"
    response = submit(hosts.on(1), "/reset/code", {"code": email_code(outbox)})
    assert response.headers["Location"] == "/reset/password"
    data = {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    assert submit(hosts.on(0), "/reset/password", data).headers["Location"] == "/reset/done"
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    assert "code.sent" in hosts.events(0) and "proof.succeeded" in hosts.events(1)


def test_failed_proofs_on_one_host_count_toward_the_block_on_the_other(
    hosts: Hosts, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    submit(hosts.on(0), "/reset/usager", {"identifier": account.login})
    for left in (4, 3, 2):
        page = submit(hosts.on(0), "/reset/question", {"answer_0": "Lyon"})
        assert f"Il vous reste {left} essais." in page.text
    # Another visitor, on the other host: the same account's count goes on.
    hosts.new_browser()
    submit(hosts.on(1), "/reset/usager", {"identifier": account.login})
    page = submit(hosts.on(1), "/reset/question", {"answer_0": "Lyon"})
    assert "Il vous reste 1 essai avant un blocage temporaire." in page.text
    assert submit(hosts.on(1), "/reset/question", {"answer_0": "Lyon"}).status_code == 429
    assert "account.blocked" in hosts.events(1)
    # Blocked everywhere: host A refuses a new flow, even with the right answer to come.
    hosts.new_browser()
    assert submit(hosts.on(0), "/reset/usager", {"identifier": account.login}).status_code == 429


def test_each_host_s_console_shows_the_other_host_s_events(hosts: Hosts, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    submit(hosts.on(0), "/reset/usager", {"identifier": account.login})
    submit(hosts.on(0), "/reset/question", {"answer_0": "Lyon"})
    hosts.new_browser()
    console = hosts.on(1)
    staff_login(console)
    page = console.get("/helpdesk/audit", query_string={"user": account.login})
    assert "reset.requested" in page.text and "proof.failed" in page.text
    assert "reset.requested" not in "".join(hosts.events(1))  # host B wrote none of them
