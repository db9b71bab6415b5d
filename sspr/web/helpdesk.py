"""The helpdesk console: staff login, search, a user's page, the actions and the audit trail.

Its session is its own: a random token in a cookie of its own (never the end users' session
cookie, which a reset or a login clears), the state in the store under the token's hash, a
sliding idle timeout, and the access rule checked again at every request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from sspr.domain.errors import (
    ActionUnavailable,
    CodeExpired,
    CodeInvalid,
    DeliveryFailed,
    IdentityNotChecked,
    InvalidCredentials,
    NotEnrolled,
    NotStaff,
    OutOfScope,
    PasswordChangeNeeded,
    PasswordRefused,
    ReasonRequired,
    ResendTooSoon,
    SsprError,
    TooManyAttempts,
    TooManySends,
)
from sspr.domain.helpdesk import Agent, HelpdeskService, UserSummary
from sspr.domain.settings import HelpdeskAction
from sspr.web.forms import FormError, LoginForm, options
from sspr.web.helpdesk_forms import ActionForm, ChannelActionForm, IdentityCodeForm
from sspr.web.i18n import current_language
from sspr.web.messages import code_invalid_text, refusal_text, resend_text, sends_text, wait_text
from sspr.web.reset import Page, blocked_page, services

bp = Blueprint("helpdesk", __name__, url_prefix="/helpdesk")


def cookie_name() -> str:
    """__Host- over https, as the session cookie: Secure, this host only, path /."""
    return (
        "__Host-sspr-helpdesk" if current_app.config["SESSION_COOKIE_SECURE"] else "sspr-helpdesk"
    )


# The audit page's event families, in the order the filter lists them.
EVENT_FAMILIES = {
    "reset.requested": _l("Demande de réinitialisation"),
    "code.sent": _l("Code envoyé"),
    "proof": _l("Preuve réussie ou échouée"),
    "account.blocked": _l("Blocage après échecs"),
    "password.changed": _l("Mot de passe modifié"),
    "enrolment.changed": _l("Données de récupération modifiées"),
    "login": _l("Connexion à « Mon compte »"),
    "helpdesk": _l("Actions du support"),
}
ACTION_TITLES: dict[HelpdeskAction, Any] = {
    "send_reset": _l("Envoyer un lien de réinitialisation"),
    "identity_check": _l("Vérifier l'identité de l'appelant"),
    "temporary_password": _l("Définir un mot de passe temporaire"),
    "unlock": _l("Déverrouiller le compte"),
    "clear_recovery": _l("Effacer les données de récupération"),
}
EVENT_LABELS = {
    "proof.succeeded": _l("Preuve réussie"),
    "proof.failed": _l("Preuve échouée"),
    "notification.sent": _l("Notification"),
    "helpdesk.login": _l("Support : connexion"),
    "helpdesk.logout": _l("Support : déconnexion"),
    "helpdesk.reset_sent": _l("Support : réinitialisation envoyée"),
    "helpdesk.identity_code_sent": _l("Support : code de vérification envoyé"),
    "helpdesk.identity_checked": _l("Support : vérification d'identité"),
    "helpdesk.temporary_password": _l("Support : mot de passe temporaire"),
    "helpdesk.unlock": _l("Support : déverrouillage"),
    "helpdesk.recovery_cleared": _l("Support : données de récupération effacées"),
}


def helpdesk() -> HelpdeskService:
    """The application's helpdesk service (the console exists only when configured)."""
    service: HelpdeskService | None = services().helpdesk
    if service is None:
        abort(404)
    return service


@bp.before_request
def _console_configured() -> None:
    helpdesk()


@bp.context_processor
def _console_globals() -> dict[str, Any]:
    return {
        "agent": g.get("agent"),
        "ldap_time": ldap_time,
        "event_time": event_time,
        "event_label": event_label,
    }


# -- sessions --------------------------------------------------------------------------------


def _key(token: str) -> str:
    return "helpdesk:session:" + hashlib.sha256(token.encode()).hexdigest()


def current_agent() -> Agent | None:
    """The logged-in agent, sliding the idle timeout; None once it has expired."""
    token = request.cookies.get(cookie_name(), "")
    raw = services().store.get(_key(token)) if token else None
    if raw is None:
        return None
    _save(token, raw)
    # The identity checks an agent records belong to this session, not to the staff member.
    return Agent(**json.loads(raw), session=hashlib.sha256(token.encode()).hexdigest())


