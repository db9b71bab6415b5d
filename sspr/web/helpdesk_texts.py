"""The console's texts: event and action names, refusals, and display helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sspr.domain.audit import AuditEvent
from sspr.domain.errors import (
    AccountBlocked,
    ActionUnavailable,
    DeliveryFailed,
    IdentityNotChecked,
    NotEnrolled,
    PasswordRefused,
    ReasonRequired,
    ResendTooSoon,
    SsprError,
    TooManySends,
)
from sspr.web.errors import FormError
from sspr.web.messages import refusal_text, resend_text, sends_text, wait_text

# The audit page's event families, in the order the filter lists them.
EVENT_FAMILIES = {
    AuditEvent.RESET_REQUESTED: _l("Demande de réinitialisation"),
    AuditEvent.CODE_SENT: _l("Code envoyé"),
    "proof": _l("Preuve réussie ou échouée"),
    AuditEvent.ACCOUNT_BLOCKED: _l("Blocage après échecs"),
    AuditEvent.PASSWORD_CHANGED: _l("Mot de passe modifié"),
    AuditEvent.ENROLMENT_CHANGED: _l("Données de récupération modifiées"),
    AuditEvent.ACCOUNT_LOGIN: _l("Connexion à « Mon compte »"),
    AuditEvent.ACCOUNT_PASSWORD_CHANGED: _l("Mot de passe changé dans « Mon compte »"),
    "helpdesk": _l("Actions du support"),
}
EVENT_LABELS = {
    AuditEvent.PROOF_SUCCEEDED: _l("Preuve réussie"),
    AuditEvent.PROOF_FAILED: _l("Preuve échouée"),
    AuditEvent.NOTIFICATION_SENT: _l("Notification"),
    AuditEvent.PASSWORD_BREACH_CHECKED: _l("Mot de passe vérifié dans les fuites connues"),
    AuditEvent.HELPDESK_LOGIN: _l("Support : connexion"),
    AuditEvent.HELPDESK_LOGOUT: _l("Support : déconnexion"),
    AuditEvent.HELPDESK_RESET_SENT: _l("Support : réinitialisation envoyée"),
    AuditEvent.HELPDESK_IDENTITY_CODE_SENT: _l("Support : code de vérification envoyé"),
    AuditEvent.HELPDESK_IDENTITY_CHECKED: _l("Support : vérification d'identité"),
    AuditEvent.HELPDESK_TEMPORARY_PASSWORD: _l("Support : mot de passe temporaire"),
    AuditEvent.HELPDESK_UNLOCK: _l("Support : déverrouillage"),
    AuditEvent.HELPDESK_RECOVERY_CLEARED: _l("Support : données de récupération effacées"),
    AuditEvent.ADMIN_EXPLAIN: _l("Diagnostic d'un administrateur (sspr explain)"),
    AuditEvent.HELPDESK_PASSWORD_CHANGED: _l("Support : mot de passe de l'agent changé"),
}

# The codes audit lines carry in `cause` and `channel`, in words.
DETAIL_LABELS = {
    "invalid_credentials": _l("identifiant ou mot de passe incorrect"),
    "locked": _l("compte verrouillé"),
    "password_change_needed": _l("mot de passe à changer d'abord"),
    "not_staff": _l("pas autorisé à utiliser la console"),
    "reauth": _l("mot de passe redemandé avant une modification"),
    "expired": _l("mot de passe expiré"),
    "must_change": _l("mot de passe à changer"),
    "wrong_answer": _l("réponse incorrecte"),
    "wrong_code": _l("code incorrect"),
    "code_expired": _l("code expiré ou inexistant"),
    "code_attempts": _l("code épuisé (trop d'essais)"),
    "code_revoked": _l("code remplacé par un plus récent"),
    "code_used": _l("code déjà utilisé"),
    "code_password_changed": _l("code caduc : le mot de passe a changé"),
    "too_many_failures": _l("trop d'échecs"),
    "destination": _l("trop de codes vers ce destinataire"),
    "source_reset": _l("trop de demandes depuis cette adresse (réinitialisation)"),
    "source_account": _l("trop de demandes depuis cette adresse (« Mon compte »)"),
    "source_helpdesk": _l("trop de demandes depuis cette adresse (console du support)"),
    "source_captcha": _l("trop de demandes depuis cette adresse (anti-robot)"),
    "temporary": _l("mot de passe temporaire"),
    "reminder_snoozed": _l("rappel du mobile reporté"),
    "questions": _l("questions de sécurité"),
    "mobile": _l("numéro de mobile"),
    "mail": _l("adresse email"),
    "answers_format": _l("réponses converties au nouveau format"),
    "not_enrolled": _l("aucun moyen de vérification enregistré"),
    "identity_not_checked": _l("identité non vérifiée"),
    "no_channel": _l("aucun moyen d'envoi possible"),
    "several_profiles": _l("compte dans plusieurs profils"),
    "too_short": _l("mot de passe trop court"),
    "in_history": _l("mot de passe déjà utilisé"),
    "quality": _l("mot de passe trop faible"),
    "too_young": _l("mot de passe changé trop récemment"),
    "not_allowed": _l("changement non autorisé"),
    "email": _l("email"),
    "sms": _l("SMS"),
    "question": _l("question de sécurité"),
    "self": _l("par l'utilisateur"),
}
# Exception names in `cause` (helpdesk actions): "ResendTooSoon", "CodeExpired: used"...
ERROR_LABELS = {
    "ResendTooSoon": _l("code déjà envoyé il y a moins d'une minute"),
    "TooManySends": _l("trop de codes envoyés"),
    "DeliveryFailed": _l("envoi impossible"),
    "CodeInvalid": _l("code incorrect"),
    "CodeExpired": _l("code plus valable"),
    "AccountBlocked": _l("trop de tentatives"),
    "TooManyAttempts": _l("trop de tentatives"),  # the name in lines written before
    "NotEnrolled": _l("aucun moyen de vérification enregistré"),
    "ActionUnavailable": _l("action impossible"),
    "PasswordRefused": _l("mot de passe refusé par l'annuaire"),
    "IdentityNotChecked": _l("identité non vérifiée"),
}


def event_detail(value: object) -> str:
    """An audit line's code in the agent's language; an unknown one as it is."""
    text = str(value)
    name, sep, rest = text.partition(": ")
    if name in ERROR_LABELS:
        label = str(ERROR_LABELS[name])
        return _("%(what)s (%(why)s)", what=label, why=event_detail(rest)) if sep else label
    label = DETAIL_LABELS.get(text)
    return str(label) if label else text


def refusal(problem: SsprError) -> FormError | None:
    """How an action's refusal shows on its form; None for what is no refusal."""
    if isinstance(problem, ReasonRequired):
        return FormError("reason", _("Indiquez la raison de cette action."))
    message = refusal_message(problem)
    return FormError(None, message) if message is not None else None


