"""The Directory port over LDAP (ldap3): one bound connection per worker, kept open."""

from __future__ import annotations

import math
import os
import select
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Literal, TypeVar

from ldap3 import (
    BASE,
    MODIFY_ADD,
    MODIFY_DELETE,
    MODIFY_REPLACE,
    NONE,
    SIMPLE,
    SUBTREE,
    SYNC,
    Connection,
    Server,
    Tls,
)
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPExceptionError,
    LDAPResponseTimeoutError,
)
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from sspr.config import DirectoryConfig
from sspr.directory.ppolicy import (
    CONSTRAINT_VIOLATION,
    PPOLICY_OID,
    PPOLICY_REQUEST,
    AdBindProblem,
    PolicyControlError,
    PolicyError,
    ad_bind_problem,
    ad_refusal,
    decode_policy_response,
    openldap_refusal,
)
from sspr.domain.errors import (
    DirectoryUnavailable,
    InvalidCredentials,
    PasswordRefusal,
    PasswordRefused,
    SsprError,
)
from sspr.domain.ports import IdentifierKind, LoginResult, RecoveryField, UserEntry

T = TypeVar("T")
LatencyHook = Callable[[str, float], None]
RawAttributes = Mapping[str, Sequence[bytes]]
Scope = Literal["BASE", "SUBTREE"]

SUCCESS = 0
SIZE_LIMIT_EXCEEDED = 4
NO_SUCH_ATTRIBUTE = 16
NO_SUCH_OBJECT = 32
INVALID_CREDENTIALS = 49
UNWILLING_TO_PERFORM = 53
# The server itself says it cannot serve: another replica may.
SERVER_DOWN_CODES = frozenset({51, 52})

# Operational attributes that carry the password state, asked for by name.
PASSWORD_STATE = {
    "openldap": ("pwdChangedTime", "pwdAccountLockedTime", "pwdReset"),
    "ad": ("pwdLastSet", "lockoutTime"),
}
NO_ATTRIBUTES = ["1.1"]

# A broken or timed-out connection: the only failures worth a reconnect.
_BROKEN = (LDAPCommunicationError, LDAPResponseTimeoutError, OSError)


