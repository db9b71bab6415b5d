"""What OpenLDAP (with ppolicy) and Active Directory do differently, one class each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from ldap3 import MODIFY_DELETE, MODIFY_REPLACE, Connection
from ldap3.core.exceptions import LDAPCommunicationError, LDAPResponseTimeoutError

from sspr.config import DirectoryConfig
from sspr.directory import active_directory as ad
from sspr.directory.connection import SERVER_DOWN_CODES, describe, reason
from sspr.directory.entries import (
    ADMIN_LOCK,
    Getter,
    PasswordState,
    first,
    generalized_time,
    to_generalized_time,
)
from sspr.directory.ppolicy import (
    CONSTRAINT_VIOLATION,
    PPOLICY_OID,
    PPOLICY_REQUEST,
    AdBindProblem,
    PolicyControlError,
    PolicyError,
    ad_bind_problem,
    decode_policy_response,
    openldap_refusal,
)
from sspr.domain.errors import (
    DirectoryRefused,
    DirectoryUnavailable,
    InvalidCredentials,
    PartialWrite,
    PasswordRefusal,
    PasswordRefused,
)
from sspr.domain.ports import LockState, LoginResult

Changes = dict[str, list[Any]]

SUCCESS = 0
NO_SUCH_ATTRIBUTE = 16
UNWILLING_TO_PERFORM = 53
# timeLimitExceeded, adminLimitExceeded, busy, unavailable: the server, not the request.
OUTAGE_CODES = frozenset({3, 11, *SERVER_DOWN_CODES})


class Dialect:
    """The operations whose LDAP differs between directories; OpenLDAP's by default."""

    kind: ClassVar[str] = "openldap"
    state_attributes: ClassVar[tuple[str, ...]] = (
        "pwdChangedTime",
        "pwdAccountLockedTime",
        "pwdReset",
        "pwdPolicySubentry",
    )
    # Whether the directory can tell if a password is the current one without a bind.
    compares_passwords: ClassVar[bool] = True
    # Whether an auxiliary class must be added before (not with) the values it allows.
    adds_classes_alone: ClassVar[bool] = False
    # Whether an administrator's password write refuses the current password (ppolicy does).
    refuses_current_password: ClassVar[bool] = True

    def password_state(self, get: Getter) -> PasswordState:
        """ppolicy's attributes: any pwdAccountLockedTime locks, 000001010000Z for good."""
        locked = first(get("pwdAccountLockedTime"))
        lock = LockState.UNLOCKED
        if locked:
            lock = LockState.UNTIL_ADMIN_UNLOCK if locked == ADMIN_LOCK else LockState.LOCKED
        return PasswordState(
            changed_at=generalized_time(first(get("pwdChangedTime"))),
            lock=lock,
            locked_at=generalized_time(locked) if lock is LockState.LOCKED else None,
            must_change=first(get("pwdReset")).upper() == "TRUE",
            policy_dn=first(get("pwdPolicySubentry")) or None,
        )

    def time_value(self, when: datetime) -> str:
        """A time as the directory writes it: GeneralizedTime, to the second."""
        return to_generalized_time(when)

    def check_transport(self, config: DirectoryConfig) -> None:
        """Raise when the configured transport cannot carry a password write."""

    def is_current_password(self, conn: Connection, dn: str, password: str) -> bool:
        """Send the candidate as old and new password (RFC 3062): nothing is written.

        slapd checks the old one first ("unwilling to verify old password" when wrong),
        then ppolicy refuses to "change" a password to its current value.
        """
        # Bytes skip ldap3's SASLprep, which could alter the password the user typed.
        secret = password.encode("utf-8")
        conn.extend.standard.modify_password(
            user=dn, old_password=secret, new_password=secret, controls=[PPOLICY_REQUEST]
        )
        code = conn.result["result"]
        if code in SERVER_DOWN_CODES:
            raise DirectoryUnavailable(f"password check: {describe(conn.result)}")
        # Success means no ppolicy stopped the same-value rewrite: still, the password matched.
        return code in (SUCCESS, CONSTRAINT_VIOLATION)

    def set_password(self, conn: Connection, dn: str, password: str, must_change: bool) -> None:
        """RFC 3062 exop with the ppolicy control (which clears any lockout), then pwdReset."""
        conn.extend.standard.modify_password(
            user=dn, new_password=password.encode("utf-8"), controls=[PPOLICY_REQUEST]
        )
        result = conn.result
        if result["result"] in SERVER_DOWN_CODES:
            raise DirectoryUnavailable(f"set_password: {describe(result)}")
        if result["result"] != SUCCESS:
            raise openldap_refusal(result["result"], result["message"], ppolicy_value(result))
        # ppolicy sets or drops pwdReset on an admin change depending on the policy's
        # pwdMustChange; say what this reset wants either way (one more operation, no read).
        flag: Changes = {"pwdReset": [(MODIFY_REPLACE, ["TRUE"])]}
        if not must_change:
            flag = {"pwdReset": [(MODIFY_DELETE, [])]}
        try:
            modify(conn, dn, flag)
        except (LDAPCommunicationError, LDAPResponseTimeoutError, OSError) as exc:
            raise PartialWrite("password", "must_change", reason(exc)) from exc
        if conn.result["result"] not in (SUCCESS, NO_SUCH_ATTRIBUTE):
            raise PartialWrite("password", "must_change", describe(conn.result))

    def change_own(self, conn: Connection, dn: str, old: str, new: str) -> None:
        """The password change on the user's own connection."""
        change_with_old(conn, dn, old, new)

    def unbound_change(
        self, state: LoginResult, dn: str, old: str, new: str
    ) -> Callable[[Connection], None]:
        """The service account's change when the old password could not bind, or the refusal."""
        refuse_unbound(state)
        if not state.expired:
            raise InvalidCredentials()
        # Expired: the exop with the old password, which slapd checks before any write.
        return lambda conn: change_with_old(conn, dn, old, new)

    def unlock_changes(self) -> Changes:
        """The modify that clears the lock and the failed-bind count.

        pwdFailureTime is NO-USER-MODIFICATION, but ppolicy drops it whenever a modify
        deletes pwdAccountLockedTime. Setting then deleting the lock in one (atomic) modify
        always has a lock to delete, so the failures go too, and no bind ever sees the lock.
        """
        return {
            "pwdAccountLockedTime": [(MODIFY_REPLACE, ["20000101000000Z"]), (MODIFY_DELETE, [])]
        }

    def login_result(self, bound: bool, result: Mapping[str, Any]) -> LoginResult:
        """Read a bind's outcome from ppolicy's response control."""
        value = ppolicy_value(result)
        try:
            policy = decode_policy_response(value) if value else None
        except PolicyControlError:
            policy = None
        error = policy.error if policy else None
        return LoginResult(
            ok=bound,
            locked=error is PolicyError.ACCOUNT_LOCKED,
            expired=error is PolicyError.PASSWORD_EXPIRED,
            must_change=error is PolicyError.CHANGE_AFTER_RESET,
            grace_left=policy.grace_left if policy else None,
            expires_in=policy.expires_in if policy else None,
        )


