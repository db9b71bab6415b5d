"""The mails' wording: one closing formula, and dates written as their readers write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from sspr.demo.outbox import Outbox
from sspr.notices import moment_text
from tests.web.conftest import submit


@pytest.mark.parametrize(
    ("lang", "when", "text"),
    [
        ("fr", datetime(2026, 11, 26, 1, 4, 25, tzinfo=UTC), "26 novembre 2026 à 02 h 04"),
        ("fr", datetime(2026, 12, 1, 8, 30, tzinfo=UTC), "1er décembre 2026 à 09 h 30"),
        ("en", datetime(2026, 11, 26, 1, 4, 25, tzinfo=UTC), "26 November 2026 at 02:04"),
    ],
)
def test_moments_read_naturally(app: Flask, lang: str, when: datetime, text: str) -> None:
    with app.test_request_context(), force_locale(lang):
        assert moment_text(when) == text  # in Europe/Paris, with no seconds nor offset


def test_the_change_notice_has_one_closing_and_a_readable_date(
    client: FlaskClient, make_account: Any, outbox: Outbox
) -> None:
    account = make_account("usager", {"birth_city": "Paris"})
    submit(client, "/reset/usager", {"identifier": account.login})
    submit(client, "/reset/question", {"answer_0": "Paris"})
    password = "Nouveau-Mot2passe!"
    submit(client, "/reset/password", {"password": password, "confirmation": password})
    (mail,) = outbox.mails
    assert re.search(r"modifié le \d{1,2}(er)? \w+ \d{4} à \d\d h \d\d ", mail.text), mail.text
    assert not re.search(r"\d\d:\d\d:\d\d|[+-]\d{4}", mail.text)
    closings = re.findall(r"^(Bien cordialement|Bonne continuation),\r?$", mail.text, re.M)
    assert closings == ["Bonne continuation"]


def test_the_personal_data_notice_has_one_closing(
    client: FlaskClient, make_account: Any, outbox: Outbox
) -> None:
    account = make_account("usager", mobile="0612345678")
    submit(client, "/account/login/usager", {"identifier": account.login,
           "password": account.password})  # fmt: skip
    submit(client, "/account/questions", {"question_0": "first_pet", "custom_0": "",
           "answer_0": "Médor", "confirm_0": "Médor"})  # fmt: skip
    (mail,) = outbox.mails
    assert re.findall(r"^(Bien cordialement|Bonne continuation),\r?$", mail.text, re.M) == [
        "Bonne continuation"
    ]
