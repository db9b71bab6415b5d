"""Profiles (kinds of users, their channels and policy), security questions and support."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl, field_validator

from sspr.config.base import LdapFilter, Strict, Text
from sspr.domain import settings as domain

CHANNELS = ("question", "email", "sms")


class Question(Strict):
    """One security question of the admin's list."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    text: Text

    def to_domain(self) -> domain.Question:
        """The domain's question."""
        return domain.Question(self.id, self.text.to_domain())


class NotEnrolledConfig(Strict):
    """What an account with nothing to prove itself with is told."""

    # False keeps the neutral response, so nobody learns which accounts exist.
    explicit: bool = False
    text: Text = Text(
        fr="Vous n'avez pas configuré votre compte : contactez le support.",
        en="You have not set up your account: please contact support.",
    )
    # Shown instead of `text` when the missing proof is a mobile number (seed 003).
    no_mobile: Text | None = None

    def to_domain(self) -> domain.NotEnrolled:
        """The domain's rule."""
        no_mobile = self.no_mobile.to_domain() if self.no_mobile else None
        return domain.NotEnrolled(self.explicit, self.text.to_domain(), no_mobile)


IdentifierKindName = Literal["login", "email"]
CaptchaMode = Literal["off", "always", "after_failures"]


class Profile(Strict):
    """A kind of user, with its own part of the directory, channels and policy."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    label: Text
    description: Text | None = None
    base: str
    filter: LdapFilter = "(objectClass=*)"
    identifier: list[IdentifierKindName] = Field(default_factory=lambda: ["login"], min_length=1)
    # Steps in order; a step that is a list lets the user pick one ("email or SMS").
    channels: list[str | list[str]] = Field(min_length=1)
    policy: str
    return_url: HttpUrl | None = None
    questions_asked: int = Field(default=1, ge=1, le=5)
    # Sets pwdReset after a reset, so the portal makes the user change it at the next login.
    must_change_after_reset: bool = False
    not_enrolled: NotEnrolledConfig = NotEnrolledConfig()
    # "Mon compte": how many questions users register, whether they may write their own,
    # and whether a missing mobile brings up the reminder after login (seed 003).
    questions_required: int = Field(default=1, ge=1, le=5)
    custom_questions: bool = False
    remind_mobile: bool = False
    # Seeds 002/004: after the proofs, mail a generated password that must be changed at the
    # next login, instead of letting the user choose one. Weaker: off by default.
    temporary_password: bool = False
    # ALTCHA proof of work on the identify and code-request forms: "off", "always", or
    # "after_failures" (after captcha.failures_before failures from the same address).
    captcha: CaptchaMode = "off"

    @field_validator("captcha", mode="before")
    @classmethod
    def _captcha_yaml_boolean(cls, mode: object) -> object:
        # YAML 1.1 reads a bare `off` as false (and `on` as true).
        if mode is False:
            return "off"
        return "always" if mode is True else mode

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: list[str | list[str]]) -> list[str | list[str]]:
        for index, step in enumerate(channels):
            alternatives = [step] if isinstance(step, str) else step
            if not alternatives:
                raise ValueError(f"[{index}]: a choice needs at least one channel")
            for position, channel in enumerate(alternatives):
                where = f"[{index}]" if isinstance(step, str) else f"[{index}][{position}]"
                if channel not in CHANNELS:
                    raise ValueError(f'{where}: unknown channel "{channel}"')
        return channels

    def steps(self) -> tuple[tuple[str, ...], ...]:
        """The proof steps, each a tuple of the channels the user may pick from."""
        return tuple((step,) if isinstance(step, str) else tuple(step) for step in self.channels)

    def uses(self, channel: str) -> bool:
        """Whether any step offers this channel."""
        return any(channel in step for step in self.steps())

    def to_domain(self) -> domain.Profile:
        """The domain's profile."""
        return domain.Profile(
            id=self.id, label=self.label.to_domain(), base=self.base, policy=self.policy,
            channels=self.steps(), filter=self.filter, identifier=tuple(self.identifier),
            description=self.description.to_domain() if self.description else None,
            return_url=str(self.return_url) if self.return_url else None,
            questions_asked=self.questions_asked,
            must_change_after_reset=self.must_change_after_reset,
            not_enrolled=self.not_enrolled.to_domain(),
            questions_required=self.questions_required, custom_questions=self.custom_questions,
            remind_mobile=self.remind_mobile, temporary_password=self.temporary_password,
            captcha=self.captcha,
        )  # fmt: skip


class Support(Strict):
    """The "J'ai besoin de support" entry of the chooser."""

    label: Text = Text(fr="J'ai besoin de support", en="I need support")
    text: Text
    email: str | None = None
    phone: str | None = None
    url: HttpUrl | None = None
