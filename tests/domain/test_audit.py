"""Audit lines: one JSON schema for every event, and never a secret."""

from __future__ import annotations

import io
import json

from sspr.domain.audit import STANDARD_FIELDS, AuditEvent, AuditLog, Outcome
from tests.clock import FakeClock


def test_every_line_has_the_standard_fields_and_no_secret() -> None:
    stream = io.StringIO()
    audit = AuditLog([stream], clock=FakeClock(1_800_000_000.0),
                     context=lambda: {"request_id": "r1", "source_ip": "192.0.2.1"})  # fmt: skip
    audit.record(AuditEvent.PROOF_FAILED, Outcome.FAILURE, user_dn="uid=x", channel="sms",
                 code="123456", password="secret", answer="Paris")  # fmt: skip
    line = json.loads(stream.getvalue())
    assert set(STANDARD_FIELDS) <= set(line)
    assert line["time"] == "2027-01-15T08:00:00+00:00"
    assert (line["event"], line["outcome"], line["channel"]) == ("proof.failed", "failure", "sms")
    assert (line["request_id"], line["source_ip"], line["agent"]) == ("r1", "192.0.2.1", None)
    assert not {"code", "password", "answer"} & set(line)
    assert "123456" not in stream.getvalue() and "secret" not in stream.getvalue()


def test_cause_and_agent_note_are_standard_and_details_follow() -> None:
    stream = io.StringIO()
    audit = AuditLog([stream])
    record = audit.record(AuditEvent.HELPDESK_UNLOCK, Outcome.SUCCESS, agent="agent1",
                          agent_note="Appel du 12/03", cause=None, state="locked")  # fmt: skip
    line = json.loads(stream.getvalue())
    assert {"cause", "agent_note"} <= set(STANDARD_FIELDS)
    assert "reason" not in line and "error" not in line
    assert (line["agent_note"], line["cause"], line["state"]) == ("Appel du 12/03", None, "locked")
    assert record.event is AuditEvent.HELPDESK_UNLOCK and record.detail == {"state": "locked"}


def test_details_never_overwrite_a_standard_field() -> None:
    stream = io.StringIO()
    AuditLog([stream]).record(AuditEvent.PROOF_FAILED, Outcome.FAILURE, cause="x", time="forged")
    line = json.loads(stream.getvalue())
    assert line["time"] != "forged"


def test_every_event_name_is_family_dot_action() -> None:
    for event in AuditEvent:
        family, _, action = event.value.partition(".")
        assert family and action, event
