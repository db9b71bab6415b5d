"""ALTCHA, a proof of work with no third party: challenges for the widget, and verification.

The widget (vendored from the npm package `altcha` into static/vendor/altcha/) fetches a
challenge from GET /captcha/challenge, makes the browser find its counter, and puts the
solution in the hidden field `altcha` of its form. The view that receives the form asks
`problem()` before doing anything else: a missing, forged, expired or already used payload
stops the request there. Nothing leaves this server, and no cookie is set.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

import altcha
from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from sspr.config import Settings
from sspr.domain.captcha import CaptchaGate, CaptchaRule
from sspr.domain.errors import TooManyAttempts
from sspr.domain.ports import Clock, Store
from sspr.domain.settings import Profile
from sspr.web.forms import FormError

ALGORITHM = "PBKDF2/SHA-256"
FIELD = "altcha"
# A genuine payload is about 700 characters; anything much longer is not one.
MAX_PAYLOAD = 4096

Outcome = Literal["ok", "missing", "invalid", "expired", "replayed"]

bp = Blueprint("captcha", __name__)


class Captcha:
    """Challenges signed with keys derived from the app's secret, each accepted once."""

    def __init__(self, settings: Settings, secret: bytes, store: Store, clock: Clock) -> None:
        config = settings.captcha
        self._config = config
        # Failures are only worth counting when some profile waits for them.
        self._counting = any(p.captcha == "after_failures" for p in settings.profiles)
        self._signing_key = _derive(secret, b"challenge")
        self._key_signing_key = _derive(secret, b"derived key")
        self._store = store
        self._clock = clock
        self.gate = CaptchaGate(store, CaptchaRule(config.failures_before, config.window_seconds))

    def required(self, profile: Profile, address: str | None) -> bool:
        """Whether this profile's forms need a solved captcha from this address now."""
        return self.gate.required(profile.captcha, address)

    def record_failure(self, address: str | None) -> None:
        """Count a failure from this address (for the profiles in "after_failures" mode)."""
        if self._counting:
            self.gate.record_failure(address)

    def challenge(self) -> dict[str, Any]:
        """A new signed challenge, as the widget reads it.

        Deterministic mode: the server draws the counter and signs the key it derives, so the
        browser's work is predictable (between half of max_counter and max_counter attempts)
        and checking a solution is one HMAC, not a key derivation.
        """
        top = self._config.max_counter
        counter = top // 2 + secrets.randbelow(top - top // 2 + 1)
        issued = altcha.create_challenge(
            ALGORITHM,
            self._config.cost,
            counter=counter,
            expires_at=int(self._clock.now()) + self._config.ttl_seconds,
            hmac_secret=self._signing_key,
            hmac_key_secret=self._key_signing_key,
        )
        return issued.to_dict()

    def verify(self, payload: str | None) -> Outcome:
        """Check a payload posted by the widget, and use its challenge up."""
        if not payload:
            return "missing"
        if len(payload) > MAX_PAYLOAD:
            return "invalid"
        try:
            parsed = altcha.Payload.from_base64(payload)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return "invalid"
        expires_at = parsed.challenge.parameters.expires_at
        # Against this app's clock; the library checks the system clock as well.
        if not isinstance(expires_at, int) or expires_at <= self._clock.now():
            return "expired"
        try:
            result = altcha.verify_solution(
                parsed, self._signing_key, hmac_key_secret=self._key_signing_key
            )
        except (ValueError, TypeError, AttributeError):
            return "invalid"
        if result.expired:
            return "expired"
        if not result.verified:
            return "invalid"
        # Single use: the first request to record the challenge wins, until it expires anyway.
        signature = str(parsed.challenge.signature).encode()
        used = "captcha:used:" + hashlib.sha256(signature).hexdigest()[:32]
        left = expires_at - self._clock.now() + 1
        if not self._store.add(used, b"1", max(1.0, left)):
            return "replayed"
        return "ok"


def _derive(secret: bytes, purpose: bytes) -> bytes:
    """A key of its own for each use of the app's secret."""
    return hmac.new(secret, b"sspr captcha: " + purpose, hashlib.sha256).digest()


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


def service() -> Captcha:
    """The application's captcha."""
    captcha: Captcha = current_app.extensions["sspr"].captcha
    return captcha


def required(profile: Profile) -> bool:
    """Whether this request's forms of this profile need a solved captcha."""
    return service().required(profile, request.remote_addr)


def widget(profile: Profile) -> Widget | None:
    """The widget to show on a form of this profile, or None when none is needed now."""
    return Widget(strings=widget_strings()) if required(profile) else None


def problem(profile: Profile) -> str | None:
    """On a post: None when no captcha is needed or a valid one came; else what to tell."""
    if not required(profile):
        return None
    outcome = service().verify(request.form.get(FIELD))
    if outcome == "ok":
        return None
    audit = current_app.extensions["sspr"].audit
    audit.record("captcha.refused", "failure", reason=outcome, profile=profile.id)
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
        FormError(None, message).populate_form(form)
    return message is None


def record_failure() -> None:
    """Count a failure from this request's address."""
    service().record_failure(request.remote_addr)


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


@bp.get("/captcha/challenge")
def challenge() -> Response:
    """A fresh challenge for the widget; no session is needed, and nothing may cache it."""
    try:
        current_app.extensions["sspr"].ip_limits.hit_challenge(request.remote_addr or "")
    except TooManyAttempts:
        response = jsonify({"error": "too many challenges"})
        response.status_code = 429
        return response
    response = jsonify(service().challenge())
    response.headers["Cache-Control"] = "no-store"
    return response
