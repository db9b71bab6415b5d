"""The catalog kept per request follows every language switch: the page's, a mail's, a refresh."""

from __future__ import annotations

from flask import Flask, render_template_string, session
from flask_babel import force_locale, gettext, lazy_gettext, refresh

from sspr.web.i18n import current_language


def test_python_strings_follow_force_locale_and_back(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert gettext("Valider") == "Valider"
        with force_locale("en"):
            assert gettext("Valider") == "Submit"
            assert str(lazy_gettext("Valider")) == "Submit"
        assert gettext("Valider") == "Valider"
        assert str(lazy_gettext("Valider")) == "Valider"


def test_templates_follow_force_locale_within_one_render_pass(app: Flask) -> None:
    page = "{{ _('Valider') }}|{{ gettext('Valider') }}|{{ ngettext('%(num)d', '%(num)d+', 2) }}"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(page) == "Submit|Submit|2+"
        with force_locale("fr"):
            assert render_template_string("{{ _('Valider') }}") == "Valider"
        assert render_template_string("{{ _('Valider') }}") == "Submit"


def test_a_language_chosen_mid_request_shows_after_a_refresh(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert gettext("Valider") == "Valider"
        session["lang"] = "en"
        refresh()
        assert [gettext("Valider"), gettext("Valider")] == ["Submit", "Submit"]


def test_outside_any_application_strings_are_the_msgids(app: Flask) -> None:
    assert gettext("Valider") == "Valider"


def test_template_strings_escape_values_in_pages_only(app: Flask) -> None:
    greeting = "{{ _('Connecté en tant que %(name)s (%(login)s)', name=name, login='jo') }}"
    page = app.jinja_env.from_string(greeting)
    mail = app.jinja_env.from_string("{% autoescape false %}" + greeting + "{% endautoescape %}")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert page.render(name="<Jo>") == "Logged in as &lt;Jo&gt; (jo)"
        assert mail.render(name="<Jo>") == "Logged in as <Jo> (jo)"
        # Always a format string, as Jinja's newstyle gettext: "%%" shows "%".
        assert render_template_string("{{ _('100 %%') }}|{{ _('a') }}") == "100 %|a"


def test_the_current_language_follows_the_locale_chosen_forced_and_refreshed(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert current_language() == "en"
        with force_locale("fr"):
            assert current_language() == "fr"
        assert current_language() == "en"
        session["lang"] = "fr"
        refresh()
        assert current_language() == "fr"
    # Outside any application: the default, as before.
    assert current_language() == "fr"
