"""Anti-enumeration: every neutral case gets the same page, status and response time."""

from __future__ import annotations

import io
import re
import statistics
import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.slapd import Slapd
from tests.web.conftest import build_app, csrf_token, https_client

SAMPLES = 30


def neutral_settings(settings: Settings) -> Settings:
    raw = settings.model_dump(mode="json")
    raw["profiles"][0]["not_enrolled"]["explicit"] = False  # the default: no explicit message
    raw["rate_limits"] = {"identify_per_ip_per_minute": 10000}
    return Settings.model_validate(raw)


def identify_timed(client: FlaskClient, identifier: str) -> tuple[float, int, str]:
    token = csrf_token(client.get("/reset/usager").text)
    start = time.perf_counter()
    response = client.post("/reset/usager", data={"csrf_token": token, "identifier": identifier})
    elapsed = time.perf_counter() - start
    return elapsed, response.status_code, response.headers.get("Location", "")


def page_shape(client: FlaskClient) -> str:
    """The question page without what legitimately varies: token and question text."""
    page = client.get("/reset/question").text
    page = re.sub(r'value="[^"]+"', 'value=""', page)
    return re.sub(r'(<label class="label" for="answer_0">)[^<]*', r"\1", page)


@pytest.fixture
def cases(make_account: Any) -> dict[str, str]:
    enrolled = make_account("usager", {"birth_city": "Paris"})
    elsewhere = make_account("elu", {"birth_city": "Paris"})
    bare = make_account("usager")
    make_account("usager", {"birth_city": "Paris"}, mail="twice@mairie.fr")
    make_account("usager", {"birth_city": "Lyon"}, mail="twice@mairie.fr")
    return {
        "unknown account": "nobody.at.all",
        "outside the profile": elsewhere.login,
        "no enrolled channel": bare.login,
        "several matches": "twice@mairie.fr",
        "enrolled account": enrolled.login,
    }


def test_neutral_cases_look_and_take_the_same(
    settings: Settings, outbox: Any, cases: dict[str, str]
) -> None:
    app = build_app(neutral_settings(settings), outbox, io.StringIO())
    medians: dict[str, float] = {}
    shapes: dict[str, str] = {}
    for name, identifier in cases.items():
        client = https_client(app)
        identify_timed(client, identifier)  # warm the connection and the caches
        samples = []
        for _ in range(SAMPLES):
            elapsed, status, location = identify_timed(client, identifier)
            assert (status, location) == (302, "/reset/question"), name
            samples.append(elapsed)
        medians[name] = statistics.median(samples)
        shapes[name] = page_shape(client)
    assert len(set(shapes.values())) == 1, "the question pages differ"
    fastest, slowest = min(medians.values()), max(medians.values())
    allowed = max(0.25 * fastest, 0.010)
    assert slowest - fastest <= allowed, {k: round(v * 1000, 2) for k, v in medians.items()}


def test_code_channel_decoys_cost_what_a_send_costs(
    settings: Settings, outbox: Any, make_account: Any
) -> None:
    raw = settings.model_dump(mode="json")
    raw["rate_limits"] = {"identify_per_ip_per_minute": 10000}
    raw["codes"]["email"].update(resend_cooldown_seconds=0, max_per_hour=100, max_per_day=1000)
    app = build_app(Settings.model_validate(raw), outbox, io.StringIO())
    known = make_account("elu")
    medians = {}
    for name, identifier in (("known", known.login), ("unknown", "nobody.at.all")):
        client = https_client(app)
        samples = []
        for _ in range(SAMPLES):
            token = csrf_token(client.get("/reset/elu").text)
            start = time.perf_counter()
            response = client.post(
                "/reset/elu", data={"csrf_token": token, "identifier": identifier}
            )
            samples.append(time.perf_counter() - start)
            assert response.headers["Location"] == "/reset/code"
        medians[name] = statistics.median(samples)
    fastest, slowest = min(medians.values()), max(medians.values())
    assert slowest - fastest <= max(0.25 * fastest, 0.010), medians
    assert len(outbox.mails) == SAMPLES  # only the real account got mail


def test_every_case_costs_the_same_directory_operations(
    settings: Settings, outbox: Any, cases: dict[str, str], slapd: Slapd
) -> None:
    from sspr.directory.ldap import LdapDirectory

    operations: list[str] = []
    config = neutral_settings(settings)
    directory = LdapDirectory(
        config.directory, slapd.service_password, on_latency=lambda op, _: operations.append(op)
    )
    app = build_app(config, outbox, io.StringIO(), directory=directory)
    seen = {}
    for name, identifier in cases.items():
        operations.clear()
        identify_timed(https_client(app), identifier)
        seen[name] = list(operations)
    assert len({tuple(ops) for ops in seen.values()}) == 1, seen
    directory.close()
