"""Attempt limits: failures counted in a window, then a temporary block."""

from __future__ import annotations

from pathlib import Path

import pytest

from sspr.domain.errors import TooManyAttempts
from sspr.domain.limits import AttemptLimiter, Limit, subject_key
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(tmp_path: Path, clock: FakeClock) -> AttemptLimiter:
    store = SqliteStore(tmp_path / "s.sqlite3", clock)
    return AttemptLimiter(store, "answers", Limit(max_failures=5, window=900, lockout=900))


def test_five_failures_block_for_the_lockout(limiter: AttemptLimiter, clock: FakeClock) -> None:
    assert [limiter.fail("u") for _ in range(4)] == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts) as blocked:
        limiter.fail("u")
    assert blocked.value.retry_after == 900
    clock.advance(600)
    with pytest.raises(TooManyAttempts) as still:
        limiter.ensure_allowed("u")
    assert still.value.retry_after == pytest.approx(300)
    clock.advance(300)
    limiter.ensure_allowed("u")
    assert limiter.fail("u") == 4  # a fresh window after the block


def test_failures_outside_the_window_are_forgotten(
    limiter: AttemptLimiter, clock: FakeClock
) -> None:
    for _ in range(4):
        limiter.fail("u")
    clock.advance(901)
    assert limiter.fail("u") == 4


def test_success_forgets_failures(limiter: AttemptLimiter) -> None:
    limiter.fail("u")
    limiter.fail("u")
    limiter.succeed("u")
    assert limiter.fail("u") == 4


def test_subjects_are_separate(limiter: AttemptLimiter) -> None:
    for _ in range(4):
        limiter.fail("a")
    assert limiter.fail("b") == 4


def test_subject_keys_do_not_reveal_the_account() -> None:
    key = subject_key("dn", "uid=jeanne.martin,ou=people,dc=example,dc=org")
    assert "jeanne" not in key and key.startswith("dn:")
