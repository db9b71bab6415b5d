"""The clock and the store the unit tests share: a SQLite file whose time the test moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SqliteStore:
    """A real SQLite store on the test's clock."""
    return SqliteStore(tmp_path / "s.sqlite3", clock)
