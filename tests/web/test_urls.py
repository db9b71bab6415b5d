"""Templates' kept URLs: each script root gets its own, and values are never kept."""

from __future__ import annotations

import re

from flask import Flask, render_template_string, url_for
from flask.testing import FlaskClient

from sspr.web import urls

FIXED = (
    "{{ url_for('static', filename='css/sspr.css') }} {{ url_for('reset.chooser') }} "
    "{{ url_for('reset.identify', profile_id=id) }}"
)


def links(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', page)


def test_a_page_served_under_another_script_root_links_under_it(client: FlaskClient) -> None:
    for _round in range(2):
        plain = links(client.get("/").text)
        mounted = links(client.get("/", environ_overrides={"SCRIPT_NAME": "/mdp"}).text)
        assert "/static/css/sspr.css" in plain and "/" in plain
        assert "/mdp/static/css/sspr.css" in mounted and "/mdp/" in mounted
        assert not any(link.startswith("/mdp") for link in plain)
        local = [link for link in mounted if link.startswith("/") and not link.startswith("//")]
        assert all(link.startswith("/mdp/") for link in local)


def test_kept_urls_are_flasks(app: Flask) -> None:
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/x"}):
        expected = " ".join(
            [
                url_for("static", filename="css/sspr.css"),
                url_for("reset.chooser"),
                url_for("reset.identify", profile_id="elu"),
            ]
        )
        for _round in range(2):
            assert render_template_string(FIXED, id="elu") == expected
        # Values are built each time, never kept.
        assert render_template_string(FIXED, id="usager").endswith("/x/reset/usager")


def test_past_its_bound_urls_are_still_right(app: Flask) -> None:
    for n in range(urls.KEPT_AT_MOST + 3):
        root = f"/r{n}"
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
            assert render_template_string("{{ url_for('reset.support') }}") == f"{root}/support"


def test_outside_a_request_urls_are_flasks(app: Flask) -> None:
    app.config["SERVER_NAME"] = "motdepasse.example.org"
    template_url_for = app.jinja_env.globals["url_for"]
    with app.app_context():
        assert template_url_for("reset.support") == "https://motdepasse.example.org/support"
