"""The Flask application factory."""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import Flask, Response, g, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from sspr.config import Settings, load_settings
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import AnswerHasher
from sspr.domain.audit import AuditLog
from sspr.domain.errors import DirectoryUnavailable
from sspr.domain.ports import Directory, Store
from sspr.domain.reset import ResetService
from sspr.store import open_store
from sspr.web import i18n

PACKAGE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Services:
    """Everything the views need, built once per worker."""

    settings: Settings
    directory: Directory
    store: Store
    audit: AuditLog
    hasher: AnswerHasher
    reset: ResetService


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
    testing: bool = False,
) -> Flask:
    """Build the application for one configuration; collaborators may be passed in."""
    app = Flask(
        __name__,
        template_folder=str(templates_dir()),
        static_folder=str(Path(__file__).parent / "static"),
    )
    _configure(app, settings, testing)
    # Before CSRFProtect's own hook, so even a refused post has a request id.
    app.before_request(_assign_request_id)
    CSRFProtect(app)
    Babel(app, locale_selector=i18n.select_locale)
    app.extensions["sspr"] = _build_services(settings, directory, store, audit_streams)
    _register(app)
    return app


def _configure(app: Flask, settings: Settings, testing: bool) -> None:
    # Every worker must sign with the same key, so only tests may make one up.
    secret = settings.secret_key() or (secrets.token_hex(32) if testing else "")
    if not secret:
        raise RuntimeError(
            f"environment variable {settings.secret_key_env} must hold the session signing key"
        )
    https = settings.public_url.scheme == "https"
    app.config.update(
        SECRET_KEY=secret,
        TESTING=testing,
        SESSION_COOKIE_NAME="sspr_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=settings.flow_ttl_seconds,
        BABEL_DEFAULT_LOCALE=settings.default_language,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
        WTF_CSRF_TIME_LIMIT=settings.flow_ttl_seconds,
        MAX_CONTENT_LENGTH=64 * 1024,
        PREFERRED_URL_SCHEME=settings.public_url.scheme,
    )


def _build_services(
    settings: Settings,
    directory: Directory | None,
    store: Store | None,
    audit_streams: list[IO[str]] | None,
) -> Services:
    directory = directory or LdapDirectory(settings.directory)
    store = store or open_store(settings.store.backend, path=str(settings.store.path))
    audit = AuditLog(_audit_streams(settings, audit_streams), context=_request_context)
    costs = settings.answer_hashing
    hasher = AnswerHasher(
        time_cost=costs.time_cost, memory_kib=costs.memory_kib, parallelism=costs.parallelism
    )
    policies = {name: policy.build() for name, policy in settings.policies.items()}
    reset = ResetService(
        settings=settings,
        directory=directory,
        store=store,
        audit=audit,
        hasher=hasher,
        policies=policies,
        secret=(settings.secret_key() or secrets.token_hex(32)).encode(),
    )
    return Services(settings, directory, store, audit, hasher, reset)


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
    from sspr.web import reset

    app.register_blueprint(reset.bp)
    app.register_blueprint(i18n.bp)
    app.after_request(_no_store)
    app.context_processor(_template_globals)
    app.register_error_handler(DirectoryUnavailable, _directory_unavailable)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_found)
    app.register_error_handler(413, _bad_request)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(500, _server_error)


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


def services_of_app() -> Services:
    """The Services of the current application."""
    from flask import current_app

    services: Services = current_app.extensions["sspr"]
    return services


def _directory_unavailable(error: DirectoryUnavailable) -> tuple[str, int]:
    from flask import current_app

    current_app.logger.warning("directory unavailable: %s", error)
    return render_template("error.html", kind="unavailable"), 503


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
