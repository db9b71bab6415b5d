"""The helpdesk console: staff login, search, a user's page, the actions and the audit trail.

Every action answers its POST with a redirect, and acts once per rendered form: a reload or a
second click of the same form does nothing more (each form carries a submission id).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from sspr.domain.channels import Channel
from sspr.domain.errors import (
    AccountUnusable,
    CodeExpired,
    InvalidCredentials,
    NotStaff,
    OutOfScope,
    PasswordChangeNeeded,
    PasswordRefused,
)
from sspr.domain.helpdesk_actions import ACTIONS, HelpdeskAction
from sspr.domain.helpdesk_model import UserSummary
from sspr.domain.limits import Area
from sspr.web.context import Page, services
from sspr.web.errors import FormError, handle_blocks, handle_form_errors
from sspr.web.forms import LoginForm, options
from sspr.web.helpdesk_forms import (
    ActionForm,
    ChannelActionForm,
    IdentityCodeForm,
    StaffPasswordForm,
    new_submission,
)
from sspr.web.helpdesk_session import (
    current_agent,
    desk,
    end_session,
    load_agent,
    open_session,
    recalled,
    remember,
    staff_required,
)
from sspr.web.helpdesk_texts import EVENT_FAMILIES, console_globals, refusal
from sspr.web.i18n import current_language
from sspr.web.messages import unusable_text
from sspr.web.sources import limit

bp = Blueprint("helpdesk", __name__, url_prefix="/helpdesk")
bp.before_request(load_agent)
handle_blocks(bp)


@bp.context_processor
def _console_globals() -> dict[str, Any]:
    return {"agent": g.get("agent"), **console_globals()}


# -- login and logout ------------------------------------------------------------------------


@bp.get("/")
def home() -> Response:
    """The console starts with the search."""
    return redirect(url_for("helpdesk.search"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    """Staff log in with their directory account; access depends on the configured rule."""
    form = LoginForm()
    if form.validate_on_submit():
        with handle_form_errors(form):
            limit(Area.HELPDESK)
            try:
                agent = desk().login(form.identifier.data or "", form.password.data or "")
            except (InvalidCredentials, NotStaff) as refused:
                # Alike, so the page never confirms a password to someone without access.
                message = _("Identifiant ou mot de passe incorrect, ou accès non autorisé.")
                raise FormError(None, message) from refused
            except PasswordRefused as locked:
                raise FormError(None, _("Votre compte est verrouillé.")) from locked
            except AccountUnusable as unusable:
                raise FormError(None, unusable_text(unusable.why)) from unusable
            except PasswordChangeNeeded:
                flash(_("Votre mot de passe doit être changé avant d'accéder à la console."))
                return redirect(url_for("helpdesk.password"))
            response = redirect(url_for("helpdesk.search"))
            open_session(agent, response)
            return response
    return render_template("helpdesk/login.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
def password() -> Page:
    """Staff whose password expired or was reset change it here, then log in."""
    form = StaffPasswordForm()
    if form.validate_on_submit():
        with handle_form_errors(form):
            limit(Area.HELPDESK)
            try:
                desk().change_expired_password(
                    form.identifier.data or "", form.current.data or "",
                    form.password.data or "", form.confirmation.data or "",
                )  # fmt: skip
            except InvalidCredentials as wrong:
                message = _("Identifiant ou mot de passe actuel incorrect.")
                raise FormError(None, message) from wrong
            flash(_("Votre mot de passe a été changé : connectez-vous avec le nouveau."))
            return redirect(url_for("helpdesk.login"))
    return render_template("helpdesk/password.html", form=form)


@bp.post("/logout")
@staff_required
def logout() -> Response:
    """End the session, server side too."""
    desk().logout(current_agent())
    flash(_("Vous êtes déconnecté."))
    response = redirect(url_for("helpdesk.login"))
    end_session(response)
    return response


# -- search and user page --------------------------------------------------------------------


@bp.get("/search")
@staff_required
def search() -> Page:
    """Search by login, email or name, one page at a time."""
    query = request.args.get("q", "")[:200]
    page = request.args.get("page", 1, type=int) or 1
    results = desk().search(query, page - 1) if query.strip() else None
    return render_template(
        "helpdesk/search.html", query=query, results=results, labels=_profile_labels(),
        directory_of=_directory_name,
    )  # fmt: skip


@bp.get("/user")
@staff_required
def user() -> Page:
    """What the agent needs for a call: profile, channels, lock state, recent events."""
    summary = _summary()
    checked = desk().identity_checked(current_agent(), summary.entry.dn)
    events = desk().events(user=summary.entry.dn, limit=15)
    return render_template(
        "helpdesk/user.html", summary=summary, labels=_profile_labels(), events=events,
        directory=_directory_name(summary.entry.dn),
        checked_minutes=_minutes(checked) if checked else None,
        block_minutes=_minutes(summary.proof_block) if summary.proof_block else None,
    )  # fmt: skip


def _summary() -> UserSummary:
    try:
        return desk().summary(request.args.get("dn", "")[:1024])
    except OutOfScope:
        abort(404)


def _directory_name(dn: str) -> str | None:
    """The name of the directory holding `dn`, shown only when there are several."""
    rules = services().rules
    return rules.directory_of(dn) if len(rules.directories) > 1 else None


def _profile_labels() -> dict[str, str]:
    lang = current_language()
    return {profile.id: profile.label.get(lang) for profile in services().settings.profiles}


def _minutes(seconds: float) -> int:
    return max(1, int((seconds + 59) // 60))


def _back(summary: UserSummary) -> Response:
    return redirect(url_for("helpdesk.user", dn=summary.entry.dn))


# -- actions ---------------------------------------------------------------------------------


@bp.route("/user/reset", methods=["GET", "POST"])
@staff_required
def send_reset() -> Page:
    """Send the user's reset (email link and code, or SMS code) on a registered channel."""
    summary = _summary()
    form = _channel_form(summary.reset_channels)
    submission = _submission(form, HelpdeskAction.SEND_RESET)
    if submission == "repeat":
        return _back(summary)
    if submission == "new":
        with _acting(form):
            masked = desk().send_reset(
                current_agent(), summary.entry.dn, form.channel.data or "", form.reason.data or ""
            )
            flash(_("Le message de réinitialisation est envoyé (%(to)s).", to=masked))
            return _back(summary)
    return _confirm_page(HelpdeskAction.SEND_RESET, summary, form)


