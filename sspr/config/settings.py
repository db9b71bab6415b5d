"""The root of the configuration: Settings, and the checks that span its sections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, HttpUrl, field_validator, model_validator

from sspr.config.account import AccountSessions, HelpdeskConfig
from sspr.config.base import Strict
from sspr.config.delivery import CodesConfig, MailConfig, SmsConfig
from sspr.config.directories import (
    DEFAULT_DIRECTORY,
    DirectoryName,
    directory_errors,
    profile_directory,
    routing_areas,
)
from sspr.config.directory import DirectoryConfig
from sspr.config.policies import BreachConfig, PolicyConfig
from sspr.config.profiles import Profile, Question, Support
from sspr.config.security import (
    AnswerHashing,
    AttemptLimit,
    CaptchaConfig,
    MonitoringConfig,
    ProxyConfig,
    RateLimits,
)
from sspr.config.store import StoreConfig
from sspr.config.texts import Texts
from sspr.domain import settings as domain
from sspr.domain.limits import Limit


class Branding(Strict):
    """Name, logo and colours shown on every page."""

    name: str = "Mot de passe oublié"
    """The service's name, in the header and the page titles."""
    logo_url: str | None = None
    """Address of a logo shown in the header; the CSP lets images come from its origin."""
    primary_color: str = Field(default="#000091", pattern=r"^#[0-9a-fA-F]{6}$")
    """The colour of buttons and links, as #rrggbb."""


class AuditConfig(Strict):
    """Where audit events go: a JSON-lines file, standard output, or both; and the store."""

    file: Path | None = None
    """A file that receives one JSON line per event (its folder is created)."""
    stdout: bool = True
    """Also write each event to standard output, for the container's log collector."""
    recent_events: int = Field(default=10000, ge=100, le=1_000_000)
    """How many of the latest events the store keeps for the helpdesk's audit page: a capped
    Redis stream shared by every host, or a table of the SQLite file. The file and standard
    output keep the full trail."""


