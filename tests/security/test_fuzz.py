"""Arbitrary input on every form and route: never a 5xx, never a change in the directory."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sspr.demo.slapd import Slapd
from tests.helpers import https_client, submit

INJECTIONS = ["*", ")(", "\\00", "*)(uid=*", "*)(|(uid=*))", "<script>", "' OR 1=1", "\x00"]
# Anything a browser (or an attacker) can send: control characters, surrogates excluded
# since they cannot be encoded, very long values, LDAP and HTML metacharacters.
hostile = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.sampled_from(INJECTIONS),
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def snapshot(slapd: Slapd) -> str:
    """Every entry with its operational attributes, as the rootDN reads them."""
    return slapd.search(slapd.suffix, "(objectClass=*)", "*", "+")


@pytest.fixture
def unchanged(slapd: Slapd) -> Iterator[None]:
    """Fail if the test changed anything in the directory."""
    before = snapshot(slapd)
    yield
    assert snapshot(slapd) == before


def post_form(client: FlaskClient, page: str, url: str, data: dict[str, str]) -> int:
    """GET the form (it may be a block or expiry page), then POST it with its token if any."""
    form = client.get(page)
    assert form.status_code < 500
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', form.text)
    fields = {"csrf_token": token.group(1)} if token else {}
    return client.post(url, data={**fields, **data}).status_code


def started(app: Flask, profile: str, identifier: str) -> FlaskClient:
    client = https_client(app)
    submit(client, f"/reset/{profile}", {"identifier": identifier})
    return client


@pytest.mark.usefixtures("unchanged")
@FUZZ
@given(identifier=hostile, profile=st.sampled_from(["usager", "elu", "agent-lycee", "x"]))
def test_identify(app: Flask, identifier: str, profile: str) -> None:
    client = https_client(app)
    client.get("/reset/usager")
    status = post_form(client, "/reset/usager", f"/reset/{profile}", {"identifier": identifier})
    assert status < 500


@pytest.mark.usefixtures("unchanged")
@FUZZ
@given(answer=hostile, extra=st.dictionaries(st.text(max_size=20), hostile, max_size=3))
def test_answer(app: Flask, answer: str, extra: dict[str, str]) -> None:
    client = started(app, "usager", "jeanne.martin")
    status = post_form(client, "/reset/question", "/reset/question", {"answer_0": answer, **extra})
    assert status < 500


@pytest.mark.usefixtures("unchanged")
@FUZZ
@given(code=hostile)
def test_code_and_choice(app: Flask, code: str) -> None:
    client = started(app, "elu", "nobody.fuzz")
    assert post_form(client, "/reset/code", "/reset/code", {"code": code}) < 500
    assert post_form(client, "/reset/code", "/reset/choose", {"channel": code}) < 500
    assert post_form(client, "/reset/code", "/reset/password", {"password": code}) < 500


@pytest.mark.usefixtures("unchanged")
@FUZZ
@given(identifier=hostile, password=hostile)
def test_login(app: Flask, identifier: str, password: str) -> None:
    client = https_client(app)
    data = {"identifier": identifier, "password": password}
    assert post_form(client, "/account/login/usager", "/account/login/usager", data) < 500


@pytest.mark.usefixtures("unchanged")
@FUZZ
@given(segment=hostile, query=hostile)
def test_get_routes(app: Flask, segment: str, query: str) -> None:
    client = https_client(app)
    safe = re.sub(r"[/?#%\s]", "_", segment)[:200] or "_"
    urls: list[Callable[[], Any]] = [
        lambda: client.get("/", query_string={"profile": query, "login_hint": query}),
        lambda: client.get(f"/lang/{safe}", query_string={"next": query}),
        lambda: client.get(f"/reset/link/{safe}"),
        lambda: client.get("/reset/link"),
        lambda: client.get(f"/reset/{safe}", query_string={"login_hint": query}),
        lambda: client.get(f"/account/login/{safe}"),
        lambda: client.get("/account/confirm", query_string={"next": query}),
    ]
    for fetch in urls:
        assert fetch().status_code < 500