class LdapDirectory:
    """The directory over LDAP, safe to share between the threads of one worker."""

    def __init__(
        self,
        config: DirectoryConfig,
        password: str,
        *,
        on_latency: LatencyHook | None = None,
    ) -> None:
        self._config = config
        self._password = password
        self._on_latency = on_latency
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._conn_pid = 0
        self._attributes = _entry_attributes(config)
        self._time_limit = max(1, math.ceil(config.operation_timeout))

    def __repr__(self) -> str:
        return f"LdapDirectory({self._config.urls!r}, bind_dn={self._config.bind_dn!r})"

    # -- the Directory protocol ------------------------------------------------------------

    def find_users(
        self, kinds: Sequence[IdentifierKind], value: str, *, limit: int
    ) -> list[UserEntry]:
        """Return up to `limit` accounts whose identifier of one of `kinds` equals `value`."""
        if not value or not kinds or limit < 1:
            return []
        ldap_filter = self._identifier_filter(kinds, value)
        found = self._read(
            "find_users",
            lambda conn: self._search(
                conn, self._config.base_dn, ldap_filter, SUBTREE, self._attributes, limit
            ),
        )
        return [self._entry(dn, raw) for dn, raw in found]

    def memberships(self, dn: str, candidates: Iterable[tuple[str, str, str]]) -> set[str]:
        """Return the ids of the (id, base, filter) candidates whose base and filter hold `dn`."""
        target = _dn_key(dn)
        if target is None:
            return set()
        matched: set[str] = set()
        queries: list[tuple[str, str]] = []
        for candidate_id, base, ldap_filter in candidates:
            base_key = _dn_key(base)
            if base_key is None or not _is_within(target, base_key):
                continue
            # Asked to the server even for (objectClass=*): every identification then costs
            # the same round trips, whichever profile the account is in (no timing oracle).
            queries.append((candidate_id, ldap_filter))
        if queries:
            matched |= self._read("memberships", lambda conn: self._matching(conn, dn, queries))
        return matched

    def read_user(self, dn: str) -> UserEntry | None:
        """Read one account by DN, or None when it no longer exists."""
        ldap_filter = f"(objectClass={escape_filter_chars(self._config.user_object_class)})"
        found = self._read(
            "read_user",
            lambda conn: self._search(conn, dn, ldap_filter, BASE, self._attributes, 1),
        )
        return self._entry(*found[0]) if found else None

    def is_current_password(self, dn: str, password: str) -> bool:
        """Tell whether `password` is the current one, without reading any hash.

        slapd compares userPassword byte for byte, so a compare never matches a hashed
        value. Instead this sends the RFC 3062 exop with the candidate as both old and new
        password: slapd checks the old one first ("unwilling to verify old password" when
        wrong), then ppolicy refuses to "change" a password to its current value, so
        nothing is written. AD has no equivalent; its own history check answers instead.
        """
        if self._config.kind == "ad" or not password:
            return False
        return self._read("is_current_password", lambda conn: _old_password_ok(conn, dn, password))

    def set_password(self, dn: str, password: str, *, must_change: bool = False) -> None:
        """Write a new password as the service account, unlocking the account."""
        if not password:
            # An empty exop value asks slapd to generate a password: never send one.
            raise PasswordRefused(PasswordRefusal.TOO_SHORT, "empty password")
        if self._config.kind == "ad":
            self._require_tls_for_ad()
            self._write(
                "set_password", lambda conn: _set_ad_password(conn, dn, password, must_change)
            )
        else:
            self._write("set_password", lambda conn: _set_password(conn, dn, password, must_change))

    # -- the user's own account -------------------------------------------------------------

    def authenticate(self, dn: str, password: str) -> LoginResult:
        """Bind as the user, on a connection of its own, and report the ppolicy state."""
        if not password:
            # An empty password would be an anonymous bind that "succeeds".
            return LoginResult(ok=False)
        with self._user_connection("authenticate", dn, password) as (conn, bound):
            return _login_result(self._config.kind, bound, conn.result)

    def change_own_password(self, dn: str, old: str, new: str) -> None:
        """Change a password knowing the old one, with the user's own rights.

        An expired password cannot bind, so then the service account sends the exop with
        the old password, which slapd checks before anything is written.
        """
        if not old or not new:
            raise InvalidCredentials() if not old else PasswordRefused(PasswordRefusal.TOO_SHORT)
        with self._user_connection("change_own_password", dn, old) as (conn, bound):
            state = _login_result(self._config.kind, bound, conn.result)
            if bound:
                return _change_own(self._config.kind, conn, dn, old, new)
        if state.locked:
            raise PasswordRefused(PasswordRefusal.LOCKED, "account locked")
        if not state.expired:
            raise InvalidCredentials()
        self._write("change_own_password", lambda conn: _change_with_old(conn, dn, old, new))

    def write_recovery(self, dn: str, changes: Mapping[RecoveryField, Sequence[str]]) -> None:
        """Replace recovery fields in one modify (an empty list removes the field)."""
        modifications = self._recovery_modifications(changes)
        if not modifications:
            return
        if self._needs_recovery_class(changes):
            object_class = self._config.attributes.recovery_object_class
            entry = self._read("write_recovery", lambda conn: self._object_classes(conn, dn))
            if object_class and object_class.lower() not in entry:
                modifications["objectClass"] = [(MODIFY_ADD, [object_class])]
        self._write("write_recovery", lambda conn: _apply(conn, dn, modifications))

    def _recovery_modifications(
        self, changes: Mapping[RecoveryField, Sequence[str]]
    ) -> dict[str, list[Any]]:
        names = self._config.attributes
        # Only these attributes, whatever the caller asks: the config says which exist.
        targets: dict[str, str | None] = {
            "answers": names.answers,
            "mobile": names.mobile[0] if names.mobile else None,
            "mail": names.mail,
            "reminder": names.reminder,
        }
        modifications: dict[str, list[Any]] = {}
        for field_name, values in changes.items():
            attribute = targets.get(field_name)
            if attribute is None:
                raise ValueError(f"no attribute is configured for {field_name}")
            modifications[attribute] = [(MODIFY_REPLACE, list(values))]
        return modifications

    def _needs_recovery_class(self, changes: Mapping[RecoveryField, Sequence[str]]) -> bool:
        return any(changes.get(name) for name in ("answers", "reminder"))

    def _object_classes(self, conn: Connection, dn: str) -> set[str]:
        found = self._search(conn, dn, "(objectClass=*)", BASE, ["objectClass"], 1)
        if not found:
            raise DirectoryUnavailable(f"no entry {dn}")
        return {value.decode().lower() for value in found[0][1].get("objectClass", [])}

    @contextmanager
    def _user_connection(
        self, operation: str, dn: str, password: str
    ) -> Iterator[tuple[Connection, bool]]:
        """A short-lived connection bound as the user: (connection, whether the bind worked)."""
        started = time.perf_counter()
        problems: list[str] = []
        for url in self._config.urls:
            try:
                conn, bound = self._open_as(url, dn, password)
            except _Unreachable as exc:
                problems.append(f"{url}: {exc}")
                continue
            try:
                yield conn, bound
            finally:
                _unbind(conn)
                if self._on_latency is not None:
                    self._on_latency(operation, time.perf_counter() - started)
            return
        raise DirectoryUnavailable("no directory server answered: " + "; ".join(problems))

    def _open_as(self, url: str, dn: str, password: str) -> tuple[Connection, bool]:
        # Bytes, as for the writes: ldap3 would SASLprep a str, and the two must agree.
        conn = self._connection(url, dn, password.encode("utf-8"))
        try:
            self._secure_socket(url, conn)
            bound = bool(conn.bind(read_server_info=False, controls=[PPOLICY_REQUEST]))
        except _Unreachable:
            _unbind(conn)
            raise
        except Exception as exc:
            _unbind(conn)
            raise _Unreachable(_reason(exc)) from exc
        if not bound and conn.result["result"] in SERVER_DOWN_CODES:
            _unbind(conn)
            raise _Unreachable(_describe(conn.result))
        return conn, bound

    # -- the helpdesk console --------------------------------------------------------------

    def find_by_attribute(
        self, base: str, attribute: str, value: str, *, limit: int
    ) -> list[UserEntry]:
        """Return up to `limit` entries under `base` whose `attribute` equals `value`."""
        if not value or limit < 1:
            return []
        # The attribute name comes from the configuration, validated there; the value is typed.
        ldap_filter = f"({attribute}={escape_filter_chars(value)})"
        found = self._read(
            "find_by_attribute",
            lambda conn: self._search(conn, base, ldap_filter, SUBTREE, self._attributes, limit),
        )
        return [self._entry(dn, raw) for dn, raw in found]

    def search_people(
        self, query: str, scopes: Sequence[tuple[str, str]], *, offset: int, limit: int
    ) -> tuple[list[UserEntry], bool]:
        """One page of the accounts whose login, mail or names contain `query`.

        Paged by offset over size-limited searches, in the directory's own order (stable for
        unchanged data): the paged results control's cookie lives on one connection, and
        the next page may reach another worker. Pages stay few (the console caps them).
        """
        if not query or limit < 1 or offset < 0:
            return [], False
        wanted = offset + limit + 1
        found: dict[str, tuple[str, RawAttributes]] = {}
        for base, scope_filter in scopes:
            if len(found) >= wanted:
                break
            for dn, raw in self._people_under(
                base, self._people_filter(query, scope_filter), wanted
            ):
                found.setdefault(dn.lower(), (dn, raw))  # nested bases list an entry once
        page = list(found.values())[offset : offset + limit]
        return [self._entry(dn, raw) for dn, raw in page], len(found) > offset + limit

    def in_group(self, dn: str, group_dn: str) -> bool:
        """Whether `dn` is a direct member of the groupOfNames `group_dn`."""
        ldap_filter = f"(member={escape_filter_chars(dn)})"
        found = self._read(
            "in_group",
            lambda conn: self._search(conn, group_dn, ldap_filter, BASE, NO_ATTRIBUTES, 1),
        )
        return bool(found)

    def unlock(self, dn: str) -> None:
        """Clear the account's lock and its count of failed binds."""
        changes = _AD_UNLOCK if self._config.kind == "ad" else _OPENLDAP_UNLOCK
        self._write("unlock", lambda conn: _apply(conn, dn, dict(changes), "unlock"))

    def _people_under(
        self, base: str, ldap_filter: str, limit: int
    ) -> list[tuple[str, RawAttributes]]:
        return self._read(
            "search_people",
            lambda conn: self._search(conn, base, ldap_filter, SUBTREE, self._attributes, limit),
        )

    def _people_filter(self, query: str, scope_filter: str) -> str:
        names = self._config.attributes
        attributes = dict.fromkeys([names.login, names.mail, names.display_name, *names.name_parts])
        escaped = escape_filter_chars(query)
        alternatives = "".join(f"({name}=*{escaped}*)" for name in attributes)
        object_class = escape_filter_chars(self._config.user_object_class)
        return f"(&(objectClass={object_class}){scope_filter}(|{alternatives}))"

    # -- for the admin's check-config ------------------------------------------------------

    def ping(self) -> None:
        """Bind as the service account (or prove the open connection still answers)."""
        self._read(
            "ping", lambda conn: self._search(conn, "", "(objectClass=*)", BASE, NO_ATTRIBUTES, 1)
        )

    def count_members(self, base: str, ldap_filter: str, limit: int = 1) -> int:
        """Count up to `limit` entries under `base` matching `ldap_filter`."""
        found = self._read(
            "count_members",
            lambda conn: self._search(
                conn, base, ldap_filter, SUBTREE, NO_ATTRIBUTES, limit, missing_ok=False
            ),
        )
        return len(found)

    def close(self) -> None:
        """Unbind and forget the connection; the next call reconnects."""
        with self._lock:
            self._drop()

    # -- connection handling ---------------------------------------------------------------

    @contextmanager
    def _exclusive(self, operation: str) -> Iterator[None]:
        """Hold the connection for one operation, then report how long the work took."""
        started = 0.0
        try:
            with self._lock:
                # Measured once the lock is held: the hook sees LDAP time, not queueing.
                started = time.perf_counter()
                yield
        finally:
            if self._on_latency is not None and started:
                self._on_latency(operation, time.perf_counter() - started)

    def _read(self, operation: str, action: Callable[[Connection], T]) -> T:
        """Run an idempotent action; after a broken connection, reconnect and retry once."""
        with self._exclusive(operation):
            try:
                return self._attempt(operation, action)
            except _Retryable:
                return self._attempt(operation, action, final=True)

    def _write(self, operation: str, action: Callable[[Connection], T]) -> T:
        """Run an action that changes data: never retried, since its outcome is unknown."""
        with self._exclusive(operation):
            return self._attempt(operation, action, final=True)

    def _attempt(
        self, operation: str, action: Callable[[Connection], T], *, final: bool = False
    ) -> T:
        """Run once on a ready connection, turning every ldap3 failure into a domain error."""
        conn = self._ready()
        try:
            return action(conn)
        except (SsprError, _Retryable):
            raise
        except _BROKEN as exc:
            self._drop()
            # A timeout means a slow server, not a stale socket: retrying would double the wait.
            if final or isinstance(exc, TimeoutError):
                raise DirectoryUnavailable(f"{operation}: {_reason(exc)}") from exc
            raise _Retryable() from exc
        except LDAPExceptionError as exc:
            raise DirectoryUnavailable(f"{operation}: {_reason(exc)}") from exc
        except Exception as exc:  # a garbled answer: the connection can no longer be trusted
            self._drop()
            raise DirectoryUnavailable(f"{operation}: {_reason(exc)}") from exc

    def _ready(self) -> Connection:
        """The open connection, or a new one when there is none or the server dropped it."""
        if self._conn is not None and self._conn_pid != os.getpid():
            # Inherited across a fork (gunicorn --preload): the socket is the parent's, and
            # an unbind would close the parent's session too, so just forget it.
            self._conn = None
        if self._conn is not None and not _dropped_by_server(self._conn):
            return self._conn
        self._drop()
        self._conn = self._connect()
        self._conn_pid = os.getpid()
        return self._conn

    def _connect(self) -> Connection:
        """Bind to the first URL that answers, in the configured order."""
        problems: list[str] = []
        for url in self._config.urls:
            try:
                return self._open(url)
            except _Unreachable as exc:
                problems.append(f"{url}: {exc}")
        raise DirectoryUnavailable("no directory server answered: " + "; ".join(problems))

    def _open(self, url: str) -> Connection:
        """Connect, StartTLS if configured, and bind as the service account."""
        if not self._password:
            raise DirectoryUnavailable(
                f"no password for {self._config.bind_dn}: set {self._config.bind_password_env}"
            )
        conn = self._connection(url, self._config.bind_dn, self._password)
        try:
            self._handshake(url, conn)
        except BaseException:
            _unbind(conn)
            raise
        return conn

    def _connection(self, url: str, user: str, password: Any) -> Connection:
        """An unopened connection to one URL with the configured TLS and timeouts."""
        server = Server(
            url,
            get_info=NONE,
            tls=self._tls(url),
            connect_timeout=self._config.connect_timeout,
            mode="IP_SYSTEM_DEFAULT",
        )
        return Connection(
            server,
            user=user,
            password=password,
            authentication=SIMPLE,
            client_strategy=SYNC,
            raise_exceptions=False,
            auto_referrals=False,
            # ldap3 packs this into SO_RCVTIMEO, which only takes whole seconds here.
            receive_timeout=self._time_limit,
        )

    def _secure_socket(self, url: str, conn: Connection) -> None:
        """Open the socket with the exact timeout, and StartTLS when configured."""
        conn.open(read_server_info=False)
        # Python's own timeout applies first, so a fractional operation_timeout holds.
        conn.socket.settimeout(self._config.operation_timeout)
        wants_start_tls = self._config.tls.start_tls and not url.startswith("ldaps://")
        if wants_start_tls and not conn.start_tls(read_server_info=False):
            raise _Unreachable(f"StartTLS refused: {_describe(conn.result)}")

    def _handshake(self, url: str, conn: Connection) -> None:
        try:
            self._secure_socket(url, conn)
            if conn.bind(read_server_info=False):
                return
        except _Unreachable:
            raise
        except Exception as exc:  # ldap3 lets a non-LDAP peer's garbage escape as KeyError…
            raise _Unreachable(_reason(exc)) from exc
        if conn.result["result"] == INVALID_CREDENTIALS:
            # Wrong credentials are wrong on every replica: say so instead of failing over.
            raise DirectoryUnavailable(
                f"{url}: the service account {self._config.bind_dn} was refused"
                f" (invalid credentials): check {self._config.bind_password_env}"
            )
        raise _Unreachable(f"bind refused: {_describe(conn.result)}")

    def _tls(self, url: str) -> Tls | None:
        tls = self._config.tls
        if not (tls.start_tls or url.startswith("ldaps://")):
            return None
        return Tls(
            validate=ssl.CERT_REQUIRED if tls.verify else ssl.CERT_NONE,
            ca_certs_file=str(tls.ca_file) if tls.ca_file else None,
        )

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _unbind(conn)

    def _require_tls_for_ad(self) -> None:
        if not (
            self._config.tls.start_tls or all(u.startswith("ldaps://") for u in self._config.urls)
        ):
            raise DirectoryUnavailable(
                "Active Directory accepts unicodePwd only over TLS: use ldaps:// or tls.start_tls"
            )

    # -- searches and entries --------------------------------------------------------------

    def _identifier_filter(self, kinds: Sequence[IdentifierKind], value: str) -> str:
        names = {"login": self._config.attributes.login, "email": self._config.attributes.mail}
        escaped = escape_filter_chars(value)
        alternatives = "".join(f"({names[kind]}={escaped})" for kind in dict.fromkeys(kinds))
        object_class = escape_filter_chars(self._config.user_object_class)
        return f"(&(objectClass={object_class})(|{alternatives}))"

    def _search(
        self,
        conn: Connection,
        base: str,
        ldap_filter: str,
        scope: Scope,
        attributes: list[str],
        limit: int,
        *,
        missing_ok: bool = True,
    ) -> list[tuple[str, RawAttributes]]:
        """One search; more entries than `limit` is an answer, not an error."""
        conn.search(
            base,
            ldap_filter,
            search_scope=scope,
            attributes=attributes,
            size_limit=limit,
            time_limit=self._time_limit,
            dereference_aliases="NEVER",
        )
        code = conn.result["result"]
        if code == NO_SUCH_OBJECT and missing_ok:
            return []
        if code not in (SUCCESS, SIZE_LIMIT_EXCEEDED):
            raise DirectoryUnavailable(f"search under {base}: {_describe(conn.result)}")
        return [
            (item["dn"], item["raw_attributes"])
            for item in conn.response or ()
            if item.get("type") == "searchResEntry"
        ]

    def _matching(self, conn: Connection, dn: str, queries: list[tuple[str, str]]) -> set[str]:
        """One BASE search per filter: the ids whose filter holds the entry."""
        return {
            candidate_id
            for candidate_id, ldap_filter in queries
            if self._search(conn, dn, ldap_filter, BASE, NO_ATTRIBUTES, 1)
        }

    def _entry(self, dn: str, raw: RawAttributes) -> UserEntry:
        return user_entry(self._config, dn, raw)


