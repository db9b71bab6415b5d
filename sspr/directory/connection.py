"""Bound LDAP connections: a small pool per worker, failover across URLs, reconnects.

Two kinds are kept: connections bound as the service account, and connections for binds as
users, rebound for each user (a bind on an open connection, not a new TCP and TLS
handshake). A user connection only ever carries that user's bind and the operations made
with the user's own rights, so the service identity is never lent to a user, nor a user's
to the next request.
"""

from __future__ import annotations

import math
import os
import select
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from ldap3 import NONE, SIMPLE, SYNC, Connection, Server, Tls
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPException,
    LDAPInvalidDnError,
    LDAPInvalidFilterError,
    LDAPInvalidScopeError,
    LDAPResponseTimeoutError,
    LDAPSessionTerminatedByServerError,
    LDAPSocketSendError,
)
from pyasn1.error import PyAsn1Error

from sspr.config import DirectoryConfig
from sspr.directory.ppolicy import PPOLICY_REQUEST
from sspr.domain.errors import DirectoryRefused, DirectoryUnavailable, SsprError

T = TypeVar("T")
LatencyHook = Callable[[str, float], None]

INVALID_CREDENTIALS = 49
# The server itself says it cannot serve: another replica may.
SERVER_DOWN_CODES = frozenset({51, 52})
# Connections per worker: its threads share them; more would only queue at the server.
POOL_SIZE = 4

# A broken or timed-out connection: the only failures worth a reconnect.
_BROKEN = (LDAPCommunicationError, LDAPResponseTimeoutError, OSError)
# ldap3 checks these before sending: a malformed DN or filter (from the configuration, most
# likely) is a refusal of the request, not an outage.
_REFUSED_BEFORE_SENDING = (LDAPInvalidDnError, LDAPInvalidFilterError, LDAPInvalidScopeError)
# What a peer that does not speak LDAP makes ldap3 raise while it decodes the garbage.
_GARBLED = (LDAPException, PyAsn1Error, KeyError, IndexError, ValueError, TypeError)


class Unreachable(Exception):
    """This URL did not answer or refused us for a reason another URL may not share."""

    def __init__(self, message: str, *, maybe_judged: bool = False) -> None:
        super().__init__(message)
        # The request went out and no answer came back: the server may have acted on it.
        self.maybe_judged = maybe_judged


class _Retryable(Exception):
    """The connection broke before an idempotent action finished: reconnect and retry."""


