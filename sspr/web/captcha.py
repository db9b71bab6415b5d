"""ALTCHA, a proof of work with no third party: challenges for the widget, and verification.

The engine is sspr.captcha. The widget (vendored from the npm package `altcha` into
static/vendor/altcha/) fetches a
challenge from GET /captcha/challenge, makes the browser find its counter, and puts the
solution in the hidden field `altcha` of its form. The view that receives the form asks
`problem()` before doing anything else: a missing, forged, expired or already used payload
stops the request there. Nothing leaves this server, and no cookie is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from sspr.domain.audit import AuditEvent, Outcome
from sspr.domain.errors import AccountBlocked, Blocked, CodeInvalid, WrongAnswer
from sspr.domain.limits import Area
from sspr.domain.settings import Profile
from sspr.web.context import services
from sspr.web.sources import limit, source_of

FIELD = "altcha"

bp = Blueprint("captcha", __name__)


@dataclass(frozen=True)
class Widget:
    """What a template needs to show the widget: its texts and its settings."""

    strings: dict[str, str]
    configuration: dict[str, Any] = field(
        default_factory=lambda: {
            # Nothing links to altcha.org, and no pointer or scroll data is collected.
            "hideFooter": True,
            "hideLogo": True,
            "humanInteractionSignature": False,
        }
    )


def required(profile: Profile) -> bool:
    """Whether this request's forms of this profile need a solved captcha."""
    return services().captcha.required(profile, source_of())


def widget(profile: Profile) -> Widget | None:
    """The widget to show on a form of this profile, or None when none is needed now."""
    return Widget(strings=widget_strings()) if required(profile) else None


def problem(profile: Profile) -> str | None:
    """On a post: None when no captcha is needed or a valid one came; else what to tell."""
    if not required(profile):
        return None
    outcome = services().captcha.verify(request.form.get(FIELD))
    if outcome == "ok":
        return None
    services().audit.record(
        AuditEvent.CAPTCHA_REFUSED, Outcome.FAILURE, cause=outcome, profile=profile.id
    )
    message: str
    if outcome == "expired":
        message = _(
            "La vérification anti-robot a expiré. Cochez de nouveau la case « Je ne suis pas "
            "un robot », puis envoyez le formulaire."
        )
    else:
        message = _(
            "Veuillez confirmer que vous n'êtes pas un robot : cochez la case « Je ne suis "
            "pas un robot », attendez la fin de la vérification, puis envoyez le formulaire."
        )
    return message


def check(form: FlaskForm, profile: Profile) -> bool:
    """On a post: whether the captcha is settled; if not, the form says why."""
    message = problem(profile)
    if message is not None:
        form.form_errors.append(message)
    return message is None


def record_failure() -> None:
    """Count a failure from this request's source."""
    services().captcha.record_failure(source_of())


@contextmanager
def failures_counted() -> Iterator[None]:
    """Count a failed proof raised in the block (wrong answer or code, a block); re-raise."""
    try:
        yield
    except (WrongAnswer, CodeInvalid, AccountBlocked):
        record_failure()
        raise


def widget_strings() -> dict[str, str]:
    """The widget's texts in the user's language (keys of ALTCHA's `Strings`)."""
    return {
        "label": _("Je ne suis pas un robot"),
        "verify": _("Vérifier"),
        "verifying": _("Vérification en cours…"),
        "verified": _("Vérification réussie"),
        "verificationRequired": _("Vérification requise : cochez la case."),
        "waitAlert": _("Vérification en cours, veuillez patienter."),
        "error": _("La vérification a échoué. Cochez de nouveau la case pour réessayer."),
        "expired": _("La vérification a expiré. Cochez de nouveau la case."),
        "loading": _("Chargement…"),
        "reload": _("Recommencer"),
        "cancel": _("Annuler"),
        "ariaLinkLabel": _("Site d'ALTCHA (nouvelle fenêtre)"),
        "footer": "",
        "enterCode": "",
        "enterCodeAria": "",
        "enterCodeFromImage": "",
        "getAudioChallenge": "",
    }


@bp.errorhandler(Blocked)
def _too_many_challenges(error: Blocked) -> Response:
    response = jsonify({"error": "too many challenges"})
    response.status_code = 429
    return response


@bp.get("/captcha/challenge")
def challenge() -> Response:
    """A fresh challenge for the widget; no session is needed, and nothing may cache it."""
    limit(Area.CAPTCHA)
    response = jsonify(services().captcha.challenge())
    response.headers["Cache-Control"] = "no-store"
    return response