class ActiveDirectory(Dialect):
    """Active Directory: unicodePwd over TLS, pwdLastSet, lockoutTime, data codes.

    What AD does its own way lives in sspr.directory.active_directory; this class wires it.
    """

    kind: ClassVar[str] = "ad"
    state_attributes: ClassVar[tuple[str, ...]] = ad.STATE_ATTRIBUTES
    # AD has no equivalent of the exop trick: a bind as the user answers (see ldap.py).
    compares_passwords: ClassVar[bool] = False
    # AD checks each value against the classes the entry already has (objectClassViolation
    # otherwise): an auxiliary class is added in a modify of its own, before its values.
    adds_classes_alone: ClassVar[bool] = True
    # A reset by the service account is not checked against history (no policy hints).
    refuses_current_password: ClassVar[bool] = False

    def __init__(self) -> None:
        self.resets = ad.PasswordResets()

    def password_state(self, get: Getter) -> PasswordState:
        """pwdLastSet, the lock, userAccountControl and accountExpires."""
        return ad.password_state(get)

    def check_transport(self, config: DirectoryConfig) -> None:
        """AD refuses unicodePwd in clear: say so before sending it."""
        if not (config.tls.start_tls or all(u.startswith("ldaps://") for u in config.urls)):
            raise DirectoryUnavailable(
                "Active Directory accepts unicodePwd only over TLS: use ldaps:// or tls.start_tls"
            )

    def is_current_password(self, conn: Connection, dn: str, password: str) -> bool:
        """Never asked (compares_passwords is False): AD cannot tell without a bind."""
        return False

    def set_password(self, conn: Connection, dn: str, password: str, must_change: bool) -> None:
        """One modify: the password, the unlock and maybe the forced change, atomically;
        with the policy-hints control where the DC has it."""
        self.resets.reset(conn, dn, password, must_change)

    def change_own(self, conn: Connection, dn: str, old: str, new: str) -> None:
        """Delete the old value and add the new one: AD checks the old before writing."""
        ad.change(conn, dn, old, new)

    def time_value(self, when: datetime) -> str:
        """AD wants GeneralizedTime with a fraction."""
        return ad.generalized_time(to_generalized_time(when))

    def unbound_change(
        self, state: LoginResult, dn: str, old: str, new: str
    ) -> Callable[[Connection], None]:
        """An expired or must-change password cannot bind: the service account sends the
        change, which the DC checks (old password, history, complexity) as the user's own."""
        refuse_unbound(state)
        if not (state.expired or state.must_change):
            raise InvalidCredentials()
        return lambda conn: ad.change(conn, dn, old, new)

    def unlock_changes(self) -> Changes:
        """A zero lockoutTime unlocks, and resets the bad password count with it."""
        return {"lockoutTime": [(MODIFY_REPLACE, [b"0"])]}

    def login_result(self, bound: bool, result: Mapping[str, Any]) -> LoginResult:
        """Read a refused bind's reason from the data code in AD's diagnostic."""
        problem = None if bound else ad_bind_problem(str(result.get("message", "")))
        return LoginResult(
            ok=bound or problem in (AdBindProblem.PASSWORD_EXPIRED, AdBindProblem.MUST_CHANGE),
            locked=problem is AdBindProblem.LOCKED,
            expired=problem is AdBindProblem.PASSWORD_EXPIRED,
            must_change=problem is AdBindProblem.MUST_CHANGE,
            disabled=problem is AdBindProblem.ACCOUNT_DISABLED,
            account_expired=problem is AdBindProblem.ACCOUNT_EXPIRED,
        )


