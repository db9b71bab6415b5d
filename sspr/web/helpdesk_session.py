"""The helpdesk console's session: a cookie of its own, the agent in `g`, the access check.

Never the end users' session cookie (which a reset or a login clears): a random token in a
cookie of its own, the state in the store (TokenSessions), a sliding idle timeout. A
`before_request` hook of the console puts the agent in `g.agent`; `staff_required` only
checks it, and the access rule, again at every request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sspr.domain.helpdesk import HelpdeskService
from sspr.domain.helpdesk_model import Agent
from sspr.domain.once import seal_key
from sspr.domain.sessions import fingerprint
from sspr.web.context import Page, services


def desk() -> HelpdeskService:
    """The console's service (its blueprint is registered only when it is configured)."""
    service = services().helpdesk
    assert service is not None
    return service


def cookie_name() -> str:
    """__Host- over https, as the session cookie: Secure, this host only, path /."""
    return "__Host-sspr-helpdesk" if _secure() else "sspr-helpdesk"


def load_agent() -> None:
    """The hook: the session's agent in `g.agent`, idle timeout slid, access rule checked.

    None when nobody is logged in; `g.access_lost` when the agent lost access to the console.
    """
    token = request.cookies.get(cookie_name(), "")
    state = desk().sessions.touch(token) if token else None
    g.agent, g.access_lost, g.desk_state = None, False, state or {}
    if state is None:
        return
    if not desk().is_staff(state["dn"]):
        g.access_lost = True
        return
    # The identity checks an agent records belong to this session, not to the staff member.
    g.agent = Agent(state["dn"], state["login"], state["name"], fingerprint(token), seal_key(token))


def remember(name: str, value: str | None) -> None:
    """Keep a value in the agent's session (the destination of a code just sent…)."""
    token = request.cookies.get(cookie_name(), "")
    state = dict(g.desk_state)
    if value is None:
        state.pop(name, None)
    else:
        state[name] = value
    desk().sessions.touch(token, state)
    g.desk_state = state


def recalled(name: str) -> str:
    """A value kept by remember, or ""."""
    return str(g.desk_state.get(name, ""))


def open_session(agent: Agent, response: Response) -> None:
    """A fresh token at login (the previous one dies), and a new CSRF secret."""
    desk().sessions.close(request.cookies.get(cookie_name(), ""))
    session.pop("csrf_token", None)
    token = desk().sessions.open(agent.state())
    # Strict: no other site can have the browser send it, on top of the CSRF tokens.
    response.set_cookie(
        cookie_name(), token, path="/", httponly=True, samesite="Strict", secure=_secure()
    )


def end_session(response: Response) -> None:
    """End the session, server side too, and remove its cookie."""
    desk().sessions.close(request.cookies.get(cookie_name(), ""))
    response.delete_cookie(cookie_name(), path="/", secure=_secure())


def current_agent() -> Agent:
    """The logged-in agent of a view under staff_required."""
    agent: Agent = g.agent
    return agent


def staff_required(view: Callable[..., Page]) -> Callable[..., Page]:
    """Send anonymous visitors to the login page; drop agents who lost their access."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Page:
        if g.agent is None:
            if g.access_lost:
                flash(_("Votre accès à la console du support a été retiré."))
            elif request.cookies.get(cookie_name()):
                flash(_("Votre session a expiré. Connectez-vous à nouveau."))
            response = redirect(url_for("helpdesk.login"))
            end_session(response)
            return response
        return view(*args, **kwargs)

    return wrapper


def _secure() -> bool:
    return bool(current_app.config["SESSION_COOKIE_SECURE"])
