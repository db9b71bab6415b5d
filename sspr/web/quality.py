"""Password quality on the pages: the rules, entropy bar and advice, the live check, the generator.

The password pages (reset and Mon compte) render `policy_context`; their script asks
POST /password/check while the user types (rules needing the account or large lists) and
POST /password/suggest for a passphrase. The server checks the submitted password again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask_babel import gettext as _

from sspr.domain.errors import SourceLimited
from sspr.domain.flow import password_state
from sspr.domain.limits import Area
from sspr.domain.passphrase import generate_passphrase
from sspr.domain.password_step import user_context
from sspr.domain.policy import (
    Assessment,
    PasswordPolicy,
    Rule,
    UserContext,
    describe_for_browser,
)
from sspr.domain.ports import UserEntry
from sspr.domain.settings import Profile
from sspr.web.context import services
from sspr.web.forms import MAX_PASSWORD
from sspr.web.messages import breach_text, guess_feedback_text, rule_text, too_young_text
from sspr.web.sources import limit

bp = Blueprint("quality", __name__)

# Rules that read the account: unanswered until it is known.
ACCOUNT_RULES = frozenset({"no_user_parts"})
# Broken rules listed even when the page did not show them before (the account's directory
# policy, learnt by the one-form change's POST); the others have a sentence of their own.
LISTED = frozenset({"history", "min_classes", "no_user_parts", "length", "min_length"})


def default_tips() -> list[str]:
    """The tips shown when a profile sets none (the DGFiP guide's, then the CNIL's)."""
    return [
        _("Préférez une phrase de passe : plusieurs mots sans lien entre eux, faciles à retenir."),
        _("N'utilisez ni votre nom, ni votre identifiant, ni une date qui vous concerne."),
        _("N'utilisez pas ce mot de passe ailleurs, ni pour un compte personnel."),
        _("Ne le communiquez à personne, pas même au support."),
        _("Verrouillez votre poste lorsque vous vous absentez (touches Windows + L)."),
    ]


def tips_for(profile: Profile, lang: str) -> list[str]:
    """The profile's "Aide pour le choix du mot de passe", one tip a line; [] when off."""
    if profile.password_tips is False:
        return []
    if profile.password_tips is None:
        return default_tips()
    return [line.strip() for line in profile.password_tips.get(lang).splitlines() if line.strip()]


def policy_context(
    policy: PasswordPolicy,
    profile: Profile,
    lang: str,
    refused: Iterable[Rule] = (),
    assessment: Assessment | None = None,
) -> dict[str, Any]:
    """What _policy.html shows: rules, the entropy bar, zxcvbn's advice, tips, generator.

    `refused` are the rules a submitted password broke: their values win over the ones
    shown before (the one-form change learns the account's directory policy on its POST).
    """
    measured = {rule.code: rule for rule in refused}
    rules = [measured.get(rule.code, rule) for rule in policy.rules()]
    shown = {rule.code for rule in rules}
    rules += [rule for rule in refused if rule.code not in shown and rule.code in LISTED]
    failed = list(measured)
    required = policy.min_entropy_bits
    # Said before typing: the directory's minimum age refuses any password until then.
    not_before = policy.not_before or _value(measured.get("too_young"))
    too_young = [too_young_text(not_before)] if not_before else []
    return {
        "rules": [(rule, rule_text(rule)) for rule in rules],
        "rules_data": describe_for_browser(rules, policy.unwaivable),
        "failed": failed,
        "alerts": too_young + [text for code in failed if (text := breach_text(code))],
        "entropy": (
            {"required": required, "bits": assessment.bits if assessment else 0}
            if required
            else None
        ),
        "advice": advice(assessment) if assessment and "min_guess_score" in failed else [],
        "tips": tips_for(profile, lang),
        "generator": profile.password_generator,
    }


def _value(rule: Rule | None) -> int | None:
    return rule.value if rule is not None and isinstance(rule.value, int) else None


def advice(assessment: Assessment) -> list[str]:
    """zxcvbn's warning and suggestions, translated."""
    guess = assessment.guess
    if guess is None:
        return []
    keys = ([guess.warning] if guess.warning else []) + list(guess.suggestions)
    return [guess_feedback_text(key) for key in keys] or [guess_feedback_text("")]


@bp.post("/password/check")
def check() -> Response:
    """The rules a browser cannot check alone, for the password being typed; never stored."""
    subject = _subject_or_error()
    if isinstance(subject, Response):
        return subject
    profile, entry, by_user = subject
    password = _password()
    policy = services().reset.policy_for_account(profile, entry, by_user=by_user)
    assessment = policy.assess(password, user_context(entry) if entry else UserContext())
    failed = [rule.code for rule in assessment.failed if rule.live or rule.server_live]
    # Without an account (the one-form change), its rules are not answered: not even "met".
    checked = [rule.code for rule in policy.rules() if rule.server_live]
    if entry is None:
        checked = [code for code in checked if code not in ACCOUNT_RULES]
        failed = [code for code in failed if code not in ACCOUNT_RULES]
    return _private(
        jsonify(
            failed=failed,
            checked=checked,
            bits=assessment.bits,
            words=assessment.words,
            advice=advice(assessment) if "min_guess_score" in failed else [],
        )
    )


@bp.post("/password/suggest")
def suggest() -> Response:
    """A passphrase the profile's policy accepts; shown once, kept nowhere."""
    from sspr import data

    subject = _subject_or_error()
    if isinstance(subject, Response):
        return subject
    profile, entry, by_user = subject
    if not profile.password_generator:
        return _private(jsonify(error="off"), 404)
    policy = services().reset.policy_for_account(profile, entry, by_user=by_user)
    user = user_context(entry) if entry else UserContext()
    suggestion = generate_passphrase(policy, data.passphrase_words(), user)
    return _private(jsonify(password=suggestion.password, bits=suggestion.bits))


def _subject_or_error() -> tuple[Profile, UserEntry | None, bool] | Response:
    try:
        limit(Area.PASSWORD_CHECK)
    except SourceLimited:
        return _private(jsonify(error="too_many"), 429)
    body = request.get_json(silent=True)
    context = str(body.get("context", "")) if isinstance(body, dict) else ""
    subject = _subject(context)
    if subject is None:
        return _private(jsonify(error="expired"), 403)
    # A reset is written by the service account; the other pages change with the user's rights.
    return (*subject, context != "reset")


def _subject(context: str) -> tuple[Profile, UserEntry | None] | None:
    """The profile and account of a proven reset flow, or of a Mon compte session.

    "change:<profile>" is the one-form change, whose user is not proven yet: only the rules
    that need no account are checked (nothing about an account can leak).
    """
    from sspr.web.account_session import load_user
    from sspr.web.flow import current_flow

    rules = services().rules
    if context.startswith("change:"):
        anonymous = rules.profile(context.removeprefix("change:"))
        return None if anonymous is None else (anonymous, None)
    if context == "reset":
        flow = current_flow()
        if flow is None or not flow.proven or flow.dn is None:
            return None
        dn, profile_id, state = flow.dn, flow.profile, flow.password_state
    elif context == "account":
        load_user()
        current = g.account
        if current is None:
            return None
        dn, profile_id, state = current.dn, current.profile, current.password_state
    else:
        return None
    entry = services().directory.read_user(dn)
    profile = rules.profile(profile_id)
    if entry is None or profile is None or password_state(entry) != state:
        return None
    return profile, entry


def _password() -> str:
    body = request.get_json(silent=True)
    value = body.get("password", "") if isinstance(body, dict) else ""
    return str(value)[:MAX_PASSWORD]


def _private(response: Response, status: int = 200) -> Response:
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
