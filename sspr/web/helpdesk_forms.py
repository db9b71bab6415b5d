"""Flask-WTF forms of the helpdesk console (every one carries a CSRF token)."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from sspr.domain.helpdesk_model import REASON_MAX
from sspr.web.forms import MAX_CODE, MAX_IDENTIFIER, ChangePasswordForm, SafeForm


def new_submission() -> str:
    """A random id for one rendered form: the action happens once per id."""
    return secrets.token_urlsafe(16)


class StaffPasswordForm(ChangePasswordForm):
    """An agent's own expired (or reset) password: who, the current one, the new one twice."""

    identifier = StringField(
        _l("Identifiant"),
        validators=[
            InputRequired(message=_l("Saisissez votre identifiant.")),
            Length(max=MAX_IDENTIFIER, message=_l("Cet identifiant est trop long.")),
        ],
    )


class ActionForm(SafeForm):
    """The confirmation of an action, with the agent's reason (required where configured)."""

    submission = HiddenField(
        default=new_submission, validators=[InputRequired(), Length(min=16, max=64)]
    )
    reason = StringField(
        _l("Raison"),
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=_l("Cette raison est trop longue.")),
        ],
    )
    submit = SubmitField(_l("Confirmer"))


class ChannelActionForm(ActionForm):
    """An action that sends something: on which of the account's channels."""

    channel = RadioField(
        _l("Envoyer"),
        validators=[InputRequired(message=_l("Choisissez une option."))],
    )


class IdentityCodeForm(SafeForm):
    """The code the caller reads out to the agent."""

    code = StringField(
        _l("Code lu par l'appelant"),
        validators=[
            InputRequired(message=_l("Saisissez le code que l'appelant vous lit.")),
            Length(max=MAX_CODE, message=_l("Ce code est trop long.")),
        ],
    )
    submit = SubmitField(_l("Vérifier"))
