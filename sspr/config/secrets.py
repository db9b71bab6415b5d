"""Secrets: read from the environment once, at start-up, and every missing one named.

The YAML file only names the environment variables; their values never sit in a file
that could be committed, and this module is the one place that reads them.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sspr.config.loading import ConfigError
from sspr.config.settings import Settings

# The collaborators that need a secret; a caller that brings its own leaves its part out.
Part = Literal["sessions", "directory", "store", "mail", "sms"]
PARTS: tuple[Part, ...] = ("sessions", "directory", "store", "mail", "sms")

# Every worker signs sessions with it: short keys can be brute-forced offline.
MIN_SECRET_KEY_LENGTH = 32
REDIS_SCHEMES = ("redis://", "rediss://", "redis+sentinel://", "unix://")


@dataclass(frozen=True)
class SecretNeed:
    """One environment variable the configuration calls for, and what it is for."""

    part: Part
    env: str
    setting: str
    purpose: str


@dataclass(frozen=True, repr=False)
class Secrets:
    """The secret values, read from the environment; empty where not configured."""

    secret_key: str = ""
    # The service account's password of each directory, by the directory's name.
    ldap_passwords: Mapping[str, str] = field(default_factory=dict)
    smtp_password: str | None = None
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    redis_url: str = ""

    def __repr__(self) -> str:
        # Values must never reach a log or a traceback.
        return "Secrets(…)"


class MissingSecrets(ConfigError):
    """Secrets the configuration calls for are unset or unusable; `errors` names each one."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("environment", errors)


def secret_needs(settings: Settings) -> list[SecretNeed]:
    """Every environment variable this configuration reads, in the order they are checked."""
    needs = [
        SecretNeed(
            "sessions", settings.secret_key_env, "secret_key_env", "the session signing key"
        ),
    ]
    for name, directory in settings.named_directories.items():
        where = "directory" if settings.directory is not None else f"directories.{name}"
        needs.append(
            SecretNeed(
                "directory", directory.bind_password_env, f"{where}.bind_password_env",
                f"the password of {directory.bind_dn}",
            )
        )  # fmt: skip
    if settings.store.backend == "redis":
        needs.append(SecretNeed("store", settings.store.url_env, "store.url_env", "the Redis URL"))
    if settings.mail is not None and settings.mail.smtp.username:
        smtp = settings.mail.smtp
        needs.append(
            SecretNeed(
                "mail", smtp.password_env, "mail.smtp.password_env",
                f"the SMTP password of {smtp.username}",
            )
        )  # fmt: skip
    if settings.sms is not None:
        needs += [
            SecretNeed(
                "sms", settings.sms.account_sid_env, "sms.account_sid_env", "the Twilio account SID"
            ),
            SecretNeed(
                "sms", settings.sms.auth_token_env, "sms.auth_token_env", "the Twilio auth token"
            ),
        ]
    return needs


def read_secrets(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    *,
    parts: Collection[Part] = PARTS,
) -> Secrets:
    """Read every secret; raise MissingSecrets naming each one `parts` need and lack."""
    env = os.environ if environ is None else environ
    errors = [
        problem
        for need in secret_needs(settings)
        if need.part in parts and (problem := _problem(need, env.get(need.env, ""))) is not None
    ]
    if errors:
        raise MissingSecrets(errors)
    smtp = settings.mail.smtp if settings.mail is not None else None
    sms = settings.sms
    return Secrets(
        secret_key=env.get(settings.secret_key_env, ""),
        ldap_passwords={
            name: env.get(directory.bind_password_env, "")
            for name, directory in settings.named_directories.items()
        },
        smtp_password=env.get(smtp.password_env, "") if smtp and smtp.username else None,
        twilio_account_sid=env.get(sms.account_sid_env, "") if sms else "",
        twilio_auth_token=env.get(sms.auth_token_env, "") if sms else "",
        redis_url=env.get(settings.store.url_env, "") if settings.store.backend == "redis" else "",
    )


def forget_secrets(settings: Settings) -> None:
    """Take the secrets out of this process's environment once they are read.

    A WSGI server may copy the environment into every request's environ (granian does, as
    CGI did): there, anything that shows a request's environ would show them too.
    """
    for need in secret_needs(settings):
        os.environ.pop(need.env, None)


def _problem(need: SecretNeed, value: str) -> str | None:
    """What is wrong with one value, naming the variable but never quoting the value."""
    where = f"{need.env} ({need.purpose}, named by {need.setting})"
    if not value.strip():
        return f"{where} is not set"
    if need.part == "sessions" and len(value) < MIN_SECRET_KEY_LENGTH:
        return f"{where} is too short: use at least {MIN_SECRET_KEY_LENGTH} random characters"
    if need.part == "store" and not value.startswith(REDIS_SCHEMES):
        return f"{where} must start with {', '.join(REDIS_SCHEMES)}"
    return None
