"""The collaborators the domain receives: directory, store and clock."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# "upn" is AD's userPrincipalName (login@realm); "login" also takes DOMAINE\login there.
IdentifierKind = Literal["login", "email", "upn"]


class LockState(enum.Enum):
    """Whether the directory refuses the account's binds after failures or by decision."""

    UNLOCKED = "unlocked"
    # Locked after failed binds (or by an agent) since `locked_at`; may end by itself.
    LOCKED = "locked"
    # ppolicy's 000001010000Z: locked until an administrator unlocks, with no start time.
    UNTIL_ADMIN_UNLOCK = "until_admin_unlock"


@dataclass(frozen=True)
class UserEntry:
    """What the domain knows of one directory account, read in a single search."""

    dn: str
    login: str
    display_name: str = ""
    mails: tuple[str, ...] = ()
    mobiles: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    name_parts: tuple[str, ...] = ()
    # pwdChangedTime (or AD's pwdLastSet), aware UTC: it changes whenever the password
    # does, so proofs bind to it. None when the directory keeps no such time.
    password_changed_at: datetime | None = None
    lock: LockState = LockState.UNLOCKED
    # When the lock began (aware UTC); None when unlocked or locked until an admin unlocks.
    locked_at: datetime | None = None
    disabled: bool = False
    must_change: bool = False
    # Until when the "add a mobile" reminder is snoozed (aware UTC), or None.
    reminder_snoozed_until: datetime | None = None
    # When the account itself stops logging in (AD's accountExpires, aware UTC), or None;
    # `account_expired` says whether that time has passed.
    account_expires_at: datetime | None = None
    account_expired: bool = False
    # The password policy entry that applies to the account, when the entry names one
    # (ppolicy's pwdPolicySubentry, AD's msDS-ResultantPSO); read with the entry, no round trip.
    policy_dn: str | None = None

    @property
    def locked(self) -> bool:
        """Whether binds are refused because of a lock, whatever its kind."""
        return self.lock is not LockState.UNLOCKED

    @property
    def unusable(self) -> str | None:
        """Why no password would let this account log in ("disabled", "expired"), or None."""
        if self.disabled:
            return "disabled"
        return "expired" if self.account_expired else None


@dataclass(frozen=True)
class DirectoryPasswordRules:
    """The rules a directory enforces on one account's new passwords; 0 (or None) is off."""

    # The entry they were read from: a ppolicy entry, an AD PSO, or AD's domain root.
    source: str
    min_length: int = 0
    max_length: int | None = None
    # AD's complexity: 3 classes of 4, and neither the login nor a part of the display name.
    min_classes: int = 0
    forbid_user_parts: bool = False
    # How many previous passwords the directory refuses (checkable only by writing).
    history: int = 0
    # Seconds that must pass between two changes.
    min_age: float = 0
    # Whether history and minimum age also bind the service account's resets: ppolicy's do;
    # AD's only with the policy-hints control (user changes always).
    age_and_history_on_resets: bool = True


@dataclass(frozen=True)
class LoginResult:
    """What a bind as the user said, with the ppolicy states it carried."""

    ok: bool
    locked: bool = False
    expired: bool = False
    must_change: bool = False
    grace_left: int | None = None
    expires_in: int | None = None
    # The password was right but the account may not log in (AD's data 533 and 701).
    disabled: bool = False
    account_expired: bool = False


# Recovery data the service account may write, by the names the config maps to attributes.
RecoveryField = Literal["answers", "mobile", "mail", "reminder"]
# A value to write: text, raw bytes, or a time (the adapter writes it in its own format).
RecoveryValue = str | bytes | datetime


