"""Profiles (kinds of users, their channels and policy), security questions and support."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, HttpUrl, field_validator

from sspr.config.base import LdapFilter, Strict, Text
from sspr.config.texts import Texts
from sspr.domain import settings as domain

CHANNELS = ("question", "email", "sms")


class Question(Strict):
    """One security question of the admin's list."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    """Stable identifier stored with the hashed answer: never rename a question in use."""
    text: Text
    """The question as users read it."""

    def to_domain(self) -> domain.Question:
        """The domain's question."""
        return domain.Question(self.id, self.text.to_domain())


class NotEnrolledConfig(Strict):
    """What an account with nothing to prove itself with is told."""

    explicit: bool = False
    """Tell the user; false keeps the neutral response, so nobody learns which accounts
    exist."""
    text: Text = Text(
        fr="Vous n'avez pas configuré votre compte : contactez le support.",
        en="You have not set up your account: please contact support.",
    )
    """What an explicit profile says."""
    no_mobile: Text | None = None
    """Said instead of `text` when the missing proof is a mobile number."""

    def to_domain(self) -> domain.NotEnrolled:
        """The domain's rule."""
        no_mobile = self.no_mobile.to_domain() if self.no_mobile else None
        return domain.NotEnrolled(self.explicit, self.text.to_domain(), no_mobile)


IdentifierKindName = Literal["login", "email", "upn"]
CaptchaMode = Literal["off", "always", "after_failures"]


class Profile(Strict):
    """A kind of user, with its own part of the directory, channels and policy."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    """Identifier in addresses (`/reset/{id}`) and in the audit trail."""
    label: Text
    """The choice as the chooser shows it ("Je suis un usager…")."""
    description: Text | None = None
    """A line under the label on the chooser."""
    directory: str | None = None
    """The name of the directory (a key of `directories`) that holds this profile's
    accounts; needed when there are several."""
    base: str
    """The part of the directory (a DN) where this profile's accounts live."""
    filter: LdapFilter = "(objectClass=*)"
    """An LDAP filter an account must also match to belong to the profile."""
    identifier: list[IdentifierKindName] = Field(default_factory=lambda: ["login"], min_length=1)  # type: ignore[arg-type]
    """What users identify with: login, email, and on Active Directory upn
    (userPrincipalName); on AD, login also takes DOMAINE\\login."""
    channels: list[str | list[str]] = Field(min_length=1)
    """The proof steps in order, each "question", "email" or "sms"; a step that is a list
    lets the user pick one (["email", "sms"])."""
    policy: str
    """The name of the password policy (a key of `policies`)."""
    return_url: HttpUrl | None = None
    """Where the "Continuer" button of the success page leads."""
    questions_asked: int = Field(default=1, ge=1, le=5)
    """How many of their registered questions a user must answer."""
    must_change_after_reset: bool = False
    """Set pwdReset after a reset, so the next login must change the password."""
    not_enrolled: NotEnrolledConfig = NotEnrolledConfig()
    """What an account with nothing to prove itself with is told."""
    questions_required: int = Field(default=1, ge=1, le=5)
    """How many questions users register in "Mon compte"."""
    custom_questions: bool = False
    """Whether users may write their own questions in "Mon compte"."""
    remind_mobile: bool = False
    """After a login to "Mon compte", ask users without a mobile number to add one."""
    temporary_password: bool = False
    """After the proofs, mail a generated password to change at the next login, instead of
    letting the user choose one. Weaker: off by default; needs a mail section."""
    captcha: CaptchaMode = "off"
    """ALTCHA proof of work on the identify and code-request forms: off, always, or
    after_failures (after `captcha.failures_before` failures from the same address)."""
    password_tips: Text | Literal[False] | None = None
    """"Aide pour le choix du mot de passe", folded under the rules: omitted for sspr's
    tips, false for none, or this profile's own, one tip a line."""
    password_generator: bool = True
    """Offer "Générer un mot de passe" (a passphrase of French words) on the password
    pages."""
    mail_domains: list[str] = Field(default_factory=list)
    """The mail domains of the profile's accounts. Reset pages show an address's domain
    (masked: `j•••@m•••.fr`) only when it is listed, and unknown identifiers get a domain drawn
    from the list, so a mask tells no account apart; unlisted or no list: no domain shown
    (`j•••@•••`). List every domain the accounts use."""

    @field_validator("mail_domains")
    @classmethod
    def _domain_names(cls, domains: list[str]) -> list[str]:
        for name in domains:
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", name):
                raise ValueError(f'"{name}" is not a mail domain (lower case, e.g. mairie.fr)')
        return domains

    texts: Texts = Field(default_factory=dict)
    """This profile's wording of the journey's texts, by id, over the top-level `texts`
    (docs/texts.md lists the ids)."""

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
        tips = self.password_tips
        return domain.Profile(
            id=self.id, label=self.label.to_domain(), base=self.base, policy=self.policy,
            channels=domain.steps_of(self.channels), filter=self.filter,
            identifier=tuple(self.identifier),
            description=self.description.to_domain() if self.description else None,
            return_url=str(self.return_url) if self.return_url else None,
            questions_asked=self.questions_asked,
            must_change_after_reset=self.must_change_after_reset,
            not_enrolled=self.not_enrolled.to_domain(),
            questions_required=self.questions_required, custom_questions=self.custom_questions,
            remind_mobile=self.remind_mobile, temporary_password=self.temporary_password,
            captcha=self.captcha, mail_domains=tuple(self.mail_domains),
            password_generator=self.password_generator,
            password_tips=tips.to_domain() if isinstance(tips, Text) else tips,
        )  # fmt: skip


class Support(Strict):
    """The "J'ai besoin de support" entry of the chooser."""

    label: Text = Text(fr="J'ai besoin de support", en="I need support")
    """The entry's label on the chooser."""
    text: Text
    """What the support page says (opening hours, what to have at hand)."""
    email: str | None = None
    """The support's email address."""
    phone: str | None = None
    """The support's phone number, as written."""
    url: HttpUrl | None = None
    """A link to the support's own site."""
