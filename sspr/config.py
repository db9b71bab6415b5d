"""The YAML configuration, validated at start-up into typed objects."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

from sspr.domain import settings as domain
from sspr.domain.limits import Limit
from sspr.domain.policy import PRESETS, PasswordPolicy
from sspr.domain.settings import HelpdeskAction

CHANNELS = ("question", "email", "sms")
CODE_CHANNELS = ("email", "sms")
LANGUAGES = ("fr", "en")


class Strict(BaseModel):
    """Base model: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A user-facing text in French (required) and English (optional)."""

    fr: str = Field(min_length=1)
    en: str | None = None

    def get(self, lang: str) -> str:
        """Return the text in `lang`, falling back to French."""
        return (self.en if lang == "en" else None) or self.fr

    def to_domain(self) -> domain.Text:
        """The domain's text."""
        return domain.Text(self.fr, self.en)


class TlsConfig(Strict):
    """How sspr checks the directory's certificate."""

    start_tls: bool = False
    verify: bool = True
    ca_file: Path | None = None


class AttributeNames(Strict):
    """The LDAP attribute names sspr reads and writes."""

    login: str = "uid"
    mail: str = "mail"
    mobile: list[str] = Field(default_factory=lambda: ["mobile"])
    answers: str = "ssprRecoveryAnswer"
    display_name: str = "cn"
    name_parts: list[str] = Field(default_factory=lambda: ["givenName", "sn"])
    # Where the "add a mobile" reminder's snooze is kept; null keeps it in the store instead.
    reminder: str | None = "ssprReminderSnoozedUntil"
    # Added to an entry before sspr writes answers or the snooze, if it lacks it.
    recovery_object_class: str | None = "ssprAccount"


class DirectoryConfig(Strict):
    """Where the directory is and how sspr binds to it."""

    urls: list[str] = Field(min_length=1)
    kind: Literal["openldap", "ad"] = "openldap"
    tls: TlsConfig = TlsConfig()
    bind_dn: str
    bind_password_env: str = "SSPR_LDAP_PASSWORD"
    base_dn: str
    user_object_class: str = "inetOrgPerson"
    connect_timeout: float = Field(default=5.0, gt=0)
    operation_timeout: float = Field(default=10.0, gt=0)
    attributes: AttributeNames = AttributeNames()

    @field_validator("urls")
    @classmethod
    def _ldap_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^ldaps?://[^/\s]+/?$", url):
                raise ValueError(f'"{url}" is not an ldap:// or ldaps:// URL')
        return urls

    def bind_password(self) -> str:
        """Read the service account's password from the environment."""
        return os.environ.get(self.bind_password_env, "")


class StoreConfig(Strict):
    """Where short-lived state lives: SQLite for one host, Redis for several."""

    backend: Literal["sqlite", "redis"] = "sqlite"
    path: Path = Path("/var/lib/sspr/store.sqlite3")
    # The Redis URL: redis://, rediss:// or, for a master watched by Sentinel,
    # redis+sentinel://[:password@]host:26379[,host:26379…]/service_name[/db].
    url_env: str = "SSPR_REDIS_URL"
    # A stuck Redis holds a worker at most this long per operation (a LAN answers in 1 ms).
    timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    connect_timeout_seconds: float = Field(default=0.5, gt=0, le=10)

    def url(self) -> str:
        """Read the Redis URL (it may hold a password) from the environment."""
        return os.environ.get(self.url_env, "")


class SmtpConfig(Strict):
    """The SMTP server that sends codes and notifications."""

    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password_env: str = "SSPR_SMTP_PASSWORD"
    timeout: float = Field(default=10.0, gt=0)

    def password(self) -> str | None:
        """Read the SMTP password from the environment, if a username is set."""
        return os.environ.get(self.password_env) if self.username else None


