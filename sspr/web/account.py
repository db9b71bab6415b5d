""" "Mon compte": login, recovery data and password change for a user who knows it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from sspr.domain.account import AccountSession
from sspr.domain.answer_rules import NewAnswer
from sspr.domain.channels import Channel
from sspr.domain.errors import (
    AccountUnusable,
    AnswerProblems,
    CodeExpired,
    InvalidContact,
    InvalidCredentials,
    PasswordRefused,
    PolicyViolations,
    StoreUnavailable,
)
from sspr.domain.flow import password_state, questions_text
from sspr.domain.limits import Area
from sspr.domain.ports import UserEntry
from sspr.domain.settings import Profile
from sspr.web.account_session import (
    account_entry,
    close_session,
    current_user,
    fresh_proof_required,
    hand_on,
    load_user,
    login_required,
    open_session,
    save_session,
)
from sspr.web.context import Page, profile_or_404, services
from sspr.web.errors import FormError, handle_blocks, handle_form_errors
from sspr.web.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmPasswordForm,
    EmailForm,
    LoginForm,
    MobileForm,
    ReminderForm,
    questions_form,
)
from sspr.web.i18n import current_language
from sspr.web.messages import (
    answer_problem_text,
    mismatch_text,
    snooze_period,
    snooze_text,
    unusable_text,
)
from sspr.web.quality import policy_context
from sspr.web.sources import limit

bp = Blueprint("account", __name__, url_prefix="/account")
bp.before_request(load_user)
handle_blocks(bp)

# -- login and logout ----------------------------------------------------------------------


@bp.get("/")
@login_required
def home() -> Page:
    """Recovery status and the changes a user can make."""
    current = current_user()
    entry = account_entry()
    status = services().account.status(entry)
    texts = questions_text(services().rules, status.question_ids, current_language(), {})
    return render_template(
        "account/home.html", profile=profile_or_404(current.profile), entry=entry, status=status,
        questions=texts, current=current,
    )  # fmt: skip


@bp.get("/login")
def choose() -> Page:
    """Which kind of account to log in with."""
    return render_template("account/choose.html", profiles=services().settings.profiles)


@bp.route("/login/<profile_id>", methods=["GET", "POST"])
def login(profile_id: str) -> Page:
    """Log in with the profile's identifier and the password (a bind as the user)."""
    profile = profile_or_404(profile_id)
    form = LoginForm()
    if form.validate_on_submit():
        with handle_form_errors(form):
            limit(Area.ACCOUNT, profile.id)
            try:
                entry, result = services().account.login(
                    profile, form.identifier.data or "", form.password.data or ""
                )
            except InvalidCredentials as wrong:
                raise FormError(None, _("Identifiant ou mot de passe incorrect.")) from wrong
            except AccountUnusable as unusable:
                raise FormError(None, unusable_text(unusable.why)) from unusable
            except PasswordRefused as locked:
                message = _(
                    "Votre compte est verrouillé. "
                    "Réinitialisez votre mot de passe ou contactez le support."
                )
                raise FormError(None, message) from locked
            state = "expired" if result.expired else "must_change" if result.must_change else "ok"
            open_session(
                AccountSession(
                    entry.dn, profile.id, state, services().account.now(), result.grace_left,
                    password_state(entry),
                )
            )  # fmt: skip
            hand_on(entry)
            return redirect(_after_login(profile, entry, state, result.grace_left))
    return render_template("account/login.html", profile=profile, form=form)


def _after_login(profile: Profile, entry: UserEntry, state: str, grace_left: int | None) -> str:
    if state == "expired":
        flash(_("Votre mot de passe a expiré : choisissez-en un nouveau."))
        return url_for("account.password")
    if state == "must_change":
        flash(_("Votre mot de passe a été réinitialisé : choisissez-en un nouveau pour continuer."))
        return url_for("account.password")
    if grace_left is not None:
        flash(
            _(
                "Votre mot de passe a expiré. Il vous reste %(num)d connexion(s) pour le changer.",
                num=grace_left,
            )
        )
    if services().account.reminder_due(profile, entry):
        return url_for("account.reminder")
    return url_for("account.home")


@bp.post("/logout")
def logout() -> Response:
    """End the session, server side too."""
    close_session()
    flash(_("Vous êtes déconnecté."))
    return redirect(url_for("account.choose"))


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm() -> Page:
    """Type the password again before changing recovery data."""
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        with handle_form_errors(form):
            try:
                services().account.confirm_password(account_entry(), form.password.data or "")
            except InvalidCredentials as wrong:
                raise FormError("password", _("Mot de passe incorrect.")) from wrong
            current = current_user()
            current.proved_at = services().account.now()
            save_session(current)
            return redirect(_local(request.args.get("next", "")))
    return render_template("account/confirm.html", form=form)


def _local(target: str) -> str:
    return (
        target if target.startswith("/account/") and "//" not in target else url_for("account.home")
    )


# -- reminder ------------------------------------------------------------------------------


@bp.route("/reminder", methods=["GET", "POST"])
@login_required
def reminder() -> Page:
    """As the DGFiP portal: invite to add a mobile; the user may go on, or snooze for months."""
    form = ReminderForm()
    if form.validate_on_submit():
        if form.snooze.data:
            services().account.snooze_reminder(account_entry())
            flash(snooze_text(services().settings.account.reminder_snooze_days))
        return redirect(url_for("account.home"))
    period = snooze_period(services().settings.account.reminder_snooze_days)
    return render_template("account/reminder.html", form=form, period=period)