class _Retryable(Exception):
    """The connection broke before an idempotent action finished: reconnect and retry."""


class _Unreachable(Exception):
    """This URL did not answer or refused us for a reason another URL may not share."""


def _entry_attributes(config: DirectoryConfig) -> list[str]:
    """Every attribute a UserEntry needs, so one search returns them all."""
    names = config.attributes
    wanted = [
        names.login,
        names.mail,
        *names.mobile,
        names.answers,
        *([names.reminder] if names.reminder else []),
        names.display_name,
        *names.name_parts,
        *PASSWORD_STATE[config.kind],
    ]
    return list(dict.fromkeys(wanted))


def user_entry(config: DirectoryConfig, dn: str, raw: RawAttributes) -> UserEntry:
    """Build a UserEntry from one search result's raw values."""
    values = _decoded(raw)
    names = config.attributes

    def get(name: str) -> tuple[str, ...]:
        return values.get(name.lower(), ())

    return UserEntry(
        dn=dn,
        login=_first(get(names.login)),
        display_name=_first(get(names.display_name)),
        mails=get(names.mail),
        mobiles=tuple(value for name in names.mobile for value in get(name)),
        answers=get(names.answers),
        name_parts=tuple(value for name in names.name_parts for value in get(name)),
        reminder_snoozed_until=_first(get(names.reminder)) if names.reminder else "",
        **_password_state(config.kind, get),
    )


