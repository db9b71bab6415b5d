"""The `sspr` command: demo, serve and check-config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sspr.config import ConfigError, Settings, load_settings
from sspr.domain.errors import DirectoryUnavailable

DEFAULT_CONFIG = "/etc/sspr/sspr.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one sub-command."""
    parser = argparse.ArgumentParser(prog="sspr", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run sspr against a private demo directory")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--host", default="127.0.0.1")

    serve = commands.add_parser("serve", help="serve a configuration with gunicorn")
    serve.add_argument("config", nargs="?", default=DEFAULT_CONFIG)
    serve.add_argument("--bind", default="127.0.0.1:8000")
    serve.add_argument("--workers", type=int, default=2)

    check = commands.add_parser("check-config", help="validate a configuration and test it")
    check.add_argument("config")
    check.add_argument("--offline", action="store_true", help="validate only, do not connect")

    args = parser.parse_args(argv)
    if args.command == "demo":
        from sspr.demo.run import run_demo

        return run_demo(host=args.host, port=args.port)
    if args.command == "serve":
        return serve_with_gunicorn(args.config, args.bind, args.workers)
    return check_config(args.config, offline=args.offline)


def check_config(path: str, *, offline: bool = False) -> int:
    """Print every configuration error, then bind and search each profile; 0 when all is well."""
    try:
        settings = load_settings(path)
    except ConfigError as error:
        print(f"{error.source}: {len(error.errors)} error(s)")
        for message in error.errors:
            print(f"  {message}")
        return 1
    print(f"{path}: configuration is valid ({len(settings.profiles)} profiles)")
    if offline:
        return 0
    return 0 if run_checks(settings) else 2


def run_checks(settings: Settings) -> bool:
    """Bind as the service account, then search once per profile, reporting each line."""
    from sspr.directory.ldap import LdapDirectory

    directory = LdapDirectory(settings.directory)
    rows: list[tuple[str, bool, str]] = []
    try:
        directory.ping()
        rows.append(("directory: service bind", True, settings.directory.bind_dn))
    except DirectoryUnavailable as error:
        rows.append(("directory: service bind", False, str(error)))
        _print_rows(rows)
        return False
    for profile in settings.profiles:
        try:
            found = directory.count_members(profile.base, profile.filter, limit=1)
            detail = "at least one account" if found else "no account matches base and filter"
            rows.append((f"profile {profile.id}: search", found > 0, detail))
        except DirectoryUnavailable as error:
            rows.append((f"profile {profile.id}: search", False, str(error)))
    directory.close()
    _print_rows(rows)
    return all(ok for _, ok, _ in rows)


def _print_rows(rows: list[tuple[str, bool, str]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    for name, ok, detail in rows:
        print(f"  {name.ljust(width)}  {'OK  ' if ok else 'FAIL'}  {detail}")


def serve_with_gunicorn(config: str, bind: str, workers: int) -> int:
    """Validate the configuration, then run it under gunicorn."""
    if check_config(config, offline=True) != 0:
        return 1
    import os

    from gunicorn.app.wsgiapp import run

    os.environ["SSPR_CONFIG"] = str(Path(config).resolve())
    sys.argv = ["gunicorn", "--bind", bind, "--workers", str(workers), "sspr.wsgi:app"]
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
