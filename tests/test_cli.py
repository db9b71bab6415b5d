"""The `sspr` command: check-config against the real slapd, and the demo's life cycle."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from sspr.cli import main
from sspr.demo.outbox import MailCatcher, Outbox
from sspr.demo.range_server import RangeServer
from sspr.demo.slapd import Slapd, free_port
from tests.helpers import fetch_when_up

ROOT = Path(__file__).resolve().parents[1]
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "fedcba9876543210" * 2
SECRET_KEY = "k" * 64


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets demo.yaml calls for, but the directory's: each test sets that one."""
    monkeypatch.setenv("SSPR_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("SSPR_TWILIO_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.setenv("SSPR_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)


def demo_config_for(
    slapd: Slapd, tmp_path: Path, smtp_port: int | None = None, **changes: object
) -> Path:
    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    raw["directory"]["urls"] = [slapd.url]
    raw["mail"]["smtp"]["port"] = smtp_port or free_port()
    raw["directory"]["bind_dn"] = slapd.service_dn
    raw["store"]["path"] = str(tmp_path / "store.sqlite3")
    raw.update(changes)
    path = tmp_path / "sspr.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_check_config_tests_the_directory_smtp_and_twilio(
    slapd: Slapd,
    tmp_path: Path,
    mail_catcher: tuple[MailCatcher, Outbox],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    range_server: RangeServer,
) -> None:
    monkeypatch.setenv("SSPR_LDAP_PASSWORD", slapd.service_password)
    path = demo_config_for(slapd, tmp_path, mail_catcher[0].port, breach={"url": range_server.url})
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "configuration is valid (5 profiles)" in out
    assert "environment: every secret is set" in out
    assert re.search(r"directory: service bind\s+OK", out)
    for profile in ("usager", "elu", "agent-lycee", "agent-siege"):
        assert re.search(rf"profile {profile}: users\s+OK", out)
    assert re.search(
        rf"smtp: connect \+ EHLO\s+OK\s+127.0.0.1:{mail_catcher[0].port} \(none\)", out
    )
    assert re.search(r"twilio: credentials\s+OK", out)
    assert re.search(r"breached passwords\s+OK", out)
    assert TWILIO_TOKEN not in out


def test_check_config_reports_every_failing_dependency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSPR_LDAP_PASSWORD", "unused")
    monkeypatch.setenv("SSPR_TWILIO_ACCOUNT_SID", "AC-not-a-sid")
    monkeypatch.setenv("SSPR_TWILIO_AUTH_TOKEN", "not-hex")
    down = Slapd(tmp_path / "never-started")
    smtp_port = free_port()
    assert main(["check-config", str(demo_config_for(down, tmp_path, smtp_port))]) == 2
    out = capsys.readouterr().out
    assert re.search(r"directory: service bind\s+FAIL", out)
    assert re.search(
        rf"smtp: connect \+ EHLO\s+FAIL\s+smtp 127.0.0.1:{smtp_port}: connection refused", out
    )
    assert "twilio: account SID must look like AC + 32 hex digits; " in out
    assert "twilio: auth token must be 32 hex digits" in out


def test_check_config_and_serve_name_every_missing_secret(
    slapd: Slapd,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("SSPR_LDAP_PASSWORD", "SSPR_TWILIO_ACCOUNT_SID", "SSPR_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSPR_SECRET_KEY", "short")
    monkeypatch.setenv("SSPR_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    mail = {"smtp": {"host": "smtp.example.org", "username": "sspr"}, "sender": "a@example.org"}
    path = demo_config_for(slapd, tmp_path, store={"backend": "redis"}, mail=mail)
    monkeypatch.setenv("SSPR_SMTP_PASSWORD", " ")
    assert main(["check-config", "--offline", str(path)]) == 1
    out = capsys.readouterr().out
    assert "environment: 5 error(s)" in out
    for expected in (
        "SSPR_SECRET_KEY (the session signing key, named by secret_key_env) is too short",
        f"SSPR_LDAP_PASSWORD (the password of {slapd.service_dn}, named by "
        "directory.bind_password_env) is not set",
        "SSPR_REDIS_URL (the Redis URL, named by store.url_env) is not set",
        "SSPR_SMTP_PASSWORD (the SMTP password of sspr, named by mail.smtp.password_env) is not",
        "SSPR_TWILIO_ACCOUNT_SID (the Twilio account SID, named by sms.account_sid_env) is not",
    ):
        assert expected in out
    assert TWILIO_TOKEN not in out and "short" not in out.replace("is too short", "")
    # serve checks the same way before any worker starts, and stops there.
    assert main(["serve", str(path)]) == 1
    assert "environment: 5 error(s)" in capsys.readouterr().out


def test_check_config_reports_an_empty_profile(
    slapd: Slapd,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SSPR_LDAP_PASSWORD", slapd.service_password)
    path = demo_config_for(slapd, tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["profiles"][1]["filter"] = "(employeeType=nobody)"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["check-config", str(path)]) == 2
    assert re.search(
        r"profile elu: users\s+FAIL\s+no entry under .* matches", capsys.readouterr().out
    )


def test_check_config_reports_a_wrong_service_password(
    slapd: Slapd,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SSPR_LDAP_PASSWORD", "not-the-password")
    assert main(["check-config", str(demo_config_for(slapd, tmp_path))]) == 2
    out = capsys.readouterr().out
    assert re.search(r"directory: service bind\s+FAIL.*invalid credentials", out)
    assert "not-the-password" not in out


def test_demo_serves_two_directories_in_french_and_ctrl_c_stops_everything() -> None:
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "sspr.cli", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        slapd_ports: list[int] = []
        assert demo.stdout is not None
        for line in demo.stdout:
            if line.startswith("sspr demo: directories"):
                slapd_ports = [int(p) for p in re.findall(r"ldap://127\.0\.0\.1:(\d+)", line)]
            if "Demo accounts" in line:
                break
        page = fetch_when_up(f"http://127.0.0.1:{port}/")
        assert '<html lang="fr">' in page
        assert "Je suis un usager des services de la Région" in page
        follow_a_link(f"http://127.0.0.1:{port}/reset/link/{REFERENCE}")
        assert len(slapd_ports) == 2 and all(_listening(port) for port in slapd_ports)
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=20)
    assert demo.returncode == 0
    assert "sspr demo: stopped" in output
    assert not any(_listening(port) for port in slapd_ports)
    # The request log shows the link was followed, never its reference.
    assert "GET /reset/link/[masked]" in output and REFERENCE not in output


REFERENCE = "Xb2-secret-link-reference-of-a-mail_0123456789"


def follow_a_link(url: str) -> None:
    """GET an email link; the reference is unknown, so the journey ends on an error page."""
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(url, timeout=5).close()  # noqa: S310


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
