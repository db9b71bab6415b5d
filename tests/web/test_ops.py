"""Liveness, readiness and Prometheus metrics, against the real slapd and store."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from sspr.config import ConfigError, MonitoringConfig, Settings, parse_settings
from sspr.demo.slapd import Slapd, free_port
from sspr.directory.ldap import LdapDirectory
from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.metrics import Metrics
from sspr.store import open_store
from sspr.web.ops import READY_DEADLINE
from tests.directory.test_ldap import stop_process
from tests.helpers import WebAccount as Account
from tests.helpers import directory_config_for
from tests.web.conftest import build_app, https_client, submit
from tests.web.test_code_channels import email_code, sms_code
from tests.web.test_reset_flow import GOOD_PASSWORD, answer, choose, identify

STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def variant(settings: Settings, **changes: Any) -> Settings:
    """The test settings with some top-level sections replaced."""
    raw = settings.model_dump(mode="json")
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(raw.get(name), dict):
            raw[name].update(value)
        else:
            raw[name] = value
    return Settings.model_validate(raw)


def samples(client: FlaskClient) -> Samples:
    """Every sample of /metrics, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert no_cookie(response)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return parse(response.text)


def parse(text: str) -> Samples:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def no_cookie(response: Any) -> bool:
    return "Set-Cookie" not in response.headers


# -- liveness and readiness -----------------------------------------------------------------


def test_healthz_answers_without_touching_any_dependency(
    settings: Settings, audit_lines: io.StringIO, outbox: Any
) -> None:
    down = variant(settings, directory={"urls": [f"ldap://127.0.0.1:{free_port()}"]})
    store = open_store("redis", url=f"redis://127.0.0.1:{free_port()}/0")
    client = build_app(down, outbox, audit_lines, store=store).test_client()
    response = client.get("/healthz", environ_base=STRANGER)
    assert response.status_code == 200
    assert response.text == "ok\n"
    assert no_cookie(response)


def test_readyz_reports_both_dependencies(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"directory": "ok", "store": "ok"}
    assert no_cookie(response)


def test_readyz_names_the_directory_when_slapd_is_unreachable(
    settings: Settings, audit_lines: io.StringIO, outbox: Any
) -> None:
    port = free_port()
    down = variant(settings, directory={"urls": [f"ldap://127.0.0.1:{port}"], "connect_timeout": 1})
    client = build_app(down, outbox, audit_lines).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["store"] == "ok"
    assert response.json["directory"].startswith("unavailable: ")
    assert f"127.0.0.1:{port}" in response.json["directory"]


def test_readyz_names_the_store_when_redis_is_unreachable(
    settings: Settings, audit_lines: io.StringIO, outbox: Any
) -> None:
    url = f"redis://:store-secret@127.0.0.1:{free_port()}/0"
    app = build_app(settings, outbox, audit_lines, store=open_store("redis", url=url))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"directory": "ok", "store": "unavailable: redis: ConnectionError"}
    assert "store-secret" not in response.text
    app.extensions["sspr"].directory.close()


def test_readyz_answers_within_its_deadline_when_the_directory_hangs(
    settings: Settings, audit_lines: io.StringIO, outbox: Any, private_slapd: Slapd
) -> None:
    config = directory_config_for(private_slapd, operation_timeout=8.0)
    directory = LdapDirectory(config, private_slapd.service_password)
    app = build_app(settings, outbox, audit_lines, directory=directory)
    assert app.test_client().get("/readyz").status_code == 200
    assert private_slapd.pid is not None
    stop_process(private_slapd.pid)
    try:
        response = app.test_client().get("/readyz")
    finally:
        os.kill(private_slapd.pid, signal.SIGCONT)
    assert response.status_code == 503
    assert response.json == {
        "directory": f"unavailable: no answer within {READY_DEADLINE:g} s",
        "store": "ok",
    }
    directory.close()


