"""Proof pages of the reset journey: channel choice, question, code, email link, temporary."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from sspr.domain.channels import Channel
from sspr.domain.errors import (
    CodeExpired,
    CodeInvalid,
    DeliveryFailed,
    FlowGone,
    ResendTooSoon,
    TooManySends,
)
from sspr.domain.flow import Flow, questions_text
from sspr.web import captcha
from sspr.web.context import Page, profile_or_404, services
from sspr.web.errors import (
    handle_blocks,
    handle_form_errors,
    handle_lost_flows,
    message_of,
    restart,
)
from sspr.web.flow import flow_on, next_url, place_flow
from sspr.web.forms import ChannelForm, CodeForm, answer_form, options
from sspr.web.i18n import current_language
from sspr.web.messages import channel_label, recent_code_text

bp = Blueprint("proofs", __name__)
handle_blocks(bp)
handle_lost_flows(bp)


@bp.route("/reset/choose", methods=["GET", "POST"])
def choose() -> Page:
    """Let the user pick how to prove this step ("par email ou par SMS")."""
    flow = flow_on("proofs.choose")
    if not isinstance(flow, Flow):
        return flow
    form = ChannelForm()
    form.channel.choices = options(
        [(c, channel_label(c, flow.contacts.get(c))) for c in flow.options()]
    )
    profile = profile_or_404(flow.profile)
    if form.validate_on_submit() and captcha.check(form, profile):
        with handle_form_errors(form):
            chosen = services().reset.choose(flow.id, form.channel.data or "")
            return redirect(next_url(chosen))
    return render_template(
        "proofs/choose.html", form=form, flow=flow, captcha=captcha.widget(profile)
    )


@bp.route("/reset/question", methods=["GET", "POST"])
def question() -> Page:
    """Ask the security question(s) of the flow."""
    flow = flow_on("proofs.question")
    if not isinstance(flow, Flow):
        return flow
    form = answer_form(len(flow.questions))
    if form.validate_on_submit():
        with handle_form_errors(form), captcha.failures_counted():
            proven = services().reset.answer(flow.id, form.answers(list(flow.questions)))
            place_flow(proven)  # rotated with the privilege it now carries
            return redirect(next_url(proven))
    texts = questions_text(
        services().rules, flow.questions, current_language(), flow.custom_questions
    )
    return render_template("proofs/question.html", form=form, questions=texts, flow=flow)


@bp.route("/reset/code", methods=["GET", "POST"])
def code() -> Page:
    """Type the code received by email or SMS."""
    flow = flow_on("proofs.code")
    if not isinstance(flow, Flow):
        return flow
    form = CodeForm()
    if form.validate_on_submit():
        with handle_form_errors(form), captcha.failures_counted():
            proven = services().reset.verify_code(flow.id, form.code.data or "")
            place_flow(proven)  # rotated with the privilege it now carries
            return redirect(next_url(proven))
    return _code_page(flow, form)


@bp.post("/reset/code/resend")
def resend() -> Page:
    """Send a new code on the current channel, after the cooldown; always back to the code."""
    flow = flow_on("proofs.code")
    if not isinstance(flow, Flow):
        return flow
    form = FlaskForm()
    if not form.validate_on_submit():
        return restart()
    problem = captcha.problem(profile_or_404(flow.profile))
    if problem is not None:
        flash(problem)
        return redirect(url_for("proofs.code"))
    try:
        services().reset.resend(flow.id)
        flash(_("Un nouveau code vient de vous être envoyé. Le précédent ne fonctionne plus."))
    except ResendTooSoon as soon:
        flash(recent_code_text(soon.retry_after))
    except (TooManySends, DeliveryFailed) as refused:
        flash(message_of(refused))
    return redirect(url_for("proofs.code"))


@bp.get("/reset/link/<token>")
def link(token: str) -> Response:
    """The email's link: keep its token in the session and take it out of the address bar."""
    session["link"] = token[:2048]
    response = redirect(url_for("proofs.link_confirm"))
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
        except (CodeExpired, CodeInvalid, FlowGone):
            return render_template("error.html", kind="link"), 400
        except (TooManySends, DeliveryFailed) as failed:
            return render_template("error.html", kind="delivery", message=message_of(failed))
        place_flow(flow)
        return redirect(next_url(flow))
    return render_template("proofs/link.html", form=form)


def _code_page(flow: Flow, form: CodeForm) -> str:
    policy = services().reset.code_policy(flow.channel)
    wait = services().reset.resend_wait_of(flow) if flow.code_reused else None
    resend_form = FlaskForm()
    return render_template(
        "proofs/code.html",
        form=form,
        resend_form=resend_form,
        flow=flow,
        destination=flow.contacts.get(flow.channel, ""),
        minutes=max(1, int(policy.ttl // 60)),
        length=policy.length,
        numeric=flow.channel == Channel.SMS,
        recent=recent_code_text(wait) if wait else None,
        request_path=request.path,
        captcha=captcha.widget(profile_or_404(flow.profile)),
    )
