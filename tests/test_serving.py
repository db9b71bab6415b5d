"""`sspr serve`: threaded gunicorn workers that keep connections open, and shared metrics."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from sspr import serving
from sspr.demo.slapd import Slapd, free_port
from tests.helpers import fetch_when_up
from tests.test_cli import demo_config_for


def test_serve_keeps_connections_open_and_sums_the_workers_metrics(
    slapd: Slapd, tmp_path: Path
) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != serving.MULTIPROC_ENV} | {
        "SSPR_LDAP_PASSWORD": slapd.service_password,
        "SSPR_SECRET_KEY": "k" * 64,
        "SSPR_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SSPR_TWILIO_AUTH_TOKEN": "f" * 32,
    }
    config = demo_config_for(slapd, tmp_path)
    sspr = Path(sys.executable).parent / "sspr"
    server = subprocess.Popen(
        [str(sspr), "serve", str(config), "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
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
        server.terminate()
        server.wait(timeout=10)
    stderr = server.stderr.read().decode() if server.stderr else ""
    assert "metrics of all workers in" in stderr


def test_the_master_makes_a_metrics_directory_and_clears_a_given_one(
    tmp_path: Path, monkeypatch: object
) -> None:
    server = SimpleNamespace(log=SimpleNamespace(info=lambda *args: None))
    os.environ.pop(serving.MULTIPROC_ENV, None)
    try:
        serving.share_metrics(server)
        made = Path(os.environ[serving.MULTIPROC_ENV])
        assert made.is_dir()
        (made / "counter_1.db").write_bytes(b"stale")
        serving.share_metrics(server)  # a restart with the variable set: stale files go
        assert not list(made.glob("*.db"))
        serving.on_exit(server)
        assert not made.exists()
    finally:
        os.environ.pop(serving.MULTIPROC_ENV, None)


def test_the_master_names_every_missing_secret_before_any_worker_starts(
    slapd: Slapd, tmp_path: Path
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SSPR_")} | {
        "SSPR_CONFIG": str(demo_config_for(slapd, tmp_path)),
        "SSPR_SECRET_KEY": "k" * 64,
        "SSPR_BIND": f"127.0.0.1:{free_port()}",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    done = subprocess.run(
        [str(gunicorn), "--config", "python:sspr.serving", "sspr.wsgi:app"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    for name in ("SSPR_LDAP_PASSWORD", "SSPR_TWILIO_ACCOUNT_SID", "SSPR_TWILIO_AUTH_TOKEN"):
        assert f"environment: {name} (" in done.stderr
    assert "Booting worker" not in done.stderr


def test_only_sspr_s_own_entry_point_is_checked_by_the_master(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSPR_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv(serving.MULTIPROC_ENV, str(tmp_path))
    errors: list[str] = []
    log = SimpleNamespace(info=lambda *args: None, error=lambda *args: errors.append(args[2]))
    other = SimpleNamespace(app=SimpleNamespace(app_uri="bench.floor_app:app"), log=log)
    serving.on_starting(other)  # a bench's own factory: nothing of sspr's to check
    ours = SimpleNamespace(app=SimpleNamespace(app_uri=serving.SSPR_APP), log=log)
    with pytest.raises(SystemExit, match="1 error"):
        serving.on_starting(ours)
    assert errors == ["cannot read the file: No such file or directory"]