def _save(token: str, raw: bytes) -> None:
    services().store.set(_key(token), raw, helpdesk().config.idle_timeout_seconds)


def _open_session(agent: Agent, response: Response) -> None:
    """A fresh token at login (the previous one dies), and a new CSRF secret."""
    old = request.cookies.get(cookie_name())
    if old:
        services().store.delete(_key(old))
    session.pop("csrf_token", None)
    token = secrets.token_urlsafe(32)
    state = asdict(agent)
    state.pop("session")
    _save(token, json.dumps(state).encode())
    # Strict: no other site can have the browser send it, on top of the CSRF tokens.
    response.set_cookie(
        cookie_name(), token, path="/", httponly=True, samesite="Strict",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
    )  # fmt: skip


def _end_session(response: Response) -> None:
    token = request.cookies.get(cookie_name())
    if token:
        services().store.delete(_key(token))
    response.delete_cookie(
        cookie_name(), path="/", secure=bool(current_app.config["SESSION_COOKIE_SECURE"])
    )


def staff_required(view: Callable[..., Page]) -> Callable[..., Page]:
    """Send anonymous visitors to the login page; drop agents who lost their access."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Page:
        agent = current_agent()
        if agent is None or not helpdesk().is_staff(agent.dn):
            if agent is not None:
                flash(_("Votre accès à la console du support a été retiré."))
            elif request.cookies.get(cookie_name()):
                flash(_("Votre session a expiré. Connectez-vous à nouveau."))
            response = redirect(url_for("helpdesk.login"))
            _end_session(response)
            return response
        g.agent = agent
        return view(agent, *args, **kwargs)

    return wrapper


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
        try:
            services().ip_limits.hit_identify(request.remote_addr or "", "helpdesk")
            agent = helpdesk().login(form.identifier.data or "", form.password.data or "")
        except TooManyAttempts as blocked:
            return blocked_page(blocked)
        except (InvalidCredentials, NotStaff):
            # Alike, so the page never confirms a password to someone without access.
            message = _("Identifiant ou mot de passe incorrect, ou accès non autorisé.")
            FormError(None, message).populate_form(form)
        except PasswordRefused:
            FormError(None, _("Votre compte est verrouillé.")).populate_form(form)
        except PasswordChangeNeeded:
            message = _("Votre mot de passe doit être changé avant d'accéder à la console.")
            FormError(None, message).populate_form(form)
        else:
            response = redirect(url_for("helpdesk.search"))
            _open_session(agent, response)
            return response
    return render_template("helpdesk/login.html", form=form)


@bp.post("/logout")
@staff_required
def logout(agent: Agent) -> Response:
    """End the session, server side too."""
    helpdesk().logout(agent)
    flash(_("Vous êtes déconnecté."))
    response = redirect(url_for("helpdesk.login"))
    _end_session(response)
    return response


# -- search and user page --------------------------------------------------------------------


@bp.get("/search")
@staff_required
def search(agent: Agent) -> Page:
    """Search by login, email or name, one page at a time."""
    query = request.args.get("q", "")[:200]
    page = request.args.get("page", 1, type=int) or 1
    results = helpdesk().search(query, page - 1) if query.strip() else None
    return render_template(
        "helpdesk/search.html", query=query, results=results, labels=_profile_labels()
    )


@bp.get("/user")
@staff_required
def user(agent: Agent) -> Page:
    """What the agent needs for a call: profile, channels, lock state, recent events."""
    summary = _summary()
    checked = helpdesk().identity_checked(agent, summary.entry.dn)
    events = helpdesk().events(user=summary.entry.dn, limit=15)
    return render_template(
        "helpdesk/user.html", summary=summary, labels=_profile_labels(), events=events,
        checked_minutes=_minutes(checked) if checked else None,
        block_minutes=_minutes(summary.proof_block) if summary.proof_block else None,
    )  # fmt: skip


def _summary() -> UserSummary:
    try:
        return helpdesk().summary(request.args.get("dn", "")[:1024])
    except OutOfScope:
        abort(404)


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
def send_reset(agent: Agent) -> Page:
    """Send the user's reset (email link and code, or SMS code) on a registered channel."""
    summary = _summary()
    form = _channel_form(summary.reset_channels)
    if form.validate_on_submit() and _has_reason(form, "send_reset"):
        channel = form.channel.data or ""
        try:
            masked = helpdesk().send_reset(agent, summary.entry.dn, channel, form.reason.data or "")
        except SsprError as problem:
            _refused(form, problem)
        else:
            flash(_("Le message de réinitialisation est envoyé (%(to)s).", to=masked))
            return _back(summary)
    return _confirm_page("send_reset", summary, form)


