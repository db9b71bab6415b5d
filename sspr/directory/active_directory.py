"""What Active Directory (Windows or Samba) does its own way: times, states, logins, passwords."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, Connection

from sspr.directory.entries import Getter, PasswordState, filetime, first
from sspr.directory.ppolicy import AdBindProblem, ad_bind_problem, ad_refusal, is_wrong_old_password
from sspr.domain.errors import DirectoryUnavailable, InvalidCredentials
from sspr.domain.ports import LockState

SUCCESS = 0
UNAVAILABLE_CRITICAL_EXTENSION = 12
SERVER_DOWN_CODES = frozenset({51, 52})

# Read with every entry: the password's age, the lock, and whether the account may log in.
# msDS-User-Account-Control-Computed is constructed: it says whether a lock is still running
# (lockoutTime stays set after lockoutDuration has passed, until the next good bind).
STATE_ATTRIBUTES = (
    "pwdLastSet",
    "lockoutTime",
    "userAccountControl",
    "accountExpires",
    "msDS-User-Account-Control-Computed",
    # The PSO that applies (constructed; readable with rights only: absent, the domain's).
    "msDS-ResultantPSO",
)
ACCOUNTDISABLE = 0x2
UF_LOCKOUT = 0x10
# lockoutTime and accountExpires: 0 (and 2^63-1 for the latter) mean "never".
NEVER = frozenset({"", "0", "9223372036854775807"})

# The policy-hints control makes the DC apply history (and minimum age) to an admin reset,
# as it does for a user's change. 2239 since Windows Server 2012 R2; 2066 is its older OID.
POLICY_HINTS_OIDS = ("1.2.840.113556.1.4.2239", "1.2.840.113556.1.4.2066")
# PolicyHintsRequestValue ::= SEQUENCE { Flags INTEGER }, with flag 1: enforce the policy.
POLICY_HINTS_VALUE = b"\x30\x03\x02\x01\x01"

# Bind answers that only a right password gets: the account's state comes after the check.
_PASSWORD_WAS_RIGHT = frozenset(
    {
        AdBindProblem.MUST_CHANGE,
        AdBindProblem.PASSWORD_EXPIRED,
        AdBindProblem.ACCOUNT_DISABLED,
        AdBindProblem.ACCOUNT_EXPIRED,
    }
)

_logger = logging.getLogger(__name__)


# -- times ---------------------------------------------------------------------------------


def generalized_time(value: str) -> str:
    """GeneralizedTime as AD accepts it: with a fraction (20270527011024.0Z)."""
    if value.endswith("Z") and "." not in value and len(value) == 15:
        return value[:-1] + ".0Z"
    return value


# -- entries -------------------------------------------------------------------------------


def password_state(get: Getter, now: datetime | None = None) -> PasswordState:
    """The password and account state AD keeps in its own attributes and formats."""
    last_set = first(get("pwdLastSet"))
    lockout = first(get("lockoutTime"))
    computed = _int(first(get("msDS-User-Account-Control-Computed")))
    locked = bool(computed & UF_LOCKOUT) if computed is not None else lockout not in NEVER
    expires_at = filetime(first(get("accountExpires")))
    return PasswordState(
        changed_at=filetime(last_set),
        lock=LockState.LOCKED if locked else LockState.UNLOCKED,
        locked_at=filetime(lockout) if locked else None,
        disabled=bool((_int(first(get("userAccountControl"))) or 0) & ACCOUNTDISABLE),
        must_change=last_set == "0",
        account_expires_at=expires_at,
        account_expired=expires_at is not None and expires_at <= (now or datetime.now(UTC)),
        policy_dn=first(get("msDS-ResultantPSO")) or None,
    )


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


# -- logins --------------------------------------------------------------------------------


def identifier_terms(
    kinds: Sequence[str], value: str, names: Mapping[str, str], netbios_domain: str | None
) -> list[tuple[str, str]]:
    """(attribute, value) pairs an AD login may match: sAMAccountName, DOMAINE\\login, UPN."""
    terms: list[tuple[str, str]] = []
    for kind in dict.fromkeys(kinds):
        if kind == "login":
            login = _without_domain(value, netbios_domain)
            if login:
                terms.append((names["login"], login))
        elif kind == "upn":
            if "@" in value:
                terms.append((names["upn"], value))
        else:
            terms.append((names[kind], value))
    return terms


def _without_domain(value: str, netbios_domain: str | None) -> str | None:
    """ "DOMAINE\\login" as its login; None when it names another domain than the one set."""
    domain, backslash, login = value.partition("\\")
    if not backslash:
        return value
    if netbios_domain and domain.casefold() != netbios_domain.casefold():
        return None
    return login or None


# -- binds ---------------------------------------------------------------------------------


def password_binds(bound: bool, result: Mapping[str, Any]) -> bool:
    """Whether a bind proved the password right, even if the account may not log in now.

    sspr asks this to tell a candidate from the current password. A wrong candidate costs
    one failed bind (badPwdCount): the reset that follows writes lockoutTime 0, which
    clears the count; a refused reset leaves it, to expire with the observation window.
    """
    if bound:
        return True
    return ad_bind_problem(str(result.get("message", ""))) in _PASSWORD_WAS_RIGHT


# -- password writes -----------------------------------------------------------------------


def quoted(password: str) -> bytes:
    """unicodePwd's value: the password in double quotes, UTF-16-LE."""
    return f'"{password}"'.encode("utf-16-le")


