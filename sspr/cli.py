"""The `sspr` command: demo, serve, check-config and explain."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sspr.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ConfigError,
    Settings,
    config_path,
    load_settings,
)
from sspr.config.secrets import Secrets, read_secrets


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one sub-command."""
    parser = argparse.ArgumentParser(prog="sspr", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run sspr against two private demo directories")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--host", default="127.0.0.1")

    serve = commands.add_parser("serve", help="serve a configuration (granian, keep-alive)")
    serve.add_argument("config", nargs="?", default=None, help=f"default: {DEFAULT_CONFIG}")
    serve.add_argument("--bind", help="host:port (SSPR_BIND; default 127.0.0.1:8000)")
    serve.add_argument("--workers", type=int, help="processes (SSPR_WORKERS; default 2)")
    serve.add_argument("--threads", type=int, help="threads a worker (SSPR_THREADS; default 4)")
    serve.add_argument(
        "--no-access-log", dest="access_log", action="store_false", default=None,
        help="no access log on stdout (SSPR_ACCESS_LOG=0)",
    )  # fmt: skip
    serve.add_argument("--app", help=argparse.SUPPRESS)  # another WSGI target: benchmarks

    check = commands.add_parser("check-config", help="validate a configuration and test it")
    check.add_argument("config")
    check.add_argument("--offline", action="store_true", help="validate only, do not connect")
    check.add_argument(
        "--live", action="store_true", help="also ask Twilio whether the credentials work"
    )

    explain = commands.add_parser(
        "explain", help="say what the reset pages would do with an identifier (audited)"
    )
    explain.add_argument("identifier")
    explain.add_argument("--profile", help="only this profile (its id)")
    explain.add_argument("--config", default=DEFAULT_CONFIG)

    args = parser.parse_args(argv)
    if args.command == "explain":
        return explain_identifier(args.config, args.identifier, args.profile)
    if args.command == "demo":
        from sspr.demo.run import run_demo

        return run_demo(host=args.host, port=args.port)
    if args.command == "serve":
        return serve_configuration(args)
    return check_config(args.config, offline=args.offline, live=args.live)


def check_config(path: str, *, offline: bool = False, live: bool = False) -> int:
    """Print every configuration error and missing secret, then test each dependency.

    0 when all is well, 1 when the file or the environment is wrong, 2 when a dependency fails.
    """
    loaded = _load(path, announce=True)
    if loaded is None:
        return 1
    settings, secrets = loaded
    print("environment: every secret is set")
    if offline:
        return 0
    return 0 if run_checks(settings, secrets, live=live) else 2


def _load(path: str, *, announce: bool = False) -> tuple[Settings, Secrets] | None:
    """The configuration and its secrets; None, once every problem is printed, if wrong."""
    try:
        settings = load_settings(path)
        if announce:
            print(f"{path}: configuration is valid ({len(settings.profiles)} profiles)")
        return settings, read_secrets(settings)
    except ConfigError as error:
        print(f"{error.source}: {len(error.errors)} error(s)")
        for message in error.errors:
            print(f"  {message}")
        return None


def run_checks(settings: Settings, secrets: Secrets, *, live: bool = False) -> bool:
    """Test the directory (bind, one search per profile), SMTP and Twilio; print one row each."""
    from sspr.checks import run_all

    rows = run_all(settings, secrets, live=live)
    width = max(len(row.name) for row in rows)
    for row in rows:
        status = "FAIL" if not row.ok else "WARN" if row.warning else "OK  "
        print(f"  {row.name.ljust(width)}  {status}  {row.detail}")
    return all(row.ok for row in rows)


def explain_identifier(path: str, identifier: str, profile_id: str | None) -> int:
    """Print what identification does with `identifier`: 0, 1 (bad config), 2 (directory)."""
    from sspr.domain.errors import DirectoryRefused, DirectoryUnavailable
    from sspr.explain import render, run_explain

    loaded = _load(path)
    if loaded is None:
        return 1
    settings, secrets = loaded
    if profile_id is not None and profile_id not in {p.id for p in settings.profiles}:
        known = ", ".join(p.id for p in settings.profiles)
        print(f'no profile "{profile_id}" (profiles: {known})')
        return 1
    try:
        explanation = run_explain(settings, secrets, identifier, profile_id)
    except (DirectoryUnavailable, DirectoryRefused) as error:
        print(f"directory: {error}")
        return 2
    render(explanation)
    return 0


def serve_configuration(args: argparse.Namespace) -> int:
    """Check the configuration and the secrets (naming every problem, and stopping), then
    serve it."""
    import os

    from sspr.serving import SSPR_APP, ServeOptions
    from sspr.serving import serve as run_workers

    if args.app is None:
        config = args.config or config_path()
        if check_config(config, offline=True) != 0:
            return 1
        # The workers read the file the check read.
        os.environ[CONFIG_ENV] = str(Path(config).resolve())
    options = ServeOptions.from_env(
        bind=args.bind, workers=args.workers, threads=args.threads, access_log=args.access_log
    )
    return run_workers(options, args.app or SSPR_APP)


if __name__ == "__main__":
    sys.exit(main())
