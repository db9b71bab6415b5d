"""The directory section: where the directory is, how sspr binds, which attributes it uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from sspr.config.base import Strict


class TlsConfig(Strict):
    """How sspr secures the connection to the directory and checks its certificate."""

    start_tls: bool = False
    """Upgrade ldap:// connections with StartTLS (ldaps:// URLs are TLS from the start)."""
    verify: bool = True
    """Check the server's certificate and host name; turn off only on a test bench."""
    ca_file: Path | None = None
    """PEM file of the CAs that sign the directory's certificate; null uses the system's."""


class AttributeNames(Strict):
    """The LDAP attribute names sspr reads and writes."""

    login: str = "uid"
    """The user's login (sAMAccountName on Active Directory)."""
    mail: str = "mail"
    """Where the email address for codes and notices is read, and written by "Mon compte"."""
    mobile: list[str] = Field(default_factory=lambda: ["mobile"])
    """Attributes holding mobile numbers for SMS codes, read in this order."""
    answers: str = "ssprRecoveryAnswer"
    """Where the hashed security answers are kept (see docs/answers.md)."""
    display_name: str = "cn"
    """The name shown to the user and to the helpdesk."""
    upn: str = "userPrincipalName"
    """Active Directory: the attribute a profile's "upn" identifier (login@realm) matches."""
    name_parts: list[str] = Field(default_factory=lambda: ["givenName", "sn"])
    """Parts of the user's name a password may not contain, when the policy forbids them."""
    reminder: str | None = "ssprReminderSnoozedUntil"
    """Where the "add a mobile" reminder's snooze is kept; null keeps it in the store."""
    recovery_object_class: str | None = "ssprAccount"
    """Object class added to an entry that lacks it, before sspr writes answers or the
    snooze; null adds none."""


class DirectoryConfig(Strict):
    """Where the directory is and how sspr binds to it."""

    urls: list[str] = Field(min_length=1)
    """ldap:// or ldaps:// URLs (host and port, no path), tried in order when one is down."""
    kind: Literal["openldap", "ad"] = "openldap"
    """The directory's dialect: OpenLDAP (ppolicy) or Active Directory."""
    tls: TlsConfig = TlsConfig()
    """TLS to the directory."""
    bind_dn: str
    """DN of the service account sspr binds as to search and write."""
    bind_password_env: str = "SSPR_LDAP_PASSWORD"
    """Environment variable holding the service account's password (required at start-up)."""
    base_dn: str
    """Where accounts are searched for (each profile narrows it with its own base)."""
    user_object_class: str = "inetOrgPerson"
    """Object class of user entries; searches only match entries of this class."""
    netbios_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,14}$")
    """Active Directory: the NetBIOS domain of "DOMAINE\\login" logins, which are then taken
    as "login"; another domain's prefix finds nobody. Null accepts any prefix."""
    connect_timeout: float = Field(default=5.0, gt=0)
    """Seconds to wait for a TCP connection before trying the next URL."""
    operation_timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for one LDAP operation's answer."""
    attributes: AttributeNames = AttributeNames()
    """The attribute names of this directory's schema."""
    member_of_attribute: str | None = None
    """On OpenLDAP with the memberOf overlay, the attribute it keeps ("memberOf"): nested
    groups are then followed by reading it. Null walks the groups' member values instead
    (bounded). Active Directory always uses its matching rule in chain."""
    default_policy_dn: str | None = None
    """OpenLDAP: the ppolicy entry the overlay applies to accounts without a
    pwdPolicySubentry (its olcPPolicyDefault, which a service account cannot read in
    cn=config). Null: such accounts get sspr's rules only. Active Directory reads its domain
    policy (and the account's PSO) by itself."""
    read_password_policy: bool = True
    """Read the directory's own password policy and merge it into the rules shown and
    checked before typing, the stricter value winning (see docs/directory-policy.md)."""
    policy_cache_seconds: float = Field(default=300.0, ge=0)
    """How long a password policy entry read from the directory is kept before it is read
    again (0 reads it for every page)."""

    @field_validator("urls")
    @classmethod
    def _ldap_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^ldaps?://[^/\s]+/?$", url):
                raise ValueError(f'"{url}" is not an ldap:// or ldaps:// URL')
        return urls
