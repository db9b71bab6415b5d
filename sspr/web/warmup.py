"""What a worker prepares before its first visitor: every template compiled, every offered
language's CLDR data loaded, zxcvbn run once. Otherwise the first visitors of each page, in each
worker, wait for it (about 200 ms for the templates, 20 ms a language for the dates of the
notices, 0.5 ms for zxcvbn's first score: its dictionaries are built with the policies)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from babel import Locale
from flask import Flask
from jinja2 import TemplateError

from sspr.domain.policy import PasswordPolicy

log = logging.getLogger(__name__)

# Pages and mails; an admin's templates folder may hold other files (a README, images).
TEMPLATE_EXTENSIONS = ("html", "txt")


# Scored once per policy at start; never a user's password.
WARM_UP_PASSWORD = "Warm-up-Passw0rd!"  # noqa: S105 - a sample, no credential


def warm_up(app: Flask, languages: Iterable[str], policies: Iterable[PasswordPolicy]) -> None:
    """Compile the templates, load the languages' data, score once (production; tests skip it)."""
    compile_templates(app)
    load_locale_data(languages)
    score_once(policies)


def score_once(policies: Iterable[PasswordPolicy]) -> int:
    """Have each guessability policy's zxcvbn score a password; return how many did.

    zxcvbn compiles its patterns and fills its caches on its first score.
    """
    scored = 0
    for policy in policies:
        if policy.min_guess_score:
            policy.assess(WARM_UP_PASSWORD)
            scored += 1
    return scored


def load_locale_data(languages: Iterable[str]) -> None:
    """Babel reads a language's CLDR data on first use (the date of a change notice)."""
    for code in languages:
        # Babel keeps what it read for the process: months, date patterns, plural rules.
        Locale.parse(code).datetime_formats  # noqa: B018 - read for its side effect


def compile_templates(app: Flask) -> int:
    """Compile every page and mail template into Jinja's cache; return how many.

    Production does not reload templates, so they stay compiled for the worker's life.
    """
    env = app.jinja_env
    names = env.list_templates(extensions=TEMPLATE_EXTENSIONS)
    # Jinja's cache drops the oldest beyond its size: every template must fit.
    if env.cache is not None and env.cache.capacity < len(names):
        log.warning("%d templates, Jinja's cache keeps %d", len(names), env.cache.capacity)
    compiled = 0
    for name in names:
        try:
            env.get_template(name)
        except TemplateError as error:
            # An admin's broken mail template fails where it is used, as it always did.
            log.warning("template %s does not compile: %s", name, error)
            continue
        compiled += 1
    return compiled
