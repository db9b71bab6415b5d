"""The contract suite's backends: the session slapd and the in-memory directory.

A third backend (Active Directory on a Samba DC) joins by adding its name to BACKENDS and
a branch to `backend` that builds it, skipping when the DC is not available.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sspr.config import DirectoryConfig
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.directory.memory import MemoryDirectory
from tests.clock import FakeClock
from tests.directory.backends import (
    Backend,
    MemoryBackend,
    RoutedBackend,
    SlapdBackend,
    memory_config,
    policy_dn,
)

BACKENDS = ["slapd", "memory", "routed"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each directory the contract holds for, fresh accounts per test."""
    if request.param == "slapd":
        slapd: Slapd = request.getfixturevalue("slapd")
        config: DirectoryConfig = request.getfixturevalue("directory_config")
        # The demo slapd's olcPPolicyDefault, as an administrator would configure it.
        config = config.model_copy(update={"default_policy_dn": policy_dn(slapd.suffix, "default")})
        directory = LdapDirectory(config, slapd.service_password)
        yield SlapdBackend(slapd, directory)
        directory.close()
    elif request.param == "routed":
        yield RoutedBackend.over_memory(FakeClock(1_800_000_000.0))
    else:
        clock = FakeClock(1_800_000_000.0)
        yield MemoryBackend(MemoryDirectory(memory_config(), clock=clock), clock)