class MailConfig(Strict):
    """Sender, texts and server of the mails sspr sends."""

    smtp: SmtpConfig = SmtpConfig()
    sender: str = Field(min_length=3)
    reply_to: str | None = None
    signature: Text = Text(fr="L'équipe technique", en="The technical team")
    legal_notice: Text | None = None
    # A folder whose mail/<profile id>/code.txt (…) override the shipped mail templates.
    templates_dir: Path | None = None


class SmsConfig(Strict):
    """Twilio settings and the SMS text; credentials come from the environment."""

    account_sid_env: str = "SSPR_TWILIO_ACCOUNT_SID"
    auth_token_env: str = "SSPR_TWILIO_AUTH_TOKEN"
    from_number: str | None = None
    messaging_service_sid: str | None = None
    default_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    timeout: float = Field(default=10.0, gt=0)
    text: Text = Text(
        fr="Votre code de vérification : {code}. Il expire dans {minutes} min. "
        "Ne le communiquez à personne.",
        en="Your verification code: {code}. It expires in {minutes} min. Never share it.",
    )

    @model_validator(mode="after")
    def _one_sender(self) -> SmsConfig:
        if bool(self.from_number) == bool(self.messaging_service_sid):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        for text in (self.text.fr, self.text.en or ""):
            if text and "{code}" not in text:
                raise ValueError("text must contain {code}")
        return self

    def credentials(self) -> tuple[str, str]:
        """Read the Twilio account SID and auth token from the environment."""
        return (
            os.environ.get(self.account_sid_env, ""),
            os.environ.get(self.auth_token_env, ""),
        )


class CodeRules(Strict):
    """Rules of one code channel."""

    length: int = Field(default=6, ge=4, le=12)
    ttl_seconds: int = Field(default=900, ge=60, le=86400)
    max_attempts: int = Field(default=5, ge=1, le=20)
    resend_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    max_per_hour: int = Field(default=5, ge=1, le=100)
    max_per_day: int | None = Field(default=10, ge=1, le=1000)


class CodesConfig(Strict):
    """Rules of the email and SMS codes."""

    email: CodeRules = CodeRules(ttl_seconds=900)
    sms: CodeRules = CodeRules(ttl_seconds=600)


class Question(Strict):
    """One security question of the admin's list."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    text: Text

    def to_domain(self) -> domain.Question:
        """The domain's question."""
        return domain.Question(self.id, self.text.to_domain())


class AnswerHashing(Strict):
    """argon2id cost for stored answers (see docs/security-answers.md)."""

    time_cost: int = Field(default=2, ge=1, le=10)
    memory_kib: int = Field(default=19456, ge=8192, le=1048576)
    parallelism: int = Field(default=1, ge=1, le=8)


class AttemptLimit(Strict):
    """How many failed proofs an account may make before a temporary lock."""

    max_failures: int = Field(default=5, ge=1)
    window_seconds: int = Field(default=3600, ge=1)
    lockout_seconds: int = Field(default=86400, ge=1)


class RateLimits(Strict):
    """Limits per source address, counted in the shared store."""

    identify_per_ip_per_minute: int = Field(default=10, ge=1, le=10000)


class PolicyConfig(Strict):
    """A named password policy: a preset, rules, or a preset with overrides."""

    preset: str | None = None
    min_length: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=1)
    min_lower: int | None = Field(default=None, ge=0)
    min_upper: int | None = Field(default=None, ge=0)
    min_digit: int | None = Field(default=None, ge=0)
    min_special: int | None = Field(default=None, ge=0)
    min_letters: int | None = Field(default=None, ge=0)
    min_special_or_accented: int | None = Field(default=None, ge=0)
    min_classes: int | None = Field(default=None, ge=0, le=4)
    forbidden_chars: str | None = None
    forbid_user_parts: bool | None = None
    forbidden_words_file: Path | None = None
    not_current: bool | None = None

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, preset: str | None) -> str | None:
        if preset is not None and preset not in PRESETS:
            known = ", ".join(sorted(PRESETS))
            raise ValueError(f'unknown preset "{preset}" (known: {known})')
        return preset

    @model_validator(mode="after")
    def _lengths_ordered(self) -> PolicyConfig:
        policy = self.build(load_words=False)
        if policy.max_length is not None and policy.max_length < policy.min_length:
            raise ValueError("max_length is smaller than min_length")
        if self.forbidden_words_file is not None and not self.forbidden_words_file.is_file():
            raise ValueError(f"forbidden_words_file: no such file {self.forbidden_words_file}")
        return self

    def build(self, *, load_words: bool = True) -> PasswordPolicy:
        """Turn this config into the domain's policy object."""
        base = PRESETS[self.preset] if self.preset else PasswordPolicy()
        overrides: dict[str, Any] = {
            name: value
            for name, value in self.model_dump(exclude={"preset", "forbidden_words_file"}).items()
            if value is not None
        }
        if load_words and self.forbidden_words_file is not None:
            overrides["forbidden_words"] = load_forbidden_words(self.forbidden_words_file)
        return base.with_changes(**overrides)


