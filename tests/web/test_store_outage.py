"""A store that fails during a reset: the page tells the truth about the account.

The store is a real SQLite file made immutable with chattr (writes fail even on descriptors
already open); the directory is the real slapd, checked with binds.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.data import DEMO_PASSWORD, DEMO_STAFF
from sspr.demo.outbox import Outbox
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.store.redis import RedisStore
from tests.directory.test_ldap import stop_process
from tests.helpers import WebAccount, build_app, can_bind, csrf_token, https_client, submit
from tests.store.conftest import start_redis, stop_redis

AGENT = next(staff for staff in DEMO_STAFF if staff.helpdesk)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chattr needs root")

NEW_PASSWORD = "Nouveau-Mot2passe!"


def _freezer(settings: Settings) -> tuple[Callable[[], None], Callable[[], None]]:
    """Functions that make the store's database and log immutable, and writable again."""
    path = Path(str(settings.store.path))
    files = [str(p) for p in (path, Path(f"{path}-wal")) if p.exists()]

    def freeze() -> None:
        subprocess.run(["chattr", "+i", *files], check=True)

    def thaw() -> None:
        subprocess.run(["chattr", "-i", *files], check=True)

    return freeze, thaw


def _to_password_step(client: FlaskClient, account: WebAccount) -> None:
    submit(client, "/reset/usager", {"identifier": account.login})
    proven = submit(client, "/reset/question", {"answer_0": "Lyon"})
    assert proven.headers["Location"].endswith("/reset/password")


