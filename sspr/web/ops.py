"""Endpoints for the platform: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as NoAnswer

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.wrappers import Response

from sspr.domain.errors import DirectoryRefused, DirectoryUnavailable, StoreUnavailable
from sspr.domain.ports import Directory, Store
from sspr.metrics import exposition
from sspr.web.context import services

bp = Blueprint("ops", __name__)

PROBE_TTL = 30
# A health probe gives up long before a stuck directory's operation timeout: /readyz says
# "no answer" within this budget instead of making the platform's probe time out.
READY_DEADLINE = 2.0
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process serves requests; no dependency is touched."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the directory answers and the store keeps a value; 503 names what fails."""
    _only_for_monitoring()
    built = services()
    log = current_app.logger
    checks = within_deadline(
        {
            "directory": lambda: directory_status(built.directory, log),
            "store": lambda: store_status(built.store, log),
        },
        READY_DEADLINE,
    )
    ready = all(status == "ok" for status in checks.values())
    return jsonify(checks), 200 if ready else 503


def within_deadline(probes: dict[str, Callable[[], str]], deadline: float) -> dict[str, str]:
    """Run the probes side by side; one still busy at the deadline reports "no answer"."""
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="readyz")
    futures = {name: pool.submit(probe) for name, probe in probes.items()}
    end = time.monotonic() + deadline
    results = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, end - time.monotonic()))
        except NoAnswer:
            results[name] = f"unavailable: no answer within {deadline:g} s"
    # A stuck probe ends on its own timeout; the answer does not wait for it.
    pool.shutdown(wait=False)
    return results


@bp.get("/metrics")
def metrics() -> Response:
    """The Prometheus text exposition of this worker, or of all workers in multiprocess mode."""
    _only_for_monitoring()
    registry = services().metrics.registry
    return Response(exposition(registry), content_type=METRICS_CONTENT_TYPE)


def _only_for_monitoring() -> None:
    # A 404 like any unknown page: the endpoint is not advertised to strangers.
    if not services().settings.monitoring.allows(request.remote_addr):
        abort(404)


def directory_status(directory: Directory, log: logging.Logger) -> str:
    """ "ok", or why the directory does not answer (sspr's own text: no secret in it)."""
    try:
        directory.ping()
    except (DirectoryUnavailable, DirectoryRefused) as error:
        log.warning("readiness: directory unavailable: %s", error)
        return f"unavailable: {error}"
    return "ok"


def store_status(store: Store, log: logging.Logger) -> str:
    """ "ok" when a probe value can be written, read back and removed."""
    key = "ops:readyz:" + secrets.token_hex(8)
    value = secrets.token_bytes(8)
    try:
        store.set(key, value, PROBE_TTL)
        kept = store.get(key)
        store.delete(key)
    except StoreUnavailable as error:
        # The store's own message names the backend and the failure, never its URL.
        log.warning("readiness: store unavailable: %s", error)
        return f"unavailable: {error}"
    return "ok" if kept == value else "unavailable: the probe value did not come back"
