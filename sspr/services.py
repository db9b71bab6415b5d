"""The composition root: every service of sspr, built once from the settings."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO

from sspr.captcha import Captcha
from sspr.config import Settings
from sspr.config.secrets import Secrets
from sspr.delivery.outbox import Outbox
from sspr.delivery.pwned import HttpPwnedRanges
from sspr.directory.routing import open_directory
from sspr.domain.account import AccountService
from sspr.domain.answers import AnswerHasher
from sspr.domain.audit import AuditLog
from sspr.domain.breach import BreachCheck
from sspr.domain.channels import Channel
from sspr.domain.codes import EMAIL_ALPHABET, SMS_ALPHABET, CodePolicy, CodeService
from sspr.domain.flow import Collaborators
from sspr.domain.handed import HandedEntries
from sspr.domain.helpdesk import HelpdeskService
from sspr.domain.limits import Counter, SourceLimits
from sspr.domain.policy import PasswordPolicy
from sspr.domain.ports import (
    AuditTrail,
    Clock,
    Directory,
    Mailer,
    SmsSender,
    Store,
    SystemClock,
)
from sspr.domain.reset import ResetService
from sspr.domain.settings import DomainSettings
from sspr.domain.sources import Sources
from sspr.metrics import Metrics
from sspr.notices import TemplateNotifier
from sspr.store import open_audit_trail, open_store
from sspr.store.limits_storage import StoreStorage

AuditContext = Callable[[], Mapping[str, str | None]]


@dataclass(frozen=True)
class Services:
    """Everything the views need, built once per worker and never changed afterwards."""

    settings: Settings
    # The same configuration as the domain services read it.
    rules: DomainSettings
    directory: Directory
    store: Store
    audit: AuditLog
    hasher: AnswerHasher
    mailer: Mailer | None
    sms_sender: SmsSender | None
    metrics: Metrics
    code_policies: Mapping[str, CodePolicy]
    reset: ResetService
    account: AccountService
    # None when the configuration has no helpdesk section: the console then answers 404.
    helpdesk: HelpdeskService | None
    # The source of a request (IPv6 folded to its network) and the per-area limits on it.
    sources: Sources
    source_limits: SourceLimits
    # ALTCHA challenges and the per-address failure counts.
    captcha: Captcha
    # The durable queue of notices (None without a mail server).
    outbox: Outbox | None
    # The account entry a login or a password change read, for the page it redirects to.
    handed: HandedEntries


@dataclass(frozen=True)
class Given:
    """Collaborators a caller passes in (tests, the demo, benches); None ones are built."""

    directory: Directory | None = None
    store: Store | None = None
    audit_streams: list[IO[str]] | None = None
    mailer: Mailer | None = None
    sms_sender: SmsSender | None = None
    clock: Clock = field(default_factory=SystemClock)
    # Fields every audit line carries from the request being served (none outside one).
    audit_context: AuditContext = dict
    # Notices are sent by a thread of each worker; tests send them at the end of a request.
    background_notices: bool = True


def build_services(settings: Settings, secrets: Secrets, secret: str, given: Given) -> Services:
    """Build every service from the settings, with the collaborators given."""
    clock = given.clock
    store = given.store or _open_store(settings, secrets, clock)
    metrics = Metrics()
    # A directory passed in keeps its own latency hook (the journey bench counts with it).
    directory = given.directory or open_directory(
        settings, secrets.ldap_passwords, latency=metrics.latency_hook, clock=clock
    )
    rules = settings.to_domain()
    audit = AuditLog(
        audit_streams(settings, given.audit_streams),
        context=given.audit_context,
        observers=[metrics.observe_event],
        trail=open_audit_trail(store, settings.audit.recent_events),
        trail_failed=metrics.audit_trail_failures.inc,
        directory_of=rules.audit_directory,
    )
    mailer = given.mailer or _mailer(settings, secrets)
    sms_sender = given.sms_sender or _sms_sender(settings, secrets)
    outbox = Outbox(store, mailer, audit, background=given.background_notices) if mailer else None
    key = secret.encode()
    policies = code_policies(settings)
    counter = Counter(StoreStorage(store, clock), clock)
    limits = settings.rate_limits.to_domain()
    parts = Collaborators(
        counter=counter,
        directory=directory,
        store=store,
        audit=audit,
        hasher=_hasher(settings),
        codes=CodeService(store, clock, key),
        notifier=TemplateNotifier(settings, mailer, sms_sender, outbox),
        breaches=_breach_check(settings, audit),
        clock=clock,
    )
    reset = ResetService(
        settings=rules,
        parts=parts,
        policies=_password_policies(settings),
        code_policies=policies,
        secret=key,
    )
    return Services(
        settings=settings,
        rules=rules,
        directory=directory,
        store=store,
        audit=audit,
        hasher=parts.hasher,
        mailer=mailer,
        sms_sender=sms_sender,
        metrics=metrics,
        code_policies=policies,
        reset=reset,
        account=AccountService(
            settings=rules, reset=reset, parts=parts, code_policies=policies, now=clock.now
        ),
        helpdesk=_helpdesk(rules, reset, parts, policies, clock),
        sources=Sources(limits.ipv6_prefix, limits.trusted_networks),
        source_limits=SourceLimits(counter, limits, audit),
        captcha=Captcha(settings, key, store, counter, clock),
        outbox=outbox,
        handed=HandedEntries(clock),
    )


def _helpdesk(
    rules: DomainSettings,
    reset: ResetService,
    parts: Collaborators,
    policies: Mapping[str, CodePolicy],
    clock: Clock,
) -> HelpdeskService | None:
    if rules.helpdesk is None:
        return None
    return HelpdeskService(
        settings=rules, config=rules.helpdesk, reset=reset, parts=parts, code_policies=policies,
        now=clock.now,
    )  # fmt: skip


def _password_policies(settings: Settings) -> dict[str, PasswordPolicy]:
    """Every named policy, its lists loaded, zxcvbn told the organisation's name."""
    context = (settings.branding.name,)
    return {name: config.build(context_words=context) for name, config in settings.policies.items()}