# -- questions -----------------------------------------------------------------------------


@bp.route("/questions", methods=["GET", "POST"])
@login_required
@fresh_proof_required
def questions() -> Page:
    """ "Modifier ma question/réponse": pick from the admin's list (or write one if allowed)."""
    profile = profile_or_404(current_user().profile)
    lang = current_language()
    choices = [(q.id, q.text.get(lang)) for q in services().settings.questions]
    if profile.custom_questions:
        choices.append(("custom", _("Je rédige ma propre question")))
    count = profile.questions_required
    form = questions_form(count, choices)
    if form.validate_on_submit():
        answers = [
            NewAnswer(q.data or "", a.data or "", c.data or "", custom.data or "")
            for q, custom, a, c in form.blocks(count)
        ]
        with handle_form_errors(form):
            try:
                services().account.set_answers(profile, account_entry(), answers, lang)
            except AnswerProblems as problems:
                # A mismatch belongs to the confirmation, every other problem to the answer.
                raise FormError.several(
                    [
                        (
                            f"{'confirm' if code == 'mismatch' else 'answer'}_{i}",
                            answer_problem_text(code),
                        )
                        for i, code in problems.problems
                    ]
                ) from problems
            flash(_saved())
            return redirect(url_for("account.home"))
    return render_template("account/questions.html", form=form, count=count, profile=profile)


def _saved() -> str:
    return _(
        "Vos modifications ont bien été prises en compte. "
        "Un courriel de confirmation vous a été envoyé."
    )


# -- mobile and email ----------------------------------------------------------------------


@bp.route("/<any(mobile, email):kind>", methods=["GET", "POST"])
@login_required
@fresh_proof_required
def contact(kind: str) -> Page:
    """A new mobile or address: a code goes to it, and the change waits for that code."""
    profile = profile_or_404(current_user().profile)
    form: FlaskForm = MobileForm() if kind == "mobile" else EmailForm()
    channel = Channel.SMS if kind == "mobile" else Channel.EMAIL
    if form.validate_on_submit():
        with handle_form_errors(form):
            try:
                masked = services().account.request_contact_change(
                    profile, account_entry(), channel, form["value"].data or "", current_language()
                )
            except InvalidContact as invalid:
                message = (
                    _("Ce numéro de mobile n'est pas valide.")
                    if kind == "mobile"
                    else _("Cette adresse email n'est pas valide.")
                )
                raise FormError("value", message) from invalid
            current = current_user()
            current.pending[kind] = masked
            save_session(current)
            return redirect(url_for("account.contact_code", kind=kind))
    return render_template("account/contact.html", form=form, kind=kind)


@bp.route("/<any(mobile, email):kind>/code", methods=["GET", "POST"])
@login_required
def contact_code(kind: str) -> Page:
    """Type back the code sent to the new destination."""
    profile = profile_or_404(current_user().profile)
    form = CodeForm()
    channel = Channel.SMS if kind == "mobile" else Channel.EMAIL
    if form.validate_on_submit():
        with handle_form_errors(form):
            try:
                services().account.confirm_contact_change(
                    profile, account_entry(), channel, form.code.data or "", current_language()
                )
            except CodeExpired:
                flash(_("Ce code n'est plus valable. Recommencez la modification."))
                return redirect(url_for("account.contact", kind=kind))
            current = current_user()
            current.pending.pop(kind, None)
            save_session(current)
            flash(_saved())
            return redirect(url_for("account.home"))
    masked = current_user().pending.get(kind, "")
    return render_template("account/contact_code.html", form=form, kind=kind, destination=masked)


# -- password ------------------------------------------------------------------------------


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Page:
    """Change the password knowing it: rules shown, checked live and on the server."""
    current = current_user()
    profile = profile_or_404(current.profile)
    form = ChangePasswordForm()
    refused: PolicyViolations | None = None
    if form.validate_on_submit():
        with handle_form_errors(form):
            try:
                services().account.change_password(
                    profile, account_entry(), form.current.data or "", form.password.data or "",
                    form.confirmation.data or "", current_language(),
                )  # fmt: skip
            except InvalidCredentials as wrong:
                raise FormError("current", _("Mot de passe actuel incorrect.")) from wrong
            except PolicyViolations as violations:
                refused = violations
                if violations.mismatch:
                    FormError("confirmation", mismatch_text()).populate_form(form)
            else:
                return _after_password_change(current, profile)
    failed = refused.failed if refused else []
    policy = services().reset.policy_for_account(profile, account_entry(), by_user=True)
    return render_template(
        "account/password.html", form=form, current=current, quality_context="account",
        **policy_context(policy, profile, current_language(), failed,
                         refused.assessment if refused else None),
    )  # fmt: skip


def _after_password_change(current: AccountSession, profile: Profile) -> Page:
    """The session follows the new password; a store that fails now cannot undo the change."""
    current.state, current.proved_at, current.grace_left = "ok", services().account.now(), None
    try:
        entry = services().account.entry(current.dn)
        current.password_state = password_state(entry)
        save_session(current)
        hand_on(entry)
    except StoreUnavailable:
        # The password is changed: say so, and let the user log in again once all is well.
        return render_template("reset/success.html", profile=profile, temporary=False)
    flash(_("Votre mot de passe est modifié."))
    return redirect(url_for("account.home"))
