"""The reset journey: chooser, identify, question, new password, success."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sspr.config import Profile
from sspr.domain.errors import (
    FlowExpired,
    NotEnrolled,
    PasswordMismatch,
    PasswordRefused,
    PolicyViolations,
    StepNotAllowed,
    TooManyAttempts,
    WrongAnswer,
)
from sspr.domain.policy import describe_for_browser
from sspr.domain.reset import Flow, questions_text
from sspr.web.app import Services, services_of_app
from sspr.web.forms import FormError, IdentifyForm, NewPasswordForm, answer_form
from sspr.web.i18n import current_language
from sspr.web.messages import refusal_text, rule_text, wait_text

bp = Blueprint("reset", __name__)

Page = str | Response | tuple[str, int]


def _services() -> Services:
    return services_of_app()


def _profile_or_404(profile_id: str) -> Profile:
    profile = _services().settings.profile(profile_id)
    if profile is None:
        abort(404)
    return profile


@bp.get("/")
def chooser() -> Page:
    """List the profiles; `?profile=` goes straight to one, keeping `login_hint`."""
    profile_id = request.args.get("profile", "")
    if _services().settings.profile(profile_id) is not None:
        hint = request.args.get("login_hint", "")[:256]
        return redirect(url_for("reset.identify", profile_id=profile_id, login_hint=hint or None))
    return render_template("chooser.html", profiles=_services().settings.profiles)


@bp.get("/branding.css")
def branding_css() -> Response:
    """The configured colour as a stylesheet, so pages need no inline style."""
    color = _services().settings.branding.primary_color
    css = f":root {{ --primary: {color}; }}\n"
    response = Response(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/support")
def support() -> Page:
    """Whom to contact when nothing else works."""
    return render_template("support.html", support=_services().settings.support)


@bp.route("/reset/<profile_id>", methods=["GET", "POST"])
def identify(profile_id: str) -> Page:
    """Ask for the profile's identifier and start a flow."""
    profile = _profile_or_404(profile_id)
    form = IdentifyForm()
    if request.method == "GET" and request.args.get("login_hint"):
        form.identifier.data = request.args["login_hint"][:256]
    if form.validate_on_submit():
        try:
            flow = _services().reset.start(profile, form.identifier.data or "")
        except NotEnrolled:
            return render_template("not_enrolled.html", profile=profile), 200
        except TooManyAttempts as blocked:
            return _blocked(blocked)
        session.clear()  # A new flow starts from a clean session.
        session["flow"] = flow.id
        return redirect(url_for("reset.question"))
    return render_template("identify.html", profile=profile, form=form)


@bp.route("/reset/question", methods=["GET", "POST"])
def question() -> Page:
    """Ask the security question(s) of the flow."""
    flow = _current_flow()
    if flow is None:
        return _restart()
    if flow.proven:
        return redirect(url_for("reset.new_password"))
    form = answer_form(len(flow.questions))
    if form.validate_on_submit():
        try:
            _services().reset.answer(flow.id, form.answers(list(flow.questions)))
            return redirect(url_for("reset.new_password"))
        except WrongAnswer as wrong:
            FormError(None, _wrong_answer_text(wrong.attempts_left)).populate_form(form)
        except TooManyAttempts as blocked:
            session.pop("flow", None)
            return _blocked(blocked)
    return _question_page(flow, form)


@bp.route("/reset/password", methods=["GET", "POST"])
def new_password() -> Page:
    """Choose the new password; the policy is shown first, checked live and on the server."""
    flow = _current_flow()
    if flow is None:
        return _restart()
    if not flow.proven:
        return redirect(url_for("reset.question"))
    profile = _profile_or_404(flow.profile)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            _services().reset.choose_password(
                flow.id, form.password.data or "", form.confirmation.data or ""
            )
        except (FlowExpired, StepNotAllowed):
            return _restart()
        except PasswordMismatch:
            FormError(
                "confirmation", _("Les deux mots de passe ne sont pas identiques.")
            ).populate_form(form)
        except PolicyViolations as violations:
            return _password_page(profile, form, failed=[r.code for r in violations.failed])
        except PasswordRefused as refused:
            FormError("password", refusal_text(refused.reason)).populate_form(form)
        else:
            session.clear()
            session["done"] = profile.id
            return redirect(url_for("reset.done"))
    return _password_page(profile, form)


@bp.get("/reset/done")
def done() -> Page:
    """Say the password changed, with a way back to the profile's configured return URL."""
    profile = _services().settings.profile(session.get("done", ""))
    if profile is None:
        return redirect(url_for("reset.chooser"))
    return render_template("success.html", profile=profile)


def _current_flow() -> Flow | None:
    try:
        return _services().reset.load(session.get("flow", ""))
    except FlowExpired:
        return None


def _restart() -> Page:
    session.pop("flow", None)
    return render_template("error.html", kind="expired"), 400


def _blocked(blocked: TooManyAttempts) -> tuple[str, int]:
    return render_template("blocked.html", message=wait_text(blocked.retry_after)), 429


def _wrong_answer_text(left: int) -> str:
    if left == 1:
        return _("Réponse incorrecte. Il vous reste 1 essai avant un blocage temporaire.")
    return _("Réponse incorrecte. Il vous reste %(num)d essais.", num=left)


def _question_page(flow: Flow, form: object) -> Page:
    settings = _services().settings
    texts = questions_text(settings, flow.questions, current_language())
    return render_template("question.html", form=form, questions=texts)


def _password_page(
    profile: Profile, form: NewPasswordForm, failed: list[str] | None = None
) -> Page:
    rules = _services().reset.policy_for(profile).rules()
    shown = [(rule, rule_text(rule)) for rule in rules]
    return render_template(
        "password.html",
        form=form,
        rules=shown,
        failed=failed or [],
        rules_data=describe_for_browser(rules),
    )
