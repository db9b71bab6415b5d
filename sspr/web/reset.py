"""The reset journey: chooser, identify, new password, success (proof pages: proofs.py)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sspr.domain.errors import (
    DeliveryFailed,
    FlowExpired,
    NotEnrolled,
    PasswordMismatch,
    PasswordRefused,
    PolicyViolations,
    StepNotAllowed,
    TooManyAttempts,
    TooManySends,
)
from sspr.domain.policy import describe_for_browser
from sspr.domain.reset import Flow
from sspr.domain.settings import Profile
from sspr.web import captcha
from sspr.web.app import Services, services_of_app
from sspr.web.forms import FormError, IdentifyForm, NewPasswordForm
from sspr.web.i18n import current_language
from sspr.web.messages import delivery_failed_text, refusal_text, rule_text, sends_text, wait_text

bp = Blueprint("reset", __name__)

Page = str | Response | tuple[str, int]


def services() -> Services:
    """The application's services."""
    return services_of_app()


def profile_or_404(profile_id: str) -> Profile:
    """The profile with this id, or a 404 page."""
    profile = services().rules.profile(profile_id)
    if profile is None:
        abort(404)
    return profile


@bp.get("/")
def chooser() -> Page:
    """List the profiles; `?profile=` goes straight to one, keeping `login_hint`."""
    profile_id = request.args.get("profile", "")
    if services().rules.profile(profile_id) is not None:
        hint = request.args.get("login_hint", "")[:256]
        return redirect(url_for("reset.identify", profile_id=profile_id, login_hint=hint or None))
    return render_template("chooser.html", profiles=services().rules.profiles)


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
    return render_template("support.html", support=services().settings.support)


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
        try:
            services().ip_limits.hit_identify(request.remote_addr or "", profile.id)
            flow = services().reset.start(profile, form.identifier.data or "", current_language())
        except NotEnrolled as missing:
            return render_template("not_enrolled.html", profile=profile, channel=missing.channel)
        except TooManyAttempts as blocked:
            return blocked_page(blocked)
        except TooManySends as capped:
            FormError(None, sends_text(capped.retry_after)).populate_form(form)
        except DeliveryFailed:
            FormError(None, delivery_failed_text()).populate_form(form)
        else:
            session.clear()  # A new flow starts from a clean session.
            session["flow"] = flow.id
            return redirect(next_url(flow))
    return render_template(
        "identify.html", profile=profile, form=form, captcha=captcha.widget(profile)
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
        try:
            services().reset.choose_password(
                flow.id, form.password.data or "", form.confirmation.data or ""
            )
        except (FlowExpired, StepNotAllowed):
            return restart()
        except PasswordMismatch:
            message = _("Les deux mots de passe ne sont pas identiques.")
            FormError("confirmation", message).populate_form(form)
        except PolicyViolations as violations:
            return _password_page(profile, flow, form, [r.code for r in violations.failed])
        except PasswordRefused as refused:
            FormError("password", refusal_text(refused.reason)).populate_form(form)
        else:
            return finish(profile, temporary=False)
    return _password_page(profile, flow, form)


@bp.get("/reset/done")
def done() -> Page:
    """Say the password changed, with a way back to the profile's configured return URL."""
    profile = services().rules.profile(session.get("done", ""))
    if profile is None:
        return redirect(url_for("reset.chooser"))
    return render_template("success.html", profile=profile, temporary=session.get("temporary"))


def finish(profile: Profile, *, temporary: bool) -> Response:
    """End the flow in the session and show the success page."""
    session.clear()
    session["done"] = profile.id
    session["temporary"] = temporary
    return redirect(url_for("reset.done"))


def current_flow() -> Flow | None:
    """The session's flow, if it is still alive."""
    try:
        return services().reset.load(session.get("flow", ""))
    except FlowExpired:
        return None


def next_url(flow: Flow) -> str:
    """Where a flow goes next: the current step's page, or the end of the journey."""
    if flow.proven:
        profile = services().rules.profile(flow.profile)
        if profile is not None and profile.temporary_password:
            return url_for("reset.temporary")
        return url_for("reset.new_password")
    if not flow.channel:
        return url_for("reset.choose")
    if flow.channel == "question":
        return url_for("reset.question")
    return url_for("reset.code")


def restart() -> Page:
    """The page for a flow that is gone: start again."""
    session.pop("flow", None)
    return render_template("error.html", kind="expired"), 400


def blocked_page(blocked: TooManyAttempts) -> tuple[str, int]:
    """The temporary block, with the time left."""
    session.pop("flow", None)
    return render_template("blocked.html", message=wait_text(blocked.retry_after)), 429


def _password_page(
    profile: Profile, flow: Flow, form: NewPasswordForm, failed: list[str] | None = None
) -> Page:
    rules = services().reset.policy_for(profile).rules()
    return render_template(
        "password.html",
        form=form,
        flow=flow,
        rules=[(rule, rule_text(rule)) for rule in rules],
        failed=failed or [],
        rules_data=describe_for_browser(rules),
    )
