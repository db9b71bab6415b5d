""" "Mon compte" sessions: the token in the session cookie, the user in `g`, the checks.

A `before_request` hook of the account blueprint puts the logged-in user in `g.account`
(None when nobody is); `login_required` and `fresh_proof_required` only check it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any

from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from sspr.domain.account import AccountSession
from sspr.domain.flow import password_state
from sspr.domain.ports import UserEntry
from sspr.web.context import Page, fresh_session, services

# Pages a user who must change the password may still see.
RESTRICTED_OK = {"account.password", "account.logout"}


def load_user() -> None:
    """The hook: the session's user in `g.account`, its idle timeout slid; else None."""
    token = session.get("account", "")
    state = services().account.sessions.touch(token) if token else None
    g.account = AccountSession(**state) if state is not None else None


def open_session(current: AccountSession) -> None:
    """A fresh session at login: a new token, a new CSRF secret, nothing carried over."""
    fresh_session()
    session["account"] = services().account.sessions.open(asdict(current))
    g.account = current


def save_session(current: AccountSession) -> None:
    """Keep the changes made to the logged-in user's session."""
    services().account.sessions.touch(session["account"], asdict(current))


def close_session() -> None:
    """Forget the session, server side too, keeping only the language."""
    services().account.sessions.close(session.get("account", ""))
    fresh_session()
    g.account = None


def current_user() -> AccountSession:
    """The logged-in user of a view under login_required."""
    current: AccountSession = g.account
    return current


def account_entry() -> UserEntry:
    """The logged-in user's directory entry, read once per request (or handed on to it)."""
    entry: UserEntry | None = g.get("account_entry")
    if entry is None:
        dn = current_user().dn
        handed = services().handed.take(session.get("account", ""), dn)
        entry = g.account_entry = handed or services().account.entry(dn)
    return entry


def hand_on(entry: UserEntry) -> None:
    """Give the entry this request has just read to the page it redirects to."""
    services().handed.hand_on(session["account"], entry)


def login_required(view: Callable[..., Page]) -> Callable[..., Page]:
    """Send anonymous users to the login page, and keep forced changes forced."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Page:
        current: AccountSession | None = g.account
        if current is None:
            # Only someone who had a session lost it: a first visit is just sent to log in.
            if session.pop("account", None):
                flash(_("Votre session a expiré. Connectez-vous à nouveau."))
            return redirect(url_for("account.choose"))
        if password_state(account_entry()) != current.password_state:
            close_session()
            flash(_("Votre mot de passe a changé : connectez-vous à nouveau."))
            return redirect(url_for("account.choose"))
        if current.state != "ok" and request.endpoint not in RESTRICTED_OK:
            return redirect(url_for("account.password"))
        return view(*args, **kwargs)

    return wrapper


def fresh_proof_required(view: Callable[..., Page]) -> Callable[..., Page]:
    """Ask for the password again when the last proof is too old."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Page:
        window = services().rules.reauth_seconds
        if services().account.now() - current_user().proved_at > window:
            return redirect(url_for("account.confirm", next=request.path))
        return view(*args, **kwargs)

    return wrapper
