"""« Changer mon mot de passe »: the one-form change for users who know their password.

Portals link here from their login page. One GET shows the form (identifier, current
password, new one twice, the rules); one POST changes the password, with the same checks as
everywhere else: the profile's policy, the directory's own (ppolicy), the limits, the audit
and the notice.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from sspr.domain.errors import (
    InvalidCredentials,
    PasswordRefusal,
    PasswordRefused,
    PolicyViolations,
)
from sspr.domain.limits import Area
from sspr.web.context import Page, profile_or_404, services
from sspr.web.errors import FormError, handle_blocks, handle_form_errors
from sspr.web.forms import ChangeKnownPasswordForm
from sspr.web.i18n import current_language
from sspr.web.messages import mismatch_text, refusal_text
from sspr.web.quality import policy_context
from sspr.web.sources import limit

bp = Blueprint("change", __name__, url_prefix="/change")
handle_blocks(bp)


@bp.get("/")
def choose() -> Page:
    """Which kind of account; `?profile=` goes straight to its form."""
    profile_id = request.args.get("profile", "")
    if services().rules.profile(profile_id) is not None:
        return redirect(url_for("change.form", profile_id=profile_id))
    return render_template("change/choose.html", profiles=services().rules.profiles)


@bp.route("/<profile_id>", methods=["GET", "POST"])
def form(profile_id: str) -> Page:
    """The whole change on one page; success is shown by the POST itself."""
    profile = profile_or_404(profile_id)
    form = ChangeKnownPasswordForm()
    refused: PolicyViolations | None = None
    if form.validate_on_submit():
        with handle_form_errors(form):
            limit(Area.ACCOUNT, profile.id)
            try:
                services().account.change_known_password(
                    profile, form.identifier.data or "", form.current.data or "",
                    form.password.data or "", form.confirmation.data or "", current_language(),
                )  # fmt: skip
            except InvalidCredentials as wrong:
                message = _("Identifiant ou mot de passe actuel incorrect.")
                raise FormError(None, message) from wrong
            except PolicyViolations as violations:
                refused = violations
                if violations.mismatch:
                    FormError("confirmation", mismatch_text()).populate_form(form)
            except PasswordRefused as directory_refusal:
                raise FormError(None, _refused_text(directory_refusal)) from directory_refusal
            else:
                # Nobody is logged in and nothing is kept to show: the POST says it is done.
                return render_template("reset/success.html", profile=profile, temporary=False)
    failed = refused.failed if refused else []
    # Anonymous until the POST proves the current password: the live check knows no account,
    # and the rules shown are those of accounts without a directory policy of their own.
    policy = services().reset.policy_for_account(profile, None, by_user=True)
    return render_template(
        "change/form.html", form=form, profile=profile, quality_context=f"change:{profile.id}",
        **policy_context(policy, profile, current_language(), failed,
                         refused.assessment if refused else None),
    )  # fmt: skip


def _refused_text(refused: PasswordRefused) -> str:
    if refused.reason is PasswordRefusal.LOCKED:
        return _(
            "Votre compte est verrouillé. Réinitialisez votre mot de passe ou contactez le support."
        )
    return refusal_text(refused.reason)
