"""The ppolicy control decoder and the refusal mappings (OpenLDAP and AD), with no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ldap3 import MODIFY_REPLACE

from sspr.config import DirectoryConfig
from sspr.directory.active_directory import reset_changes as ad_password_changes
from sspr.directory.dialects import ActiveDirectory, Dialect
from sspr.directory.entries import filetime, generalized_time, user_entry
from sspr.directory.ppolicy import (
    AdBindProblem,
    PolicyControlError,
    PolicyError,
    PolicyResponse,
    ad_bind_problem,
    ad_refusal,
    decode_policy_response,
    openldap_refusal,
    refusal_for,
)
from sspr.domain.errors import PasswordRefusal
from sspr.domain.ports import LockState


def error_only(code: int) -> bytes:
    """SEQUENCE { error [1] ENUMERATED code }, as slapd encodes it."""
    return bytes([0x30, 0x03, 0x81, 0x01, code])


@pytest.mark.parametrize("error", [e for e in PolicyError if e is not PolicyError.UNKNOWN])
def test_decodes_every_error(error: PolicyError) -> None:
    assert decode_policy_response(error_only(error.value)) == PolicyResponse(error=error)


def test_empty_sequence_means_no_error_and_no_warning() -> None:
    assert decode_policy_response(b"\x30\x00") == PolicyResponse()


def test_time_before_expiration_warning() -> None:
    # warning [0] EXPLICIT { timeBeforeExpiration [0] IMPLICIT INTEGER 300 }
    value = bytes([0x30, 0x06, 0xA0, 0x04, 0x80, 0x02, 0x01, 0x2C])
    assert decode_policy_response(value) == PolicyResponse(expires_in=300)


def test_grace_logins_warning_with_an_error() -> None:
    # warning { graceAuthNsRemaining 2 }, error passwordExpired
    value = bytes([0x30, 0x08, 0xA0, 0x03, 0x81, 0x01, 0x02, 0x81, 0x01, 0x00])
    assert decode_policy_response(value) == PolicyResponse(
        error=PolicyError.PASSWORD_EXPIRED, grace_left=2
    )


def test_long_form_length_is_accepted() -> None:
    value = bytes([0x30, 0x81, 0x03, 0x81, 0x01, 0x08])
    assert decode_policy_response(value).error is PolicyError.PASSWORD_IN_HISTORY


def test_an_unknown_error_code_is_kept_as_unknown() -> None:
    assert decode_policy_response(error_only(42)).error is PolicyError.UNKNOWN


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"\x30",
        b"\x30\x03\x81\x01",  # truncated
        b"\x30\x03\x81\x01\x08\x00",  # trailing byte
        b"\x30\x03\x82\x01\x08",  # unknown field tag [2]
        b"\x04\x03abc",  # not a SEQUENCE
    ],
)
def test_malformed_values_raise(value: bytes) -> None:
    with pytest.raises(PolicyControlError):
        decode_policy_response(value)


@pytest.mark.parametrize(
    ("error", "refusal"),
    [
        (PolicyError.PASSWORD_TOO_SHORT, PasswordRefusal.TOO_SHORT),
        (PolicyError.PASSWORD_IN_HISTORY, PasswordRefusal.IN_HISTORY),
        (PolicyError.INSUFFICIENT_PASSWORD_QUALITY, PasswordRefusal.QUALITY),
        (PolicyError.PASSWORD_TOO_LONG, PasswordRefusal.QUALITY),
        (PolicyError.PASSWORD_TOO_YOUNG, PasswordRefusal.TOO_YOUNG),
        (PolicyError.ACCOUNT_LOCKED, PasswordRefusal.LOCKED),
        (PolicyError.PASSWORD_MOD_NOT_ALLOWED, PasswordRefusal.NOT_ALLOWED),
        (PolicyError.MUST_SUPPLY_OLD_PASSWORD, PasswordRefusal.NOT_ALLOWED),
        (PolicyError.PASSWORD_EXPIRED, PasswordRefusal.OTHER),
        (PolicyError.CHANGE_AFTER_RESET, PasswordRefusal.OTHER),
        (PolicyError.UNKNOWN, PasswordRefusal.OTHER),
    ],
)
def test_refusal_for_each_policy_error(error: PolicyError, refusal: PasswordRefusal) -> None:
    assert refusal_for(error) is refusal


def test_openldap_refusal_prefers_the_control() -> None:
    refused = openldap_refusal(19, "Password is in history of old passwords", error_only(8))
    assert refused.reason is PasswordRefusal.IN_HISTORY
    assert refused.detail == "Password is in history of old passwords"


@pytest.mark.parametrize(
    ("code", "control", "reason"),
    [
        (19, None, PasswordRefusal.QUALITY),
        (19, b"\x30\x00", PasswordRefusal.QUALITY),  # a control without an error
        (19, b"garbage", PasswordRefusal.QUALITY),  # an unreadable control
        (50, None, PasswordRefusal.NOT_ALLOWED),
        (53, None, PasswordRefusal.NOT_ALLOWED),
        (32, None, PasswordRefusal.OTHER),
    ],
)
def test_openldap_refusal_without_a_usable_control(
    code: int, control: bytes | None, reason: PasswordRefusal
) -> None:
    assert openldap_refusal(code, "detail", control).reason is reason


@pytest.mark.parametrize(
    ("code", "message", "reason"),
    [
        (
            19,
            "0000052D: Constraint violation - check_password_restrictions: the password does"
            " not meet the complexity criteria!",
            PasswordRefusal.QUALITY,
        ),
        # Samba 4.17's own words, as the DC of tests/ad answers them.
        (
            19,
            "0000052D: Constraint violation - check_password_restrictions: the password was"
            " already used (in history)!",
            PasswordRefusal.IN_HISTORY,
        ),
        (
            19,
            "0000052D: Constraint violation - check_password_restrictions: the password is too"
            " short. It should be equal or longer than 7 characters!",
            PasswordRefusal.TOO_SHORT,
        ),
        (
            19,
            "0000052D: Constraint violation - check_password_restrictions: password is too young"
            " to change!",
            PasswordRefusal.TOO_YOUNG,
        ),
        # Windows names no rule: the page then lists the domain's rules instead of guessing.
        (
            19,
            "0000052D: AtrErr: DSID-03190F80, #1:\n\t0: 0000052D: DSID-03190F80, problem 1005"
            " (CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)",
            PasswordRefusal.POLICY,
        ),
        (
            50,
            "00000005: SecErr: DSID-031A11E2, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0",
            PasswordRefusal.NOT_ALLOWED,
        ),
        (80, "00000005: SecErr: DSID-031A11E2, problem 4003", PasswordRefusal.NOT_ALLOWED),
        (53, "0000001F: SvcErr: DSID-031A12D2, problem 5003", PasswordRefusal.NOT_ALLOWED),
        (32, "0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT)", PasswordRefusal.OTHER),
    ],
)
def test_ad_refusals(code: int, message: str, reason: PasswordRefusal) -> None:
    refused = ad_refusal(code, message)
    assert refused.reason is reason
    assert refused.detail == message


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (
            "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error,"
            " data 775, v4563",
            AdBindProblem.LOCKED,
        ),
        ("80090308: LdapErr: ..., data 532, v2580", AdBindProblem.PASSWORD_EXPIRED),
        ("80090308: LdapErr: ..., data 773, v2580", AdBindProblem.MUST_CHANGE),
        ("80090308: LdapErr: ..., data 52e, v2580", AdBindProblem.INVALID_CREDENTIALS),
        ("80090308: LdapErr: ..., data 52E, v2580", AdBindProblem.INVALID_CREDENTIALS),
        ("80090308: LdapErr: ..., data 533, v2580", AdBindProblem.ACCOUNT_DISABLED),
        ("80090308: LdapErr: ..., data 701, v1db1", AdBindProblem.ACCOUNT_EXPIRED),
        ("80090308: LdapErr: ..., data 999, v2580", None),
        ("Invalid credentials", None),
    ],
)
def test_ad_bind_problem(message: str, problem: AdBindProblem | None) -> None:
    assert ad_bind_problem(message) is problem


def test_ad_password_changes_quote_and_encode_in_utf16() -> None:
    changes = ad_password_changes("Pâss-1", must_change=False)
    assert changes == {
        "unicodePwd": [(MODIFY_REPLACE, ['"Pâss-1"'.encode("utf-16-le")])],
        "lockoutTime": [(MODIFY_REPLACE, [b"0"])],
    }
    assert changes["unicodePwd"][0][1][0][:4] == b'"\x00P\x00'


def test_ad_password_changes_force_a_change_with_pwdlastset_zero() -> None:
    changes = ad_password_changes("x", must_change=True)
    assert changes["pwdLastSet"] == [(MODIFY_REPLACE, [b"0"])]


def ad_config() -> DirectoryConfig:
    return DirectoryConfig(
        urls=["ldaps://dc1.example.org"],
        kind="ad",
        bind_dn="CN=sspr,OU=Services,DC=example,DC=org",
        base_dn="DC=example,DC=org",
        user_object_class="user",
        attributes={"login": "sAMAccountName", "mail": "mail"},  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("raw", "locked", "must_change"),
    [
        ({"pwdLastSet": [b"133497408000000000"], "lockoutTime": [b"0"]}, False, False),
        ({"pwdLastSet": [b"0"], "lockoutTime": [b"133497408000000000"]}, True, True),
        ({"pwdLastSet": [b"133497408000000000"]}, False, False),
    ],
)
def test_ad_password_state(raw: dict[str, list[bytes]], locked: bool, must_change: bool) -> None:
    raw = {"sAMAccountName": [b"jdoe"], "cn": [b"John Doe"], **raw}
    entry = user_entry(
        ad_config(), "CN=John Doe,DC=example,DC=org", raw, ActiveDirectory().password_state
    )
    assert (entry.login, entry.display_name) == ("jdoe", "John Doe")
    assert (entry.locked, entry.must_change) == (locked, must_change)
    assert entry.password_changed_at == filetime(raw["pwdLastSet"][0].decode())
    assert entry.locked_at == (datetime(2024, 1, 14, 21, 20, tzinfo=UTC) if locked else None)


def test_openldap_password_state_and_case_insensitive_names() -> None:
    config = DirectoryConfig(urls=["ldap://x"], bind_dn="cn=a", base_dn="dc=x")
    raw = {
        "UID": [b"jdoe"],
        "mobile": [b"06 12 34 56 78"],
        "givenName": ["Jérôme".encode()],
        "sn": [b"Doe"],
        "pwdChangedTime": [b"20240101000000Z"],
        "pwdAccountLockedTime": [b"000001010000Z"],
        "pwdReset": [b"TRUE"],
    }
    entry = user_entry(config, "uid=jdoe,dc=x", raw, Dialect().password_state)
    assert entry.login == "jdoe"
    assert entry.mobiles == ("06 12 34 56 78",)
    assert entry.name_parts == ("Jérôme", "Doe")
    assert entry.password_changed_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert (entry.lock, entry.locked_at, entry.must_change) == (
        LockState.UNTIL_ADMIN_UNLOCK,
        None,
        True,
    )


def test_ad_disabled_and_filetime_decoding() -> None:
    raw = {"sAMAccountName": [b"jdoe"], "userAccountControl": [b"514"], "pwdLastSet": [b"0"]}
    entry = user_entry(ad_config(), "CN=x,DC=example,DC=org", raw, ActiveDirectory().password_state)
    assert entry.disabled and entry.must_change and entry.password_changed_at is None
    assert filetime("9223372036854775807") is None  # "never"
    assert filetime("116444736000000000") == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("20261123114900Z", datetime(2026, 11, 23, 11, 49, tzinfo=UTC)),
        ("20261123114900.123456Z", datetime(2026, 11, 23, 11, 49, 0, 123456, tzinfo=UTC)),
        ("20261123114900.5Z", datetime(2026, 11, 23, 11, 49, 0, 500000, tzinfo=UTC)),
        ("000001010000Z", None),
        ("garbage", None),
        ("", None),
    ],
)
def test_generalized_time(text: str, when: datetime | None) -> None:
    assert generalized_time(text) == when


def test_a_ppolicy_lock_with_a_time_is_a_temporary_lock() -> None:
    config = DirectoryConfig(urls=["ldap://x"], bind_dn="cn=a", base_dn="dc=x")
    raw = {"uid": [b"jdoe"], "pwdAccountLockedTime": [b"20261123114900Z"]}
    entry = user_entry(config, "uid=jdoe,dc=x", raw, Dialect().password_state)
    assert entry.lock is LockState.LOCKED and entry.locked
    assert entry.locked_at == datetime(2026, 11, 23, 11, 49, tzinfo=UTC)
