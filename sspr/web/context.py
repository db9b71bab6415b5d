"""The one way a view reaches the application's services, and what views share."""

from __future__ import annotations

from flask import abort, current_app, session
from werkzeug.wrappers import Response

from sspr.domain.settings import Profile
from sspr.services import Services

# What a view returns: a page, a redirect, or a page with its status.
Page = str | Response | tuple[str, int]

EXTENSION = "sspr"


def services() -> Services:
    """The services of the current application (built once by create_app)."""
    built: Services = current_app.extensions[EXTENSION]
    return built


def profile_or_404(profile_id: str) -> Profile:
    """The profile with this id, or a 404 page."""
    profile = services().rules.profile(profile_id)
    if profile is None:
        abort(404)
    return profile


def fresh_session() -> None:
    """Empty the session (a new flow, a login, an end), keeping the language chosen."""
    chosen = session.get("lang")  # sspr.web.i18n's key
    session.clear()
    if chosen:
        session["lang"] = chosen
