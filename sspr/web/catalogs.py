"""Flask-Babel's message catalog, looked up once per request and language, not once per string.

Flask-Babel finds the catalog anew for every string (the request's locale, its identifier, a
cache keyed by it): about 7 µs each, and a page shows dozens of strings. The catalog found is
kept beside the request's locale and used while that locale stays the same object:
`force_locale` (mail in the recipient's language, in the middle of a request) and `refresh`
put another locale object in its place, so a switch is always followed.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import Flask, g
from flask_babel import Domain, get_locale
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

# Where Flask-Babel keeps the request's locale (flask_babel._get_current_context). Should a
# later Flask-Babel keep it elsewhere, every lookup falls back to Flask-Babel's own: slower,
# never wrong.
_BABEL_STATE = "_flask_babel"
_KEPT = "sspr_catalog"


def _babel_state() -> Any:
    """Where Flask-Babel keeps the request's locale, if it has begun to."""
    # werkzeug's documented way past the proxy: 0.2 µs, where `if g` and `g.get` cost 1.3.
    try:
        return g._get_current_object().__dict__.get(_BABEL_STATE)
    except RuntimeError:  # outside an application context
        return None


def request_locale() -> Locale | None:
    """Flask-Babel's get_locale(), read where it keeps it."""
    state = _babel_state()
    locale: Locale | None = getattr(state, "babel_locale", None)
    # None until the request's first string or date: then Flask-Babel picks it.
    return locale if locale is not None else get_locale()


class RequestCachedDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's domain, whose catalog lookup is kept for the request's current locale."""

    def get_translations(self) -> Any:
        """The catalog of the request's current locale."""
        state = _babel_state()
        locale = getattr(state, "babel_locale", None)
        if locale is None:
            # Outside a request, or its first string: Flask-Babel picks the locale.
            return super().get_translations()
        kept = state.__dict__.get(_KEPT)
        if kept is not None and kept[0] is locale:
            return kept[1]
        translations = super().get_translations()
        setattr(state, _KEPT, (locale, translations))
        return translations


def install(app: Flask) -> None:
    """Use the request-cached domain in Python code (gettext, lazy_gettext) and templates."""
    babel = app.extensions["babel"]
    # A cached_property of the Babel object, which get_domain() reads: set before any request.
    domain = RequestCachedDomain(domain=babel.default_domain)
    babel.instance.domain_instance = domain
    # Flask-Babel's template callables look the domain up again for each string.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # `_` and `gettext`, called dozens of times a page, skip Jinja's two wrappers around them.
    template_gettext = _template_gettext(domain)
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)


def _template_gettext(domain: RequestCachedDomain) -> Any:
    """Jinja's newstyle gettext (markup in autoescaped templates, %(name)s filled), in one call."""

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
        text = domain.get_translations().ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - our catalogs, trusted as Jinja's gettext trusts them
        # As Jinja's: always a format string ("%%" is "%"), values escaped in markup.
        return text % variables if variables or "%" in text else text

    return gettext
