"""Language choice: a visible switch first, then the browser's Accept-Language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, session
from werkzeug.wrappers import Response

from sspr.web.catalogs import request_locale

LANGUAGES = {"fr": "Français", "en": "English"}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The user's choice, else the best Accept-Language match, else the default."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    """The language the current page is rendered in (a mail's, under force_locale)."""
    # Called about ten times a page: Flask-Babel's get_locale costs 2.1 µs, this 0.3.
    locale = request_locale()
    return locale.language if locale else "fr"


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Remember a language and go back to the page the user came from."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_local_path(request.args.get("next", "/")))


def return_path() -> str:
    """Where the switch brings the user back: this page, even when it answers a failed
    submission (its address shows the form again), else the chooser."""
    rule = request.url_rule
    if rule is None or "GET" not in (rule.methods or set()):
        return "/"
    return request.full_path.removesuffix("?")


def _local_path(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    # A line break would end up in the Location header: no page has one in its path.
    if any(not char.isprintable() for char in target):
        return "/"
    return target
