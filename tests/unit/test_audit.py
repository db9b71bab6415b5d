"""Audit lines: one JSON schema for every event, and never a secret."""

from __future__ import annotations

import io
import json

from sspr.domain.audit import STANDARD_FIELDS, AuditLog
from tests.clock import FakeClock


def test_every_line_has_the_standard_fields_and_no_secret() -> None:
    stream = io.StringIO()
    audit = AuditLog([stream], clock=FakeClock(1_800_000_000.0),
                     context=lambda: {"request_id": "r1", "source_ip": "192.0.2.1"})  # fmt: skip
    audit.record("proof.failed", "failure", user_dn="uid=x", channel="sms",
                 code="123456", password="secret", answer="Paris")  # fmt: skip
    line = json.loads(stream.getvalue())
    assert set(STANDARD_FIELDS) <= set(line)
    assert line["time"] == "2027-01-15T08:00:00+00:00"
    assert (line["event"], line["outcome"], line["channel"]) == ("proof.failed", "failure", "sms")
    assert (line["request_id"], line["source_ip"], line["agent"]) == ("r1", "192.0.2.1", None)
    assert not {"code", "password", "answer"} & set(line)
    assert "123456" not in stream.getvalue() and "secret" not in stream.getvalue()
