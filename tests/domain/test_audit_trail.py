"""Reading the audit trail back: newest first, filtered, from the end of the file only."""

from __future__ import annotations

import json
from pathlib import Path

from sspr.domain.audit_trail import recent_events

JEANNE = "uid=jeanne.martin,ou=usagers,ou=people,dc=example,dc=org"
PAUL = "uid=paul.durand,ou=usagers,ou=people,dc=example,dc=org"


def write(path: Path, *events: dict[str, object]) -> None:
    with path.open("a", encoding="utf-8") as stream:
        for event in events:
            stream.write(json.dumps(event) + "\n")


def test_newest_first_filtered_by_user_and_family(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(
        path,
        {"event": "reset.requested", "outcome": "success", "user_dn": JEANNE},
        {"event": "proof.failed", "outcome": "failure", "user_dn": JEANNE},
        {"event": "helpdesk.unlock", "outcome": "success", "user_dn": PAUL, "agent": "a.b"},
        {"event": "proof.succeeded", "outcome": "success", "user_dn": JEANNE.upper()},
    )
    names = [e["event"] for e in recent_events(path, user="jeanne.martin")]
    assert names == ["proof.succeeded", "proof.failed", "reset.requested"]
    assert [e["event"] for e in recent_events(path, user=JEANNE, event="proof")] == [
        "proof.succeeded",
        "proof.failed",
    ]
    assert [e["event"] for e in recent_events(path, user="a.b")] == ["helpdesk.unlock"]
    # A family matches whole names only: "proof" is not "proofs…", "help" is not "helpdesk".
    assert recent_events(path, event="help") == []
    assert len(recent_events(path, limit=2)) == 2


def test_only_the_tail_is_read_and_broken_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, *({"event": "login", "outcome": "success", "n": i} for i in range(1000)))
    with path.open("a", encoding="utf-8") as stream:
        stream.write("not json\n[1, 2]\n")
    write(path, {"event": "login", "outcome": "failure", "n": 1000})
    events = recent_events(path, tail_bytes=2000)
    assert events[0]["n"] == 1000
    assert 0 < len(events) < 60  # what 2000 bytes hold, the cut first line left out
    assert all(isinstance(e["n"], int) for e in events)


def test_a_missing_file_has_no_events(tmp_path: Path) -> None:
    assert recent_events(tmp_path / "nothing.jsonl") == []


def test_older_lines_are_read_in_todays_schema(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(
        path,
        {"event": "login", "outcome": "failure", "reason": "invalid_credentials"},
        {"event": "password.changed", "outcome": "success", "channel": "self", "reason": None},
        {"event": "helpdesk.unlock", "outcome": "success", "reason": "Appel", "agent": "a1"},
        {"event": "helpdesk.reset_sent", "outcome": "failure", "error": "ResendTooSoon"},
        {"event": "proof.failed", "outcome": "failure", "reason": "wrong_answer"},
    )
    events = list(reversed(recent_events(path)))
    assert [e["event"] for e in events] == [
        "account.login", "account.password_changed", "helpdesk.unlock", "helpdesk.reset_sent",
        "proof.failed",
    ]  # fmt: skip
    assert events[0]["cause"] == "invalid_credentials"
    assert events[1]["channel"] is None
    assert (events[2]["agent_note"], events[2]["cause"]) == ("Appel", None)
    assert (events[3]["agent_note"], events[3]["cause"]) == (None, "ResendTooSoon")
    assert events[4]["cause"] == "wrong_answer"
    assert not any("reason" in e or "error" in e for e in events)
