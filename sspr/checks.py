"""What `sspr check-config` tests: the directory, SMTP and Twilio, one row per check.

No probe sends anything to a user: SMTP stops after EHLO (and AUTH, which only checks the
credentials), and Twilio's live check reads the account resource.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass

import phonenumbers
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sspr.config import Profile, Settings, SmsConfig, SmtpConfig
from sspr.directory.ldap import LdapDirectory
from sspr.domain.errors import DirectoryUnavailable

ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-f]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")


@dataclass(frozen=True)
class Check:
    """One row of the report: what was tested, whether it passed, and the precise detail."""

    name: str
    ok: bool
    detail: str


def run_all(settings: Settings, *, live: bool = False) -> list[Check]:
    """Every check the configuration calls for, in the order they are printed."""
    checks = directory_checks(settings)
    if settings.mail is not None:
        checks.append(smtp_check(settings.mail.smtp))
    if settings.sms is not None:
        credentials = twilio_format_check(settings.sms)
        checks.append(credentials)
        if live and credentials.ok:
            checks.append(twilio_live_check(settings.sms))
    return checks


# -- directory ------------------------------------------------------------------------------


def directory_checks(settings: Settings) -> list[Check]:
    """Bind as the service account, then search once per profile."""
    directory = LdapDirectory(settings.directory)
    try:
        directory.ping()
    except DirectoryUnavailable as error:
        return [Check("directory: service bind", False, str(error))]
    checks = [Check("directory: service bind", True, settings.directory.bind_dn)]
    try:
        for profile in settings.profiles:
            checks.append(_profile_check(directory, profile))
    finally:
        directory.close()
    return checks


def _profile_check(directory: LdapDirectory, profile: Profile) -> Check:
    name = f"profile {profile.id}: search"
    try:
        found = directory.count_members(profile.base, profile.filter, limit=1)
    except DirectoryUnavailable as error:
        return Check(name, False, str(error))
    if not found:
        return Check(name, False, "no account matches base and filter")
    return Check(name, True, "at least one account")


# -- SMTP -----------------------------------------------------------------------------------


def smtp_check(
    config: SmtpConfig, *, password: str | None = None, ssl_context: ssl.SSLContext | None = None
) -> Check:
    """Connect with the configured security, EHLO, AUTH when a username is set, then QUIT."""
    name = "smtp: connect + EHLO"
    where = f"smtp {config.host}:{config.port}"
    password = config.password() if password is None else password
    if config.username and config.security == "none":
        return Check(name, False, f"{where}: authentication needs security starttls or tls")
    if config.username and not password:
        return Check(name, False, f"{where}: environment variable {config.password_env} is empty")
    try:
        banner = _smtp_session(config, password, ssl_context or ssl.create_default_context())
    except (smtplib.SMTPException, OSError) as error:
        return Check(name, False, f"{where}: {_smtp_failure(error, config.timeout)}")
    login = f", logged in as {config.username}" if config.username else ""
    return Check(name, True, f"{config.host}:{config.port} ({config.security}{login}): {banner}")


def _smtp_session(config: SmtpConfig, password: str | None, context: ssl.SSLContext) -> str:
    """The whole conversation; returns the server's EHLO greeting line."""
    smtp: smtplib.SMTP
    if config.security == "tls":
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with smtp:
        code, greeting = smtp.ehlo()
        if code != 250:
            raise smtplib.SMTPResponseException(code, greeting)
        if config.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, password or "")
        # Leaving the block sends QUIT: no MAIL FROM was ever sent.
    return "EHLO " + greeting.decode("utf-8", "replace").splitlines()[0][:80]


def _smtp_failure(error: BaseException, timeout: float) -> str:
    """The precise reason, in words an admin can act on; never our password."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return f"timeout after {timeout:g} s"
    if isinstance(error, socket.gaierror):
        return "unknown host name"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({error.verify_message})"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake failed ({error.reason or error})"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"authentication refused ({_smtp_reply(error)})"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return str(error) or "the server does not support this"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the server answered {_smtp_reply(error)}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the server closed the connection (wrong port or security setting?)"
    return getattr(error, "strerror", None) or type(error).__name__


def _smtp_reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{error.smtp_code} {' '.join(message.split())[:80]}".strip()


# -- Twilio ---------------------------------------------------------------------------------


def twilio_format_check(config: SmsConfig) -> Check:
    """The credentials and the sender look like Twilio's, without asking Twilio."""
    name = "twilio: credentials"
    account_sid, auth_token = config.credentials()
    problems = _credential_problems(config, account_sid, auth_token) + _sender_problems(config)
    if problems:
        return Check(name, False, "; ".join(problems))
    sender = config.messaging_service_sid or config.from_number
    return Check(name, True, f"account {account_sid}, sender {sender} (format only)")


def _credential_problems(config: SmsConfig, account_sid: str, auth_token: str) -> list[str]:
    problems = []
    if not account_sid:
        problems.append(f"twilio: environment variable {config.account_sid_env} is empty")
    elif not ACCOUNT_SID.match(account_sid):
        problems.append("twilio: account SID must look like AC + 32 hex digits")
    if not auth_token:
        problems.append(f"twilio: environment variable {config.auth_token_env} is empty")
    elif not AUTH_TOKEN.match(auth_token):
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


def twilio_live_check(config: SmsConfig, *, http_client: HttpClient | None = None) -> Check:
    """Fetch the account resource with the credentials: proves them without sending an SMS."""
    name = "twilio: live check"
    account_sid, auth_token = config.credentials()
    transport = http_client or TwilioHttpClient(timeout=config.timeout)
    client = Client(account_sid, auth_token, http_client=transport)
    try:
        account = client.api.v2010.accounts(account_sid).fetch()
    except TwilioRestException as error:
        what = "credentials refused" if error.status in (401, 403) else "the API said no"
        return Check(name, False, f"twilio: {what} (HTTP {error.status}, error {error.code})")
    except (TwilioException, requests.RequestException, OSError) as error:
        return Check(name, False, f"twilio: cannot reach the API ({type(error).__name__})")
    if account.status != "active":
        return Check(name, False, f"twilio: the account is {account.status}")
    return Check(name, True, f"account {account.friendly_name or account_sid} is active")
