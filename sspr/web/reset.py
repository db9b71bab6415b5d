"""The reset journey: chooser, identify, new password, success (proof pages: proofs.py)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from sspr.domain.errors import NotEnrolled, PolicyViolations
from sspr.domain.flow import Flow
from sspr.domain.limits import Area
from sspr.domain.settings import Profile
from sspr.web import captcha
from sspr.web.context import Page, profile_or_404, services
from sspr.web.errors import FormError, handle_blocks, handle_form_errors, handle_lost_flows, restart
from sspr.web.flow import current_flow, finish, flow_on, next_url, place_flow
from sspr.web.forms import IdentifyForm, NewPasswordForm
from sspr.web.i18n import current_language
from sspr.web.messages import mismatch_text
from sspr.web.quality import policy_context
from sspr.web.sources import limit

bp = Blueprint("reset", __name__)
handle_blocks(bp)
handle_lost_flows(bp)


@bp.get("/")
def chooser() -> Page:
    """List the profiles; `?profile=` goes straight to one, keeping `login_hint`."""
    profile_id = request.args.get("profile", "")
    if services().rules.profile(profile_id) is not None:
        hint = request.args.get("login_hint", "")[:256]
        return redirect(url_for("reset.identify", profile_id=profile_id, login_hint=hint or None))
    return render_template("reset/chooser.html", profiles=services().rules.profiles)


@bp.post("/reset/restart")
def restart_choice() -> Response:
    """« Ce n'est pas votre cas ? »: drop the flow, back to the chooser."""
    # CSRFProtect has refused a forged post: no other site can drop someone's flow.
    session.pop("flow", None)
    return redirect(url_for("reset.chooser"))


@bp.get("/branding.css")
def branding_css() -> Response:
    """The configured colour as a stylesheet, so pages need no inline style."""
    color = services().settings.branding.primary_color
    response = Response(f":root {{ --primary: {color}; }}\n", mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/support")
def support() -> Page:
    """Whom to contact when nothing else works."""
    return render_template("reset/support.html", support=services().settings.support)


@bp.route("/reset/<profile_id>", methods=["GET", "POST"])
def identify(profile_id: str) -> Page:
    """Ask for the profile's identifier and start a flow."""
    profile = profile_or_404(profile_id)
    form = IdentifyForm()
    if request.method == "GET" and request.args.get("login_hint"):
        form.identifier.data = request.args["login_hint"][:256]
    if form.validate_on_submit() and captcha.check(form, profile):
        # Every identification counts towards the captcha, whatever it finds: counting only
        # the neutral ones would let the captcha tell which accounts exist.
        captcha.record_failure()
        with handle_form_errors(form):
            limit(Area.RESET, profile.id)
            try:
                flow = services().reset.start(
                    profile, form.identifier.data or "", current_language()
                )
            except NotEnrolled as missing:
                return render_template(
                    "reset/not_enrolled.html", profile=profile, channel=missing.channel
                )
            place_flow(flow, fresh=True)
            return redirect(next_url(flow))
    return render_template(
        "reset/identify.html", profile=profile, form=form, captcha=captcha.widget(profile)
    )


@bp.route("/reset/password", methods=["GET", "POST"])
def new_password() -> Page:
    """Choose the new password; the policy is shown first, checked live and on the server."""
    flow = current_flow()
    if flow is None:
        return restart()
    if not flow.proven or profile_or_404(flow.profile).temporary_password:
        return redirect(next_url(flow))
    profile = profile_or_404(flow.profile)
    form = NewPasswordForm()
    if form.validate_on_submit():
        with handle_form_errors(form):
            try:
                services().reset.choose_password(
                    flow.id, form.password.data or "", form.confirmation.data or ""
                )
            except PolicyViolations as violations:
                if violations.mismatch:
                    FormError("confirmation", mismatch_text()).populate_form(form)
                return _password_page(profile, flow, form, violations)
            return finish(profile, temporary=False)
    return _password_page(profile, flow, form)


@bp.route("/reset/temporary", methods=["GET", "POST"])
def temporary() -> Page:
    """The Compte citoyen portals: mail a generated password, to change at the next login."""
    flow = flow_on("reset.temporary")
    if not isinstance(flow, Flow):
        return flow
    form = FlaskForm()
    if form.validate_on_submit():
        with handle_form_errors(form):
            profile = services().reset.send_temporary_password(flow.id)
            return finish(profile, temporary=True)
    return render_template(
        "reset/temporary.html", form=form, flow=flow, profile=profile_or_404(flow.profile)
    )


@bp.get("/reset/done")
def done() -> Page:
    """Say the password changed, with a way back to the profile's configured return URL."""
    profile = services().rules.profile(session.get("done", ""))
    if profile is None:
        return redirect(url_for("reset.chooser"))
    return render_template(
        "reset/success.html", profile=profile, temporary=session.get("temporary")
    )


def _password_page(
    profile: Profile, flow: Flow, form: NewPasswordForm, refused: PolicyViolations | None = None
) -> Page:
    failed = refused.failed if refused else []
    policy = services().reset.policy_for_flow(profile, flow)
    return render_template(
        "reset/password.html", form=form, flow=flow, quality_context="reset",
        **policy_context(policy, profile, current_language(), failed,
                         refused.assessment if refused else None),
    )  # fmt: skip
