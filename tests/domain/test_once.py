"""Submissions acted on once, and results shown once, sealed in the store."""

from __future__ import annotations

from pathlib import Path

from sspr.domain.once import OneTimeResults, Submissions, seal_key
from sspr.store.sqlite import SqliteStore
from tests.clock import FakeClock


def test_a_submission_is_claimed_once_per_scope(store: SqliteStore) -> None:
    submissions = Submissions(store, "sub", ttl=600)
    assert submissions.claim("agent-1", "form-a")
    assert not submissions.claim("agent-1", "form-a")
    assert submissions.claim("agent-1", "form-b")
    assert submissions.claim("agent-2", "form-a")


def test_a_released_submission_may_come_back(store: SqliteStore) -> None:
    submissions = Submissions(store, "sub", ttl=600)
    assert submissions.claim("agent", "form")
    submissions.release("agent", "form")
    assert submissions.claim("agent", "form")


def test_a_result_is_shown_once(store: SqliteStore) -> None:
    results = OneTimeResults(store, "once", ttl=300)
    key = seal_key("a-session-token")
    results.keep(key, "temporary:uid=a", "S3cret-Pa55")
    assert results.take(key, "temporary:uid=a") == "S3cret-Pa55"
    assert results.take(key, "temporary:uid=a") is None


def test_a_result_opens_only_with_its_sessions_key(store: SqliteStore) -> None:
    results = OneTimeResults(store, "once", ttl=300)
    results.keep(seal_key("token-1"), "temporary:uid=a", "S3cret-Pa55")
    assert results.take(seal_key("token-2"), "temporary:uid=a") is None
    assert results.take("", "temporary:uid=a") is None
    assert results.take(seal_key("token-1"), "temporary:uid=b") is None
    assert results.take(seal_key("token-1"), "temporary:uid=a") == "S3cret-Pa55"


def test_a_result_is_sealed_and_expires(
    store: SqliteStore, tmp_path: Path, clock: FakeClock
) -> None:
    results = OneTimeResults(store, "once", ttl=300)
    key = seal_key("token")
    results.keep(key, "temporary:uid=a", "S3cret-Pa55")
    stored = b"".join(f.read_bytes() for f in tmp_path.glob("s.sqlite3*"))
    assert b"S3cret-Pa55" not in stored and key.encode() not in stored
    clock.advance(301)
    assert results.take(key, "temporary:uid=a") is None
