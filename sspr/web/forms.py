"""Flask-WTF forms of the reset journey (every one carries a CSRF token)."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

MAX_IDENTIFIER = 256
MAX_ANSWER = 256
MAX_PASSWORD = 256
MAX_CODE = 32


def has_control_characters(text: str) -> bool:
    """Whether text holds a control character (line breaks and tabs included: fields are
    one line), which no identifier, answer, code or password legitimately holds."""
    return any(unicodedata.category(char) == "Cc" for char in text)


class SafeForm(FlaskForm):
    """A form whose every text field refuses control characters with a clear message."""

    def validate(self, extra_validators: Any = None) -> bool:
        """Run the fields' validators, then the control-character check on every text field."""
        valid = bool(super().validate(extra_validators))
        for field in self:
            if isinstance(field.data, str) and has_control_characters(field.data):
                field.errors = [*field.errors, str(CONTROL_MESSAGE)]
                valid = False
        return valid


CONTROL_MESSAGE = _l(
    "Ce champ contient des caractères non autorisés (retours à la ligne, tabulations…)."
)


class IdentifyForm(SafeForm):
    """The identifier the profile asks for."""

    identifier = StringField(
        _l("Identifiant"),
        validators=[
            InputRequired(message=_l("Saisissez votre identifiant.")),
            Length(max=MAX_IDENTIFIER, message=_l("Cet identifiant est trop long.")),
        ],
    )
    submit = SubmitField(_l("Poursuivre"))


class AnswerForm(SafeForm):
    """One answer field per question asked."""

    submit = SubmitField(_l("Valider"))

    def answers(self, question_ids: list[str]) -> dict[str, str]:
        """The typed answers, keyed by question id."""
        return {qid: self[f"answer_{index}"].data or "" for index, qid in enumerate(question_ids)}


def answer_form(count: int, **kwargs: Any) -> AnswerForm:
    """An AnswerForm with `count` answer fields."""

    class Answers(AnswerForm):
        pass

    for index in range(count):
        setattr(
            Answers,
            f"answer_{index}",
            StringField(
                _l("Votre réponse"),
                validators=[
                    InputRequired(message=_l("Saisissez votre réponse.")),
                    Length(max=MAX_ANSWER, message=_l("Cette réponse est trop longue.")),
                ],
            ),
        )
    return Answers(**kwargs)


class NewPasswordForm(SafeForm):
    """The new password, typed twice."""

    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[
            InputRequired(message=_l("Saisissez un nouveau mot de passe.")),
            Length(max=MAX_PASSWORD, message=_l("Ce mot de passe est trop long.")),
        ],
    )
    confirmation = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            InputRequired(message=_l("Saisissez à nouveau le mot de passe.")),
            # The domain compares them, after the rules: every problem is listed at once.
            Length(max=MAX_PASSWORD, message=_l("Ce mot de passe est trop long.")),
        ],
    )
    submit = SubmitField(_l("Réinitialiser"))


class ChannelForm(SafeForm):
    """How to receive the code of a step that offers a choice."""

    channel = RadioField(
        _l("Comment souhaitez-vous recevoir votre code ?"),
        validators=[InputRequired(message=_l("Choisissez une option."))],
    )
    submit = SubmitField(_l("Recevoir le code"))


class CodeForm(SafeForm):
    """The code received by email or SMS."""

    code = StringField(
        _l("Code de sécurité"),
        validators=[
            InputRequired(message=_l("Saisissez le code reçu.")),
            Length(max=MAX_CODE, message=_l("Ce code est trop long.")),
        ],
    )
    submit = SubmitField(_l("Valider"))


class LoginForm(SafeForm):
    """Identifier and password, to open "Mon compte"."""

    identifier = StringField(
        _l("Identifiant"),
        validators=[
            InputRequired(message=_l("Saisissez votre identifiant.")),
            Length(max=MAX_IDENTIFIER, message=_l("Cet identifiant est trop long.")),
        ],
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            InputRequired(message=_l("Saisissez votre mot de passe.")),
            Length(max=MAX_PASSWORD, message=_l("Ce mot de passe est trop long.")),
        ],
    )
    submit = SubmitField(_l("Connexion"))


