""" "Mon compte": login, recovery data and password change for a user who knows it."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from sspr.domain.account import AccountService, NewAnswer
from sspr.domain.errors import (
    AnswerProblems,
    CodeExpired,
    CodeInvalid,
    DeliveryFailed,
    InvalidContact,
    InvalidCredentials,
    PasswordMismatch,
    PasswordRefused,
    PolicyViolations,
    ResendTooSoon,
    TooManyAttempts,
    TooManySends,
)
from sspr.domain.policy import describe_for_browser
from sspr.domain.ports import UserEntry
from sspr.domain.reset import password_state, questions_text
from sspr.domain.settings import Profile
from sspr.web.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmPasswordForm,
    EmailForm,
    FormError,
    LoginForm,
    MobileForm,
    ReminderForm,
    questions_form,
)
from sspr.web.i18n import current_language
from sspr.web.messages import (
    answer_problem_text,
    code_invalid_text,
    delivery_failed_text,
    refusal_text,
    resend_text,
    rule_text,
    sends_text,
)
from sspr.web.reset import Page, blocked_page, profile_or_404, services

bp = Blueprint("account", __name__, url_prefix="/account")

# Pages a user who must change the password may still see.
RESTRICTED_OK = {"account.password", "account.logout"}


@dataclass
class AccountSession:
    """A logged-in user, kept in the store; the cookie holds only a random token."""

    dn: str
    profile: str
    state: str  # "ok", "must_change" or "expired"
    proved_at: float
    grace_left: int | None = None
    # The password's state at login: the session dies when the password changes elsewhere.
    password_state: str = ""


def account_service() -> AccountService:
    """The application's account service."""
    service: AccountService = services().account
    return service


# -- sessions ------------------------------------------------------------------------------


def _key(token: str) -> str:
    return "acct:" + hashlib.sha256(token.encode()).hexdigest()


def current_session() -> AccountSession | None:
    """The logged-in user, sliding the idle timeout; None once it has expired."""
    token = session.get("account", "")
    raw = services().store.get(_key(token)) if token else None
    if raw is None:
        return None
    current = AccountSession(**json.loads(raw))
    _save(token, current)
    return current


def _save(token: str, current: AccountSession) -> None:
    idle = services().settings.account.idle_timeout_seconds
    services().store.set(_key(token), json.dumps(asdict(current)).encode(), idle)


def _open_session(current: AccountSession) -> None:
    """A fresh session at login: a new token, a new CSRF secret, nothing carried over."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    token = secrets.token_urlsafe(32)
    session["account"] = token
    _save(token, current)


def _update(current: AccountSession) -> None:
    _save(session["account"], current)


def login_required(view: Callable[..., Page]) -> Callable[..., Page]:
    """Send anonymous users to the login page, and keep forced changes forced."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Page:
        current = current_session()
        if current is None:
            flash(_("Votre session a expiré. Connectez-vous à nouveau."))
            return redirect(url_for("account.choose"))
        entry = account_service().entry(current.dn)
        if password_state(entry) != current.password_state:
            _close_session()
            flash(_("Votre mot de passe a changé : connectez-vous à nouveau."))
            return redirect(url_for("account.choose"))
        g.account_entry = entry  # read once per request, here
        if current.state != "ok" and request.endpoint not in RESTRICTED_OK:
            return redirect(url_for("account.password"))
        return view(current, *args, **kwargs)

    return wrapper


def fresh_proof_required(view: Callable[..., Page]) -> Callable[..., Page]:
    """Ask for the password again when the last proof is too old."""

    @wraps(view)
    def wrapper(current: AccountSession, *args: Any, **kwargs: Any) -> Page:
        window = services().settings.account.reauth_seconds
        if account_service().now() - current.proved_at > window:
            return redirect(url_for("account.confirm", next=request.path))
        return view(current, *args, **kwargs)

    return wrapper


