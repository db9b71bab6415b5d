"""What `sspr check-config` tests: the directory, SMTP, Twilio and the range service.

The probes are the delivery adapters themselves, so a check passes only if sending would.
No probe sends anything to a user: SMTP stops after EHLO (and AUTH, which only checks the
credentials), and Twilio's live check reads the account resource.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import replace

import phonenumbers
from twilio.http import HttpClient

from sspr.config import DirectoryConfig, MailConfig, Settings, SmsConfig
from sspr.config.secrets import Secrets
from sspr.delivery.sms import twilio_sender
from sspr.delivery.smtp import smtp_mailer
from sspr.directory.ldap import LdapDirectory
from sspr.directory_checks import (
    Check,
    policy_check,
    profile_checks,
    schema_checks,
    server_checks,
    transport_check,
)
from sspr.domain.errors import DeliveryFailed, DirectoryRefused, DirectoryUnavailable

ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-f]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")


def run_all(settings: Settings, secrets: Secrets, *, live: bool = False) -> list[Check]:
    """Every check the configuration calls for, in the order they are printed."""
    checks = directory_checks(settings, secrets.ldap_passwords)
    if settings.mail is not None:
        checks.append(smtp_check(settings.mail, secrets.smtp_password))
    if settings.sms is not None:
        sid, token = secrets.twilio_account_sid, secrets.twilio_auth_token
        credentials = twilio_format_check(settings.sms, sid, token)
        checks.append(credentials)
        if live and credentials.ok:
            checks.append(twilio_live_check(settings.sms, sid, token))
    if any(policy.build(load_words=False).not_breached for policy in settings.policies.values()):
        checks.append(breach_check(settings))
    return checks


# -- breached passwords ---------------------------------------------------------------------

# Any prefix will do: asking it says nothing about any password.
PROBE_PREFIX = "00000"


def breach_check(settings: Settings) -> Check:
    """One range request, as a password change would make it."""
    from sspr.delivery.pwned import HttpPwnedRanges
    from sspr.domain.errors import RangeUnavailable

    url = str(settings.breach.url)
    ranges = HttpPwnedRanges(url, timeout=settings.breach.timeout)
    try:
        found = ranges.suffixes(PROBE_PREFIX)
    except RangeUnavailable as unavailable:
        then = "blocked" if settings.breach.on_unavailable == "block" else "let through"
        detail = f"{url}: {unavailable.reason} (password changes would be {then})"
        return Check("breached passwords", False, detail)
    finally:
        ranges.close()
    return Check("breached passwords", True, f"{url}: {len(found)} suffixes for one prefix")


# -- directory ------------------------------------------------------------------------------


def directory_checks(settings: Settings, passwords: Mapping[str, str]) -> list[Check]:
    """Each directory's rows; with several, every row names its directory."""
    directories = settings.named_directories
    if len(directories) == 1:
        [(name, config)] = directories.items()
        return one_directory_checks(settings, name, config, passwords.get(name, ""))
    checks: list[Check] = []
    for name, config in directories.items():
        rows = one_directory_checks(settings, name, config, passwords.get(name, ""), named=True)
        checks += [replace(row, name=_named(row.name, name)) for row in rows]
    return checks


def one_directory_checks(
    settings: Settings, name: str, config: DirectoryConfig, password: str, *, named: bool = False
) -> list[Check]:
    """Transport, bind, schema, features, then its profiles; `named`: under directories.<name>."""
    checks = [transport_check(config)]
    directory = LdapDirectory(config, password)
    try:
        directory.ping()
    except (DirectoryUnavailable, DirectoryRefused) as error:
        return [*checks, Check("directory: service bind", False, str(error))]
    checks.append(Check("directory: service bind", True, config.bind_dn))
    root = f"directories.{name}" if named else "directory"
    try:
        checks += _guarded("schema", lambda: schema_checks(directory, config, root))
        checks += _guarded("directory: features", lambda: server_checks(directory, config))
        checks += _guarded("directory: password policy", lambda: policy_check(directory, config))
        for profile in settings.profiles:
            if settings.directory_name(profile) != name:
                continue
            row = f"profile {profile.id}: users"
            checks += _guarded(row, lambda p=profile: profile_checks(directory, config, p))
    finally:
        directory.close()
    return checks


def _named(row: str, directory: str) -> str:
    """A row's name, saying which directory it is about."""
    if row.startswith("directory: "):
        return f"directory {directory}: {row.removeprefix('directory: ')}"
    if row == "schema":
        return f"schema: directories.{directory}"
    return row if row.startswith("schema: ") else f"{row} (directory {directory})"


def _guarded(name: str, run: Callable[[], list[Check]]) -> list[Check]:
    """A check's rows, or one failed row saying why the directory did not answer."""
    try:
        return run()
    except (DirectoryUnavailable, DirectoryRefused) as error:
        return [Check(name, False, str(error))]


# -- SMTP -----------------------------------------------------------------------------------


def smtp_check(
    mail: MailConfig, password: str | None, *, ssl_context: ssl.SSLContext | None = None
) -> Check:
    """The mailer's own session: connect, secure, EHLO, AUTH when a username is set, QUIT."""
    smtp = mail.smtp
    try:
        greeting = smtp_mailer(mail, password, ssl_context=ssl_context).probe()
    except DeliveryFailed as failure:
        return Check("smtp: connect + EHLO", False, failure.reason)
    login = f", logged in as {smtp.username}" if smtp.username else ""
    detail = f"{smtp.host}:{smtp.port} ({smtp.security}{login}): EHLO {greeting}"
    return Check("smtp: connect + EHLO", True, detail)


# -- Twilio ---------------------------------------------------------------------------------


def twilio_format_check(config: SmsConfig, account_sid: str, auth_token: str) -> Check:
    """The credentials and the sender look like Twilio's, without asking Twilio."""
    name = "twilio: credentials"
    problems = _credential_problems(account_sid, auth_token) + _sender_problems(config)
    if problems:
        return Check(name, False, "; ".join(problems))
    sender = config.messaging_service_sid or config.from_number
    return Check(name, True, f"account {account_sid}, sender {sender} (format only)")


def _credential_problems(account_sid: str, auth_token: str) -> list[str]:
    problems = []
    if not ACCOUNT_SID.match(account_sid):
        problems.append("twilio: account SID must look like AC + 32 hex digits")
    if not AUTH_TOKEN.match(auth_token):
        problems.append("twilio: auth token must be 32 hex digits")
    return problems


def _sender_problems(config: SmsConfig) -> list[str]:
    if config.messaging_service_sid is not None:
        if SERVICE_SID.match(config.messaging_service_sid):
            return []
        return ["twilio: messaging_service_sid must look like MG + 32 hex digits"]
    number = config.from_number or ""
    if _is_e164(number):
        return []
    return [f'twilio: from_number "{number}" is not a valid E.164 number (like +33612345678)']


def _is_e164(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(parsed) and e164 == number


def twilio_live_check(
    config: SmsConfig, account_sid: str, auth_token: str, *, http_client: HttpClient | None = None
) -> Check:
    """The sender's own rehearsal: fetch the account, which proves the credentials."""
    name = "twilio: live check"
    sender = twilio_sender(config, account_sid, auth_token, http_client=http_client)
    try:
        account = sender.account()
    except DeliveryFailed as failure:
        return Check(name, False, failure.reason)
    if account.status != "active":
        return Check(name, False, f"twilio: the account is {account.status}")
    return Check(name, True, f"account {account.name} is active")
