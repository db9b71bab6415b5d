"""How codes and notices leave: the mail (SMTP) and SMS (Twilio) sections, and code rules."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from sspr.config.base import CodeText, Strict, Text


class SmtpConfig(Strict):
    """The SMTP server that sends codes and notifications."""

    host: str = "localhost"
    """Host name or address of the SMTP server."""
    port: int = Field(default=25, ge=1, le=65535)
    """TCP port: usually 25 (relay), 587 (submission, starttls) or 465 (tls)."""
    security: Literal["none", "starttls", "tls"] = "starttls"
    """none: clear text; starttls: upgrade after connecting, never falling back to clear
    text; tls: TLS from the first byte."""
    username: str | None = None
    """Log in as this user (needs starttls or tls); null sends without AUTH."""
    password_env: str = "SSPR_SMTP_PASSWORD"
    """Environment variable holding the SMTP password (required at start-up when `username`
    is set)."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for the server at each step of a session."""

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> SmtpConfig:
        if self.username and self.security == "none":
            raise ValueError("authentication (username) needs security starttls or tls")
        return self


class MailConfig(Strict):
    """Sender, texts and server of the mails sspr sends; without it, no email channel."""

    smtp: SmtpConfig = SmtpConfig()
    """The SMTP server."""
    sender: str = Field(min_length=3)
    """The From address, with an optional display name: `Région <noreply@example.org>`."""
    reply_to: str | None = None
    """A Reply-To address for every mail; null sets none."""
    signature: Text = Text(
        fr="Bien cordialement,\nL'équipe technique", en="Kind regards,\nThe technical team"
    )
    """The closing formula and the signature at the foot of every mail (one line each): the
    mails add no other closing."""
    legal_notice: Text | None = None
    """A legal notice under the signature (for instance the data-protection statement)."""
    templates_dir: Path | None = None
    """A folder whose files override the shipped mail templates: mail/code.txt (…) for
    every profile, mail/{profile id}/code.txt for one."""


class SmsConfig(Strict):
    """Twilio settings and the SMS text; without it, no SMS channel."""

    account_sid_env: str = "SSPR_TWILIO_ACCOUNT_SID"
    """Environment variable holding the Twilio account SID (AC…, required at start-up)."""
    auth_token_env: str = "SSPR_TWILIO_AUTH_TOKEN"
    """Environment variable holding the Twilio auth token (required at start-up)."""
    from_number: str | None = None
    """The sending number in E.164 form (+33…); set it or `messaging_service_sid`."""
    messaging_service_sid: str | None = None
    """A Twilio Messaging Service (MG…) that picks the sender; set it or `from_number`."""
    default_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    """Country (ISO 3166 code) of numbers written without an international prefix."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for Twilio's API."""
    text: CodeText = Text(
        fr="Votre code de vérification : {code}. Il expire dans {minutes} min. "
        "Ne le communiquez à personne.",
        en="Your verification code: {code}. It expires in {minutes} min. Never share it.",
    )
    """The SMS of a reset or a mobile confirmation: `{code}` (required) and `{minutes}`
    are filled in."""

    @model_validator(mode="after")
    def _one_sender(self) -> SmsConfig:
        if bool(self.from_number) == bool(self.messaging_service_sid):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        return self


class CodeRules(Strict):
    """Rules of one code channel."""

    length: int = Field(default=6, ge=4, le=12)
    """Characters in a code."""
    ttl_seconds: int = Field(default=900, ge=60, le=86400)
    """How long a code stays valid."""
    max_attempts: int = Field(default=5, ge=1, le=20)
    """Wrong entries allowed before the code is spent."""
    resend_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    """Seconds before the user may ask for a new code."""
    max_per_hour: int = Field(default=5, ge=1, le=100)
    """Codes sent to one address or number per hour, whoever asks."""
    max_per_day: int | None = Field(default=10, ge=1, le=1000)
    """Codes sent to one address or number per day; null for no daily cap."""


class CodesConfig(Strict):
    """Rules of the email and SMS codes."""

    email: CodeRules = CodeRules(ttl_seconds=900)
    """Codes sent by mail (with their link)."""
    sms: CodeRules = CodeRules(ttl_seconds=600)
    """Codes sent by SMS."""
