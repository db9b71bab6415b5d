"""Inputs render exactly as WTForms renders them, only faster."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from markupsafe import Markup
from wtforms.fields.core import Flags
from wtforms.widgets import core

from sspr.web.forms import IdentifyForm
from sspr.web.widgets import html_params

CASES: list[dict[str, Any]] = [
    {"name": "password", "id": "password", "type": "password", "value": "", "class_": "input",
     "autocomplete": "new-password", "autofocus": False, "spellcheck": "false",
     "aria_describedby": "policy-title password-hint", "aria_invalid": False, "data_reveal": True,
     "data_reveal_show": "Afficher", "required": True, "maxlength": 256},
    {"value": 'a "quoted" <b> & \'single\''},
    {"value": Markup('<i title="x">déjà</i>')},
    {"value": 0, "min": None, "data_x_y": 1.5},
    {'odd"<key': "v", "for_": "id"},
    {},
]  # fmt: skip


@pytest.mark.parametrize("attributes", CASES)
def test_the_same_html_as_wtforms(attributes: dict[str, Any]) -> None:
    assert html_params(**attributes) == core.html_params(**attributes)
    assert isinstance(html_params(**attributes), Markup)


def test_the_forms_inputs_use_it(app: Flask) -> None:
    assert core.Input.html_params is html_params
    with app.test_request_context():
        form = IdentifyForm()
        expected = '<input class="input" id="identifier" maxlength="256" name="identifier"'
        assert str(form.identifier(class_="input")).startswith(expected)


def test_inputs_list_the_flags_their_validators_set(app: Flask) -> None:
    flags = Flags()
    flags.required = True
    flags.maxlength = 256
    assert dir(flags) == ["maxlength", "required"]
    assert repr(flags) == "<wtforms.fields.Flags: {maxlength=256, required=True}>"
    with app.test_request_context():
        html = str(IdentifyForm().identifier())
    assert ' maxlength="256" ' in html and " required " in html.replace(">", " >")
