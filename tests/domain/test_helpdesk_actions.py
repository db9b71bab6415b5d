"""One registry of the helpdesk's actions: each has its event, its title and its default."""

from __future__ import annotations

from sspr.config import HelpdeskConfig
from sspr.domain.audit import AuditEvent
from sspr.domain.helpdesk_actions import ACTIONS, REASONS_REQUIRED_BY_DEFAULT, HelpdeskAction

BASE = "ou=staff,dc=example,dc=org"
GROUP = "cn=support,ou=groups,dc=example,dc=org"


def test_every_action_is_registered_with_a_helpdesk_event() -> None:
    assert set(ACTIONS) == set(HelpdeskAction)
    events = [info.event for info in ACTIONS.values()]
    assert len(set(events)) == len(events)
    assert all(event.startswith("helpdesk.") and event in set(AuditEvent) for event in events)


def test_the_configuration_defaults_come_from_the_registry() -> None:
    config = HelpdeskConfig(base=BASE, group_dn=GROUP)
    assert set(config.reasons_required) == REASONS_REQUIRED_BY_DEFAULT == {"clear_recovery"}
    assert config.to_domain().reasons_required == REASONS_REQUIRED_BY_DEFAULT
    custom = HelpdeskConfig(base=BASE, group_dn=GROUP, reasons_required=["unlock"])
    assert custom.to_domain().reasons_required == {HelpdeskAction.UNLOCK}
