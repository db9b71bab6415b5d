"""Anti-enumeration: every neutral case gets the same page, status and response time.

The timing tests run with a CPU-bound process beside them (the house rule for timing
properties), and interleave their cases, so load that comes and goes weighs on all alike.
"""

from __future__ import annotations

import io
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from sspr.config import Settings
from sspr.demo.slapd import Slapd
from tests.helpers import counting_directory, record_calls
from tests.web.conftest import build_app, csrf_token, https_client

SAMPLES = 30
# Spins for at most this long, whatever happens to the test.
BUSY_SECONDS = 300


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    """A CPU-bound process beside the test, as on a loaded host; bounded, and ended after."""
    spin = (
        f"import time\nend = time.monotonic() + {BUSY_SECONDS}\nwhile time.monotonic() < end: pass"
    )
    process = subprocess.Popen([sys.executable, "-c", spin])
    yield
    process.kill()
    process.wait()


def neutral_settings(settings: Settings) -> Settings:
    raw = settings.model_dump(mode="json")
    raw["profiles"][0]["not_enrolled"]["explicit"] = False  # the default: no explicit message
    raw["rate_limits"] = {"reset": "10000/minute", "account": "10000/minute"}
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
    settings: Settings, outbox: Any, cases: dict[str, str], busy_cpu: None
) -> None:
    app = build_app(neutral_settings(settings), outbox, io.StringIO())
    clients = {name: https_client(app) for name in cases}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for name, identifier in cases.items():
        identify_timed(clients[name], identifier)  # warm the connection and the caches
    for _ in range(SAMPLES):
        for name, identifier in cases.items():
            elapsed, status, location = identify_timed(clients[name], identifier)
            assert (status, location) == (302, "/reset/question"), name
            samples[name].append(elapsed)
    shapes = {name: page_shape(client) for name, client in clients.items()}
    assert len(set(shapes.values())) == 1, "the question pages differ"
    assert_same_time(samples)


def assert_same_time(samples: dict[str, list[float]]) -> None:
    """Every case within 25 % of the fastest (or 10 ms, the resolution of a remote attacker).

    Cases are compared by the median of their paired differences: samples of one round are
    taken moments apart, so load that comes and goes cancels out instead of adding noise.
    """
    medians = {name: statistics.median(times) for name, times in samples.items()}
    fastest = min(medians, key=medians.__getitem__)
    allowed = max(0.25 * medians[fastest], 0.010)
    gaps = {
        name: statistics.median(a - b for a, b in zip(times, samples[fastest], strict=True))
        for name, times in samples.items()
    }
    print("timing (ms):", {k: round(v * 1000, 2) for k, v in medians.items()},
          "paired gaps:", {k: round(v * 1000, 2) for k, v in gaps.items()})  # fmt: skip
    assert max(abs(gap) for gap in gaps.values()) <= allowed, (medians, gaps)


def test_code_channel_decoys_cost_what_a_send_costs(
    settings: Settings, outbox: Any, make_account: Any, busy_cpu: None
) -> None:
    raw = settings.model_dump(mode="json")
    raw["rate_limits"] = {"reset": "10000/minute", "account": "10000/minute"}
    raw["codes"]["email"].update(resend_cooldown_seconds=0, max_per_hour=100, max_per_day=1000)
    app = build_app(Settings.model_validate(raw), outbox, io.StringIO())
    cases = {"known": make_account("elu").login, "unknown": "nobody.at.all"}
    clients = {name: https_client(app) for name in cases}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(SAMPLES + 1):
        for name, identifier in cases.items():
            token = csrf_token(clients[name].get("/reset/elu").text)
            start = time.perf_counter()
            response = clients[name].post(
                "/reset/elu", data={"csrf_token": token, "identifier": identifier}
            )
            samples[name].append(time.perf_counter() - start)
            assert response.headers["Location"] == "/reset/code"
    assert len(outbox.mails) == SAMPLES + 1  # only the real account got mail
    assert_same_time({name: times[1:] for name, times in samples.items()})  # warm-up dropped


def overlapping(settings: Settings) -> Settings:
    """A second profile over the whole people branch: usager's accounts are in two bases."""
    raw = settings.model_dump(mode="json")
    everyone = dict(raw["profiles"][0], id="tous", base=raw["directory"]["base_dn"])
    raw["profiles"].append(everyone)
    return Settings.model_validate(raw)


@pytest.mark.parametrize("bases", ["apart", "overlapping"])
def test_every_case_costs_the_same_directory_operations(
    settings: Settings, outbox: Any, cases: dict[str, str], slapd: Slapd, bases: str
) -> None:
    """A profile apart from the others is answered by one search with its filter; one whose
    base overlaps another's asks the memberships too: in each, every case alike."""
    config = neutral_settings(settings if bases == "apart" else overlapping(settings))
    directory, operations = counting_directory(config.directory, slapd.service_password)
    # The LDAP searches under the port's operations: one membership query may be several.
    searches = record_calls(directory, "_search", 2)  # the filters
    app = build_app(config, outbox, io.StringIO(), directory=directory)
    seen, searched = {}, {}
    for name, identifier in cases.items():
        operations.clear()
        searches.clear()
        identify_timed(https_client(app), identifier)
        seen[name], searched[name] = list(operations), len(searches)
    assert len({tuple(ops) for ops in seen.values()}) == 1, seen
    assert len(set(searched.values())) == 1, searched
    expected = ["find_users"] if bases == "apart" else ["find_users", "memberships"]
    assert seen["unknown account"] == expected
    directory.close()


def test_a_login_with_an_unknown_identifier_binds_as_a_wrong_password_does(
    settings: Settings, outbox: Any, make_account: Any, slapd: Slapd
) -> None:
    """An unknown identifier binds to a decoy DN: one search and one bind, as a known account
    with a wrong password, at /account/, the one-form change and the helpdesk's login."""
    from tests.helpers import submit

    account = make_account("usager")
    config = neutral_settings(settings)
    directory, operations = counting_directory(config.directory, slapd.service_password)
    app = build_app(config, outbox, io.StringIO(), directory=directory)
    forms = {
        "/account/login/usager": {"password": "Wrong-Passw0rd!"},
        "/change/usager": {"current": "Wrong-Passw0rd!", "password": "Nouveau-Passw0rd-26!",
                           "confirmation": "Nouveau-Passw0rd-26!"},
        "/helpdesk/login": {"password": "Wrong-Passw0rd!"},
    }  # fmt: skip
    for url, form in forms.items():
        submit(https_client(app), url, {"identifier": "warm.up", **form})  # the policy's cache
        seen = {}
        for name, login in (("known", account.login), ("unknown", "nobody.at.all")):
            operations.clear()
            response = submit(https_client(app), url, {"identifier": login, **form})
            assert response.status_code == 200, (url, name)
            seen[name] = list(operations)
        binds = {"authenticate", "change_own_password"}
        if url == "/helpdesk/login":  # staff live elsewhere: both identifiers are unknown there
            assert seen["known"] == seen["unknown"] == ["find_by_attribute", "authenticate"], seen
            continue
        assert len(seen["known"]) == len(seen["unknown"]) == 2, (url, seen)
        assert seen["known"][0] == seen["unknown"][0] == "find_users", (url, seen)
        assert {seen["known"][1], seen["unknown"][1]} <= binds, (url, seen)
    directory.close()