@bp.route("/user/identity", methods=["GET", "POST"])
@staff_required
def identity() -> Page:
    """Send the caller a code on a registered channel; the caller reads it out."""
    summary = _summary()
    form = _channel_form(summary.identity_channels)
    channel = form.channel.data or ""
    code_page = url_for("helpdesk.identity_code", dn=summary.entry.dn, channel=channel)
    submission = _submission(form, HelpdeskAction.IDENTITY_CHECK)
    if submission == "repeat":
        return redirect(code_page)
    if submission == "new":
        with _acting(form):
            masked = desk().send_identity_code(
                current_agent(), summary.entry.dn, channel, form.reason.data or ""
            )
            remember("sent_to", masked)
            return redirect(code_page)
    return _confirm_page(HelpdeskAction.IDENTITY_CHECK, summary, form)


@bp.route("/user/identity/code", methods=["GET", "POST"])
@staff_required
def identity_code() -> Page:
    """Type the code the caller reads out."""
    summary = _summary()
    channel = request.args.get("channel", "")
    if channel not in summary.identity_channels:
        abort(404)
    form = IdentityCodeForm()
    if form.validate_on_submit():
        with handle_form_errors(form):
            try:
                until = desk().check_identity(
                    current_agent(), summary.entry.dn, channel, form.code.data or ""
                )
            except CodeExpired:
                flash(_("Ce code n'est plus valable : envoyez-en un nouveau."))
                return redirect(url_for("helpdesk.identity", dn=summary.entry.dn))
            remember("sent_to", None)
            minutes = _minutes(until - desk().now())
            flash(
                ngettext(
                    "Identité vérifiée : vous pouvez agir sur ce compte pendant %(num)d minute.",
                    "Identité vérifiée : vous pouvez agir sur ce compte pendant %(num)d minutes.",
                    minutes,
                )
            )
            return _back(summary)
    return render_template(
        "helpdesk/identity_code.html", summary=summary, form=form, sent_to=recalled("sent_to")
    )


@bp.route("/user/temporary-password", methods=["GET", "POST"])
@staff_required
def temporary_password() -> Page:
    """Generate a password the policy accepts, to change at the next login; show it once."""
    summary = _summary()
    form = ActionForm()
    shown = redirect(url_for("helpdesk.temporary_password_shown", dn=summary.entry.dn))
    submission = _submission(form, HelpdeskAction.TEMPORARY_PASSWORD)
    if submission == "repeat":
        return shown
    if submission == "new":
        with _acting(form):
            unsealed = desk().temporary_password(
                current_agent(), summary.entry.dn, form.reason.data or ""
            )
            if unsealed is not None:  # the store failed after the write: shown right now
                return render_template(
                    "helpdesk/temporary.html", summary=summary, password=unsealed
                )
            return shown
    return _confirm_page(HelpdeskAction.TEMPORARY_PASSWORD, summary, form)


