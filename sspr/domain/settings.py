"""What the domain is told by the configuration: profiles, questions and rules.

The YAML configuration (sspr.config) is validated there and turned into these plain objects
at start-up; the domain never reads the configuration models themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sspr.domain.channels import Channel
from sspr.domain.dn import deepest_base, dn_key, is_within
from sspr.domain.helpdesk_actions import REASONS_REQUIRED_BY_DEFAULT, HelpdeskAction
from sspr.domain.limits import Limit
from sspr.domain.ports import IdentifierKind


@dataclass(frozen=True)
class Text:
    """A user-facing text in French, and maybe English."""

    fr: str
    en: str | None = None

    def get(self, lang: str) -> str:
        """The text in `lang`, falling back to French."""
        return (self.en if lang == "en" else None) or self.fr


@dataclass(frozen=True)
class Question:
    """One security question of the admin's list."""

    id: str
    text: Text


@dataclass(frozen=True)
class NotEnrolled:
    """What an account with nothing to prove itself with is told."""

    explicit: bool = False
    text: Text = Text("Vous n'avez pas configuré votre compte : contactez le support.")
    no_mobile: Text | None = None


@dataclass(frozen=True)
class Profile:
    """A kind of user: where its accounts are, how they prove themselves, which policy."""

    id: str
    label: Text
    base: str
    policy: str
    # Steps in order, each the channels the user may pick from ("email or SMS").
    channels: tuple[tuple[Channel, ...], ...]
    # The name of the directory that holds the profile's accounts.
    directory: str = "default"
    filter: str = "(objectClass=*)"
    identifier: tuple[IdentifierKind, ...] = ("login",)
    description: Text | None = None
    return_url: str | None = None
    questions_asked: int = 1
    must_change_after_reset: bool = False
    not_enrolled: NotEnrolled = NotEnrolled()
    questions_required: int = 1
    custom_questions: bool = False
    remind_mobile: bool = False
    temporary_password: bool = False
    captcha: str = "off"
    # Mail domains of the profile's accounts, most used first: the only ones a reset page
    # shows (masked), and the ones decoys draw from.
    mail_domains: tuple[str, ...] = ()
    # "Aide pour le choix du mot de passe": None for sspr's tips, False for none, or a text
    # (one tip a line); and whether the password pages offer "Générer un mot de passe".
    password_tips: Text | Literal[False] | None = None
    password_generator: bool = True

    def steps(self) -> tuple[tuple[Channel, ...], ...]:
        """The proof steps, each a tuple of the channels the user may pick from."""
        return self.channels

    def uses(self, channel: str) -> bool:
        """Whether any step offers this channel."""
        return any(channel in step for step in self.channels)


@dataclass(frozen=True)
class HelpdeskRules:
    """Who may use the helpdesk console, and what its actions require."""

    base: str
    identifier: str = "uid"
    group_dn: str | None = None
    filter: str | None = None
    idle_timeout_seconds: int = 900
    # "identity_check", or "reason": a written reason may stand in for the identity check.
    temporary_password_requires: str = "identity_check"  # noqa: S105 - a mode, no secret
    reasons_required: frozenset[HelpdeskAction] = REASONS_REQUIRED_BY_DEFAULT
    identity_check_valid_seconds: int = 600
    page_size: int = 20


@dataclass(frozen=True)
class DomainSettings:
    """Everything the domain services read from the configuration."""

    profiles: tuple[Profile, ...]
    public_url: str
    questions: tuple[Question, ...] = ()
    default_language: str = "fr"
    flow_ttl_seconds: int = 900
    proof_attempts: Limit = field(default_factory=lambda: Limit(5, 3600, 86400))
    # Whether a mail server is configured (the email channel, notices).
    mail_enabled: bool = False
    # The default region of phone numbers when SMS is configured, else None (no SMS).
    sms_region: str | None = None
    # Whether the reminder's snooze is kept in a directory attribute (else in the store).
    reminder_in_directory: bool = True
    reminder_snooze_days: int = 183
    account_idle_seconds: int = 900
    reauth_seconds: int = 300
    helpdesk: HelpdeskRules | None = None
    # (name, base_dn) of each directory, and the (name, DN) areas a DN is told apart by:
    # the base_dns, the profiles' bases and the helpdesk's (see directory_of).
    directories: tuple[tuple[str, str], ...] = (("default", ""),)
    directory_areas: tuple[tuple[str, str], ...] = ()
    _by_id: dict[str, Profile] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update((profile.id, profile) for profile in self.profiles)

    def directory_of(self, dn: str) -> str | None:
        """The name of the directory that holds `dn`, or None when none does."""
        if len(self.directories) == 1:
            return self.directories[0][0]  # one directory: no DN to parse
        return deepest_base(dn, self.directory_areas or self.directories)

    def audit_directory(self, profile_id: str | None, dn: str | None) -> str | None:
        """The directory an audit event is about: its profile's, else its account's."""
        profile = self.profile(profile_id) if profile_id else None
        if profile is not None:
            return profile.directory
        return self.directory_of(dn) if dn else None

    @property
    def region(self) -> str:
        """The region phone numbers are read in when they have no country code."""
        return self.sms_region or "FR"

    def profile(self, profile_id: str) -> Profile | None:
        """The profile with this id, if any."""
        return self._by_id.get(profile_id)

    def question(self, question_id: str) -> Question | None:
        """The question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)

    def apart(self, profile: Profile) -> bool:
        """Whether no other profile's base holds this profile's base or lies under it.

        An account found under such a profile's base with its filter is in that profile and
        in no other: the identification search answers for membership, no query is added.
        """
        return [p.id for p in self.overlapping(profile)] == [profile.id]

    def overlapping(self, profile: Profile) -> list[Profile]:
        """The profiles an account under this profile's base may be in: itself, and those
        whose base holds its base or lies under it (every profile if a base does not parse)."""
        base = dn_key(profile.base)
        keys = [(other, dn_key(other.base)) for other in self.profiles]
        if base is None or any(key is None for _, key in keys):
            return list(self.profiles)
        return [p for p, k in keys if k is not None and (is_within(k, base) or is_within(base, k))]

    def membership_candidates(self) -> list[tuple[str, str, str]]:
        """(id, base, filter) of every profile, as the directory's memberships() takes them."""
        return [(p.id, p.base, p.filter) for p in self.profiles]


def steps_of(channels: Sequence[str | Sequence[str]]) -> tuple[tuple[Channel, ...], ...]:
    """Configured channels (a name, or a list to choose from) as a tuple of steps."""
    return tuple(
        (Channel(step),) if isinstance(step, str) else tuple(Channel(c) for c in step)
        for step in channels
    )