def refusal_message(problem: SsprError) -> str | None:
    """A sentence for the agent, for each way an action can be refused."""
    if isinstance(problem, IdentityNotChecked):
        return _("Vérifiez d'abord l'identité de l'appelant.")
    if isinstance(problem, ActionUnavailable | NotEnrolled):
        why = problem.why if isinstance(problem, ActionUnavailable) else "not_enrolled"
        return _unavailable_text(why)
    if isinstance(problem, AccountBlocked):
        return (
            wait_text(problem.retry_after)
            + " "
            + _("Déverrouillez le compte pour lever ce blocage.")
        )
    if isinstance(problem, ResendTooSoon):
        return resend_text(problem.retry_after)
    if isinstance(problem, TooManySends):
        return sends_text(problem.retry_after)
    if isinstance(problem, DeliveryFailed):
        return _("Le message n'a pas pu être envoyé. Réessayez dans quelques minutes.")
    if isinstance(problem, PasswordRefused):
        return refusal_text(problem.reason)
    return None  # not a refusal (the directory is down…): the application's error pages


def _unavailable_text(why: str) -> str:
    texts = {
        "no_channel": _("Aucun moyen d'envoi de ce type n'est enregistré sur ce compte."),
        "not_enrolled": _(
            "Ce compte ne peut pas franchir toutes les étapes de son profil : il n'est pas enrôlé."
        ),
        "several_profiles": _("Ce compte appartient à plusieurs profils : action impossible."),
        "account_disabled": _(
            "Ce compte est désactivé dans l'annuaire : un nouveau mot de passe ne permettrait pas "
            "de se connecter. Réactivez-le d'abord."
        ),
        "account_expired": _(
            "Ce compte a expiré dans l'annuaire : un nouveau mot de passe ne permettrait pas "
            "de se connecter. Prolongez-le d'abord."
        ),
    }
    return texts.get(why, _("Cette action est impossible sur ce compte."))


def console_globals() -> dict[str, Any]:
    """What every console page may use."""
    return {
        "local_time": local_time, "event_time": event_time, "event_label": event_label,
        "event_detail": event_detail,
    }  # fmt: skip


def local_time(value: datetime) -> str:
    """A directory time (aware) in the configured time zone."""
    return format_datetime(value, "medium")


def event_time(value: object) -> str:
    """An audit line's ISO time in the configured time zone."""
    try:
        return format_datetime(datetime.fromisoformat(str(value)), "medium")
    except ValueError:
        return str(value)


def event_label(name: object) -> str:
    """A readable name for an audit event."""
    label = EVENT_LABELS.get(str(name)) or EVENT_FAMILIES.get(str(name))
    return str(label) if label else str(name)
