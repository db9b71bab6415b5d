"""Start-up: a missing secret stops create_app, naming every one; given parts need none."""

from __future__ import annotations

import io

import pytest

from sspr.config import Settings
from sspr.config.secrets import MissingSecrets
from sspr.demo.outbox import Outbox
from sspr.web.app import create_app
from tests.web.conftest import build_app


def test_a_missing_directory_password_stops_the_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_env = settings.directory.bind_password_env
    monkeypatch.delenv(password_env, raising=False)
    monkeypatch.delenv("SSPR_TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.setenv("SSPR_TWILIO_AUTH_TOKEN", "f" * 32)
    monkeypatch.setenv("SSPR_SECRET_KEY", "")
    with pytest.raises(MissingSecrets) as error:
        create_app(settings)
    assert [message.split(" ", 1)[0] for message in error.value.errors] == [
        "SSPR_SECRET_KEY", password_env, "SSPR_TWILIO_ACCOUNT_SID",
    ]  # fmt: skip


def test_collaborators_given_need_no_secret(
    settings: Settings, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.directory.bind_password_env, "from-the-environment")
    app = build_app(settings, outbox, io.StringIO())  # brings its SMS sender, tests sign freely
    directory = app.extensions["sspr"].directory
    assert directory.pool._password == "from-the-environment"
    directory.close()