def _decoded(raw: RawAttributes) -> dict[str, tuple[str, ...]]:
    """Attribute values as text, keyed by lower-case name (options such as ;binary kept)."""
    return {
        name.lower(): tuple(value.decode("utf-8", errors="replace") for value in values)
        for name, values in raw.items()
    }


def _first(values: tuple[str, ...]) -> str:
    return values[0] if values else ""


def _password_state(kind: str, get: Callable[[str], tuple[str, ...]]) -> dict[str, Any]:
    """password_changed_at, locked and must_change from ppolicy's or AD's attributes."""
    if kind == "ad":
        last_set = _first(get("pwdLastSet"))
        lockout = _first(get("lockoutTime"))
        return {
            "password_changed_at": last_set,
            "locked": lockout not in ("", "0"),
            "locked_at": lockout if lockout not in ("", "0") else "",
            "must_change": last_set == "0",
        }
    # Any pwdAccountLockedTime counts: 000001010000Z means "until an admin unlocks".
    return {
        "password_changed_at": _first(get("pwdChangedTime")),
        "locked": bool(get("pwdAccountLockedTime")),
        "locked_at": _first(get("pwdAccountLockedTime")),
        "must_change": _first(get("pwdReset")).upper() == "TRUE",
    }


def _dn_key(dn: str) -> tuple[tuple[str, str], ...] | None:
    """A DN's components, lower-cased, for suffix comparison; None if it does not parse."""
    try:
        parts = parse_dn(dn, escape=False, strip=True) if dn.strip() else []
    except LDAPExceptionError:
        return None
    return tuple((attr.lower(), value.lower()) for attr, value, _ in parts)