@bp.get("/user/temporary-password/shown")
@staff_required
def temporary_password_shown() -> Page:
    """The temporary password just set, read from the store once: a reload sets nothing."""
    summary = _summary()
    password = desk().reveal_temporary_password(current_agent(), summary.entry.dn)
    if password is None:
        flash(_("Le mot de passe temporaire a déjà été affiché : il n'est montré qu'une fois."))
        return _back(summary)
    return render_template("helpdesk/temporary.html", summary=summary, password=password)


@bp.route("/user/unlock", methods=["GET", "POST"])
@staff_required
def unlock() -> Page:
    """Clear the directory lock, the failed binds and sspr's block after failed proofs."""
    summary = _summary()
    form = ActionForm()
    submission = _submission(form, HelpdeskAction.UNLOCK)
    if submission == "repeat":
        return _back(summary)
    if submission == "new":
        with _acting(form):
            desk().unlock(current_agent(), summary.entry.dn, form.reason.data or "")
            flash(_("Le compte est déverrouillé."))
            return _back(summary)
    return _confirm_page(HelpdeskAction.UNLOCK, summary, form)


@bp.route("/user/clear-recovery", methods=["GET", "POST"])
@staff_required
def clear_recovery() -> Page:
    """Remove the questions and the mobile: the user must enrol again."""
    summary = _summary()
    form = ActionForm()
    submission = _submission(form, HelpdeskAction.CLEAR_RECOVERY)
    if submission == "repeat":
        return _back(summary)
    if submission == "new":
        with _acting(form):
            desk().clear_recovery(current_agent(), summary.entry.dn, form.reason.data or "")
            flash(_("Les données de récupération sont effacées : l'usager devra les enregistrer."))
            return _back(summary)
    return _confirm_page(HelpdeskAction.CLEAR_RECOVERY, summary, form)


def _submission(form: ActionForm, action: HelpdeskAction) -> str:
    """ "new" for a first valid submission, "repeat" for the same form again, else ""."""
    if not form.validate_on_submit():
        return ""
    if desk().reason_required(action) and not (form.reason.data or "").strip():
        FormError("reason", _("Indiquez la raison de cette action.")).populate_form(form)
        return ""
    return "new" if desk().first_submission(current_agent(), form.submission.data or "") else (
        "repeat"
    )  # fmt: skip


@contextmanager
def _acting(form: ActionForm) -> Iterator[None]:
    """Refusals show on the form (the domain has audited them), and free the submission."""
    with handle_form_errors(form, describe=refusal):
        try:
            yield
        except Exception:
            desk().refused_submission(current_agent(), form.submission.data or "")
            raise


def _channel_form(channels: tuple[str, ...]) -> ChannelActionForm:
    form = ChannelActionForm()
    labels = {Channel.EMAIL: _("Par email"), Channel.SMS: _("Par SMS")}
    form.channel.choices = options([(channel, labels[channel]) for channel in channels])
    if len(channels) == 1 and not form.is_submitted():
        form.channel.data = channels[0]
    return form


def _confirm_page(action: HelpdeskAction, summary: UserSummary, form: ActionForm) -> str:
    if form.submission.errors:
        form.submission.data = new_submission()  # a form that came back without its id
    checked = desk().identity_checked(current_agent(), summary.entry.dn)
    return render_template(
        "helpdesk/confirm.html", action=action, title=_(ACTIONS[action].title), summary=summary,
        form=form,
        reason_required=desk().reason_required(action), identity_checked=checked is not None,
        identity_check_required=desk().identity_check_required(),
        labels=_profile_labels(),
    )  # fmt: skip


# -- audit trail -----------------------------------------------------------------------------


@bp.get("/audit")
@staff_required
def audit() -> Page:
    """The latest security events, filtered by user and type."""
    user_filter = request.args.get("user", "")[:1024].strip()
    event = request.args.get("event", "")
    event = event if event in EVENT_FAMILIES else ""
    events = desk().events(user=user_filter, event=event, limit=100)
    return render_template(
        "helpdesk/audit.html", events=events, user_filter=user_filter, event=event,
        families=EVENT_FAMILIES,
    )  # fmt: skip
