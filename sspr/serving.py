"""gunicorn settings for production: ``gunicorn -c python:sspr.serving sspr.wsgi:app``.

`sspr serve` and the container use them. Threaded workers keep client connections open
(HTTP keep-alive), so a journey of several pages costs one TCP and TLS handshake, not one per
request; a sync worker closes every connection after its response. Override with the usual
gunicorn options on the command line, or with the SSPR_* variables below.

Deliberately light: gunicorn's master imports this module before any worker starts, and
prometheus_client must not be imported here (it picks its multiprocess mode on import).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# The variable prometheus_client reads, as sspr.metrics names it (not imported: see above).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

bind = os.environ.get("SSPR_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SSPR_WORKERS", "2"))
worker_class = "gthread"
# Threads share a worker's LDAP connections and store connections; requests mostly wait on
# the directory or the mail server, so a few threads per core keep both busy.
threads = int(os.environ.get("SSPR_THREADS", "4"))
# Longer than a reverse proxy's idle upstream timeout (nginx keepalive_timeout: 60 s), so
# the proxy, not gunicorn, decides when an idle connection closes.
keepalive = int(os.environ.get("SSPR_KEEPALIVE", "75"))
# The access log masks email-link references (/reset/link/[masked]): a link is a proof, and
# logs are read by more people than mail is.
logger_class = "sspr.web.access_log.RedactingLogger"


# The entry point that reads SSPR_CONFIG and the environment's secrets by itself.
SSPR_APP = "sspr.wsgi:app"


def on_starting(server: Any) -> None:
    """Check sspr's configuration, then give the workers one metrics directory."""
    # Another app served with these settings (a bench's own factory) brings its own.
    if getattr(server.app, "app_uri", None) == SSPR_APP:
        check_configuration(server)
    share_metrics(server)


def check_configuration(server: Any) -> None:
    """Stop before any worker starts when the file or a secret is wrong, naming each problem.

    Otherwise every worker would fail on its own, each with a traceback.
    """
    from sspr.config import ConfigError, config_path, load_settings
    from sspr.config.secrets import read_secrets

    try:
        read_secrets(load_settings(config_path()))
    except ConfigError as error:
        for message in error.errors:
            server.log.error("%s: %s", error.source, message)
        raise SystemExit(f"sspr: {len(error.errors)} error(s) in {error.source}") from None


def share_metrics(server: Any) -> None:
    """One metrics directory for all workers, so /metrics adds up every worker's counters."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        # Files left by a previous run would be counted again: start from an empty folder.
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return
    path = tempfile.mkdtemp(prefix="sspr-metrics-")
    os.environ[MULTIPROC_ENV] = path
    server.log.info("metrics of all workers in %s", path)


def on_exit(server: Any) -> None:
    """Remove the metrics directory this master made."""
    path = os.environ.get(MULTIPROC_ENV, "")
    if Path(path).name.startswith("sspr-metrics-"):
        shutil.rmtree(path, ignore_errors=True)