# -- access control -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
def test_strangers_get_a_404_page(client: FlaskClient, path: str) -> None:
    response = client.get(path, environ_base=STRANGER)
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert "sspr_" not in response.text
    assert no_cookie(response)


def test_an_allowed_network_may_scrape(
    settings: Settings, outbox: Any, audit_lines: io.StringIO
) -> None:
    allowed = variant(settings, monitoring={"allow": ["203.0.113.0/24"]})
    client = build_app(allowed, outbox, audit_lines).test_client()
    assert client.get("/metrics", environ_base=STRANGER).status_code == 200
    assert client.get("/metrics").status_code == 404  # loopback is no longer listed


def test_monitoring_addresses_are_validated(settings: Settings) -> None:
    raw = settings.model_dump(mode="json")
    raw["monitoring"] = {"allow": ["10.0.0.0/8", "10.0.0.1/8", "nope"]}
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert "monitoring.allow[1]: 10.0.0.1/8 has host bits set" in error.value.errors
    assert any(e.startswith("monitoring.allow[2]: ") for e in error.value.errors)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4 through a dual-stack socket
        ("127.0.0.2", False),
        ("10.1.2.3", False),
        ("", False),
        (None, False),
        ("not an address", False),
    ],
)
def test_default_allow_list_is_loopback(address: str | None, allowed: bool) -> None:
    assert MonitoringConfig().allows(address) is allowed


# -- metrics --------------------------------------------------------------------------------


