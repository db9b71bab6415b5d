"""`sspr demo`: two private slapds seeded with demo users, and the app in front of them.

The first directory (the "collectivite") holds the usagers, élus, citoyens and the helpdesk
staff; the second ("agents", a stand-in for the agents' Active Directory) holds the agents
of the lycées and of the siège: each profile names the directory that holds its accounts.
"""

from __future__ import annotations

import os
import secrets
import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from flask import Flask
from werkzeug.serving import WSGIRequestHandler

from sspr import data
from sspr.config import Settings, parse_settings
from sspr.demo.data import (
    AGENT_PROFILES,
    AGENTS_SUFFIX,
    DEMO_ACCOUNTS,
    DEMO_BREACHED,
    DEMO_PASSWORD,
    DEMO_STAFF,
    PROFILE_UNITS,
    demo_ldif,
)
from sspr.demo.outbox import MailCatcher, Outbox, OutboxTransport, outbox_blueprint
from sspr.demo.range_server import RangeServer
from sspr.demo.slapd import Slapd
from sspr.domain.answers import AnswerHasher
from sspr.domain.ports import SmsSender

PACKAGE_DIR = Path(__file__).resolve().parent
# The demo's two directories, by the names its profiles give them.
FIRST, AGENTS = "collectivite", "agents"
AGENTS_PASSWORD_ENV = "SSPR_AGENTS_LDAP_PASSWORD"


def demo_config_path() -> Path:
    """config/demo.yaml, from the wheel or from the repository."""
    installed = PACKAGE_DIR / "demo.yaml"
    return installed if installed.is_file() else PACKAGE_DIR.parent.parent / "config" / "demo.yaml"


def demo_settings(
    slapd: Slapd,
    workdir: Path,
    public_url: str,
    smtp_port: int | None = None,
    range_url: str | None = None,
    agents: Slapd | None = None,
) -> Settings:
    """The demo configuration pointed at this run's slapd, store, SMTP catcher and address;
    with `agents`, the agents' profiles live in that second slapd (see two_directories)."""
    raw: dict[str, Any] = yaml.safe_load(demo_config_path().read_text(encoding="utf-8"))
    raw["public_url"] = public_url
    if smtp_port is not None:
        raw["mail"]["smtp"]["port"] = smtp_port
    if range_url is not None:
        raw["breach"]["url"] = range_url
    raw["directory"]["urls"] = [slapd.url]
    raw["directory"]["bind_dn"] = slapd.service_dn
    raw["store"]["path"] = str(workdir / "store.sqlite3")
    if raw.get("audit", {}).get("file"):
        raw["audit"]["file"] = str(workdir / "audit.jsonl")
    os.environ[raw["directory"].get("bind_password_env", "SSPR_LDAP_PASSWORD")] = (
        slapd.service_password
    )
    if agents is not None:
        two_directories(raw, agents)
    # A fresh key per demo run: the demo is one process, and its sessions die with it.
    os.environ.setdefault(raw.get("secret_key_env", "SSPR_SECRET_KEY"), secrets.token_hex(32))
    return parse_settings(raw, str(demo_config_path()))


def two_directories(raw: dict[str, Any], agents: Slapd) -> None:
    """Turn demo.yaml's one directory into two: the agents' profiles move to `agents`."""
    first = raw.pop("directory")
    suffix = first["base_dn"].removeprefix("ou=people,")
    raw["directories"] = {
        FIRST: first,
        AGENTS: {
            **first, "urls": [agents.url], "bind_dn": agents.service_dn,
            "bind_password_env": AGENTS_PASSWORD_ENV, "base_dn": f"ou=people,{agents.suffix}",
        },
    }  # fmt: skip
    if first.get("default_policy_dn"):
        moved_policy = first["default_policy_dn"].removesuffix(suffix) + agents.suffix
        raw["directories"][AGENTS]["default_policy_dn"] = moved_policy
    for profile in raw["profiles"]:
        moved = profile["id"] in AGENT_PROFILES
        profile["directory"] = AGENTS if moved else FIRST
        if moved:
            profile["base"] = profile["base"].removesuffix(suffix) + agents.suffix
    raw["helpdesk"]["directory"] = FIRST
    os.environ[AGENTS_PASSWORD_ENV] = agents.service_password