def _breach_check(settings: Settings, audit: AuditLog) -> BreachCheck | None:
    """The range service client (HIBP or a mirror), when a policy asks for it."""
    policies = settings.policies.values()
    if not any(config.build(load_words=False).not_breached for config in policies):
        return None
    ranges = HttpPwnedRanges(str(settings.breach.url), timeout=settings.breach.timeout)
    return BreachCheck(ranges, audit, settings.breach.on_unavailable)


def code_policies(settings: Settings) -> dict[str, CodePolicy]:
    """The configured rules of each code channel."""
    alphabets = {Channel.EMAIL: EMAIL_ALPHABET, Channel.SMS: SMS_ALPHABET}
    policies: dict[str, CodePolicy] = {}
    for channel, alphabet in alphabets.items():
        rules = getattr(settings.codes, channel)
        policies[channel] = CodePolicy(
            length=rules.length,
            alphabet=alphabet,
            ttl=rules.ttl_seconds,
            max_attempts=rules.max_attempts,
            resend_cooldown=rules.resend_cooldown_seconds,
            max_per_hour_per_destination=rules.max_per_hour,
            max_per_day_per_destination=rules.max_per_day,
        )
    return policies


def _hasher(settings: Settings) -> AnswerHasher:
    costs = settings.answer_hashing
    return AnswerHasher(
        time_cost=costs.time_cost, memory_kib=costs.memory_kib, parallelism=costs.parallelism
    )


def _open_store(settings: Settings, secrets: Secrets, clock: Clock) -> Store:
    config = settings.store
    if config.backend == "redis":
        return open_store(
            "redis", url=secrets.redis_url, clock=clock, timeout=config.timeout_seconds,
            connect_timeout=config.connect_timeout_seconds,
        )  # fmt: skip
    return open_store("sqlite", path=str(config.path), clock=clock)


def command_audit_trail(settings: Settings, secrets: Secrets) -> AuditTrail | None:
    """The shared trail for a command run beside the service (`sspr explain`)."""
    if settings.store.backend == "sqlite" and not settings.store.path.exists():
        # Never create the service's file as whoever runs the command: workers could not write.
        return None
    store = _open_store(settings, secrets, SystemClock())
    return open_audit_trail(store, settings.audit.recent_events)


def _mailer(settings: Settings, secrets: Secrets) -> Mailer | None:
    if settings.mail is None:
        return None
    from sspr.delivery.smtp import smtp_mailer

    return smtp_mailer(settings.mail, secrets.smtp_password)


def _sms_sender(settings: Settings, secrets: Secrets) -> SmsSender | None:
    if settings.sms is None:
        return None
    from sspr.delivery.sms import twilio_sender

    return twilio_sender(settings.sms, secrets.twilio_account_sid, secrets.twilio_auth_token)


def audit_streams(settings: Settings, given: list[IO[str]] | None) -> list[IO[str]]:
    if given is not None:
        return given
    streams: list[IO[str]] = [sys.stdout] if settings.audit.stdout else []
    if settings.audit.file is not None:
        settings.audit.file.parent.mkdir(parents=True, exist_ok=True)
        streams.append(settings.audit.file.open("a", encoding="utf-8"))
    return streams
