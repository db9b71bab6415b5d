"""Proof pages of the reset journey: channel choice, question, code, email link."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from sspr.domain.errors import (
    CodeExpired,
    CodeInvalid,
    DeliveryFailed,
    FlowExpired,
    PasswordRefused,
    ResendTooSoon,
    StepNotAllowed,
    TooManyAttempts,
    TooManySends,
    WrongAnswer,
)
from sspr.domain.reset import Flow, questions_text
from sspr.web import captcha
from sspr.web.forms import ChannelForm, CodeForm, FormError, answer_form, options
from sspr.web.i18n import current_language
from sspr.web.messages import (
    channel_label,
    code_invalid_text,
    delivery_failed_text,
    refusal_text,
    resend_text,
    sends_text,
    wrong_answer_text,
)
from sspr.web.reset import (
    Page,
    blocked_page,
    bp,
    current_flow,
    finish,
    next_url,
    profile_or_404,
    restart,
    services,
)


def _flow_on(page: str) -> Flow | Page:
    """The session's flow if it is on this page's step, else where it should be."""
    flow = current_flow()
    if flow is None:
        return restart()
    if next_url(flow) != url_for(page):
        return redirect(next_url(flow))
    return flow


@bp.route("/reset/choose", methods=["GET", "POST"])
def choose() -> Page:
    """Let the user pick how to prove this step ("par email ou par SMS")."""
    flow = _flow_on("reset.choose")
    if not isinstance(flow, Flow):
        return flow
    form = ChannelForm()
    form.channel.choices = options(
        [(c, channel_label(c, flow.contacts.get(c))) for c in flow.options()]
    )
    profile = profile_or_404(flow.profile)
    if form.validate_on_submit() and captcha.check(form, profile):
        try:
            chosen = services().reset.choose(flow.id, form.channel.data or "")
            return redirect(next_url(chosen))
        except TooManyAttempts as blocked:
            return blocked_page(blocked)
        except (TooManySends, DeliveryFailed) as failed:
            FormError(None, _sending_problem(failed)).populate_form(form)
        except StepNotAllowed:
            return restart()
    return render_template("choose.html", form=form, flow=flow, captcha=captcha.widget(profile))


@bp.route("/reset/question", methods=["GET", "POST"])
def question() -> Page:
    """Ask the security question(s) of the flow."""
    flow = _flow_on("reset.question")
    if not isinstance(flow, Flow):
        return flow
    form = answer_form(len(flow.questions))
    if form.validate_on_submit():
        try:
            proven = services().reset.answer(flow.id, form.answers(list(flow.questions)))
            session["flow"] = proven.id  # rotated with the privilege it now carries
            return redirect(next_url(proven))
        except WrongAnswer as wrong:
            captcha.record_failure()
            FormError(None, wrong_answer_text(wrong.attempts_left)).populate_form(form)
        except TooManyAttempts as blocked:
            captcha.record_failure()
            return blocked_page(blocked)
        except (FlowExpired, StepNotAllowed):
            return restart()
        except (TooManySends, DeliveryFailed) as failed:
            FormError(None, _sending_problem(failed)).populate_form(form)
    texts = questions_text(
        services().rules, flow.questions, current_language(), flow.custom_questions
    )
    return render_template("question.html", form=form, questions=texts, flow=flow)


@bp.route("/reset/code", methods=["GET", "POST"])
def code() -> Page:
    """Type the code received by email or SMS."""
    flow = _flow_on("reset.code")
    if not isinstance(flow, Flow):
        return flow
    form = CodeForm()
    if form.validate_on_submit():
        try:
            proven = services().reset.verify_code(flow.id, form.code.data or "")
            session["flow"] = proven.id  # rotated with the privilege it now carries
            return redirect(next_url(proven))
        except CodeInvalid as wrong:
            captcha.record_failure()
            FormError("code", code_invalid_text(wrong.attempts_left)).populate_form(form)
        except CodeExpired:
            message = _("Ce code n'est plus valable. Demandez-en un nouveau.")
            FormError("code", message).populate_form(form)
        except TooManyAttempts as blocked:
            captcha.record_failure()
            return blocked_page(blocked)
        except (FlowExpired, StepNotAllowed):
            return restart()
        except (TooManySends, DeliveryFailed) as failed:
            FormError(None, _sending_problem(failed)).populate_form(form)
    return _code_page(flow, form)


@bp.post("/reset/code/resend")
def resend() -> Page:
    """Send a new code on the current channel, after the cooldown."""
    flow = _flow_on("reset.code")
    if not isinstance(flow, Flow):
        return flow
    form = FlaskForm()
    if not form.validate_on_submit():
        return restart()
    problem = captcha.problem(profile_or_404(flow.profile))
    if problem is not None:
        flash(problem)
        return redirect(url_for("reset.code"))
    try:
        services().reset.resend(flow.id)
        flash(_("Un nouveau code vient de vous être envoyé. Le précédent ne fonctionne plus."))
    except ResendTooSoon as soon:
        flash(resend_text(soon.retry_after))
    except (TooManySends, DeliveryFailed) as failed:
        flash(_sending_problem(failed))
    except TooManyAttempts as blocked:
        return blocked_page(blocked)
    return redirect(url_for("reset.code"))


@bp.get("/reset/link/<token>")
def link(token: str) -> Response:
    """The email's link: keep its token in the session and take it out of the address bar."""
    session["link"] = token[:2048]
    response = redirect(url_for("reset.link_confirm"))
    # This URL carries a proof: it must never be sent on as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/reset/link", methods=["GET", "POST"])
