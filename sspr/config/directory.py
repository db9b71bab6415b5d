"""The directory section: where the directory is, how sspr binds, which attributes it uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from sspr.config.base import Strict


class TlsConfig(Strict):
    """How sspr checks the directory's certificate."""

    start_tls: bool = False
    verify: bool = True
    ca_file: Path | None = None


class AttributeNames(Strict):
    """The LDAP attribute names sspr reads and writes."""

    login: str = "uid"
    mail: str = "mail"
    mobile: list[str] = Field(default_factory=lambda: ["mobile"])
    answers: str = "ssprRecoveryAnswer"
    display_name: str = "cn"
    name_parts: list[str] = Field(default_factory=lambda: ["givenName", "sn"])
    # Where the "add a mobile" reminder's snooze is kept; null keeps it in the store instead.
    reminder: str | None = "ssprReminderSnoozedUntil"
    # Added to an entry before sspr writes answers or the snooze, if it lacks it.
    recovery_object_class: str | None = "ssprAccount"


class DirectoryConfig(Strict):
    """Where the directory is and how sspr binds to it."""

    urls: list[str] = Field(min_length=1)
    kind: Literal["openldap", "ad"] = "openldap"
    tls: TlsConfig = TlsConfig()
    bind_dn: str
    bind_password_env: str = "SSPR_LDAP_PASSWORD"
    base_dn: str
    user_object_class: str = "inetOrgPerson"
    connect_timeout: float = Field(default=5.0, gt=0)
    operation_timeout: float = Field(default=10.0, gt=0)
    attributes: AttributeNames = AttributeNames()

    @field_validator("urls")
    @classmethod
    def _ldap_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^ldaps?://[^/\s]+/?$", url):
                raise ValueError(f'"{url}" is not an ldap:// or ldaps:// URL')
        return urls
