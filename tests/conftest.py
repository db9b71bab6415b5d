"""Fixtures shared by every test: one real slapd per session, fresh accounts per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sspr.config import DirectoryConfig
from sspr.demo.data import demo_ldif
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from tests.helpers import (
    FAST_HASHER,
    PASSWORD_ENV,
    Account,
    accounts_unit_ldif,
    directory_config_for,
    new_account,
)


def start_slapd(workdir: Path) -> Slapd:
    """A running slapd seeded with the demo users and the unit for test accounts."""
    server = Slapd(workdir)
    server.start(demo_ldif(server.suffix, FAST_HASHER) + "\n" + accounts_unit_ldif(server.suffix))
    return server


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """The session's slapd: demo data plus per-test accounts; never stopped by a test."""
    server = start_slapd(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


@pytest.fixture
def private_slapd(tmp_path: Path) -> Iterator[Slapd]:
    """A slapd of this test's own, for tests that stop, restart or pause the server."""
    server = start_slapd(tmp_path / "slapd")
    yield server
    server.stop()


@pytest.fixture
def account(slapd: Slapd) -> Account:
    """A fresh account under the default policy, unique to this test."""
    return new_account(slapd)


@pytest.fixture
def directory_config(slapd: Slapd, monkeypatch: pytest.MonkeyPatch) -> DirectoryConfig:
    """The session slapd as the service account sees it; the password is in the env."""
    monkeypatch.setenv(PASSWORD_ENV, slapd.service_password)
    return directory_config_for(slapd)


@pytest.fixture
def directory(directory_config: DirectoryConfig) -> Iterator[LdapDirectory]:
    """An LdapDirectory on the session slapd, closed after the test."""
    instance = LdapDirectory(directory_config)
    yield instance
    instance.close()