class Settings(Strict):
    """The whole configuration of one sspr instance."""

    public_url: HttpUrl
    """The address users reach sspr at; links in mails are built from it (https:// also
    makes the session cookie Secure)."""
    secret_key_env: str = "SSPR_SECRET_KEY"
    """Environment variable holding the key that signs sessions and links: at least 32
    random characters, the same on every worker (required at start-up)."""
    default_language: Literal["fr", "en"] = "fr"
    """The language of a visitor whose browser asks for neither."""
    timezone: str = "Europe/Paris"
    """The IANA time zone of dates in mails ("modifié le …")."""
    branding: Branding = Branding()
    """Name, logo and colour of the pages."""
    directory: DirectoryConfig | None = None
    """The LDAP directory, when there is one (it is named "default"); set this or
    `directories`."""
    directories: dict[DirectoryName, DirectoryConfig] = Field(default_factory=dict)
    """Several directories by name (usagers in OpenLDAP, agents in AD…); each profile
    names the one that holds its accounts in its `directory`. Set this or `directory`."""
    store: StoreConfig = StoreConfig()
    """Where short-lived state lives."""
    questions: list[Question] = Field(default_factory=list)
    """The security questions users may pick from."""
    answer_hashing: AnswerHashing = AnswerHashing()
    """The cost of hashing security answers."""
    proof_attempts: AttemptLimit = AttemptLimit()
    """Failed proofs (answers, codes) an account may make before its resets are blocked."""
    flow_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    """How long a reset may take, from identification to the new password."""
    policies: dict[str, PolicyConfig] = Field(min_length=1)
    """Password policies by name; profiles refer to them."""
    profiles: Annotated[list[Profile], Field(min_length=1)]
    """The kinds of users, in the order the chooser lists them."""
    support: Support | None = None
    """The support entry of the chooser; null shows none."""
    audit: AuditConfig = AuditConfig()
    """Where audit events go."""
    mail: MailConfig | None = None
    """Mails: needed by the email channel, temporary passwords and notices."""
    sms: SmsConfig | None = None
    """SMS through Twilio: needed by the sms channel."""
    codes: CodesConfig = CodesConfig()
    """Rules of the email and SMS codes."""
    monitoring: MonitoringConfig = MonitoringConfig()
    """Who may read /metrics and /readyz."""
    account: AccountSessions = AccountSessions()
    """Sessions of "Mon compte"."""
    proxy: ProxyConfig = ProxyConfig()
    """Reverse proxies in front of sspr."""
    captcha: CaptchaConfig = CaptchaConfig()
    """The proof of work of the profiles that ask for one."""
    breach: BreachConfig = BreachConfig()
    """The breached-password range service of the policies with `not_breached`."""
    rate_limits: RateLimits = RateLimits()
    """Limits per client address."""
    helpdesk: HelpdeskConfig | None = None
    """The helpdesk console (/helpdesk/); it exists only when this section does."""
    texts: Texts = Field(default_factory=dict)
    """The wording of the journey's texts for every profile, by id (docs/texts.md lists the
    ids); a profile's own `texts` win."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f'unknown time zone "{zone}" (like Europe/Paris)') from exc
        return zone

    @model_validator(mode="after")
    def _cross_references(self) -> Settings:
        errors = reference_errors(self.model_dump(mode="json"))
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @property
    def named_directories(self) -> dict[str, DirectoryConfig]:
        """Every directory by name: the one `directory` is named "default"."""
        if self.directory is not None:
            return {DEFAULT_DIRECTORY: self.directory}
        return dict(self.directories)

    def routing_areas(self) -> list[tuple[str, str]]:
        """(directory, DN) pairs a DN is routed by: it belongs to its deepest area."""
        return routing_areas(self.model_dump(mode="json"))

    def directory_name(self, profile: Profile) -> str:
        """The name of the directory that holds a profile's accounts."""
        return profile.directory or next(iter(self.named_directories))

    def profile(self, profile_id: str) -> Profile | None:
        """Return the profile with this id, if any."""
        return next((p for p in self.profiles if p.id == profile_id), None)

    def text(self, message_id: str, profile_id: str | None, lang: str) -> str | None:
        """The admin's wording of a text in a language, if any: the profile's, then global."""
        profile = self.profile(profile_id) if profile_id else None
        for texts in (profile.texts if profile else {}, self.texts):
            override = texts.get(message_id)
            wording = getattr(override, lang, None) if override else None
            if wording:
                return str(wording)
        return None

    def question(self, question_id: str) -> Question | None:
        """Return the question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)

    def to_domain(self) -> domain.DomainSettings:
        """What the domain services are told of this configuration."""
        attempts = self.proof_attempts
        return domain.DomainSettings(
            profiles=tuple(
                replace(profile.to_domain(), directory=self.directory_name(profile))
                for profile in self.profiles
            ),
            directories=tuple((name, d.base_dn) for name, d in self.named_directories.items()),
            directory_areas=tuple(self.routing_areas()),
            public_url=str(self.public_url).rstrip("/"),
            questions=tuple(question.to_domain() for question in self.questions),
            default_language=self.default_language,
            flow_ttl_seconds=self.flow_ttl_seconds,
            proof_attempts=Limit(
                attempts.max_failures, attempts.window_seconds, attempts.lockout_seconds
            ),
            mail_enabled=self.mail is not None,
            sms_region=self.sms.default_region if self.sms is not None else None,
            # With one directory lacking the attribute, every snooze is kept in the store.
            reminder_in_directory=all(
                d.attributes.reminder is not None for d in self.named_directories.values()
            ),
            reminder_snooze_days=self.account.reminder_snooze_days,
            account_idle_seconds=self.account.idle_timeout_seconds,
            reauth_seconds=self.account.reauth_seconds,
            helpdesk=self.helpdesk.to_domain() if self.helpdesk is not None else None,
        )


def reference_errors(raw: Mapping[str, Any]) -> list[str]:
    """Errors between sections (a profile naming an unknown policy…), read from raw data.

    Working on raw data lets them be reported together with the field errors.
    """
    errors = directory_errors(raw)
    policies = raw.get("policies")
    policy_names = set(policies) if isinstance(policies, dict) else set()
    questions = _list_at(raw, "questions")
    question_ids = [q.get("id") for q in questions if isinstance(q, dict)]
    for qid in sorted({str(q) for q in question_ids if question_ids.count(q) > 1}):
        errors.append(f'questions: duplicate question id "{qid}"')
    profiles = _list_at(raw, "profiles")
    seen: set[str] = set()
    for index, profile in enumerate(profiles):
        if not isinstance(profile, dict):
            continue
        where = f"profiles[{index}]"
        profile_id = profile.get("id")
        if isinstance(profile_id, str) and profile_id in seen:
            errors.append(f'{where}.id: duplicate profile id "{profile_id}"')
        seen.add(str(profile_id))
        policy = profile.get("policy")
        if isinstance(policy, str) and policies is not None and policy not in policy_names:
            errors.append(f'{where}.policy: unknown policy "{policy}"')
        errors.extend(_channel_reference_errors(raw, profile, where, bool(question_ids)))
        errors.extend(_identifier_errors(raw, profile, where))
    return errors


def _identifier_errors(raw: Mapping[str, Any], profile: Mapping[str, Any], where: str) -> list[str]:
    directory = profile_directory(raw, profile)
    kind = directory.get("kind", "openldap") if isinstance(directory, dict) else "openldap"
    identifiers = profile.get("identifier")
    if kind != "ad" and isinstance(identifiers, list) and "upn" in identifiers:
        return [f"{where}.identifier: upn (userPrincipalName) needs an Active Directory"]
    return []


def _list_at(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    return value if isinstance(value, list) else []


def _channel_reference_errors(
    raw: Mapping[str, Any], profile: Mapping[str, Any], where: str, has_questions: bool
) -> list[str]:
    channels = profile.get("channels")
    used: set[str] = set()
    for step in channels if isinstance(channels, list) else []:
        used.update([step] if isinstance(step, str) else step if isinstance(step, list) else [])
    needs = {
        "question": (has_questions, "the question channel needs a list of questions"),
        "email": (raw.get("mail") is not None, "the email channel needs a mail section"),
        "sms": (raw.get("sms") is not None, "the sms channel needs an sms section"),
    }
    errors = [f"{where}.channels: {message}" for channel, (ok, message) in needs.items()
              if channel in used and not ok]  # fmt: skip
    if profile.get("temporary_password") and raw.get("mail") is None:
        errors.append(f"{where}.temporary_password: mailing a password needs a mail section")
    return errors