def start_directories(workdir: Path, hasher: AnswerHasher) -> tuple[Slapd, Slapd]:
    """The demo's two slapds, started and seeded: the first one's profiles, the agents'."""
    first = Slapd(workdir / "slapd")
    agents = Slapd(workdir / "slapd-agents", suffix=AGENTS_SUFFIX)
    others = [profile for profile in PROFILE_UNITS if profile not in AGENT_PROFILES]
    first.start(seed_ldif=demo_ldif(first.suffix, hasher, profiles=others))
    try:
        agents.start(
            seed_ldif=demo_ldif(agents.suffix, hasher, profiles=AGENT_PROFILES, staff=False)
        )
    except BaseException:
        first.stop()
        raise
    return first, agents


def print_accounts() -> None:
    """Show the demo accounts so a newcomer can walk every flow."""
    print(f"\nDemo accounts (every password: {DEMO_PASSWORD}):")
    for account in DEMO_ACCOUNTS:
        answer = f"answer: {account.answer}" if account.answer else "no answer registered"
        where = AGENTS if account.profile in AGENT_PROFILES else FIRST
        print(
            f"  {account.profile:<12} {account.login:<16} {answer:<28} "
            f"{account.notes} (directory {where})"
        )
    for staff in DEMO_STAFF:
        print(f"  {'staff':<12} {staff.login:<16} {'/helpdesk/':<28} {staff.notes}")
    breached = ", ".join(password for password, _ in DEMO_BREACHED)
    print(
        f"\nBreached passwords the local range server knows (refused for elu, agent-siege): "
        f"{breached}"
    )


def demo_range_server() -> RangeServer:
    """A local range server: the demo's breached passwords and the common French ones."""
    common = [(password, 1) for password in data.read_list(data.COMMON_PASSWORDS)]
    return RangeServer([*DEMO_BREACHED, *common])


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_demo(host: str = "127.0.0.1", port: int = 8080) -> int:
    """Start slapd, serve the app until Ctrl-C, then stop everything that was started."""
    from werkzeug.serving import run_simple

    # Ctrl-C must stop slapd even when a parent shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="sspr-demo-") as tmp:
        workdir = Path(tmp)
        outbox = Outbox()
        catcher = MailCatcher(outbox)
        ranges = demo_range_server()
        slapd, agents = start_directories(workdir, AnswerHasher())
        try:
            catcher.start()
            ranges.start()
            url = f"http://{host}:{port}"
            settings = demo_settings(slapd, workdir, url, catcher.port, ranges.url, agents)
            app = demo_app(settings, outbox)
            print(
                f"sspr demo: directories {FIRST} {slapd.url} and {AGENTS} {agents.url}, "
                f"app {url}/, outbox {url}/demo/outbox, breached-password range server "
                f"{ranges.url}"
            )
            print_accounts()
            run_simple(
                host, port, app, threaded=True, use_reloader=False,
                request_handler=demo_request_handler(),
            )  # fmt: skip
        except KeyboardInterrupt:
            pass
        finally:
            ranges.stop()
            catcher.stop()
            agents.stop()
            slapd.stop()
            print("sspr demo: stopped")
    return 0


def demo_request_handler() -> type[WSGIRequestHandler]:
    """Werkzeug's request handler, its request log without email-link references."""
    from sspr.web.access_log import redact

    class RedactingHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:
            super().log(type, message, *(redact(a) if isinstance(a, str) else a for a in args))

    return RedactingHandler


def demo_app(settings: Settings, outbox: Outbox) -> Flask:
    """The app with SMS going through the real Twilio SDK into the outbox, and its page."""
    from sspr.web.app import create_app

    sender = demo_sms_sender(settings, outbox)
    return create_app(settings, sms_sender=sender, blueprints=[outbox_blueprint(outbox)])


def demo_sms_sender(settings: Settings, outbox: Outbox) -> SmsSender:
    """The real Twilio SDK, its HTTP transport replaced by the outbox: no credentials needed."""
    from sspr.delivery.sms import twilio_sender

    assert settings.sms is not None
    return twilio_sender(
        settings.sms, "AC" + "d" * 32, "demo-token", http_client=OutboxTransport(outbox)
    )
