"""Templates are compiled and the languages' date formats read before the first visitor; a broken
template is left to fail where used."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from jinja2 import TemplateSyntaxError

from sspr.domain import policy as policy_module
from sspr.domain.policy import PasswordPolicy
from sspr.web.warmup import compile_templates, load_locale_data, score_once


def cached_names(app: Flask) -> set[str]:
    assert app.jinja_env.cache is not None
    return {name for _, name in app.jinja_env.cache}


def test_every_page_and_mail_is_compiled(app: Flask) -> None:
    names = app.jinja_env.list_templates(extensions=("html", "txt"))
    assert {"base.html", "change/form.html", "mail/changed.txt"} <= set(names)
    assert compile_templates(app) == len(names)
    assert cached_names(app) >= set(names)


def test_a_broken_template_is_skipped_and_still_fails_where_used(tmp_path: Path) -> None:
    (tmp_path / "good.html").write_text("{{ 1 + 1 }}")
    (tmp_path / "broken.txt").write_text("{% if %}")
    (tmp_path / "notes.md").write_text("{% if %}")
    app = Flask(__name__, template_folder=str(tmp_path))
    assert compile_templates(app) == 1
    assert cached_names(app) == {"good.html"}
    with pytest.raises(TemplateSyntaxError):
        app.jinja_env.get_template("broken.txt")


def test_the_languages_dates_are_read_before_the_first_notice() -> None:
    from babel import localedata

    load_locale_data(["fr", "en"])
    # Babel's own cache, which format_datetime reads from.
    assert {"fr", "en"} <= set(localedata._cache)


def test_each_guessability_policy_scores_once_before_the_first_visitor() -> None:
    policy_module._plain_guesser.cache_clear()
    policies = [
        PasswordPolicy(min_guess_score=3),
        PasswordPolicy(),
        PasswordPolicy(min_guess_score=2),
    ]
    assert score_once(policies) == 2
    # zxcvbn's own dictionaries, for a policy built without the French lists, were built too.
    assert policy_module._plain_guesser.cache_info().currsize == 1
