"""The Flask application factory."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex
from typing import IO, Any

from flask import Blueprint, Flask, Response, g, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader

from sspr.config import Settings, load_settings
from sspr.config.secrets import Part, Secrets, read_secrets
from sspr.delivery.outbox import Outbox
from sspr.directory.ldap import LdapDirectory
from sspr.domain.account import AccountService
from sspr.domain.answers import AnswerHasher
from sspr.domain.audit import AuditLog
from sspr.domain.codes import EMAIL_ALPHABET, SMS_ALPHABET, CodePolicy, CodeService, LinkSigner
from sspr.domain.errors import DirectoryUnavailable, StoreUnavailable
from sspr.domain.helpdesk import HelpdeskService
from sspr.domain.ports import Clock, Directory, Mailer, SmsSender, Store, SystemClock
from sspr.domain.reset import Collaborators, ResetService
from sspr.domain.settings import DomainSettings
from sspr.metrics import Metrics, ProofTrail
from sspr.store import open_store
from sspr.web import i18n, security
from sspr.web.captcha import Captcha
from sspr.web.captcha import bp as captcha_bp
from sspr.web.notifier import TemplateNotifier
from sspr.web.ratelimit import IpLimits

PACKAGE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Services:
    """Everything the views need, built once per worker."""

    settings: Settings
    # The same configuration as the domain services read it.
    rules: DomainSettings
    directory: Directory
    store: Store
    audit: AuditLog
    hasher: AnswerHasher
    reset: ResetService
    mailer: Mailer | None
    sms_sender: SmsSender | None
    metrics: Metrics
    account: AccountService
    ip_limits: IpLimits
    outbox: Outbox | None = None
    # None when the configuration has no helpdesk section: the console then answers 404.
    helpdesk: HelpdeskService | None = None
    # Set right after construction: ALTCHA challenges and the per-address failure counts.
    captcha: Captcha | None = None


def templates_dir() -> Path:
    """templates/ sits at the repository root, and inside the package once installed."""
    installed = PACKAGE_DIR / "templates"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "templates"


def create_app(
    settings: Settings,
    *,
    directory: Directory | None = None,
    store: Store | None = None,
    audit_streams: list[IO[str]] | None = None,
    mailer: Mailer | None = None,
    sms_sender: SmsSender | None = None,
    blueprints: Sequence[Blueprint] = (),
    clock: Clock | None = None,
    secrets: Secrets | None = None,
    testing: bool = False,
) -> Flask:
    """Build the application for one configuration; collaborators may be passed in.

    `blueprints` adds pages that only their caller may add (the demo's outbox): no setting
    in a configuration file can turn them on. Secrets are read from the environment unless
    given: every one a collaborator left to build needs must be set (MissingSecrets names
    them all), so a missing password stops the start, not each request.
    """
    given = _Given(
        directory, store, audit_streams, mailer, sms_sender, clock or SystemClock(), testing
    )
    secrets = secrets or read_secrets(settings, parts=_parts_to_build(given, testing))
    app = Flask(
        __name__,
        template_folder=str(templates_dir()),
        static_folder=str(Path(__file__).parent / "static"),
    )
    _configure(app, settings, secrets, testing)
    # Before CSRFProtect's own hook, so even a refused post has a request id.
    app.before_request(_assign_request_id)
    CSRFProtect(app)
    Babel(app, locale_selector=i18n.select_locale)
    _add_template_overrides(app, settings)
    app.extensions["sspr"] = _build_services(settings, given, secrets, app.config["SECRET_KEY"])
    _register(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app


@dataclass
class _Given:
    """Collaborators passed to create_app; the ones left None are built from the settings."""

    directory: Directory | None
    store: Store | None
    audit_streams: list[IO[str]] | None
    mailer: Mailer | None
    sms_sender: SmsSender | None
    clock: Clock
    testing: bool = False


def _parts_to_build(given: _Given, testing: bool) -> set[Part]:
    """The parts whose secrets are needed: those not passed in (tests may sign with any key)."""
    passed: dict[Part, object] = {
        "directory": given.directory, "store": given.store, "mail": given.mailer,
        "sms": given.sms_sender,
    }  # fmt: skip
    parts: set[Part] = {part for part, collaborator in passed.items() if collaborator is None}
    return parts if testing else parts | {"sessions"}


def _add_template_overrides(app: Flask, settings: Settings) -> None:
    """An admin's folder of mail templates comes before the shipped ones."""
    if settings.mail is not None and settings.mail.templates_dir is not None:
        assert app.jinja_loader is not None
        overrides = FileSystemLoader(str(settings.mail.templates_dir))
        app.jinja_loader = ChoiceLoader([overrides, app.jinja_loader])


def _configure(app: Flask, settings: Settings, secrets: Secrets, testing: bool) -> None:
    # Every worker must sign with the same key (read_secrets insists on it), so only tests
    # may make one up.
    secret = secrets.secret_key or token_hex(32)
    https = settings.public_url.scheme == "https"
    app.config.update(
        SECRET_KEY=secret,
        TESTING=testing,
        # __Host-: the browser then only accepts it Secure, for this host, on path / (ASVS 3.4.4).
        SESSION_COOKIE_NAME="__Host-sspr" if https else "sspr",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=settings.flow_ttl_seconds,
        BABEL_DEFAULT_LOCALE=settings.default_language,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
        WTF_CSRF_TIME_LIMIT=settings.flow_ttl_seconds,
        MAX_CONTENT_LENGTH=64 * 1024,
        PREFERRED_URL_SCHEME=settings.public_url.scheme,
    )


def _build_services(settings: Settings, given: _Given, secrets: Secrets, secret: str) -> Services:
    store = given.store or _open_store(settings, secrets, given.clock)
    metrics = _metrics(settings, store)
    # A directory passed in keeps its own latency hook (the journey bench counts with it).
    directory = given.directory or LdapDirectory(
        settings.directory, secrets.ldap_password, on_latency=metrics.observe_latency
    )
    streams = _audit_streams(settings, given.audit_streams)
    audit = AuditLog(streams, context=_request_context, observers=[metrics.observe_event])
    costs = settings.answer_hashing
    hasher = AnswerHasher(
        time_cost=costs.time_cost, memory_kib=costs.memory_kib, parallelism=costs.parallelism
    )
    mailer = given.mailer or _mailer(settings, secrets)
    sms_sender = given.sms_sender or _sms_sender(settings, secrets)
    # Tests send the notices at the end of each request instead of in a thread (teardown).
    outbox = Outbox(store, mailer, audit, background=not given.testing) if mailer else None
    key = secret.encode()
    parts = Collaborators(
        directory=directory,
        store=store,
        audit=audit,
        hasher=hasher,
        codes=CodeService(store, given.clock, key),
        links=LinkSigner(key),
        notifier=TemplateNotifier(settings, mailer, sms_sender, outbox),
    )
    rules = settings.to_domain()
    reset = ResetService(
        settings=rules,
        parts=parts,
        policies={name: policy.build() for name, policy in settings.policies.items()},
        code_policies=code_policies(settings),
        secret=key,
    )
    account = AccountService(
        settings=rules,
        reset=reset,
        directory=directory,
        store=store,
        audit=audit,
        hasher=hasher,
        codes=parts.codes,
        notifier=parts.notifier,
        code_policies=code_policies(settings),
        now=given.clock.now,
    )
    ip_limits = IpLimits.over(store, settings.rate_limits.identify_per_ip_per_minute, audit)
    services = Services(
        settings, rules, directory, store, audit, hasher, reset, mailer, sms_sender, metrics,
        account, ip_limits,
    )  # fmt: skip
    services.outbox = outbox
    services.helpdesk = _helpdesk(settings, services, parts, given.clock)
    services.captcha = Captcha(settings, key, store, given.clock)
    return services


def _helpdesk(
    settings: Settings, services: Services, parts: Collaborators, clock: Clock
) -> HelpdeskService | None:
    rules = services.rules.helpdesk
    if rules is None:
        return None
    return HelpdeskService(
        settings=services.rules, config=rules, directory=services.directory,
        store=services.store, audit=services.audit, reset=services.reset, codes=parts.codes,
        notifier=parts.notifier, code_policies=code_policies(settings), now=clock.now,
    )  # fmt: skip


def _metrics(settings: Settings, store: Store) -> Metrics:
    """This app's metrics; the store remembers proofs so completions carry their channels."""
    steps = {profile.id: len(profile.steps()) for profile in settings.profiles}
    trail = ProofTrail(store, settings.flow_ttl_seconds)
    return Metrics(trail, lambda profile_id: steps.get(profile_id, 0))


def code_policies(settings: Settings) -> dict[str, CodePolicy]:
    """The configured rules of each code channel."""
    alphabets = {"email": EMAIL_ALPHABET, "sms": SMS_ALPHABET}
    policies = {}
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


def _open_store(settings: Settings, secrets: Secrets, clock: Clock) -> Store:
    config = settings.store
    if config.backend == "redis":
        return open_store(
            "redis", url=secrets.redis_url, clock=clock, timeout=config.timeout_seconds,
            connect_timeout=config.connect_timeout_seconds,
        )  # fmt: skip
    return open_store("sqlite", path=str(config.path), clock=clock)


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


def _audit_streams(settings: Settings, given: list[IO[str]] | None) -> list[IO[str]]:
    if given is not None:
        return given
    streams: list[IO[str]] = [sys.stdout] if settings.audit.stdout else []
    if settings.audit.file is not None:
        settings.audit.file.parent.mkdir(parents=True, exist_ok=True)
        streams.append(settings.audit.file.open("a", encoding="utf-8"))
    return streams


def _request_context() -> dict[str, str | None]:
    """Request fields every audit line carries, when there is a request."""
    if not request:
        return {}
    return {"request_id": g.get("request_id"), "source_ip": request.remote_addr}


def _register(app: Flask) -> None:
    from sspr.web import account, change, helpdesk, ops, proofs, reset

    assert proofs.bp is reset.bp  # proofs adds its pages to the reset blueprint
    app.register_blueprint(reset.bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(change.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(helpdesk.bp)
    app.register_blueprint(captcha_bp)
    # GET only, read by scrapers that hold no session.
    app.extensions["csrf"].exempt(ops.bp)
    app.after_request(_no_store)
    if app.testing:
        app.teardown_request(_send_notices_now)
    security.install(app, services_of_app_from(app).settings)
    app.context_processor(_template_globals)
    app.register_error_handler(DirectoryUnavailable, _directory_unavailable)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_found)
    app.register_error_handler(413, _bad_request)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(500, _server_error)


def _send_notices_now(error: BaseException | None) -> None:
    """Tests read the notices right after the request: send them before it ends."""
    outbox = services_of_app().outbox
    if outbox is not None:
        # As the sender thread does: a store that is down keeps the notices for later.
        with contextlib.suppress(StoreUnavailable):
            outbox.drain()


def _assign_request_id() -> None:
    g.request_id = uuid.uuid4().hex


def _no_store(response: Response) -> Response:
    # Flow pages carry personal state: nothing may be kept by a browser or a proxy.
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
    return response


def _template_globals() -> dict[str, Any]:
    services: Services = services_of_app()
    return {
        "settings": services.settings,
        "branding": services.settings.branding,
        "lang": i18n.current_language(),
        "languages": i18n.LANGUAGES,
    }


def services_of_app_from(app: Flask) -> Services:
    """The Services of an application, outside a request."""
    services: Services = app.extensions["sspr"]
    return services


def services_of_app() -> Services:
    """The Services of the current application."""
    from flask import current_app

    services: Services = current_app.extensions["sspr"]
    return services


def _directory_unavailable(error: DirectoryUnavailable) -> tuple[str, int]:
    from flask import current_app

    current_app.logger.warning("directory unavailable: %s", error)
    return render_template("error.html", kind="unavailable"), 503


def _store_unavailable(error: StoreUnavailable) -> tuple[str, int]:
    from flask import current_app

    current_app.logger.warning("store unavailable: %s", error)
    return render_template("error.html", kind="store"), 503


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return render_template("error.html", kind="csrf"), 400


def _not_found(error: Exception) -> tuple[str, int]:
    return render_template("error.html", kind="not_found"), 404


def _bad_request(error: Exception) -> tuple[str, int]:
    return render_template("error.html", kind="bad_request"), 400


def _server_error(error: Exception) -> tuple[str, int]:
    return render_template("error.html", kind="server"), 500


def create_app_from_env() -> Flask:
    """Build the app from the file named by SSPR_CONFIG (the gunicorn entry point)."""
    path = os.environ.get("SSPR_CONFIG", "/etc/sspr/sspr.yaml")
    return create_app(load_settings(path))