def _entry(current: AccountSession) -> UserEntry:
    entry: UserEntry | None = g.get("account_entry")
    return entry if entry is not None else account_service().entry(current.dn)


# -- login and logout ----------------------------------------------------------------------


@bp.get("/")
@login_required
def home(current: AccountSession) -> Page:
    """Recovery status and the changes a user can make."""
    profile = profile_or_404(current.profile)
    entry = _entry(current)
    status = account_service().status(entry)
    texts = questions_text(services().rules, status.question_ids, current_language(), {})
    return render_template(
        "account/home.html", profile=profile, entry=entry, status=status, questions=texts,
        current=current,
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
        try:
            services().ip_limits.hit_identify(request.remote_addr or "", profile.id)
            entry, result = account_service().login(
                profile, form.identifier.data or "", form.password.data or ""
            )
        except TooManyAttempts as blocked:
            return blocked_page(blocked)
        except InvalidCredentials:
            FormError(None, _("Identifiant ou mot de passe incorrect.")).populate_form(form)
        except PasswordRefused:
            message = _(
                "Votre compte est verrouillé. "
                "Réinitialisez votre mot de passe ou contactez le support."
            )
            FormError(None, message).populate_form(form)
        else:
            state = "expired" if result.expired else "must_change" if result.must_change else "ok"
            _open_session(
                AccountSession(
                    entry.dn,
                    profile.id,
                    state,
                    account_service().now(),
                    result.grace_left,
                    password_state(entry),
                )
            )
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
    if account_service().reminder_due(profile, entry):
        return url_for("account.reminder")
    return url_for("account.home")


def _close_session() -> None:
    """Forget the session, server side too, keeping only the language."""
    token = session.get("account")
    if token:
        services().store.delete(_key(token))
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.post("/logout")
def logout() -> Response:
    """End the session, server side too."""
    _close_session()
    flash(_("Vous êtes déconnecté."))
    return redirect(url_for("account.choose"))


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm(current: AccountSession) -> Page:
    """Type the password again before changing recovery data."""
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        try:
            account_service().confirm_password(_entry(current), form.password.data or "")
        except InvalidCredentials:
            FormError("password", _("Mot de passe incorrect.")).populate_form(form)
        else:
            current.proved_at = account_service().now()
            _update(current)
            return redirect(_local(request.args.get("next", "")))
    return render_template("account/confirm.html", form=form)


def _local(target: str) -> str:
    return (
        target if target.startswith("/account/") and "//" not in target else url_for("account.home")
    )


# -- reminder ------------------------------------------------------------------------------


@bp.route("/reminder", methods=["GET", "POST"])
@login_required
def reminder(current: AccountSession) -> Page:
    """Seed 003: invite to add a mobile; the user may go on, or snooze for months."""
    form = ReminderForm()
    if form.validate_on_submit():
        if form.snooze.data:
            account_service().snooze_reminder(_entry(current))
        return redirect(url_for("account.home"))
    return render_template("account/reminder.html", form=form)


# -- questions -----------------------------------------------------------------------------


@bp.route("/questions", methods=["GET", "POST"])
@login_required
@fresh_proof_required
def questions(current: AccountSession) -> Page:
    """ "Modifier ma question/réponse": pick from the admin's list (or write one if allowed)."""
    profile = profile_or_404(current.profile)
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
        try:
            account_service().set_answers(profile, _entry(current), answers, lang)
        except AnswerProblems as problems:
            for index, code in problems.problems:
                FormError(f"answer_{index}", answer_problem_text(code)).populate_form(form)
        else:
            flash(
                _(
                    "Vos modifications ont bien été prises en compte. "
                    "Un courriel de confirmation vous a été envoyé."
                )
            )
            return redirect(url_for("account.home"))
    return render_template("account/questions.html", form=form, count=count, profile=profile)


# -- mobile and email ----------------------------------------------------------------------


@bp.route("/<any(mobile, email):kind>", methods=["GET", "POST"])
@login_required
@fresh_proof_required
def contact(current: AccountSession, kind: str) -> Page:
    """A new mobile or address: a code goes to it, and the change waits for that code."""
    profile = profile_or_404(current.profile)
    form: FlaskForm = MobileForm() if kind == "mobile" else EmailForm()
    channel = "sms" if kind == "mobile" else "email"
    if form.validate_on_submit():
        try:
            masked = account_service().request_contact_change(
                profile, _entry(current), channel, form["value"].data or "", current_language()
            )
        except InvalidContact:
            message = (
                _("Ce numéro de mobile n'est pas valide.")
                if kind == "mobile"
                else _("Cette adresse email n'est pas valide.")
            )
            FormError("value", message).populate_form(form)
        except ResendTooSoon as soon:
            FormError(None, resend_text(soon.retry_after)).populate_form(form)
        except TooManySends as capped:
            FormError(None, sends_text(capped.retry_after)).populate_form(form)
        except DeliveryFailed:
            FormError(None, delivery_failed_text()).populate_form(form)
        else:
            session[f"pending_{kind}"] = masked
            return redirect(url_for("account.contact_code", kind=kind))
    return render_template("account/contact.html", form=form, kind=kind)


@bp.route("/<any(mobile, email):kind>/code", methods=["GET", "POST"])
@login_required
def contact_code(current: AccountSession, kind: str) -> Page:
    """Type back the code sent to the new destination."""
    profile = profile_or_404(current.profile)
    form = CodeForm()
    channel = "sms" if kind == "mobile" else "email"
    if form.validate_on_submit():
        try:
            account_service().confirm_contact_change(
                profile, _entry(current), channel, form.code.data or "", current_language()
            )
        except CodeInvalid as wrong:
            FormError("code", code_invalid_text(wrong.attempts_left)).populate_form(form)
        except CodeExpired:
            flash(_("Ce code n'est plus valable. Recommencez la modification."))
            return redirect(url_for("account.contact", kind=kind))
        else:
            session.pop(f"pending_{kind}", None)
            flash(
                _(
                    "Vos modifications ont bien été prises en compte. "
                    "Un courriel de confirmation vous a été envoyé."
                )
            )
            return redirect(url_for("account.home"))
    masked = session.get(f"pending_{kind}", "")
    return render_template("account/contact_code.html", form=form, kind=kind, destination=masked)


# -- password ------------------------------------------------------------------------------


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password(current: AccountSession) -> Page:
    """Change the password knowing it: rules shown, checked live and on the server."""
    profile = profile_or_404(current.profile)
    form = ChangePasswordForm()
    failed: list[str] = []
    if form.validate_on_submit():
        try:
            account_service().change_password(
                profile, _entry(current), form.current.data or "", form.password.data or "",
                form.confirmation.data or "", current_language(),
            )  # fmt: skip
        except InvalidCredentials:
            FormError("current", _("Mot de passe actuel incorrect.")).populate_form(form)
        except PasswordMismatch:
            FormError(
                "confirmation", _("Les deux mots de passe ne sont pas identiques.")
            ).populate_form(form)
        except PolicyViolations as violations:
            failed = [rule.code for rule in violations.failed]
        except PasswordRefused as refused:
            FormError("password", refusal_text(refused.reason)).populate_form(form)
        else:
            current.state, current.proved_at, current.grace_left = (
                "ok",
                account_service().now(),
                None,
            )
            current.password_state = password_state(account_service().entry(current.dn))
            _update(current)
            flash(_("Votre mot de passe est modifié."))
            return redirect(url_for("account.home"))
    rules = services().reset.policy_for(profile).rules()
    return render_template(
        "account/password.html", form=form, current=current, failed=failed,
        rules=[(rule, rule_text(rule)) for rule in rules], rules_data=describe_for_browser(rules),
    )  # fmt: skip