def _is_within(dn: tuple[tuple[str, str], ...], base: tuple[tuple[str, str], ...]) -> bool:
    return len(base) <= len(dn) and dn[len(dn) - len(base) :] == base


def _old_password_ok(conn: Connection, dn: str, password: str) -> bool:
    """Send the candidate as old and new password; see is_current_password."""
    # Bytes skip ldap3's SASLprep, which could alter the password the user typed.
    secret = password.encode("utf-8")
    conn.extend.standard.modify_password(
        user=dn, old_password=secret, new_password=secret, controls=[PPOLICY_REQUEST]
    )
    code = conn.result["result"]
    if code in SERVER_DOWN_CODES:
        raise DirectoryUnavailable(f"password check: {_describe(conn.result)}")
    # Success means no ppolicy stopped the same-value rewrite: still, the password matched.
    return code in (SUCCESS, CONSTRAINT_VIOLATION)


def _set_password(conn: Connection, dn: str, password: str, must_change: bool) -> None:
    """RFC 3062 exop with the ppolicy control; ppolicy also clears any lockout."""
    conn.extend.standard.modify_password(
        user=dn, new_password=password.encode("utf-8"), controls=[PPOLICY_REQUEST]
    )
    result = conn.result
    if result["result"] in SERVER_DOWN_CODES:
        raise DirectoryUnavailable(f"set_password: {_describe(result)}")
    if result["result"] != SUCCESS:
        raise openldap_refusal(result["result"], result["message"], _ppolicy_value(result))
    # ppolicy sets or drops pwdReset on an admin change depending on the policy's
    # pwdMustChange; say what this reset wants either way (one more operation, no read).
    if must_change:
        _modify(conn, dn, {"pwdReset": [(MODIFY_REPLACE, ["TRUE"])]})
    else:
        _modify(conn, dn, {"pwdReset": [(MODIFY_DELETE, [])]})
    if conn.result["result"] not in (SUCCESS, NO_SUCH_ATTRIBUTE):
        raise DirectoryUnavailable(
            f"the password was set but pwdReset was not: {_describe(conn.result)}"
        )