class ConnectionPool:
    """Up to `size` connections bound as the service account, shared by a worker's threads."""

    def __init__(
        self,
        config: DirectoryConfig,
        password: str,
        *,
        on_latency: LatencyHook | None = None,
        size: int = POOL_SIZE,
    ) -> None:
        self._config = config
        self._password = password
        self._on_latency = on_latency
        self._size = size
        self.time_limit = max(1, math.ceil(config.operation_timeout))
        self._reset_for(os.getpid())

    def _reset_for(self, pid: int) -> None:
        # New locks too: one held by a thread of the parent at fork time stays held forever.
        self._pid = pid
        self._guard = threading.Lock()
        self._slots = threading.BoundedSemaphore(self._size)
        self._idle: list[Connection] = []
        # Open connections for user binds, whoever they were last bound as (see the module).
        self._user_idle: list[Connection] = []

    def idle(self) -> tuple[Connection, ...]:
        """The open connections waiting for work (for tests and diagnostics)."""
        return tuple(self._idle)

    def user_idle(self) -> tuple[Connection, ...]:
        """The open connections waiting for a user's bind (for tests and diagnostics)."""
        return tuple(self._user_idle)

    def read(self, operation: str, action: Callable[[Connection], T]) -> T:
        """Run an idempotent action; after a broken connection, reconnect and retry once."""
        with self._slot(operation):
            try:
                return self._attempt(operation, action, final=False)
            except _Retryable:
                return self._attempt(operation, action, final=True)

    def write(self, operation: str, action: Callable[[Connection], T]) -> T:
        """Run an action that changes data: never retried, since its outcome is unknown."""
        with self._slot(operation):
            return self._attempt(operation, action, final=True)

    def close(self) -> None:
        """Unbind the idle connections; the next call opens new ones."""
        with self._guard:
            idle, self._idle = self._idle, []
            user_idle, self._user_idle = self._user_idle, []
        for conn in (*idle, *user_idle):
            unbind(conn)

    @contextmanager
    def _slot(self, operation: str) -> Iterator[None]:
        """Wait for a free slot, then report how long the work took (LDAP time, not queueing)."""
        if self._pid != os.getpid():
            # Inherited across a fork (an app loaded before its workers fork): the sockets are
            # the parent's, and an unbind would close the parent's sessions too: forget them.
            self._reset_for(os.getpid())
        slots = self._slots
        with slots:
            started = time.perf_counter()
            try:
                yield
            finally:
                if self._on_latency is not None:
                    self._on_latency(operation, time.perf_counter() - started)

    def _attempt(self, operation: str, action: Callable[[Connection], T], *, final: bool) -> T:
        """Run once on a ready connection, turning ldap3's failures into domain errors."""
        conn = self._checkout()
        try:
            result = action(conn)
        except SsprError:
            self._checkin(conn)
            raise
        except _REFUSED_BEFORE_SENDING as exc:
            self._checkin(conn)  # nothing was sent: the connection is as good as before
            raise DirectoryRefused(operation, reason(exc)) from exc
        except _BROKEN as exc:
            unbind(conn)
            # A timeout means a slow server, not a stale socket: retrying would double the wait.
            if final or isinstance(exc, TimeoutError):
                raise DirectoryUnavailable(f"{operation}: {reason(exc)}") from exc
            raise _Retryable() from exc
        except LDAPException as exc:
            # A garbled answer: the connection can no longer be trusted.
            unbind(conn)
            raise DirectoryUnavailable(f"{operation}: {reason(exc)}") from exc
        except BaseException:
            unbind(conn)  # a bug: no outage to report, but the connection's state is unknown
            raise
        self._checkin(conn)
        return result

    def _checkout(self) -> Connection:
        """An idle connection the server has not dropped, or a new one."""
        with self._guard:
            while self._idle:
                conn = self._idle.pop()
                if not dropped_by_server(conn):
                    return conn
                unbind(conn)
        return self._connect()

    def _checkin(self, conn: Connection) -> None:
        forget_request(conn)
        with self._guard:
            self._idle.append(conn)

    def _connect(self) -> Connection:
        """Bind to the first URL that answers, in the configured order."""
        problems: list[str] = []
        for url in self._config.urls:
            try:
                return self._open(url)
            except Unreachable as exc:
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
            unbind(conn)
            raise
        return conn

    # -- connections bound as the user ------------------------------------------------------

    @contextmanager
    def user_connection(
        self, operation: str, dn: str, password: str
    ) -> Iterator[tuple[Connection, bool]]:
        """A connection bound as the user: (connection, whether the bind worked).

        A kept connection is rebound when one is idle, else a new one is opened; it is kept
        again afterwards unless it broke.
        """
        if self._pid != os.getpid():
            self._reset_for(os.getpid())
        started = time.perf_counter()
        conn, bound = self._bound_as(dn, password)
        healthy = False
        try:
            yield conn, bound
            healthy = True
        except _BROKEN as exc:
            raise DirectoryUnavailable(f"{operation}: {reason(exc)}") from exc
        except SsprError:
            healthy = True  # a refusal the directory answered: the connection still works
            raise
        finally:
            if healthy:
                self._checkin_user(conn)
            else:
                unbind(conn)
            if self._on_latency is not None:
                self._on_latency(operation, time.perf_counter() - started)

    def _bound_as(self, dn: str, password: str) -> tuple[Connection, bool]:
        """Bind as the user on a kept connection, or on a new one to the first URL that answers."""
        kept = self._checkout_user()
        if kept is not None:
            try:
                return kept, self._bind_as(kept, dn, password)
            except Unreachable as exc:
                unbind(kept)
                if exc.maybe_judged:
                    # Binding again could count one wrong password twice toward the lockout.
                    raise DirectoryUnavailable(f"bind: {exc}") from exc
                # Dropped since it was checked, the bind unread: a fresh connection instead.
        problems: list[str] = []
        for url in self._config.urls:
            conn = self._connection(url, None, None)
            try:
                self._secure_socket(url, conn)
                return conn, self._bind_as(conn, dn, password)
            except (*_BROKEN, *_GARBLED, Unreachable) as exc:
                unbind(conn)
                problems.append(f"{url}: {exc if isinstance(exc, Unreachable) else reason(exc)}")
        raise DirectoryUnavailable("no directory server answered: " + "; ".join(problems))

    @staticmethod
    def _bind_as(conn: Connection, dn: str, password: str) -> bool:
        """One simple bind as the user, with the ppolicy control; Unreachable if it broke."""
        # Bytes, as for the writes: ldap3 would SASLprep a str, and the two must agree.
        conn.user, conn.password = dn, password.encode("utf-8")
        try:
            bound = bool(conn.bind(read_server_info=False, controls=[PPOLICY_REQUEST]))
        except (*_BROKEN, *_GARBLED) as exc:
            # Only a connection closed by the server, or a send that failed, surely left the
            # bind unread; a timeout or a reset may come after the server judged it.
            unread = isinstance(exc, LDAPSessionTerminatedByServerError | LDAPSocketSendError)
            raise Unreachable(reason(exc), maybe_judged=not unread) from exc
        finally:
            conn.password = None  # not kept in memory while the connection waits (nor below)
        if not bound and conn.result["result"] in SERVER_DOWN_CODES:
            raise Unreachable(describe(conn.result))
        return bound

    def _checkout_user(self) -> Connection | None:
        with self._guard:
            while self._user_idle:
                conn = self._user_idle.pop()
                if not dropped_by_server(conn):
                    return conn
                unbind(conn)
        return None

    def _checkin_user(self, conn: Connection) -> None:
        forget_request(conn)
        with self._guard:
            if len(self._user_idle) < self._size:
                self._user_idle.append(conn)
                return
        unbind(conn)  # more threads than the pool keeps: this one goes

    # -- opening ----------------------------------------------------------------------------

    def _connection(self, url: str, user: str | None, password: Any) -> Connection:
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
            receive_timeout=self.time_limit,
        )

    def _secure_socket(self, url: str, conn: Connection) -> None:
        """Open the socket with the exact timeout, and StartTLS when configured."""
        conn.open(read_server_info=False)
        # Python's own timeout applies first, so a fractional operation_timeout holds.
        conn.socket.settimeout(self._config.operation_timeout)
        wants_start_tls = self._config.tls.start_tls and not url.startswith("ldaps://")
        if wants_start_tls and not conn.start_tls(read_server_info=False):
            raise Unreachable(f"StartTLS refused: {describe(conn.result)}")

    def _handshake(self, url: str, conn: Connection) -> None:
        try:
            self._secure_socket(url, conn)
            if conn.bind(read_server_info=False):
                return
        except Unreachable:
            raise
        except (*_BROKEN, *_GARBLED) as exc:  # a non-LDAP peer's garbage escapes as KeyError…
            raise Unreachable(reason(exc)) from exc
        if conn.result["result"] == INVALID_CREDENTIALS:
            # Wrong credentials are wrong on every replica: say so instead of failing over.
            raise DirectoryUnavailable(
                f"{url}: the service account {self._config.bind_dn} was refused"
                f" (invalid credentials): check {self._config.bind_password_env}"
            )
        raise Unreachable(f"bind refused: {describe(conn.result)}")

    def _tls(self, url: str) -> Tls | None:
        tls = self._config.tls
        if not (tls.start_tls or url.startswith("ldaps://")):
            return None
        return Tls(
            validate=ssl.CERT_REQUIRED if tls.verify else ssl.CERT_NONE,
            ca_certs_file=str(tls.ca_file) if tls.ca_file else None,
        )


def dropped_by_server(conn: Connection) -> bool:
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


def forget_request(conn: Connection) -> None:
    """Drop ldap3's copy of the last request: a bind's or a password change's holds passwords."""
    conn.request = None


def unbind(conn: Connection) -> None:
    """Close a connection, whatever state it is in."""
    with suppress(LDAPException, OSError):
        conn.unbind()


def describe(result: Mapping[str, Any]) -> str:
    """An LDAP result as "description (code): server message"."""
    message = result.get("message") or ""
    description = f"{result.get('description')} ({result.get('result')})"
    return f"{description}: {message}" if message else description


def reason(exc: BaseException) -> str:
    """A short cause for an error message; ldap3's texts never hold the password."""
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