def load_forbidden_words(path: Path) -> frozenset[str]:
    """Read one forbidden word a line; blank lines and # comments are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


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
    filter: str = "(objectClass=*)"
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

    @field_validator("filter")
    @classmethod
    def _parenthesised(cls, ldap_filter: str) -> str:
        return parenthesised_filter(ldap_filter)


def parenthesised_filter(ldap_filter: str) -> str:
    """Check the outline of an admin's LDAP filter (the directory checks the rest)."""
    if not (ldap_filter.startswith("(") and ldap_filter.endswith(")")):
        raise ValueError("an LDAP filter must be enclosed in parentheses")
    if ldap_filter.count("(") != ldap_filter.count(")"):
        raise ValueError("unbalanced parentheses in the LDAP filter")
    return ldap_filter


class Support(Strict):
    """The "J'ai besoin de support" entry of the chooser."""

    label: Text = Text(fr="J'ai besoin de support", en="I need support")
    text: Text
    email: str | None = None
    phone: str | None = None
    url: HttpUrl | None = None


class Branding(Strict):
    """Name, logo and colours shown on every page."""

    name: str = "Mot de passe oublié"
    logo_url: str | None = None
    primary_color: str = Field(default="#000091", pattern=r"^#[0-9a-fA-F]{6}$")


class AuditConfig(Strict):
    """Where audit events go: a JSON-lines file, standard output, or both."""

    file: Path | None = None
    stdout: bool = True


def _network(value: str) -> str:
    ipaddress.ip_network(value)  # its ValueError names the problem ("has host bits set")
    return value


# One address (a /32 or /128) or a network in CIDR notation.
Network = Annotated[str, AfterValidator(_network)]


class MonitoringConfig(Strict):
    """Who may read /metrics and /readyz: client addresses or networks (CIDR)."""

    allow: list[Network] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])

    def allows(self, address: str | None) -> bool:
        """Whether a client address falls in one of the allowed networks."""
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(network) for network in self.allow)


class ProxyConfig(Strict):
    """Reverse proxies in front of sspr."""

    # How many proxies append to X-Forwarded-For/-Proto; 0 trusts none (the client address is
    # the TCP peer). Set it to the exact number, or clients can forge their address.
    trusted_hops: int = Field(default=0, ge=0, le=5)


class CaptchaConfig(Strict):
    """ALTCHA proof of work, for the profiles whose `captcha` is not "off"."""

    # after_failures: a neutral identification, a wrong answer or a wrong code from one
    # address (an IPv6 /64) counts; this many within the window bring the captcha up.
    failures_before: int = Field(default=3, ge=1, le=1000)
    window_seconds: int = Field(default=3600, ge=60, le=86400)
    # PBKDF2-SHA256 iterations per attempt, and the largest counter the browser must find
    # (drawn between half of it and it): ~1.5 million iterations on average, about 0.3 s
    # for one desktop core, a little more on a phone with its several workers.
    cost: int = Field(default=1000, ge=100, le=100_000)
    max_counter: int = Field(default=2000, ge=10, le=1_000_000)
    # A challenge must be solved and its form posted within this time; then it is used up.
    ttl_seconds: int = Field(default=600, ge=60, le=3600)


