"""The domain services on the in-memory directory, built in ONE place: `domain`.

Services are built by the application's own composition (create_app), so a change of a
constructor signature is made there and nowhere here; the tests call the services directly.
Mails go through real SMTP to the session's aiosmtpd catcher, SMS through Twilio's SDK.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sspr.config import Settings, parse_settings
from sspr.delivery.outbox import Outbox as NoticeOutbox
from sspr.demo.outbox import CapturedMail, MailCatcher, Outbox
from sspr.demo.run import demo_config_path
from sspr.directory.memory import MemoryDirectory
from sspr.domain.account import AccountService
from sspr.domain.helpdesk import HelpdeskService
from sspr.domain.reset import ResetService
from sspr.domain.settings import DomainSettings, Profile
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock
from tests.helpers import Account, build_app

START = 1_800_000_000.0
PASSWORD = "Initial-Passw0rd!"


@dataclass
class Domain:
    """The services under test and what they work with."""

    settings: Settings
    rules: DomainSettings
    directory: MemoryDirectory
    clock: FakeClock
    outbox: Outbox
    audit_lines: io.StringIO
    reset: ResetService
    account: AccountService
    helpdesk: HelpdeskService
    notices: NoticeOutbox | None

    def mails(self) -> list[CapturedMail]:
        """What reached the SMTP catcher, notices waiting in the store's outbox sent first."""
        if self.notices is not None:
            self.notices.drain()
        return list(self.outbox.mails)

    def person(
        self,
        profile: str = "usager",
        *,
        answers: dict[str, str] | None = None,
        mobile: str | None = None,
        password: str = PASSWORD,
    ) -> Account:
        """A new account in a profile's base, with hashed answers."""
        base = self.profile(profile).base
        login = f"t-{uuid.uuid4().hex[:10]}"
        account = Account(f"uid={login},{base}", login, password, f"{login}@example.org")
        hasher = self._hasher()
        stored = [hasher.store(qid, text).encode() for qid, text in (answers or {}).items()]
        self.directory.add(
            account.dn,
            {
                "objectClass": ["inetOrgPerson", "ssprAccount"],
                "uid": [login],
                "cn": [f"Test {login}"],
                "givenName": ["Test"],
                "sn": [login],
                "mail": [account.mail],
                "ssprRecoveryAnswer": stored,
                "mobile": [mobile] if mobile else [],
            },
            password=password,
        )
        return account

    def staff(self, password: str = PASSWORD) -> Account:
        """A helpdesk agent: under the console's base and in its group."""
        config = self.helpdesk.config
        login = f"agent-{uuid.uuid4().hex[:6]}"
        dn = f"uid={login},{config.base}"
        self.directory.add(
            dn, {"objectClass": ["inetOrgPerson"], "uid": [login], "cn": [f"Agent {login}"],
                 "sn": [login]}, password=password,
        )  # fmt: skip
        assert config.group_dn
        self.directory.add(config.group_dn, {"objectClass": ["groupOfNames"], "member": [dn]})
        return Account(dn, login, password, "")

    def profile(self, profile_id: str) -> Profile:
        """A profile as the domain sees it."""
        found = self.rules.profile(profile_id)
        assert found is not None
        return found

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The audit lines written so far, of one event if named."""
        lines = [json.loads(line) for line in self.audit_lines.getvalue().splitlines()]
        return [line for line in lines if name is None or line["event"] == name]

    def _hasher(self) -> Any:
        from sspr.domain.answers import AnswerHasher

        costs = self.settings.answer_hashing
        return AnswerHasher(
            time_cost=costs.time_cost, memory_kib=costs.memory_kib, parallelism=costs.parallelism
        )


def memory_settings(
    workdir: Path, smtp_port: int, change: Callable[[dict[str, Any]], None] | None = None
) -> Settings:
    """The demo configuration, with its store in `workdir` and mail to the catcher."""
    raw: dict[str, Any] = yaml.safe_load(demo_config_path().read_text(encoding="utf-8"))
    raw["public_url"] = "https://motdepasse.example.org"
    raw["mail"]["smtp"]["port"] = smtp_port
    raw["directory"]["urls"] = ["ldap://memory.invalid"]
    raw["store"]["path"] = str(workdir / "store.sqlite3")
    raw["audit"] = {"stdout": False}
    # The cheapest argon2id the config allows: these tests hash, they do not defend.
    raw["answer_hashing"] = {"time_cost": 1, "memory_kib": 8192, "parallelism": 1}
    if change is not None:
        change(raw)
    return parse_settings(raw, str(demo_config_path()))


MakeDomain = Callable[..., Domain]


@pytest.fixture
def make_domain(
    tmp_path: Path, mail_catcher: tuple[MailCatcher, Outbox], outbox: Outbox
) -> Iterator[MakeDomain]:
    """Build the services once, the configuration changed by `change(raw)` if given."""
    with contextlib.ExitStack() as stack:

        def make(change: Callable[[dict[str, Any]], None] | None = None) -> Domain:
            settings = memory_settings(tmp_path, mail_catcher[0].port, change)
            clock = FakeClock(START)
            directory = MemoryDirectory(settings.directory, clock=clock)
            audit_lines = io.StringIO()
            app = build_app(settings, outbox, audit_lines, directory=directory, clock=clock)
            services = app.extensions["sspr"]
            # The notifier renders mails with the application's templates and translations.
            stack.enter_context(app.test_request_context())
            return Domain(
                settings, services.rules, directory, clock, outbox, audit_lines,
                services.reset, services.account, services.helpdesk, services.outbox,
            )  # fmt: skip

        yield make


@pytest.fixture
def domain(make_domain: MakeDomain) -> Domain:
    """The reset, account and helpdesk services over an in-memory directory and a fake clock."""
    return make_domain()


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SqliteStore:
    """A real SQLite store on the test's clock."""
    return SqliteStore(tmp_path / "s.sqlite3", clock)