@bp.route("/user/identity", methods=["GET", "POST"])
@staff_required
def identity(agent: Agent) -> Page:
    """Send the caller a code on a registered channel; the caller reads it out."""
    summary = _summary()
    form = _channel_form(summary.identity_channels)
    if form.validate_on_submit() and _has_reason(form, "identity_check"):
        channel = form.channel.data or ""
        try:
            masked = helpdesk().send_identity_code(
                agent, summary.entry.dn, channel, form.reason.data or ""
            )
        except SsprError as problem:
            _refused(form, problem)
        else:
            session["helpdesk_sent_to"] = masked
            return redirect(url_for("helpdesk.identity_code", dn=summary.entry.dn, channel=channel))
    return _confirm_page("identity_check", summary, form)


@bp.route("/user/identity/code", methods=["GET", "POST"])
@staff_required
def identity_code(agent: Agent) -> Page:
    """Type the code the caller reads out."""
    summary = _summary()
    channel = request.args.get("channel", "")
    if channel not in summary.identity_channels:
        abort(404)
    form = IdentityCodeForm()
    if form.validate_on_submit():
        try:
            until = helpdesk().check_identity(
                agent, summary.entry.dn, channel, form.code.data or ""
            )
        except CodeInvalid as wrong:
            FormError("code", code_invalid_text(wrong.attempts_left)).populate_form(form)
        except CodeExpired:
            flash(_("Ce code n'est plus valable : envoyez-en un nouveau."))
            return redirect(url_for("helpdesk.identity", dn=summary.entry.dn))
        else:
            session.pop("helpdesk_sent_to", None)
            minutes = _minutes(until - helpdesk().now())
            flash(
                ngettext(
                    "Identité vérifiée : vous pouvez agir sur ce compte pendant %(num)d minute.",
                    "Identité vérifiée : vous pouvez agir sur ce compte pendant %(num)d minutes.",
                    minutes,
                )
            )
            return _back(summary)
    return render_template(
        "helpdesk/identity_code.html", summary=summary, form=form,
        sent_to=session.get("helpdesk_sent_to", ""),
    )  # fmt: skip


@bp.route("/user/temporary-password", methods=["GET", "POST"])
@staff_required
def temporary_password(agent: Agent) -> Page:
    """Generate a password the policy accepts, to change at the next login; show it once."""
    summary = _summary()
    form = ActionForm()
    if form.validate_on_submit() and _has_reason(form, "temporary_password"):
        try:
            password = helpdesk().temporary_password(
                agent, summary.entry.dn, form.reason.data or ""
            )
        except SsprError as problem:
            _refused(form, problem)
        else:
            # Rendered by the POST itself: the password is kept nowhere to be shown again.
            return render_template("helpdesk/temporary.html", summary=summary, password=password)
    return _confirm_page("temporary_password", summary, form)


@bp.route("/user/unlock", methods=["GET", "POST"])
@staff_required
def unlock(agent: Agent) -> Page:
    """Clear the directory lock, the failed binds and sspr's block after failed proofs."""
    summary = _summary()
    form = ActionForm()
    if form.validate_on_submit() and _has_reason(form, "unlock"):
        try:
            helpdesk().unlock(agent, summary.entry.dn, form.reason.data or "")
        except SsprError as problem:
            _refused(form, problem)
        else:
            flash(_("Le compte est déverrouillé."))
            return _back(summary)
    return _confirm_page("unlock", summary, form)


@bp.route("/user/clear-recovery", methods=["GET", "POST"])
@staff_required
def clear_recovery(agent: Agent) -> Page:
    """Remove the questions and the mobile: the user must enrol again."""
    summary = _summary()
    form = ActionForm()
    if form.validate_on_submit() and _has_reason(form, "clear_recovery"):
        try:
            helpdesk().clear_recovery(agent, summary.entry.dn, form.reason.data or "")
        except SsprError as problem:
            _refused(form, problem)
        else:
            flash(_("Les données de récupération sont effacées : l'usager devra les enregistrer."))
            return _back(summary)
    return _confirm_page("clear_recovery", summary, form)