class AccountSessions(Strict):
    """Sessions of "Mon compte" after a login."""

    idle_timeout_seconds: int = Field(default=900, ge=60, le=86400)
    # A change of recovery data needs a password typed within this window.
    reauth_seconds: int = Field(default=300, ge=30, le=3600)
    reminder_snooze_days: int = Field(default=183, ge=1, le=3650)


class HelpdeskConfig(Strict):
    """The helpdesk console: which directory accounts may use it, and its rules."""

    # Staff accounts: found under `base` by `identifier`, then bound to with their password.
    base: str = Field(min_length=3)
    identifier: str = Field(default="uid", pattern=r"^[A-Za-z][A-Za-z0-9-]*$")
    # Access: a member of this groupOfNames, and/or an entry matching this filter (when
    # both are set, both must hold).
    group_dn: str | None = Field(default=None, min_length=3)
    filter: str | None = None
    idle_timeout_seconds: int = Field(default=900, ge=60, le=86400)
    # "reason": a written reason may stand in for the caller's identity check.
    temporary_password_requires: Literal["identity_check", "reason"] = "identity_check"
    # Actions whose confirmation needs a written reason.
    reasons_required: list[HelpdeskAction] = Field(default_factory=lambda: ["clear_recovery"])
    # How long a checked identity lets the agent act for that caller.
    identity_check_valid_seconds: int = Field(default=600, ge=60, le=3600)
    page_size: int = Field(default=20, ge=5, le=100)
    # The SMS of the identity check: unlike the reset's, it must be read out to the agent.
    identity_sms_text: Text = Text(
        fr="Code à communiquer à l'agent du support avec qui vous êtes en ligne : {code}. "
        "Il expire dans {minutes} min.",
        en="Code to read out to the support agent you are on the phone with: {code}. "
        "It expires in {minutes} min.",
    )

    @field_validator("filter")
    @classmethod
    def _parenthesised(cls, ldap_filter: str | None) -> str | None:
        return None if ldap_filter is None else parenthesised_filter(ldap_filter)

    def to_domain(self) -> domain.HelpdeskRules:
        """The domain's rules of the console."""
        return domain.HelpdeskRules(
            base=self.base, identifier=self.identifier, group_dn=self.group_dn,
            filter=self.filter, idle_timeout_seconds=self.idle_timeout_seconds,
            temporary_password_requires=self.temporary_password_requires,
            reasons_required=frozenset(self.reasons_required),
            identity_check_valid_seconds=self.identity_check_valid_seconds,
            page_size=self.page_size,
        )  # fmt: skip

    @model_validator(mode="after")
    def _access_rule(self) -> HelpdeskConfig:
        # Neither would open the console to every account under `base`.
        if self.group_dn is None and self.filter is None:
            raise ValueError("set group_dn or filter (or both) to say who may use the console")
        for text in (self.identity_sms_text.fr, self.identity_sms_text.en or ""):
            if text and "{code}" not in text:
                raise ValueError("identity_sms_text must contain {code}")
        return self


