"""The journey's texts in templates: the admin's wording for the profile, else the catalogs'."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from sspr.texts import JOURNEY_TEXTS
from sspr.web.context import services
from sspr.web.i18n import current_language


def journey_text(message_id: str, profile_id: str | None = None, **params: Any) -> Markup:
    """One text of the journey (sspr/texts.py) in the current language, placeholders filled.

    The catalogs' texts are markup as gettext gives it to templates; the admin's wording is
    escaped, and so are the values put in either.
    """
    default = JOURNEY_TEXTS[message_id][1]
    wording = services().settings.text(message_id, profile_id, current_language())
    # The catalogs are ours, and trusted as Jinja's own gettext trusts them.
    template = Markup(gettext(default)) if wording is None else escape(wording)  # noqa: S704
    if not template:
        return Markup()
    result: Markup = template % params if params else template.replace("%%", "%")
    return result


@pass_context
def text_in_template(context: Context, message_id: str, **params: Any) -> Markup:
    """`t("id")` in a template: the page's profile comes from its `profile` or its `flow`."""
    profile = context.get("profile")
    flow = context.get("flow")
    profile_id = getattr(profile, "id", None) or getattr(flow, "profile", None)
    return journey_text(message_id, profile_id, **params)
