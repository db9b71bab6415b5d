"""Production serving: granian's WSGI workers with sspr's settings, run by `sspr serve`.

Why granian rather than gunicorn's threaded workers: the HTTP side (parsing, keep-alive,
writing) runs in Rust, off the GIL, and the same flows cost up to a fifth less CPU, with a
shorter tail (docs/performance.md, "Serving").

Client connections are kept open between requests (HTTP keep-alive), so a journey of several
pages costs one TCP and TLS handshake. Settings come from the command line or SSPR_* variables
(`ServeOptions.from_env`). The master, before any worker starts, gives all workers one metrics
directory; each worker reads its own secrets (sspr.wsgi).
"""

from __future__ import annotations

import copy
import importlib
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The variable prometheus_client reads, as sspr.metrics names it. Not imported from there:
# prometheus_client picks its multiprocess mode on import, and the workers, forked from this
# process, must import it after the variable is set.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The entry point that reads SSPR_CONFIG and the environment's secrets by itself.
SSPR_APP = "sspr.wsgi:app"
# The "module:attribute" each worker loads (worker_app), as `serve` was given it.
TARGET_ENV = "SSPR_SERVE_TARGET"
# How long a worker has to finish its requests once asked to stop, before it is killed.
STOP_SECONDS = 30
_MADE_PREFIX = "sspr-metrics-"
# Path only: a query string may hold what a user typed (a helpdesk search); the path never
# does, once email-link references are masked (sspr.web.access_log).
ACCESS_FORMAT = (
    '%(addr)s - - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'
)


@dataclass(frozen=True)
class ServeOptions:
    """How `sspr serve` runs the workers."""

    bind: str = "127.0.0.1:8000"
    workers: int = 2
    # Threads of a worker share its LDAP and store connections; requests mostly wait on the
    # directory or the mail server, so a few threads per core keep both busy.
    threads: int = 4
    # Longer than a reverse proxy's idle upstream timeout (nginx: 60 s), so the proxy, not
    # sspr, decides when an idle connection closes. Also the time a client has to send a
    # request's headers.
    keepalive_seconds: int = 75
    access_log: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **given: Any) -> ServeOptions:
        """The options given, else SSPR_BIND, SSPR_WORKERS, SSPR_THREADS, SSPR_KEEPALIVE and
        SSPR_ACCESS_LOG (0 turns the access log off), else the defaults."""
        env = os.environ if environ is None else environ
        read = {
            "bind": env.get("SSPR_BIND"),
            "workers": _number(env.get("SSPR_WORKERS")),
            "threads": _number(env.get("SSPR_THREADS")),
            "keepalive_seconds": _number(env.get("SSPR_KEEPALIVE")),
            "access_log": env["SSPR_ACCESS_LOG"] != "0" if "SSPR_ACCESS_LOG" in env else None,
        }
        chosen = {**read, **{key: value for key, value in given.items() if value is not None}}
        return cls(**{key: value for key, value in chosen.items() if value is not None})

    @property
    def host_and_port(self) -> tuple[str, int]:
        """The address to listen on: "host:port", "[::1]:port" or a bare port."""
        host, _, port = self.bind.rpartition(":")
        return (host.strip("[]") or "127.0.0.1", int(port))


def _number(text: str | None) -> int | None:
    return int(text) if text else None


def serve(options: ServeOptions, app: str = SSPR_APP) -> int:
    """Serve `app` with these options until stopped; 0 once stopped cleanly."""
    os.environ[TARGET_ENV] = app
    made = share_metrics()
    try:
        granian_server(options).serve()
    finally:
        remove_metrics(made)
    return 0


def granian_server(options: ServeOptions) -> Any:
    """granian's server of worker_app (imported here: the CLI's other commands never need it)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    host, port = options.host_and_port
    return Server(
        f"{__name__}:worker_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=options.workers,
        blocking_threads=options.threads,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=options.keepalive_seconds * 1000),
        log_access=options.access_log,
        log_access_format=ACCESS_FORMAT,
        log_dictconfig=logging_config(),
        # A worker that dies (out of memory, a crashed extension) is replaced, as gunicorn's
        # master would: granian's default is to stop serving.
        respawn_failed_workers=True,
        respawn_interval=1.0,
        workers_kill_timeout=STOP_SECONDS,
    )


def worker_app() -> Any:
    """The app of one worker: granian calls this in each worker, after the fork."""
    # Until granian's worker sets its own handlers, once this returns, a stop signal would go
    # to the master's handler inherited across the fork and be lost: the worker, still
    # loading (warming up takes a second), would then serve on after the master asked it to
    # stop. A worker asked to stop while it loads has nothing in flight: it just ends.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, signal.SIG_DFL)
    module, _, attribute = os.environ.get(TARGET_ENV, SSPR_APP).partition(":")
    return getattr(importlib.import_module(module), attribute)


def logging_config() -> dict[str, Any]:
    """granian's logging, with email-link references masked in the access log."""
    from granian.log import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "sspr.web.access_log.RedactingFilter"}}
    config["handlers"]["access"]["filters"] = ["redact"]
    return config


def share_metrics() -> Path | None:
    """One metrics directory for all workers, so /metrics adds up every worker's counters.

    Returns the directory made here (removed at exit), or None when the admin gave one.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        # Files left by a previous run would be counted again: start from an empty folder.
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return None
    path = Path(tempfile.mkdtemp(prefix=_MADE_PREFIX))
    os.environ[MULTIPROC_ENV] = str(path)
    print(f"sspr: metrics of all workers in {path}", file=sys.stderr)
    return path


def remove_metrics(made: Path | None) -> None:
    """Remove the metrics directory share_metrics made."""
    if made is not None and made.name.startswith(_MADE_PREFIX):
        shutil.rmtree(made, ignore_errors=True)