class Settings(Strict):
    """The whole configuration of one sspr instance."""

    public_url: HttpUrl
    secret_key_env: str = "SSPR_SECRET_KEY"
    default_language: Literal["fr", "en"] = "fr"
    # Dates in mails ("Votre mot de passe a été modifié le …") are shown in this zone.
    timezone: str = "Europe/Paris"
    branding: Branding = Branding()
    directory: DirectoryConfig
    store: StoreConfig = StoreConfig()
    questions: list[Question] = Field(default_factory=list)
    answer_hashing: AnswerHashing = AnswerHashing()
    proof_attempts: AttemptLimit = AttemptLimit()
    flow_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    policies: dict[str, PolicyConfig] = Field(min_length=1)
    profiles: Annotated[list[Profile], Field(min_length=1)]
    support: Support | None = None
    audit: AuditConfig = AuditConfig()
    mail: MailConfig | None = None
    sms: SmsConfig | None = None
    codes: CodesConfig = CodesConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    account: AccountSessions = AccountSessions()
    proxy: ProxyConfig = ProxyConfig()
    captcha: CaptchaConfig = CaptchaConfig()
    rate_limits: RateLimits = RateLimits()
    # The helpdesk console (/helpdesk/) exists only when this section does.
    helpdesk: HelpdeskConfig | None = None

    @model_validator(mode="after")
    def _cross_references(self) -> Settings:
        errors = reference_errors(self.model_dump(mode="json"))
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def profile(self, profile_id: str) -> Profile | None:
        """Return the profile with this id, if any."""
        return next((p for p in self.profiles if p.id == profile_id), None)

    def question(self, question_id: str) -> Question | None:
        """Return the question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)

    def secret_key(self) -> str:
        """Read the key that signs sessions from the environment."""
        return os.environ.get(self.secret_key_env, "")

    def to_domain(self) -> domain.DomainSettings:
        """What the domain services are told of this configuration."""
        attempts = self.proof_attempts
        return domain.DomainSettings(
            profiles=tuple(profile.to_domain() for profile in self.profiles),
            public_url=str(self.public_url).rstrip("/"),
            questions=tuple(question.to_domain() for question in self.questions),
            default_language=self.default_language,
            flow_ttl_seconds=self.flow_ttl_seconds,
            proof_attempts=Limit(
                attempts.max_failures, attempts.window_seconds, attempts.lockout_seconds
            ),
            mail_enabled=self.mail is not None,
            sms_region=self.sms.default_region if self.sms is not None else None,
            reminder_in_directory=self.directory.attributes.reminder is not None,
            reminder_snooze_days=self.account.reminder_snooze_days,
            account_idle_seconds=self.account.idle_timeout_seconds,
            reauth_seconds=self.account.reauth_seconds,
            audit_file=self.audit.file,
            helpdesk=self.helpdesk.to_domain() if self.helpdesk is not None else None,
        )


def reference_errors(raw: Mapping[str, Any]) -> list[str]:
    """Errors between sections (a profile naming an unknown policy…), read from raw data.

    Working on raw data lets them be reported together with the field errors.
    """
    errors: list[str] = []
    policies = raw.get("policies")
    policy_names = set(policies) if isinstance(policies, dict) else set()
    questions = raw.get("questions") if isinstance(raw.get("questions"), list) else []
    question_ids = [q.get("id") for q in questions if isinstance(q, dict)]
    for qid in sorted({str(q) for q in question_ids if question_ids.count(q) > 1}):
        errors.append(f'questions: duplicate question id "{qid}"')
    profiles = raw.get("profiles") if isinstance(raw.get("profiles"), list) else []
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
    return errors


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


class ConfigError(Exception):
    """The configuration is invalid; `errors` lists every problem with its path."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(errors))
        self.source = source
        self.errors = errors


def load_settings(path: str | Path) -> Settings:
    """Read and validate a YAML file; raise ConfigError listing every problem."""
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the file: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from exc
    return parse_settings(raw, source)


def parse_settings(raw: object, source: str = "<config>") -> Settings:
    """Validate already-parsed YAML data into Settings."""
    if not isinstance(raw, dict):
        raise ConfigError(source, ["the file must hold a mapping of settings"])
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        # The whole-model error repeats reference_errors; they are added from raw data below.
        field_errors = [_describe(error) for error in exc.errors() if error["loc"]]
        raise ConfigError(source, field_errors + reference_errors(raw)) from exc


def _describe(error: Any) -> str:
    """Render one pydantic error as `path: message`, the way admins read paths."""
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if message.startswith("["):
        # A list validator names the failing item itself: profiles[2].channels[0]: …
        index, _, rest = message.partition(": ")
        return f"{path}{index}: {rest}"
    return f"{path}: {message}" if path else message