def ad_password_changes(password: str, *, must_change: bool) -> dict[str, list[Any]]:
    """The single modify that resets an AD password, unlocks, and maybe forces a change."""
    changes: dict[str, list[Any]] = {
        # AD wants the password quoted and in UTF-16-LE.
        "unicodePwd": [(MODIFY_REPLACE, [f'"{password}"'.encode("utf-16-le")])],
        "lockoutTime": [(MODIFY_REPLACE, [b"0"])],
    }
    if must_change:
        changes["pwdLastSet"] = [(MODIFY_REPLACE, [b"0"])]
    return changes


def _set_ad_password(conn: Connection, dn: str, password: str, must_change: bool) -> None:
    _modify(conn, dn, ad_password_changes(password, must_change=must_change))
    result = conn.result
    if result["result"] in SERVER_DOWN_CODES:
        raise DirectoryUnavailable(f"set_password: {_describe(result)}")
    if result["result"] != SUCCESS:
        raise ad_refusal(result["result"], result["message"])


def _modify(conn: Any, dn: str, changes: dict[str, list[Any]]) -> None:
    """Connection.modify, which the ldap3 stubs leave untyped."""
    conn.modify(dn, changes)


def _ppolicy_value(result: Mapping[str, Any]) -> bytes | None:
    control = (result.get("controls") or {}).get(PPOLICY_OID)
    value = control.get("value") if control else None
    return value if isinstance(value, bytes) else None


