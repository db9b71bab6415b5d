"""`sspr serve`: granian's workers that keep connections open, shared metrics, checks first."""

from __future__ import annotations

import http.client
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sspr import serving
from sspr.config.secrets import forget_secrets
from sspr.demo.slapd import Slapd, free_port
from tests.helpers import fetch_when_up, stop_server
from tests.test_cli import demo_config_for

SECRETS = {
    "SSPR_SECRET_KEY": "k" * 64,
    "SSPR_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "SSPR_TWILIO_AUTH_TOKEN": "f" * 32,
}


def sspr_serve(
    slapd: Slapd, tmp_path: Path, port: int, *, workers: int, stderr: int
) -> subprocess.Popen[bytes]:
    """`sspr serve` of the demo configuration on `port`, every secret set."""
    env = {key: value for key, value in os.environ.items() if key != serving.MULTIPROC_ENV} | {
        "SSPR_LDAP_PASSWORD": slapd.service_password, **SECRETS,
    }  # fmt: skip
    command = [
        str(Path(sys.executable).parent / "sspr"), "serve", str(demo_config_for(slapd, tmp_path)),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def test_serve_keeps_connections_open_and_sums_the_workers_metrics(
    slapd: Slapd, tmp_path: Path
) -> None:
    port = free_port()
    server = sspr_serve(slapd, tmp_path, port, workers=2, stderr=subprocess.PIPE)
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/healthz")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        sockets = []
        for path in ("/healthz", "/readyz", "/metrics"):
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read().decode()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
            sockets.append(connection.sock)
        # One TCP connection served all three requests.
        assert sockets[0] is not None
        assert sockets.count(sockets[0]) == 3
        assert "sspr_directory_operation_seconds" in body  # read from the workers' files
        connection.close()
        # Each on a connection of its own, so either worker may answer: /metrics adds them up.
        for _ in range(8):
            fetch_when_up(f"http://127.0.0.1:{port}/readyz")
        pings = re.search(
            r"^sspr_directory_operation_seconds_count"
            r'\{directory="default",operation="ping"\} (\S+)$',
            fetch_when_up(f"http://127.0.0.1:{port}/metrics"),
            re.MULTILINE,
        )
        assert pings is not None and float(pings.group(1)) == 1 + 8
    finally:
        stop_server(server)
    stderr = server.stderr.read().decode() if server.stderr else ""
    made = re.search(r"metrics of all workers in (\S+)", stderr)
    assert made is not None
    assert server.returncode == 0 and not Path(made.group(1)).exists()  # removed at exit


def test_the_master_makes_a_metrics_directory_and_clears_a_given_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Empty is unset; monkeypatch then restores the variable's absence whatever is written.
    monkeypatch.setenv(serving.MULTIPROC_ENV, "")
    made = serving.share_metrics()
    assert made is not None and made.is_dir()
    assert os.environ[serving.MULTIPROC_ENV] == str(made)
    (made / "counter_1.db").write_bytes(b"stale")
    assert serving.share_metrics() is None  # a restart with the variable set: stale files go
    assert not list(made.glob("*.db"))
    serving.remove_metrics(made)
    assert not made.exists()
    # A directory the admin gave is never removed.
    monkeypatch.setenv(serving.MULTIPROC_ENV, str(tmp_path))
    serving.remove_metrics(serving.share_metrics())
    assert tmp_path.is_dir()


def test_serve_names_every_missing_secret_before_any_worker_starts(
    slapd: Slapd, tmp_path: Path
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SSPR_")} | {
        "SSPR_CONFIG": str(demo_config_for(slapd, tmp_path)),
        "SSPR_SECRET_KEY": "k" * 64,
        "SSPR_BIND": f"127.0.0.1:{free_port()}",
    }
    sspr = Path(sys.executable).parent / "sspr"
    done = subprocess.run(
        [str(sspr), "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "environment: 3 error(s)" in done.stdout
    for name in ("SSPR_LDAP_PASSWORD", "SSPR_TWILIO_ACCOUNT_SID", "SSPR_TWILIO_AUTH_TOKEN"):
        assert f"  {name} (" in done.stdout
    assert "worker" not in (done.stdout + done.stderr).lower()


def test_options_come_from_the_command_line_then_the_environment() -> None:
    env = {"SSPR_BIND": "[::1]:9000", "SSPR_WORKERS": "3", "SSPR_ACCESS_LOG": "0"}
    options = serving.ServeOptions.from_env(env, workers=5, threads=None)
    assert (options.bind, options.workers, options.threads) == ("[::1]:9000", 5, 4)
    assert options.host_and_port == ("::1", 9000)
    assert options.access_log is False and options.keepalive_seconds == 75
    assert serving.ServeOptions.from_env({}).host_and_port == ("127.0.0.1", 8000)


def test_secrets_leave_the_environment_once_read(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # granian copies the process environment into every request's environ.
    for name, value in {**SECRETS, "SSPR_LDAP_PASSWORD": "x", "HOME_OF_SOMETHING": "y"}.items():
        monkeypatch.setenv(name, value)
    forget_secrets(settings)  # type: ignore[arg-type]
    assert not any(name in os.environ for name in [*SECRETS, "SSPR_LDAP_PASSWORD"])
    assert os.environ["HOME_OF_SOMETHING"] == "y"


def test_the_access_log_masks_link_references_in_every_field() -> None:
    from sspr.web.access_log import RedactingFilter

    fields = {"path": "/reset/link/abc123", "method": "GET", "status": 200}
    record = logging.LogRecord("granian.access", logging.INFO, "", 0, "%(path)s", (fields,), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "/reset/link/[masked]"
    plain = logging.LogRecord("x", logging.INFO, "", 0, "GET %s", ("/reset/link/abc123",), None)
    RedactingFilter().filter(plain)
    assert plain.getMessage() == "GET /reset/link/[masked]"


def test_a_stop_asked_while_workers_load_ends_them_all(slapd: Slapd, tmp_path: Path) -> None:
    # The first worker answers while the second may still be warming up: a stop must end
    # both, not leave a worker serving that missed its signal.
    for _ in range(3):
        port = free_port()
        server = sspr_serve(slapd, tmp_path, port, workers=3, stderr=subprocess.DEVNULL)
        try:
            fetch_when_up(f"http://127.0.0.1:{port}/healthz")
        finally:
            assert stop_server(server, timeout=serving.STOP_SECONDS / 3) == 0
