"""One error hierarchy, and the one notify-after-write that audits its outcome."""

from __future__ import annotations

import io
import json

import pytest

from sspr.domain import errors
from sspr.domain.audit import AuditLog
from sspr.domain.errors import DeliveryFailed, StoreUnavailable
from sspr.domain.notify import notify_after_write


def test_every_domain_error_lives_in_one_module_under_one_of_four_kinds() -> None:
    kinds = (errors.Unavailable, errors.Blocked, errors.FlowGone, errors.Refusal)
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.SsprError)
    ]
    assert len(classes) > 25
    for cls in classes:
        if cls in (errors.SsprError, *kinds):
            continue
        assert issubclass(cls, kinds), cls
        assert sum(issubclass(cls, kind) for kind in kinds) == 1, cls


def test_no_other_domain_module_defines_an_error() -> None:
    import importlib
    import pkgutil

    import sspr.domain

    for module in pkgutil.iter_modules(sspr.domain.__path__):
        if module.name == "errors":
            continue
        loaded = importlib.import_module(f"sspr.domain.{module.name}")
        defined = [
            name
            for name, value in vars(loaded).items()
            if isinstance(value, type)
            and issubclass(value, Exception)
            and value.__module__ == loaded.__name__
        ]
        assert defined == [], (module.name, defined)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_notice_handed_over_is_audited_by_its_sender() -> None:
    """Handed to the outbox is not sent yet: the outbox writes the line once it is."""
    stream = io.StringIO()
    sent: list[str] = []
    notify_after_write(
        AuditLog([stream]), "password_changed", lambda: sent.append("ok"), user_dn="uid=a"
    )
    assert sent == ["ok"]
    assert lines(stream) == []


def test_a_failed_notice_is_audited_and_never_raised() -> None:
    stream = io.StringIO()

    def fail() -> None:
        raise DeliveryFailed("smtp: connection refused")

    notify_after_write(
        AuditLog([stream]), "personal_data_changed", fail, user_dn="uid=a", agent_note="agent note"
    )
    [line] = lines(stream)
    assert line["agent_note"] == "agent note"
    assert (line["event"], line["outcome"], line["cause"]) == (
        "notification.sent", "failure", "personal_data_changed: smtp: connection refused"
    )  # fmt: skip


def test_other_errors_of_a_notice_are_bugs_and_rise() -> None:
    def broken() -> None:
        raise KeyError("template")

    with pytest.raises(KeyError):
        notify_after_write(AuditLog([io.StringIO()]), "password_changed", broken)


def test_a_notice_the_queue_cannot_take_is_audited_too() -> None:
    stream = io.StringIO()

    def store_down() -> None:
        raise StoreUnavailable("redis: timeout")

    notify_after_write(AuditLog([stream]), "email_changed", store_down, user_dn="uid=a")
    [line] = lines(stream)
    assert (line["outcome"], line["cause"], line["user_dn"]) == (
        "failure", "email_changed: redis: timeout", "uid=a"
    )  # fmt: skip
