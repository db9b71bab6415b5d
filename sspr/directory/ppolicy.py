"""What a directory says when it refuses a password: ppolicy's control, and AD's codes."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from pyasn1.codec.ber import decoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import namedtype, tag, univ

from sspr.domain.errors import CurrentPassword, PasswordRefusal, PasswordRefused

PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"
# Sent with a password write so that ppolicy answers with its response control.
PPOLICY_REQUEST = (PPOLICY_OID, False, None)

CONSTRAINT_VIOLATION = 19
INSUFFICIENT_ACCESS_RIGHTS = 50
UNWILLING_TO_PERFORM = 53


class PolicyError(enum.IntEnum):
    """The error field of the ppolicy response (draft-behera-ldap-password-policy)."""

    UNKNOWN = -1
    PASSWORD_EXPIRED = 0
    ACCOUNT_LOCKED = 1
    CHANGE_AFTER_RESET = 2
    PASSWORD_MOD_NOT_ALLOWED = 3
    MUST_SUPPLY_OLD_PASSWORD = 4
    INSUFFICIENT_PASSWORD_QUALITY = 5
    PASSWORD_TOO_SHORT = 6
    PASSWORD_TOO_YOUNG = 7
    PASSWORD_IN_HISTORY = 8
    # Added by later drafts with pwdMaxLength (OpenLDAP 2.5).
    PASSWORD_TOO_LONG = 9


@dataclass(frozen=True)
class PolicyResponse:
    """A decoded ppolicy response control: an error and/or a warning."""

    error: PolicyError | None = None
    expires_in: int | None = None
    grace_left: int | None = None


class PolicyControlError(ValueError):
    """The control value is not a valid PasswordPolicyResponseValue."""


def _implicit(asn1_type: Any, number: int) -> Any:
    """`asn1_type` retagged [number] IMPLICIT."""
    context = tag.Tag(tag.tagClassContext, tag.tagFormatSimple, number)
    return asn1_type.subtype(implicitTag=context)


def _explicit(asn1_type: Any, number: int) -> Any:
    """`asn1_type` wrapped in [number] EXPLICIT."""
    context = tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, number)
    return asn1_type.subtype(explicitTag=context)


class _Warning(univ.Choice):
    componentType = namedtype.NamedTypes(  # noqa: N815 - pyasn1's name
        namedtype.NamedType("timeBeforeExpiration", _implicit(univ.Integer(), 0)),
        namedtype.NamedType("graceAuthNsRemaining", _implicit(univ.Integer(), 1)),
    )


class _ResponseValue(univ.Sequence):
    # A CHOICE cannot be tagged implicitly, so warning's [0] is explicit (constructed).
    componentType = namedtype.NamedTypes(  # noqa: N815 - pyasn1's name
        namedtype.OptionalNamedType("warning", _explicit(_Warning(), 0)),
        namedtype.OptionalNamedType("error", _implicit(univ.Enumerated(), 1)),
    )


def decode_policy_response(value: bytes) -> PolicyResponse:
    """Decode the BER value of a ppolicy response control."""
    try:
        decoded, rest = decoder.decode(value, asn1Spec=_ResponseValue())
    except PyAsn1Error as exc:
        raise PolicyControlError(f"malformed ppolicy response: {exc!r}") from exc
    if rest:
        raise PolicyControlError("trailing bytes after the ppolicy response")
    return PolicyResponse(error=_error(decoded), **_warning(decoded))


def _error(decoded: univ.Sequence) -> PolicyError | None:
    error = decoded["error"]
    if not error.isValue:
        return None
    code = int(error)
    return PolicyError(code) if code in PolicyError._value2member_map_ else PolicyError.UNKNOWN


def _warning(decoded: univ.Sequence) -> dict[str, int]:
    warning = decoded["warning"]
    if not warning.isValue:
        return {}
    name = warning.getName()
    key = "expires_in" if name == "timeBeforeExpiration" else "grace_left"
    return {key: int(warning.getComponent())}


_REFUSALS: dict[PolicyError, PasswordRefusal] = {
    PolicyError.ACCOUNT_LOCKED: PasswordRefusal.LOCKED,
    PolicyError.PASSWORD_MOD_NOT_ALLOWED: PasswordRefusal.NOT_ALLOWED,
    PolicyError.MUST_SUPPLY_OLD_PASSWORD: PasswordRefusal.NOT_ALLOWED,
    PolicyError.INSUFFICIENT_PASSWORD_QUALITY: PasswordRefusal.QUALITY,
    PolicyError.PASSWORD_TOO_SHORT: PasswordRefusal.TOO_SHORT,
    PolicyError.PASSWORD_TOO_LONG: PasswordRefusal.QUALITY,
    PolicyError.PASSWORD_TOO_YOUNG: PasswordRefusal.TOO_YOUNG,
    PolicyError.PASSWORD_IN_HISTORY: PasswordRefusal.IN_HISTORY,
}


def refusal_for(error: PolicyError) -> PasswordRefusal:
    """The domain's reason for a ppolicy error."""
    return _REFUSALS.get(error, PasswordRefusal.OTHER)