def _choose(client: FlaskClient) -> Any:
    data = {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    return submit(client, "/reset/password", data)


def _events(audit_lines: io.StringIO, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in audit_lines.getvalue().splitlines()]
    return [line for line in lines if line["event"] == name]


def test_a_store_failing_before_the_write_changes_nothing_and_says_so(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    app = build_app(settings, outbox, audit_lines)
    client = https_client(app)
    account = make_account("usager", {"birth_city": "Lyon"})
    _to_password_step(client, account)
    freeze, thaw = _freezer(settings)
    freeze()
    try:
        page = _choose(client)
    finally:
        thaw()
    assert page.status_code == 503
    assert "ne peut pas enregistrer votre démarche" in page.text
    assert "Aucune modification" in page.text
    assert can_bind(slapd.url, account.dn, account.password)
    assert not _events(audit_lines, "password.changed")
    # The store is back: the same flow goes on, no restart needed.
    done = _choose(client)
    assert done.headers["Location"].endswith("/reset/done")
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    app.extensions["sspr"].directory.close()


class _FreezingAfterWrite:
    """The real directory; the store breaks the moment a password is written."""

    def __init__(self, real: LdapDirectory, freeze: Callable[[], None]) -> None:
        self._real = real
        self._freeze = freeze

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def set_password(self, dn: str, password: str, *, must_change: bool = False) -> None:
        self._real.set_password(dn, password, must_change=must_change)
        self._freeze()

    def change_own_password(self, dn: str, old: str, new: str, **checks: Any) -> None:
        self._real.change_own_password(dn, old, new, **checks)
        self._freeze()


def test_a_store_failing_after_the_write_still_tells_the_truth(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    freeze, thaw = _freezer(settings)
    real = LdapDirectory(settings.directory, slapd.service_password)
    app = build_app(settings, outbox, audit_lines, directory=_FreezingAfterWrite(real, freeze))
    client = https_client(app)
    account = make_account("usager", {"birth_city": "Lyon"})
    _to_password_step(client, account)
    freeze, thaw = _freezer(settings)  # the -wal exists now
    app_directory = app.extensions["sspr"].directory
    app_directory._freeze = freeze
    try:
        page = _choose(client)
        done = client.get("/reset/done")
    finally:
        thaw()
    assert page.headers["Location"].endswith("/reset/done")
    assert "Votre mot de passe est modifié" in done.text
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    assert not can_bind(slapd.url, account.dn, account.password)
    assert [e["outcome"] for e in _events(audit_lines, "password.changed")] == ["success"]
    assert any("modifié" in mail.subject for mail in outbox.mails)
    real.close()


def test_a_store_failing_after_a_change_at_account_still_tells_the_truth(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    real = LdapDirectory(settings.directory, slapd.service_password)
    directory = _FreezingAfterWrite(real, lambda: None)
    client = https_client(build_app(settings, outbox, audit_lines, directory=directory))
    account = make_account("usager")
    login = {"identifier": account.login, "password": account.password}
    assert submit(client, "/account/login/usager", login).status_code == 302
    freeze, thaw = _freezer(settings)
    directory._freeze = freeze
    try:
        page = submit(client, "/account/password", {
            "current": account.password, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD,
        })  # fmt: skip
    finally:
        thaw()
    assert page.status_code == 200
    assert "Votre mot de passe est modifié" in page.text
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)
    real.close()


def test_a_store_failing_after_a_temporary_password_still_shows_it(
    settings: Settings, outbox: Outbox, audit_lines: io.StringIO, make_account: Any, slapd: Slapd
) -> None:
    raw = settings.model_dump(mode="json")
    raw["helpdesk"]["temporary_password_requires"] = "reason"
    real = LdapDirectory(settings.directory, slapd.service_password)
    directory = _FreezingAfterWrite(real, lambda: None)
    app = build_app(Settings.model_validate(raw), outbox, audit_lines, directory=directory)
    agent = https_client(app)
    staff = {"identifier": AGENT.login, "password": DEMO_PASSWORD}
    assert submit(agent, "/helpdesk/login", staff).status_code == 302
    account = make_account("usager")
    freeze, thaw = _freezer(settings)
    directory._freeze = freeze
    url = f"/helpdesk/user/temporary-password?dn={account.dn}"
    try:
        page = submit(agent, url, {"reason": "appel du 26/11"})
    finally:
        thaw()
    assert page.status_code == 200
    shown = re.search(r"<code[^>]*>([^<]+)</code>", page.text)
    assert shown is not None, page.text
    assert can_bind(slapd.url, account.dn, html.unescape(shown.group(1)))
    real.close()


@pytest.fixture
def redis_reset(
    settings: Settings,
    outbox: Outbox,
    audit_lines: io.StringIO,
    make_account: Any,
    tmp_path: Path,
) -> Iterator[tuple[subprocess.Popen[bytes], str, FlaskClient, WebAccount, dict[str, str]]]:
    """A reset on a Redis store of its own, at the password page: the form ready to post."""
    process, url = start_redis(tmp_path)
    try:
        store = RedisStore(url, timeout=0.3, connect_timeout=0.3)
        client = https_client(build_app(settings, outbox, audit_lines, store=store))
        account = make_account("usager", {"birth_city": "Lyon"})
        _to_password_step(client, account)
        form = client.get("/reset/password")  # the page is open when Redis fails
        data = {"csrf_token": csrf_token(form.text), "password": NEW_PASSWORD,
                "confirmation": NEW_PASSWORD}  # fmt: skip
        yield process, url, client, account, data
    finally:
        stop_redis(process)


def test_a_hung_redis_during_a_reset_changes_nothing_then_the_reset_goes_on(
    redis_reset: tuple[subprocess.Popen[bytes], str, FlaskClient, WebAccount, dict[str, str]],
    slapd: Slapd,
) -> None:
    process, _, client, account, data = redis_reset
    stop_process(process.pid)
    try:
        page = client.post("/reset/password", data=data)
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert page.status_code == 503
    assert "Aucune modification" in page.text
    assert can_bind(slapd.url, account.dn, account.password)
    done = _choose(client)  # Redis answers again: the same flow goes on
    assert done.headers["Location"].endswith("/reset/done")
    assert can_bind(slapd.url, account.dn, NEW_PASSWORD)


def test_a_redis_restarted_empty_ends_the_flow_plainly(
    redis_reset: tuple[subprocess.Popen[bytes], str, FlaskClient, WebAccount, dict[str, str]],
    slapd: Slapd,
) -> None:
    _, url, client, account, data = redis_reset
    redis.Redis.from_url(url).flushall()  # what a restart without persistence leaves
    page = client.post("/reset/password", data=data)
    assert page.status_code == 400
    assert "Recommencez depuis le début" in page.text
    assert can_bind(slapd.url, account.dn, account.password)
