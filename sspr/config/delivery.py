"""How codes and notices leave: the mail (SMTP) and SMS (Twilio) sections, and code rules."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from sspr.config.base import CodeText, Strict, Text


class SmtpConfig(Strict):
    """The SMTP server that sends codes and notifications."""

    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password_env: str = "SSPR_SMTP_PASSWORD"
    timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> SmtpConfig:
        if self.username and self.security == "none":
            raise ValueError("authentication (username) needs security starttls or tls")
        return self


class MailConfig(Strict):
    """Sender, texts and server of the mails sspr sends."""

    smtp: SmtpConfig = SmtpConfig()
    sender: str = Field(min_length=3)
    reply_to: str | None = None
    signature: Text = Text(fr="L'équipe technique", en="The technical team")
    legal_notice: Text | None = None
    # A folder whose mail/<profile id>/code.txt (…) override the shipped mail templates.
    templates_dir: Path | None = None


class SmsConfig(Strict):
    """Twilio settings and the SMS text; credentials come from the environment."""

    account_sid_env: str = "SSPR_TWILIO_ACCOUNT_SID"
    auth_token_env: str = "SSPR_TWILIO_AUTH_TOKEN"
    from_number: str | None = None
    messaging_service_sid: str | None = None
    default_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    timeout: float = Field(default=10.0, gt=0)
    text: CodeText = Text(
        fr="Votre code de vérification : {code}. Il expire dans {minutes} min. "
        "Ne le communiquez à personne.",
        en="Your verification code: {code}. It expires in {minutes} min. Never share it.",
    )

    @model_validator(mode="after")
    def _one_sender(self) -> SmsConfig:
        if bool(self.from_number) == bool(self.messaging_service_sid):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        return self


class CodeRules(Strict):
    """Rules of one code channel."""

    length: int = Field(default=6, ge=4, le=12)
    ttl_seconds: int = Field(default=900, ge=60, le=86400)
    max_attempts: int = Field(default=5, ge=1, le=20)
    resend_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    max_per_hour: int = Field(default=5, ge=1, le=100)
    max_per_day: int | None = Field(default=10, ge=1, le=1000)


class CodesConfig(Strict):
    """Rules of the email and SMS codes."""

    email: CodeRules = CodeRules(ttl_seconds=900)
    sms: CodeRules = CodeRules(ttl_seconds=600)