def _dropped_by_server(conn: Connection) -> bool:
    """True when an idle connection has something to read: EOF or a notice of disconnection.

    Checked before each use at no round-trip cost, so a write is never sent down a
    connection the server already closed (after a restart, for instance).
    """
    sock = conn.socket
    if conn.closed or sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _unbind(conn: Connection) -> None:
    with suppress(LDAPExceptionError, OSError):
        conn.unbind()


def _describe(result: Mapping[str, Any]) -> str:
    message = result.get("message") or ""
    description = f"{result.get('description')} ({result.get('result')})"
    return f"{description}: {message}" if message else description


def _reason(exc: BaseException) -> str:
    """A short cause for an error message; ldap3's texts never hold the password."""
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


def _login_result(kind: str, bound: bool, result: Mapping[str, Any]) -> LoginResult:
    """Read a bind's outcome: ppolicy's control on OpenLDAP, the data code on AD."""
    if kind == "ad":
        problem = None if bound else ad_bind_problem(str(result.get("message", "")))
        return LoginResult(
            ok=bound or problem in (AdBindProblem.PASSWORD_EXPIRED, AdBindProblem.MUST_CHANGE),
            locked=problem is AdBindProblem.LOCKED,
            expired=problem is AdBindProblem.PASSWORD_EXPIRED,
            must_change=problem is AdBindProblem.MUST_CHANGE,
        )
    value = _ppolicy_value(result)
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