def openldap_refusal(code: int, message: str, control: bytes | None) -> PasswordRefused:
    """Explain a refused password write from its result and ppolicy control, if any."""
    if SAME_PASSWORD in message:
        return CurrentPassword(message)
    if control is not None:
        try:
            error = decode_policy_response(control).error
        except PolicyControlError:
            error = None
        if error is not None:
            return PasswordRefused(refusal_for(error), message)
    return PasswordRefused(_refusal_for_code(code), message)


# ppolicy's words when the new password is the current one (a history check of its own).
SAME_PASSWORD = "Password is not being changed from existing value"  # noqa: S105 - slapd's text


def _refusal_for_code(code: int) -> PasswordRefusal:
    if code == CONSTRAINT_VIOLATION:
        return PasswordRefusal.QUALITY
    if code in (INSUFFICIENT_ACCESS_RIGHTS, UNWILLING_TO_PERFORM):
        return PasswordRefusal.NOT_ALLOWED
    return PasswordRefusal.OTHER


# AD prefixes its diagnostic with a Win32 error code: 0000052D ERROR_PASSWORD_RESTRICTION,
# 00000005 ERROR_ACCESS_DENIED, 00000056 ERROR_INVALID_PASSWORD (a wrong old password).
_AD_RESTRICTION = "0000052D"
_AD_ACCESS_DENIED = "00000005"
AD_WRONG_OLD_PASSWORD = "00000056"  # noqa: S105 - an AD code, not a password
# What Samba adds after 0000052D (Windows says nothing more), to the rule it names.
_AD_RULES: tuple[tuple[str, PasswordRefusal], ...] = (
    ("already used", PasswordRefusal.IN_HISTORY),  # "(in history)", "(previous password)"
    ("password changes disabled", PasswordRefusal.NOT_ALLOWED),
    ("too short", PasswordRefusal.TOO_SHORT),
    ("too young", PasswordRefusal.TOO_YOUNG),
    ("minimum password age", PasswordRefusal.TOO_YOUNG),
    ("complex", PasswordRefusal.QUALITY),
)


def ad_refusal(code: int, message: str) -> PasswordRefused:
    """Explain a refused unicodePwd write from AD's code and the rule its text names."""
    if code == CONSTRAINT_VIOLATION or message.upper().startswith(_AD_RESTRICTION):
        lowered = message.lower()
        reason = next((why for text, why in _AD_RULES if text in lowered), PasswordRefusal.POLICY)
        return PasswordRefused(reason, message)
    if code == INSUFFICIENT_ACCESS_RIGHTS or message.startswith(_AD_ACCESS_DENIED):
        return PasswordRefused(PasswordRefusal.NOT_ALLOWED, message)
    if code == UNWILLING_TO_PERFORM:
        # AD refuses password writes outside TLS this way.
        return PasswordRefused(PasswordRefusal.NOT_ALLOWED, message)
    return PasswordRefused(PasswordRefusal.OTHER, message)


def is_wrong_old_password(code: int, message: str) -> bool:
    """AD's answer to a change whose old password is wrong: 19 with 00000056."""
    return code == CONSTRAINT_VIOLATION and message.upper().startswith(AD_WRONG_OLD_PASSWORD)


class AdBindProblem(enum.Enum):
    """The "data" sub-code AD puts in a refused bind's diagnostic."""

    USER_NOT_FOUND = "525"
    INVALID_CREDENTIALS = "52e"
    NOT_PERMITTED_NOW = "530"
    NOT_PERMITTED_WORKSTATION = "531"
    PASSWORD_EXPIRED = "532"  # noqa: S105 - an AD code, not a password
    ACCOUNT_DISABLED = "533"
    ACCOUNT_EXPIRED = "701"
    MUST_CHANGE = "773"
    LOCKED = "775"


_AD_DATA = re.compile(r"\bdata ([0-9a-f]+)\b", re.IGNORECASE)


def ad_bind_problem(message: str) -> AdBindProblem | None:
    """Read the reason out of "80090308: LdapErr: …, data 775, v4563"."""
    match = _AD_DATA.search(message)
    if match is None:
        return None
    code = match.group(1).lower()
    return next((problem for problem in AdBindProblem if problem.value == code), None)