def change(conn: Connection, dn: str, old: str, new: str) -> None:
    """Delete the old value and add the new one in one modify: a change, not a reset.

    The DC checks the old password, then history, complexity and age as for the user's own
    change, whoever sends it; a wrong old password is 19 with 00000056 (and a failed bind).
    """
    modify(conn, dn, {"unicodePwd": [(MODIFY_DELETE, [quoted(old)]), (MODIFY_ADD, [quoted(new)])]})
    result = conn.result
    if result["result"] in SERVER_DOWN_CODES:
        raise DirectoryUnavailable(f"change_own_password: {result.get('message')}")
    if is_wrong_old_password(result["result"], str(result.get("message", ""))):
        raise InvalidCredentials()
    if result["result"] != SUCCESS:
        raise ad_refusal(result["result"], str(result.get("message", "")))


def reset_changes(password: str, *, must_change: bool) -> dict[str, list[Any]]:
    """The single modify that resets an AD password, unlocks, and maybe forces a change."""
    changes: dict[str, list[Any]] = {
        "unicodePwd": [(MODIFY_REPLACE, [quoted(password)])],
        "lockoutTime": [(MODIFY_REPLACE, [b"0"])],
    }
    if must_change:
        changes["pwdLastSet"] = [(MODIFY_REPLACE, [b"0"])]
    return changes


class PasswordResets:
    """Resets as the service account, with the policy-hints control where the DC has it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hints: str | None = None
        self._asked = False

    def reset(self, conn: Connection, dn: str, password: str, must_change: bool) -> None:
        """Write the password; with the control, the DC refuses one that is in the history."""
        hints = self.policy_hints_oid(conn)
        changes = reset_changes(password, must_change=must_change)
        controls = [(hints, True, POLICY_HINTS_VALUE)] if hints else None
        modify(conn, dn, changes, controls)
        if hints and conn.result["result"] == UNAVAILABLE_CRITICAL_EXTENSION:
            # Listed but refused (nothing was written): go on as a DC without it.
            _logger.warning("the DC refused the policy-hints control %s: %s", hints, conn.result)
            with self._lock:
                self._hints = None
            modify(conn, dn, changes)
        result = conn.result
        if result["result"] in SERVER_DOWN_CODES:
            raise DirectoryUnavailable(f"set_password: {result.get('message')}")
        if result["result"] != SUCCESS:
            raise ad_refusal(result["result"], str(result.get("message", "")))

    def policy_hints_oid(self, conn: Connection) -> str | None:
        """The policy-hints OID the DC lists in its rootDSE, read once; None without one."""
        with self._lock:
            if self._asked:
                return self._hints
        found = supported_policy_hints(_supported_controls(conn))
        with self._lock:
            self._hints, self._asked = found, True
        return found


def supported_policy_hints(supported_controls: Sequence[str]) -> str | None:
    """Which policy-hints control a DC supports, from its rootDSE's supportedControl.

    None (Samba 4.17 among others) means resets skip the password history: sspr then
    checks only what it can itself, the current password (see docs/active-directory.md).
    """
    listed = set(supported_controls)
    return next((oid for oid in POLICY_HINTS_OIDS if oid in listed), None)


def _supported_controls(conn: Connection) -> list[str]:
    conn.search("", "(objectClass=*)", BASE, attributes=["supportedControl"])
    if conn.result["result"] != SUCCESS or not conn.response:
        return []
    raw = conn.response[0].get("raw_attributes", {})
    values: list[bytes] = next(
        (list(v) for k, v in raw.items() if k.lower() == "supportedcontrol"), []
    )
    return [value.decode("ascii", errors="replace") for value in values]


def modify(conn: Any, dn: str, changes: dict[str, list[Any]], controls: Any = None) -> None:
    """Connection.modify, which the ldap3 stubs leave untyped."""
    conn.modify(dn, changes, controls=controls)
