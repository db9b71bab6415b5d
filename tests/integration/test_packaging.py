"""The wheel ships templates, compiled catalogs and the demo; gunicorn serves sspr.wsgi:app."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sspr.demo.slapd import Slapd, free_port
from tests.helpers import fetch_when_up
from tests.integration.test_cli import demo_config_for

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_carries_templates_catalogs_and_demo(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("sspr-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "sspr/templates/base.html",
        "sspr/templates/reset/password.html",
        "sspr/templates/mail/code.txt",
        "sspr/translations/en/LC_MESSAGES/messages.mo",
        "sspr/translations/fr/LC_MESSAGES/messages.mo",
        "sspr/demo/demo.yaml",
        "sspr/demo/ldap/sspr-schema.ldif",
        "sspr/web/static/js/sspr.js",
        "sspr/web/static/js/captcha.js",
        "sspr/web/static/vendor/altcha/altcha.min.js",
        "sspr/web/static/vendor/altcha/workers/pbkdf2.js",
        "sspr/templates/_captcha.html",
    }
    assert expected <= names


def test_gunicorn_serves_the_wsgi_entry_point(
    slapd: Slapd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SSPR_CONFIG": str(demo_config_for(slapd, tmp_path)),
        "SSPR_LDAP_PASSWORD": slapd.service_password,
        "SSPR_SECRET_KEY": "k" * 64,
        # demo.yaml has an sms section: without credentials the worker would refuse to start.
        "SSPR_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SSPR_TWILIO_AUTH_TOKEN": "f" * 32,
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "2", "sspr.wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        page = fetch_when_up(f"http://127.0.0.1:{port}/")
        assert "Je suis un agent des lycées" in page
    finally:
        server.terminate()
        server.wait(timeout=10)