def _change_own(kind: str, conn: Connection, dn: str, old: str, new: str) -> None:
    """The password change on the user's own connection."""
    if kind == "ad":
        quoted = [f'"{password}"'.encode("utf-16-le") for password in (old, new)]
        _modify(conn, dn, {"unicodePwd": [(MODIFY_DELETE, [quoted[0]]), (MODIFY_ADD, [quoted[1]])]})
        if conn.result["result"] != SUCCESS:
            raise ad_refusal(conn.result["result"], conn.result["message"])
        return
    _change_with_old(conn, dn, old, new)


def _change_with_old(conn: Connection, dn: str, old: str, new: str) -> None:
    """RFC 3062 exop with the old password; slapd checks it before any write."""
    conn.extend.standard.modify_password(
        user=dn,
        old_password=old.encode("utf-8"),
        new_password=new.encode("utf-8"),
        controls=[PPOLICY_REQUEST],
    )
    result = conn.result
    if result["result"] in SERVER_DOWN_CODES:
        raise DirectoryUnavailable(f"change_own_password: {_describe(result)}")
    if result["result"] == UNWILLING_TO_PERFORM and "old password" in str(result["message"]):
        raise InvalidCredentials()
    if result["result"] != SUCCESS:
        raise openldap_refusal(result["result"], result["message"], _ppolicy_value(result))


def _apply(
    conn: Connection,
    dn: str,
    modifications: dict[str, list[Any]],
    operation: str = "write_recovery",
) -> None:
    _modify(conn, dn, modifications)
    if conn.result["result"] != SUCCESS:
        raise DirectoryUnavailable(f"{operation}: {_describe(conn.result)}")


# pwdFailureTime is NO-USER-MODIFICATION, but ppolicy drops it whenever a modify deletes
# pwdAccountLockedTime. Setting then deleting the lock in one (atomic) modify always has a
# lock to delete, so the failures go too, locked or not, and no bind ever sees the lock.
_OPENLDAP_UNLOCK: dict[str, list[Any]] = {
    "pwdAccountLockedTime": [(MODIFY_REPLACE, ["20000101000000Z"]), (MODIFY_DELETE, [])]
}
# AD: a zero lockoutTime unlocks, and resets the bad password count with it.
_AD_UNLOCK: dict[str, list[Any]] = {"lockoutTime": [(MODIFY_REPLACE, [b"0"])]}