def link_confirm() -> Page:
    """A button confirms, so mail scanners that follow links use nothing up."""
    token = session.get("link", "")
    if not token:
        return render_template("error.html", kind="link"), 400
    form = FlaskForm()
    if form.validate_on_submit():
        session.pop("link", None)
        try:
            flow = services().reset.verify_link(token)
        except (CodeExpired, CodeInvalid, FlowExpired, StepNotAllowed):
            return render_template("error.html", kind="link"), 400
        except TooManyAttempts as blocked:
            return blocked_page(blocked)
        except (TooManySends, DeliveryFailed) as failed:
            return render_template("error.html", kind="delivery", message=_sending_problem(failed))
        session["flow"] = flow.id
        return redirect(next_url(flow))
    return render_template("link.html", form=form)


@bp.route("/reset/temporary", methods=["GET", "POST"])
def temporary() -> Page:
    """Seeds 002/004: mail a generated password that must be changed at the next login."""
    flow = _flow_on("reset.temporary")
    if not isinstance(flow, Flow):
        return flow
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            profile = services().reset.send_temporary_password(flow.id)
            return finish(profile, temporary=True)
        except (FlowExpired, StepNotAllowed):
            return restart()
        except PasswordRefused as refused:
            FormError(None, refusal_text(refused.reason)).populate_form(form)
        except DeliveryFailed:
            FormError(None, delivery_failed_text()).populate_form(form)
    return render_template(
        "temporary.html", form=form, flow=flow, profile=profile_or_404(flow.profile)
    )


def _code_page(flow: Flow, form: CodeForm) -> str:
    policy = services().reset.code_policy(flow.channel)
    resend_form = FlaskForm()
    return render_template(
        "code.html",
        form=form,
        resend_form=resend_form,
        flow=flow,
        destination=flow.contacts.get(flow.channel, ""),
        minutes=max(1, int(policy.ttl // 60)),
        length=policy.length,
        numeric=flow.channel == "sms",
        request_path=request.path,
        captcha=captcha.widget(profile_or_404(flow.profile)),
    )


def _sending_problem(problem: Exception) -> str:
    if isinstance(problem, TooManySends):
        return sends_text(problem.retry_after)
    return delivery_failed_text()
