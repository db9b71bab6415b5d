"""One contract for the audit trail on both backends: newest first, capped, shared, paged."""

from __future__ import annotations

import io
import json

import pytest

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.ports import AuditTrail, Store
from sspr.store import open_audit_trail
from tests.clock import FakeClock
from tests.store.conftest import Backend


def trail_of(store: Store, max_events: int = 1000) -> AuditTrail:
    trail = open_audit_trail(store, max_events)
    assert trail is not None
    return trail


def event(number: int) -> str:
    return json.dumps({"event": "proof.failed", "outcome": "failure", "n": number})


def numbers(trail: AuditTrail) -> list[int]:
    return [json.loads(line)["n"] for line in trail.newest()]


def test_an_empty_trail_reads_nothing(store: Store) -> None:
    assert list(trail_of(store).newest()) == []


def test_events_come_back_newest_first_exactly_as_written(store: Store) -> None:
    trail = trail_of(store)
    trail.append([event(1), event(2)])
    trail.append([event(3)])
    accented = json.dumps({"event": "helpdesk.unlock", "agent_note": "Appel de Mme Périé"})
    trail.append([accented])
    assert list(trail.newest()) == [accented, event(3), event(2), event(1)]


def test_reading_pages_through_more_than_one_batch(store: Store) -> None:
    trail = trail_of(store, max_events=5000)
    for start in range(0, 1200, 300):
        trail.append([event(n) for n in range(start, start + 300)])
    assert numbers(trail) == list(range(1199, -1, -1))


def test_a_reader_stops_early_without_reading_the_rest(store: Store) -> None:
    trail = trail_of(store)
    trail.append([event(n) for n in range(10)])
    reader = trail.newest()
    assert [json.loads(next(reader))["n"] for _ in range(3)] == [9, 8, 7]


def test_the_oldest_events_go_beyond_the_cap(store: Store) -> None:
    cap = 1000
    trail = trail_of(store, max_events=cap)
    for start in range(0, 3 * cap, 250):
        trail.append([event(n) for n in range(start, start + 250)])
    kept = numbers(trail)
    # Redis trims whole blocks (MAXLEN ~): never fewer than the cap, and never many more.
    assert cap <= len(kept) <= cap + 200
    assert kept == list(range(3 * cap - 1, 3 * cap - 1 - len(kept), -1))


def test_every_instance_on_the_store_appends_to_and_reads_one_trail(
    backend: Backend, clock: FakeClock
) -> None:
    first, second = trail_of(backend.open(clock)), trail_of(backend.open(clock))
    first.append([event(1)])
    second.append([event(2)])
    first.append([event(3)])
    assert numbers(first) == numbers(second) == [3, 2, 1]


@pytest.mark.parametrize("max_events", [1, 3])
def test_a_small_cap_still_keeps_the_newest(store: Store, max_events: int) -> None:
    trail = trail_of(store, max_events=max_events)
    trail.append([event(n) for n in range(5)])
    assert numbers(trail)[:max_events] == list(range(4, 4 - max_events, -1))


def test_a_request_s_events_reach_the_trail_together_at_its_end(store: Store) -> None:
    lines = io.StringIO()
    audit = AuditLog([lines], trail=trail_of(store))
    audit.hold()
    audit.record(AuditEvent.RESET_REQUESTED, Outcome.SUCCESS, user_dn="uid=a")
    audit.record(AuditEvent.CODE_SENT, Outcome.SUCCESS, user_dn="uid=a", code="123456")
    assert list(audit.newest()) == []  # held until the request ends…
    assert len(lines.getvalue().splitlines()) == 2  # …while the streams have them at once
    audit.release()
    events = [json.loads(line) for line in audit.newest()]
    assert [e["event"] for e in events] == ["code.sent", "reset.requested"]
    assert all("code" not in e for e in events)  # no secret in the shared trail either
    # Outside a request (the outbox's sender thread), each event is written as it comes.
    audit.record(AuditEvent.NOTIFICATION_SENT, Outcome.SUCCESS, user_dn="uid=a")
    assert json.loads(next(audit.newest()))["event"] == "notification.sent"
