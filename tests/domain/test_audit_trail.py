"""Reading the audit trail back: newest first, filtered, reading no further than needed."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sspr.domain.audit_trail import recent_events

JEANNE = "uid=jeanne.martin,ou=usagers,ou=people,dc=example,dc=org"
PAUL = "uid=paul.durand,ou=usagers,ou=people,dc=example,dc=org"


def newest_first(*events: dict[str, object]) -> list[str]:
    """The trail's lines as the store hands them out, given the events oldest first."""
    return [json.dumps(event) for event in reversed(events)]


def test_newest_first_filtered_by_user_and_family() -> None:
    lines = newest_first(
        {"event": "reset.requested", "outcome": "success", "user_dn": JEANNE},
        {"event": "proof.failed", "outcome": "failure", "user_dn": JEANNE},
        {"event": "helpdesk.unlock", "outcome": "success", "user_dn": PAUL, "agent": "a.b"},
        {"event": "proof.succeeded", "outcome": "success", "user_dn": JEANNE.upper()},
    )
    names = [e["event"] for e in recent_events(lines, user="jeanne.martin")]
    assert names == ["proof.succeeded", "proof.failed", "reset.requested"]
    assert [e["event"] for e in recent_events(lines, user=JEANNE, event="proof")] == [
        "proof.succeeded",
        "proof.failed",
    ]
    assert [e["event"] for e in recent_events(lines, user="a.b")] == ["helpdesk.unlock"]
    # A family matches whole names only: "proof" is not "proofs…", "help" is not "helpdesk".
    assert recent_events(lines, event="help") == []
    assert len(recent_events(lines, limit=2)) == 2


def test_reading_stops_at_the_limit_and_broken_lines_are_skipped() -> None:
    read: list[int] = []

    def trail() -> Iterator[str]:
        yield "not json"
        yield "[1, 2]"
        for n in range(1000, 0, -1):
            read.append(n)
            yield json.dumps({"event": "account.login", "outcome": "success", "n": n})

    events = recent_events(trail(), limit=3)
    assert [e["n"] for e in events] == [1000, 999, 998]
    assert read == [1000, 999, 998]  # nothing older was fetched
    assert recent_events(trail(), limit=0) == []


def test_an_empty_trail_has_no_events() -> None:
    assert recent_events([]) == []


def test_a_dn_matches_as_ldap_compares_names() -> None:
    lines = newest_first({"event": "proof.failed", "outcome": "failure", "user_dn": JEANNE})
    typed = "UID=jeanne.martin, ou=usagers, ou=people, dc=example, dc=org"
    assert [e["event"] for e in recent_events(lines, user=typed)] == ["proof.failed"]
    assert recent_events(lines, user=f"uid=paul.durand,{JEANNE.partition(',')[2]}") == []
