"""An entry handed from one request to its session's next: once, fresh, for its own DN."""

from __future__ import annotations

from sspr.domain.handed import HAND_ON_SECONDS, HandedEntries
from sspr.domain.ports import UserEntry
from tests.clock import FakeClock

ENTRY = UserEntry(dn="uid=a,ou=people,dc=example,dc=org", login="a")


def test_the_next_request_takes_it_once() -> None:
    handed = HandedEntries(FakeClock())
    handed.hand_on("session-1", ENTRY)
    assert handed.take("session-2", ENTRY.dn) is None  # another session
    assert handed.take("session-1", ENTRY.dn) is ENTRY
    assert handed.take("session-1", ENTRY.dn) is None  # the page after reads again


def test_a_stale_entry_or_one_for_another_account_is_not_given() -> None:
    clock = FakeClock()
    handed = HandedEntries(clock)
    handed.hand_on("s", ENTRY)
    clock.advance(HAND_ON_SECONDS + 0.001)
    assert handed.take("s", ENTRY.dn) is None
    handed.hand_on("s", ENTRY)
    assert handed.take("s", "uid=b,ou=people,dc=example,dc=org") is None
    assert handed.take("s", ENTRY.dn) is None  # taken (and dropped) by the wrong ask


def test_the_oldest_sessions_go_first_past_the_limit() -> None:
    handed = HandedEntries(FakeClock(), kept=2)
    for session in ("a", "b", "c"):
        handed.hand_on(session, ENTRY)
    assert handed.take("a", ENTRY.dn) is None
    assert handed.take("b", ENTRY.dn) is ENTRY and handed.take("c", ENTRY.dn) is ENTRY