def dialect_for(kind: str) -> Dialect:
    """The dialect of a configured directory kind."""
    return ActiveDirectory() if kind == "ad" else Dialect()


def refuse_unbound(state: LoginResult) -> None:
    """Raise for an account whose state forbids any change: locked, disabled or expired."""
    if state.locked:
        raise PasswordRefused(PasswordRefusal.LOCKED, "account locked")
    if state.disabled or state.account_expired:
        raise PasswordRefused(PasswordRefusal.NOT_ALLOWED, "account disabled or expired")


def change_with_old(conn: Connection, dn: str, old: str, new: str) -> None:
    """RFC 3062 exop with the old password; slapd checks it before any write."""
    conn.extend.standard.modify_password(
        user=dn,
        old_password=old.encode("utf-8"),
        new_password=new.encode("utf-8"),
        controls=[PPOLICY_REQUEST],
    )
    result = conn.result
    if result["result"] in SERVER_DOWN_CODES:
        raise DirectoryUnavailable(f"change_own_password: {describe(result)}")
    if result["result"] == UNWILLING_TO_PERFORM and "old password" in str(result["message"]):
        raise InvalidCredentials()
    if result["result"] != SUCCESS:
        raise openldap_refusal(result["result"], result["message"], ppolicy_value(result))


def apply(conn: Connection, dn: str, changes: Changes, operation: str) -> None:
    """One modify that is not a password: an outage code is unavailable, any other a refusal."""
    modify(conn, dn, changes)
    check(conn.result, operation)


def check(result: Mapping[str, Any], operation: str) -> None:
    """Raise for an unsuccessful result: outage codes mean unavailable, the rest refused."""
    code = result["result"]
    if code == SUCCESS:
        return
    if code in OUTAGE_CODES:
        raise DirectoryUnavailable(f"{operation}: {describe(result)}")
    raise DirectoryRefused(operation, describe(result))


def modify(conn: Any, dn: str, changes: Changes) -> None:
    """Connection.modify, which the ldap3 stubs leave untyped."""
    conn.modify(dn, changes)


def ppolicy_value(result: Mapping[str, Any]) -> bytes | None:
    """The ppolicy response control's value in a result, if the server sent one."""
    control = (result.get("controls") or {}).get(PPOLICY_OID)
    value = control.get("value") if control else None
    return value if isinstance(value, bytes) else None