class ConfirmPasswordForm(SafeForm):
    """The current password, typed again before a sensitive change."""

    password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[
            InputRequired(message=_l("Saisissez votre mot de passe.")),
            Length(max=MAX_PASSWORD, message=_l("Ce mot de passe est trop long.")),
        ],
    )
    submit = SubmitField(_l("Confirmer"))


class ChangePasswordForm(NewPasswordForm):
    """The current password, then the new one typed twice."""

    current = PasswordField(
        _l("Mot de passe actuel"),
        validators=[
            InputRequired(message=_l("Saisissez votre mot de passe actuel.")),
            Length(max=MAX_PASSWORD, message=_l("Ce mot de passe est trop long.")),
        ],
    )
    submit = SubmitField(_l("Modifier mon mot de passe"))


class ChangeKnownPasswordForm(ChangePasswordForm):
    """The one-form change: the identifier too, since nobody is logged in."""

    identifier = StringField(
        _l("Identifiant"),
        validators=[
            InputRequired(message=_l("Saisissez votre identifiant.")),
            Length(max=MAX_IDENTIFIER, message=_l("Cet identifiant est trop long.")),
        ],
    )


class MobileForm(SafeForm):
    """A new mobile number."""

    value = StringField(
        _l("Nouveau numéro de mobile"),
        validators=[
            InputRequired(message=_l("Saisissez un numéro de mobile.")),
            Length(max=32, message=_l("Ce numéro est trop long.")),
        ],
    )
    submit = SubmitField(_l("Recevoir un code de confirmation"))


class EmailForm(SafeForm):
    """A new email address."""

    value = StringField(
        _l("Nouvelle adresse email"),
        validators=[
            InputRequired(message=_l("Saisissez une adresse email.")),
            Length(max=254, message=_l("Cette adresse est trop longue.")),
        ],
    )
    submit = SubmitField(_l("Recevoir un code de confirmation"))


class ReminderForm(SafeForm):
    """The DGFiP portal's reminder: go on, maybe without seeing it again for months."""

    snooze = BooleanField(_l("Ne plus afficher ce rappel"))
    submit = SubmitField(_l("Poursuivre"))


class QuestionsForm(SafeForm):
    """Questions and answers, one block per required question (fields added per profile)."""

    submit = SubmitField(_l("Enregistrer"))

    def blocks(self, count: int) -> list[tuple[Field, Field, Field, Field]]:
        """The (question, custom text, answer, confirmation) fields of each block."""
        return [
            (self[f"question_{i}"], self[f"custom_{i}"], self[f"answer_{i}"], self[f"confirm_{i}"])
            for i in range(count)
        ]


def options(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3+ wants select and radio choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def questions_form(count: int, choices: list[tuple[str, str]], **kwargs: Any) -> QuestionsForm:
    """A QuestionsForm with `count` blocks offering `choices`."""

    class Questions(QuestionsForm):
        pass

    required = InputRequired(message=_l("Saisissez votre réponse."))
    for index in range(count):
        setattr(
            Questions, f"question_{index}", SelectField(_l("Question"), choices=options(choices))
        )
        setattr(
            Questions,
            f"custom_{index}",
            StringField(_l("Votre question"), validators=[Length(max=200)]),
        )
        setattr(
            Questions,
            f"answer_{index}",
            PasswordField(_l("Réponse"), validators=[required, Length(max=MAX_ANSWER)]),
        )
        setattr(
            Questions,
            f"confirm_{index}",
            PasswordField(
                _l("Confirmez la réponse"), validators=[required, Length(max=MAX_ANSWER)]
            ),
        )
    return Questions(**kwargs)