class Directory(Protocol):
    """The directory as the domain sees it; sspr.directory implements it over LDAP and in memory.

    Every operation may raise DirectoryUnavailable (an outage: nothing was changed) or
    DirectoryRefused (the server said no: an access right, the schema, a missing entry).
    """

    def find_users(
        self,
        base: str,
        kinds: Sequence[IdentifierKind],
        value: str,
        *,
        limit: int,
        within: str | None = None,
    ) -> list[UserEntry]:
        """Return up to `limit` accounts under `base` whose identifier of `kinds` is `value`
        (and that match the LDAP filter `within`, a profile's, when given)."""
        ...

    def memberships(self, dn: str, candidates: Iterable[tuple[str, str, str]]) -> set[str]:
        """Return the ids of the (id, base, filter) candidates whose base and filter hold `dn`."""
        ...

    def read_user(self, dn: str) -> UserEntry | None:
        """Read one account by DN, or None when it no longer exists."""
        ...

    def is_current_password(self, dn: str, password: str) -> bool:
        """Tell whether `password` is the current one, without reading any hash."""
        ...

    def refuses_current_password(self, dn: str) -> bool:
        """Whether set_password refuses `dn`'s current password with CurrentPassword: the
        write then answers the not_current rule itself, with no question beforehand."""
        ...

    def set_password(self, dn: str, password: str, *, must_change: bool = False) -> None:
        """Write a new password as the service account, unlocking the account.

        PasswordRefused: nothing was written (CurrentPassword when it is the current one, if
        the directory says so). PartialWrite: the password was written but the must-change
        flag is not as asked.
        """
        ...

    def authenticate(self, dn: str, password: str) -> LoginResult:
        """Bind as the user, on a connection of its own, and report the ppolicy state."""
        ...

    def change_own_password(
        self, dn: str, old: str, new: str, *, before: Callable[[LoginResult], None] | None = None
    ) -> None:
        """Change a password knowing the old one, with the user's own rights.

        `before` is given the outcome of the bind that proves the old password, before
        anything is written; whatever it raises stops the change. One bind then serves
        both the proof and the change.
        """
        ...

    def write_recovery(
        self, dn: str, changes: Mapping[RecoveryField, Sequence[RecoveryValue]]
    ) -> None:
        """Replace recovery fields in one modify (an empty list removes the field)."""
        ...

    def password_rules(
        self, entry: UserEntry | None, *, base: str | None = None
    ) -> DirectoryPasswordRules | None:
        """The password rules the directory enforces on `entry` (None: the default ones).

        None when no policy is known. Read once per policy and kept a short while, so a
        flow never reads it twice. `base` is where the account lives or would live (its
        profile's base): without an entry, it tells several directories which one answers.
        """
        ...

    # -- the helpdesk console ----------------------------------------------------------------

    def find_by_attribute(
        self, base: str, attribute: str, value: str, *, limit: int
    ) -> list[UserEntry]:
        """Return up to `limit` entries under `base` whose `attribute` equals `value`."""
        ...

    def search_people(
        self, query: str, scopes: Sequence[tuple[str, str]], *, offset: int, limit: int
    ) -> tuple[list[UserEntry], bool]:
        """One page of the accounts whose login, mail or names contain `query`.

        `scopes` are (base, filter) pairs searched in order; the flag says whether more follow.
        """
        ...

    def in_group(self, dn: str, group_dn: str) -> bool:
        """Whether `dn` is a member of the group `group_dn`, directly or through nested groups.

        Nesting is followed to a bounded depth and number of groups; a cycle ends the walk.
        """
        ...

    def unlock(self, dn: str) -> None:
        """Clear the account's lock and its count of failed binds."""
        ...

    # -- operations ------------------------------------------------------------------------

    def ping(self) -> None:
        """Prove the directory answers (a bind, or a round trip); raise DirectoryUnavailable."""
        ...


class Store(Protocol):
    """Short-lived shared state: every key expires after its time to live (seconds)."""

    def get(self, key: str) -> bytes | None:
        """Return the value, or None when absent or expired."""
        ...

    def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store a value that expires after `ttl` seconds."""
        ...

    def delete(self, key: str) -> None:
        """Remove a key if present."""
        ...

    def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter and return it; a new counter expires after `ttl` seconds."""
        ...

    def ttl(self, key: str) -> float | None:
        """Seconds left before the key expires, or None when absent."""
        ...

    def take(self, key: str) -> bytes | None:
        """Return the value and delete it atomically: of concurrent takers, only one gets it."""
        ...

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Store a value only if the key is absent or expired; tell whether this call stored it."""
        ...

    # -- a durable queue (the outbox of notices): at-least-once, survives restarts ------------

    def push(self, queue: str, value: bytes, ttl: float) -> None:
        """Append an item to a queue; it is dropped, delivered or not, after `ttl` seconds."""
        ...

    def claim(self, queue: str, lease: float) -> QueueItem | None:
        """Take the oldest item that is due, hiding it for `lease` seconds; None when none is.

        An item not acknowledged within its lease is due again: a worker that dies while
        handling it loses nothing.
        """
        ...

    def ack(self, queue: str, item_id: str) -> None:
        """Remove an item for good (handled, or given up on)."""
        ...


class AuditTrail(Protocol):
    """The latest audit events, kept in the store so every host reads the same trail.

    Capped: the oldest events go once `max_events` newer ones are kept (Redis trims whole
    blocks, so it may keep a few more). Lines are JSON objects, written as given.
    """

    def append(self, lines: Sequence[str]) -> None:
        """Add events, oldest first, in one write."""
        ...

    def newest(self) -> Iterator[str]:
        """Every kept event, newest first, read in batches as the caller goes on."""
        ...


@dataclass(frozen=True)
class QueueItem:
    """One claimed item of a queue: its id, its value, and how many times it was claimed."""

    id: str
    value: bytes
    claims: int


class Clock(Protocol):
    """A source of time, injected so tests can move it."""

    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()


@dataclass(frozen=True)
class OutgoingMail:
    """One message to send; `text` is always sent, `html` as an alternative when given."""

    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None


class Mailer(Protocol):
    """Sends email; sspr.delivery.smtp implements it over SMTP."""

    def rehearse(self, message: OutgoingMail) -> None:
        """Do all a send does up to its point of no return, raising DeliveryFailed alike."""
        ...

    def send(self, message: OutgoingMail) -> None:
        """Send one message, or raise DeliveryFailed."""
        ...


class SmsSender(Protocol):
    """Sends text messages; sspr.delivery.sms implements it over Twilio."""

    def rehearse(self) -> None:
        """An API round trip that sends nothing, raising DeliveryFailed alike (decoy flows)."""
        ...

    def send(self, to_e164: str, body: str) -> None:
        """Send one SMS to an E.164 number, or raise DeliveryFailed."""
        ...
