"""The Flask application factory: a short list of setup steps."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from secrets import token_hex
from typing import IO, Any

from flask import Blueprint, Flask, Response, g, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader

from sspr.config import Settings, config_path, load_settings
from sspr.config.secrets import Part, Secrets, forget_secrets, read_secrets
from sspr.domain.errors import StoreUnavailable
from sspr.domain.ports import Clock, Directory, Mailer, SmsSender, Store, SystemClock
from sspr.services import Given, build_services
from sspr.web import (
    account,
    captcha,
    catalogs,
    change,
    helpdesk,
    i18n,
    ops,
    proofs,
    quality,
    reset,
    security,
    texts,
    urls,
    warmup,
    widgets,
)
from sspr.web.bodies import OnePieceBodies
from sspr.web.context import EXTENSION, services
from sspr.web.errors import setup_error_pages

PACKAGE_DIR = Path(__file__).resolve().parent.parent


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
    app = Flask(
        __name__,
        template_folder=str(templates_dir()),
        static_folder=str(Path(__file__).parent / "static"),
    )
    given = Given(
        directory, store, audit_streams, mailer, sms_sender, clock or SystemClock(),
        audit_context=_request_context, background_notices=not testing,
    )  # fmt: skip
    secrets = secrets or read_secrets(settings, parts=_parts_to_build(given, testing))
    setup_config(app, settings, secrets, testing)
    setup_request_ids(app)
    setup_audit_batches(app)
    setup_extensions(app)
    setup_templates(app, settings)
    built = build_services(settings, secrets, app.config["SECRET_KEY"], given)
    app.extensions[EXTENSION] = built
    setup_blueprints(app, console=built.helpdesk is not None, extra=blueprints)
    setup_error_pages(app)
    setup_notices(app, testing)
    security.install(app, settings)
    app.wsgi_app = OnePieceBodies(app.wsgi_app)  # type: ignore[method-assign]
    if not testing:
        # Tests build many apps and render a few pages of each: only serving warms up.
        policies = [built.reset.policy_for(profile) for profile in built.rules.profiles]
        warmup.warm_up(app, i18n.LANGUAGES, policies)
    return app


def _parts_to_build(given: Given, testing: bool) -> set[Part]:
    """The parts whose secrets are needed: those not passed in (tests may sign with any key)."""
    passed: dict[Part, object] = {
        "directory": given.directory, "store": given.store, "mail": given.mailer,
        "sms": given.sms_sender,
    }  # fmt: skip
    parts: set[Part] = {part for part, collaborator in passed.items() if collaborator is None}
    return parts if testing else parts | {"sessions"}


def setup_config(app: Flask, settings: Settings, secrets: Secrets, testing: bool) -> None:
    """Flask's settings: the signing key, cookies, languages, limits."""
    # Every worker must sign with the same key, so only tests may make one up.
    if not (secrets.secret_key or testing):
        raise ValueError("the secrets given to create_app have no session signing key")
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


def setup_request_ids(app: Flask) -> None:
    """Every request gets an id, sent back in X-Request-ID and carried by its audit lines."""
    # Registered before CSRFProtect's own hook, so even a refused post has a request id.
    app.before_request(_assign_request_id)
    app.after_request(_no_store)


def setup_audit_batches(app: Flask) -> None:
    """A request's audit events reach the store's shared trail in one write, at its end."""
    # Before CSRFProtect's hook too, so the events of a refused post are held like the rest.
    app.before_request(lambda: services().audit.hold())
    app.teardown_request(lambda error: services().audit.release())


def setup_extensions(app: Flask) -> None:
    """CSRF tokens on every form, translations, and the forms' inputs."""
    CSRFProtect(app)
    widgets.install()
    Babel(app, locale_selector=i18n.select_locale)
    catalogs.install(app)


def setup_templates(app: Flask, settings: Settings) -> None:
    """An admin's folder of mail templates comes first; every page gets the common globals."""
    if settings.mail is not None and settings.mail.templates_dir is not None:
        assert app.jinja_loader is not None
        overrides = FileSystemLoader(str(settings.mail.templates_dir))
        app.jinja_loader = ChoiceLoader([overrides, app.jinja_loader])
    app.context_processor(_template_globals(settings))
    app.add_template_global(texts.JourneyTexts(settings).template_global(), "t")
    urls.install(app)


def setup_blueprints(app: Flask, *, console: bool, extra: Sequence[Blueprint]) -> None:
    """The journeys, the account pages, the platform's, and the console when configured."""
    blueprints = (
        reset.bp,
        proofs.bp,
        i18n.bp,
        account.bp,
        change.bp,
        ops.bp,
        captcha.bp,
        quality.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    if console:
        # Without a helpdesk section, /helpdesk/ is a page like any unknown one: a 404.
        app.register_blueprint(helpdesk.bp)
    # GET only, read by scrapers that hold no session.
    app.extensions["csrf"].exempt(ops.bp)
    for blueprint in extra:
        app.register_blueprint(blueprint)


def setup_notices(app: Flask, testing: bool) -> None:
    """Tests read the notices right after a request: there, send them before it ends."""
    if testing:
        app.teardown_request(_send_notices_now)


def _send_notices_now(error: BaseException | None) -> None:
    outbox = services().outbox
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


def _template_globals(settings: Settings) -> Callable[[], dict[str, Any]]:
    """What every page and mail is given: all fixed for the app but the current language."""
    fixed = {
        "settings": settings,
        "branding": settings.branding,
        "languages": i18n.LANGUAGES,
        "return_path": i18n.return_path,
    }
    # Flask runs it for every render (both parts of each mail too): a dict copy, not a rebuild.
    return lambda: {**fixed, "lang": i18n.current_language()}


def _request_context() -> Mapping[str, str | None]:
    """Request fields every audit line carries, when there is a request."""
    if not request:
        return {}
    return {"request_id": g.get("request_id"), "source_ip": request.remote_addr}


def create_app_from_env() -> Flask:
    """Build the app from the file named by SSPR_CONFIG (the production entry point)."""
    settings = load_settings(config_path())
    app = create_app(settings)
    forget_secrets(settings)
    return app