def _channel_form(channels: tuple[str, ...]) -> ChannelActionForm:
    form = ChannelActionForm()
    labels = {"email": _("Par email"), "sms": _("Par SMS")}
    form.channel.choices = options([(channel, labels[channel]) for channel in channels])
    if len(channels) == 1 and not form.is_submitted():
        form.channel.data = channels[0]
    return form


def _has_reason(form: ActionForm, action: HelpdeskAction) -> bool:
    """False, with the message on the field, when a required reason is missing."""
    if helpdesk().reason_required(action) and not (form.reason.data or "").strip():
        FormError("reason", _("Indiquez la raison de cette action.")).populate_form(form)
        return False
    return True


def _confirm_page(action: HelpdeskAction, summary: UserSummary, form: ActionForm) -> str:
    agent: Agent = g.agent
    checked = helpdesk().identity_checked(agent, summary.entry.dn)
    return render_template(
        "helpdesk/confirm.html", action=action, title=str(ACTION_TITLES[action]), summary=summary,
        form=form,
        reason_required=helpdesk().reason_required(action), identity_checked=checked is not None,
        identity_check_required=helpdesk().identity_check_required(),
        labels=_profile_labels(),
    )  # fmt: skip


def _refused(form: ActionForm, problem: SsprError) -> None:
    """Show why the action did not happen; the domain has audited it."""
    if isinstance(problem, ReasonRequired):
        FormError("reason", _("Indiquez la raison de cette action.")).populate_form(form)
        return
    FormError(None, refusal_message(problem)).populate_form(form)


def refusal_message(problem: SsprError) -> str:
    """A sentence for the agent, for each way an action can be refused."""
    if isinstance(problem, IdentityNotChecked):
        return _("Vérifiez d'abord l'identité de l'appelant.")
    if isinstance(problem, ActionUnavailable | NotEnrolled):
        why = problem.why if isinstance(problem, ActionUnavailable) else "not_enrolled"
        return _unavailable_text(why)
    if isinstance(problem, TooManyAttempts):
        return (
            wait_text(problem.retry_after)
            + " "
            + _("Déverrouillez le compte pour lever ce blocage.")
        )
    if isinstance(problem, ResendTooSoon):
        return resend_text(problem.retry_after)
    if isinstance(problem, TooManySends):
        return sends_text(problem.retry_after)
    if isinstance(problem, DeliveryFailed):
        return _("Le message n'a pas pu être envoyé. Réessayez dans quelques minutes.")
    if isinstance(problem, PasswordRefused):
        return refusal_text(problem.reason)
    raise problem  # not a refusal (the directory is down…): the application's error pages


def _unavailable_text(why: str) -> str:
    texts = {
        "no_channel": _("Aucun moyen d'envoi de ce type n'est enregistré sur ce compte."),
        "not_enrolled": _(
            "Ce compte ne peut pas franchir toutes les étapes de son profil : il n'est pas enrôlé."
        ),
        "several_profiles": _("Ce compte appartient à plusieurs profils : action impossible."),
    }
    return texts.get(why, _("Cette action est impossible sur ce compte."))


# -- audit trail -----------------------------------------------------------------------------


@bp.get("/audit")
@staff_required
def audit(agent: Agent) -> Page:
    """The latest security events, filtered by user and type."""
    user_filter = request.args.get("user", "")[:1024].strip()
    event = request.args.get("event", "")
    event = event if event in EVENT_FAMILIES else ""
    events = helpdesk().events(user=user_filter, event=event, limit=100)
    return render_template(
        "helpdesk/audit.html", events=events, user_filter=user_filter, event=event,
        families=EVENT_FAMILIES,
    )  # fmt: skip


# -- display helpers -------------------------------------------------------------------------


def ldap_time(value: str) -> str:
    """A GeneralizedTime (20261123114900Z, fractions allowed) in the configured time zone."""
    if value.startswith("000001010000"):
        # ppolicy's "locked until an administrator unlocks it".
        return _("jusqu'à déverrouillage par un administrateur")
    try:
        when = datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return value
    return format_datetime(when, "medium")


def event_time(value: object) -> str:
    """An audit line's ISO time in the configured time zone."""
    try:
        return format_datetime(datetime.fromisoformat(str(value)), "medium")
    except ValueError:
        return str(value)


def event_label(name: object) -> str:
    """A readable name for an audit event."""
    label = EVENT_LABELS.get(str(name)) or EVENT_FAMILIES.get(str(name))
    return str(label) if label else str(name)
