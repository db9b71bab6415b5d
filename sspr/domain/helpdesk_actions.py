"""The helpdesk's actions, in one registry: what each is called, audited as, and requires."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sspr.domain.audit import AuditEvent


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "mark for translation, later"
    """Mark a French text for the catalogs; the web layer translates it when shown."""
    return text


class HelpdeskAction(enum.StrEnum):
    """What an agent may do to an account (the names the configuration uses)."""

    SEND_RESET = "send_reset"
    IDENTITY_CHECK = "identity_check"
    TEMPORARY_PASSWORD = "temporary_password"  # noqa: S105 - an action name
    UNLOCK = "unlock"
    CLEAR_RECOVERY = "clear_recovery"


@dataclass(frozen=True)
class ActionInfo:
    """One action: its audit event, its title (French msgid), whether a reason is asked."""

    event: AuditEvent
    title: str
    reason_required_by_default: bool = False


ACTIONS: dict[HelpdeskAction, ActionInfo] = {
    HelpdeskAction.SEND_RESET: ActionInfo(
        AuditEvent.HELPDESK_RESET_SENT, N_("Envoyer un lien de réinitialisation")
    ),
    HelpdeskAction.IDENTITY_CHECK: ActionInfo(
        AuditEvent.HELPDESK_IDENTITY_CODE_SENT, N_("Vérifier l'identité de l'appelant")
    ),
    HelpdeskAction.TEMPORARY_PASSWORD: ActionInfo(
        AuditEvent.HELPDESK_TEMPORARY_PASSWORD, N_("Définir un mot de passe temporaire")
    ),
    HelpdeskAction.UNLOCK: ActionInfo(AuditEvent.HELPDESK_UNLOCK, N_("Déverrouiller le compte")),
    HelpdeskAction.CLEAR_RECOVERY: ActionInfo(
        AuditEvent.HELPDESK_RECOVERY_CLEARED,
        N_("Effacer les données de récupération"),
        reason_required_by_default=True,
    ),
}

REASONS_REQUIRED_BY_DEFAULT = frozenset(
    action for action, info in ACTIONS.items() if info.reason_required_by_default
)