def test_a_question_reset_moves_the_counters_and_the_latency_histogram(
    client: FlaskClient, make_account: Any
) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    before = samples(client)
    identify(client, account.login)
    answer(client, "Lyon")
    answer(client, "Paris")
    assert choose(client, GOOD_PASSWORD).headers["Location"] == "/reset/done"
    after = samples(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("sspr_resets_started_total", profile="usager", directory="default") == 1
    assert (
        moved(
            "sspr_resets_completed_total", profile="usager", channel="question", directory="default"
        )
        == 1
    )
    assert moved("sspr_proofs_failed_total", reason="wrong_answer", directory="default") == 1
    for operation in ("find_users", "read_user", "set_password"):
        assert (
            moved(
                "sspr_directory_operation_seconds_count", operation=operation, directory="default"
            )
            >= 1
        )
        assert (
            value(
                after,
                "sspr_directory_operation_seconds_sum",
                operation=operation,
                directory="default",
            )
            > 0
        )
    assert (
        moved("sspr_directory_operation_seconds_count", operation="read_user", directory="default")
        >= 2
    )
    count = value(
        after, "sspr_directory_operation_seconds_count", operation="read_user", directory="default"
    )
    every = value(
        after,
        "sspr_directory_operation_seconds_bucket",
        operation="read_user",
        directory="default",
        le="+Inf",
    )
    assert every == count


def test_codes_sent_and_completion_by_both_channels(
    client: FlaskClient, make_account: Any, outbox: Any
) -> None:
    account: Account = make_account("agent-siege", mobile="0612345678")
    identify(client, account.login, profile="agent-siege")
    submit(client, "/reset/code", {"code": email_code(outbox)})
    submit(client, "/reset/code", {"code": sms_code(outbox)})
    assert choose(client, "Tout-nouveau-2025!").headers["Location"] == "/reset/done"
    found = samples(client)
    assert value(found, "sspr_codes_sent_total", channel="email") == 1
    assert value(found, "sspr_codes_sent_total", channel="sms") == 1
    assert (
        value(
            found,
            "sspr_resets_completed_total",
            profile="agent-siege",
            channel="email+sms",
            directory="default",
        )
        == 1
    )


def test_a_block_is_a_rate_limit_hit(client: FlaskClient, make_account: Any) -> None:
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    for _ in range(5):
        answer(client, "Lyon")
    found = samples(client)
    assert value(found, "sspr_rate_limit_hits_total", kind="too_many_failures") == 1
    assert value(found, "sspr_proofs_failed_total", reason="wrong_answer", directory="default") == 5


def test_each_app_counts_alone(
    client: FlaskClient, settings: Settings, outbox: Any, audit_lines: io.StringIO
) -> None:
    identify(client, "nobody-at-all")
    other = https_client(build_app(settings, outbox, audit_lines))
    assert (
        value(samples(client), "sspr_resets_started_total", profile="usager", directory="default")
        == 1
    )
    assert (
        value(samples(other), "sspr_resets_started_total", profile="usager", directory="default")
        == 0
    )


def test_the_channel_survives_a_change_of_worker(
    client: FlaskClient, settings: Settings, outbox: Any, audit_lines: io.StringIO,
    make_account: Any,
) -> None:  # fmt: skip
    account: Account = make_account("usager", {"birth_city": "Paris"})
    identify(client, account.login)
    answer(client, "Paris")
    # Another worker: its own app and metrics, the same store file and signing key.
    other = https_client(build_app(settings, outbox, audit_lines))
    cookie = client.get_cookie("__Host-sspr")
    assert cookie is not None
    other.set_cookie("__Host-sspr", cookie.value, domain=cookie.domain)
    assert choose(other, GOOD_PASSWORD).headers["Location"] == "/reset/done"
    found = samples(other)
    assert (
        value(
            found,
            "sspr_resets_completed_total",
            profile="usager",
            channel="question",
            directory="default",
        )
        == 1
    )
    other.application.extensions["sspr"].directory.close()


def test_a_password_changed_in_mon_compte_is_no_reset() -> None:
    metrics = Metrics()
    # No resolver: the directory is unknown, like the channel.
    labels = {"profile": "usager", "channel": "unknown", "directory": "unknown"}
    completed = ("sspr_resets_completed_total", labels)
    audit = AuditLog([io.StringIO()], observers=[metrics.observe_event])
    audit.record(AuditEvent.ACCOUNT_PASSWORD_CHANGED, Outcome.SUCCESS, profile="usager",
                 user_dn="uid=a,dc=example,dc=org")  # fmt: skip
    assert metrics.registry.get_sample_value(*completed) is None
    audit.record(AuditEvent.PASSWORD_CHANGED, Outcome.SUCCESS, profile="usager")
    assert metrics.registry.get_sample_value(*completed) == 1


def test_a_per_source_limit_is_a_rate_limit_hit() -> None:
    metrics = Metrics()
    audit = AuditLog([io.StringIO()], observers=[metrics.observe_event])
    audit.record(AuditEvent.RATELIMIT_HIT, Outcome.FAILURE, cause="source_reset")
    hits = ("sspr_rate_limit_hits_total", {"kind": "source_reset"})
    assert metrics.registry.get_sample_value(*hits) == 1


# -- several workers: prometheus_client's multiprocess mode ----------------------------------

WORKER = textwrap.dedent(
    """
    import io
    from sspr.domain.audit import AuditEvent, AuditLog, Outcome
    from sspr.metrics import Metrics
    metrics = Metrics()
    audit = AuditLog([io.StringIO()], observers=[metrics.observe_event])
    audit.record(AuditEvent.RESET_REQUESTED, Outcome.SUCCESS, profile="usager",
                 directory="default")
    metrics.observe_latency("read_user", 0.004)
    """
)
SCRAPE = textwrap.dedent(
    """
    import sys
    from prometheus_client import CollectorRegistry
    from sspr.metrics import exposition
    sys.stdout.write(exposition(CollectorRegistry()).decode())
    """
)


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE], env=env, check=True, capture_output=True, text=True
    ).stdout
    found = parse(scraped)
    assert value(found, "sspr_resets_started_total", profile="usager", directory="default") == 2
    assert (
        value(
            found,
            "sspr_directory_operation_seconds_count",
            operation="read_user",
            directory="default",
        )
        == 2
    )
