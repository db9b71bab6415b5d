"""The wheel ships templates, compiled catalogs and the demo; sspr.wsgi:app is a plain WSGI app."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sspr.demo.slapd import Slapd, free_port
from tests.helpers import fetch_when_up, stop_server
from tests.test_cli import REFERENCE, demo_config_for, follow_a_link

ROOT = Path(__file__).resolve().parents[1]


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
        # The word lists, each with its licence and attribution.
        "sspr/data/french-passwords/top20000.txt",
        "sspr/data/french-passwords/LICENSE",
        "sspr/data/french-passwords/README.md",
        "sspr/data/french-words/passphrase.txt",
        "sspr/data/french-words/common-words.txt",
        "sspr/data/french-words/names.txt",
        "sspr/data/french-words/LICENSE",
        "sspr/data/french-words/NOTICE.md",
        "sspr/data/french-words/README.md",
    }
    assert expected <= names


def test_another_wsgi_server_serves_the_entry_point(
    slapd: Slapd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Admins who run their own server point it at sspr.wsgi:app (here granian's own CLI).

    One worker: granian alone can miss a stop sent while a worker still loads, which
    `sspr serve` guards against (tests/test_serving.py).
    """
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
    granian = Path(sys.executable).parent / "granian"
    server = subprocess.Popen(
        [str(granian), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "sspr.wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        page = fetch_when_up(f"http://127.0.0.1:{port}/")
        assert "Je suis un agent des lycées" in page
    finally:
        stop_server(server)


def test_the_dockerfiles_command_logs_no_link_reference(slapd: Slapd, tmp_path: Path) -> None:
    """The image's own command line, bound to loopback: its access log masks link references."""
    command = json.loads(re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)[1])
    command[0] = str(Path(sys.executable).parent / command[0])
    port = free_port()
    env = {
        **os.environ,
        "SSPR_BIND": f"127.0.0.1:{port}",
        "SSPR_CONFIG": str(demo_config_for(slapd, tmp_path)),
        "SSPR_LDAP_PASSWORD": slapd.service_password,
        "SSPR_SECRET_KEY": "k" * 64,
        "SSPR_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SSPR_TWILIO_AUTH_TOKEN": "f" * 32,
    }
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/")
        follow_a_link(f"http://127.0.0.1:{port}/reset/link/{REFERENCE}")
    finally:
        stop_server(server)
    output, errors = server.communicate()
    log = output.decode() + errors.decode()
    assert "GET /reset/link/[masked]" in log  # the access log is on, and masks the reference
    assert REFERENCE not in log
