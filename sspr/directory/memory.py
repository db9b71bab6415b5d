"""The Directory port in memory, with ppolicy's semantics, under the same contract as LDAP.

For the domain's unit tests and for trying sspr without a server. Accounts, groups and
policies are seeded with add(); the clock is injected, so expiry and lockouts need no sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ldap3.utils.conv import escape_filter_chars

from sspr.config import DirectoryConfig
from sspr.directory.entries import (
    PasswordState,
    recovery_attributes,
    to_generalized_time,
    user_entry,
)
from sspr.directory.filters import (
    DnKey,
    compile_filter,
    dn_key,
    identifier_filter,
    is_within,
    people_filter,
    user_class_filter,
)
from sspr.directory.groups import listing, nested_member
from sspr.directory.memory_policy import MemoryPolicy, check_new
from sspr.domain.errors import (
    DirectoryRefused,
    DirectoryUnavailable,
    InvalidCredentials,
    PartialWrite,
    PasswordRefusal,
    PasswordRefused,
    SsprError,
)
from sspr.domain.ports import (
    Clock,
    DirectoryPasswordRules,
    IdentifierKind,
    LockState,
    LoginResult,
    RecoveryField,
    RecoveryValue,
    SystemClock,
    UserEntry,
)


@dataclass
class _Entry:
    """One entry: its values by lower-case name, and ppolicy's state when it has a password."""

    dn: str
    values: dict[str, list[str]]
    policy: MemoryPolicy = field(default_factory=MemoryPolicy)
    password: str | None = None
    history: list[str] = field(default_factory=list)  # previous passwords, newest first
    changed_at: datetime | None = None
    failures: list[float] = field(default_factory=list)
    locked_at: datetime | None = None
    admin_lock: bool = False
    must_change: bool = False
    grace_used: int = 0

    def state(self) -> PasswordState:
        lock = LockState.LOCKED if self.locked_at else LockState.UNLOCKED
        return PasswordState(
            changed_at=self.changed_at,
            lock=LockState.UNTIL_ADMIN_UNLOCK if self.admin_lock else lock,
            locked_at=None if self.admin_lock else self.locked_at,
            must_change=self.must_change,
            policy_dn=next(iter(self.values.get("pwdpolicysubentry", [])), None),
        )


class MemoryDirectory:
    """A directory held in a dict, safe to share between threads."""

    def __init__(self, config: DirectoryConfig, *, clock: Clock | None = None) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._entries: dict[DnKey, _Entry] = {}
        self._lock = threading.RLock()
        self._faults: dict[str, SsprError] = {}
        self.available = True
        # What accounts added without a policy get, as ppolicy's olcPPolicyDefault.
        self.default_policy = MemoryPolicy()

    # -- seeding and test hooks ----------------------------------------------------------------

    def add(
        self,
        dn: str,
        attributes: Mapping[str, Sequence[str | bytes]],
        *,
        password: str | None = None,
        policy: MemoryPolicy | None = None,
    ) -> None:
        """Add an entry (an account when it has the user class and a password)."""
        key = self._key(dn)
        values = {name.lower(): [_text(v) for v in vs] for name, vs in attributes.items()}
        entry = _Entry(dn, values, policy or self.default_policy, password)
        if password is not None:
            entry.changed_at = self._now()
        with self._lock:
            if key in self._entries:
                raise DirectoryRefused("add", f"Already exists (68): {dn}")
            self._entries[key] = entry

    def lock_until_admin_unlocks(self, dn: str) -> None:
        """What an administrator's 000001010000Z does."""
        self._get(dn, "lock").admin_lock = True

    def age_password(self, dn: str, seconds: float) -> None:
        """Move the last password change `seconds` back in time."""
        self._get(dn, "age_password").changed_at = self._now() - timedelta(seconds=seconds)

    def fail_next(self, operation: str, error: SsprError) -> None:
        """Make the next call of `operation` raise `error` (a PartialWrite after writing)."""
        self._faults[operation] = error

    # -- the Directory protocol ----------------------------------------------------------------

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
        self._answer("find_users")
        if not value or not kinds or limit < 1:
            return []
        ldap_filter = identifier_filter(self._config, kinds, value)
        if ldap_filter is None:
            return []
        if within is not None:
            ldap_filter = f"(&{ldap_filter}{within})"
        return self._search(base, ldap_filter, limit)

    def memberships(self, dn: str, candidates: Iterable[tuple[str, str, str]]) -> set[str]:
        """Return the ids of the (id, base, filter) candidates whose base and filter hold `dn`."""
        self._answer("memberships")
        target = dn_key(dn)
        if target is None:
            return set()
        entry = self._entries.get(target)
        matched = set()
        for candidate_id, base, ldap_filter in candidates:
            # A broken filter is refused, as by a server, which is asked every filter.
            matches, base_key = compile_filter(ldap_filter), dn_key(base)
            if base_key is None or not is_within(target, base_key):
                continue
            if entry is not None and matches(entry.values):
                matched.add(candidate_id)
        return matched

    def read_user(self, dn: str) -> UserEntry | None:
        """Read one account by DN, or None when it no longer exists."""
        self._answer("read_user")
        key = dn_key(dn)
        entry = self._entries.get(key) if key is not None else None
        if entry is None or not compile_filter(user_class_filter(self._config))(entry.values):
            return None
        return self._user(entry)

    def is_current_password(self, dn: str, password: str) -> bool:
        """Tell whether `password` is the current one."""
        self._answer("is_current_password")
        key = dn_key(dn)
        entry = self._entries.get(key) if key is not None else None
        return bool(password) and entry is not None and entry.password == password

    def refuses_current_password(self, dn: str) -> bool:
        """As ppolicy: the current password is refused with CurrentPassword."""
        return True

    def set_password(self, dn: str, password: str, *, must_change: bool = False) -> None:
        """Write a new password as the service account, unlocking the account."""
        if not password:
            raise PasswordRefused(PasswordRefusal.TOO_SHORT, "empty password")
        fault = self._faults.pop("set_password", None)
        if fault is not None and not isinstance(fault, PartialWrite):
            raise fault
        self._answer("set_password")
        with self._lock:
            entry = self._entries.get(self._key(dn))
            if entry is None:
                raise PasswordRefused(PasswordRefusal.OTHER, "No such object")
            self._check_new(entry, password)
            self._write_password(entry, password)
            entry.failures, entry.locked_at, entry.admin_lock = [], None, False
            if fault is not None:
                raise fault  # the password is written; the must-change flag is left as it was
            entry.must_change = must_change

    def authenticate(self, dn: str, password: str) -> LoginResult:
        """Bind as the user and report ppolicy's state: failures count, locks, expiry."""
        self._answer("authenticate")
        key = dn_key(dn)
        with self._lock:
            entry = self._entries.get(key) if key is not None and password else None
            if entry is None or entry.password is None:
                return LoginResult(ok=False)
            if self._refuses_binds(entry):
                return LoginResult(ok=False, locked=True)
            if entry.password != password:
                self._count_failure(entry)
                return LoginResult(ok=False)
            entry.failures, entry.locked_at = [], None
            return self._bound(entry)

    def change_own_password(
        self, dn: str, old: str, new: str, *, before: Callable[[LoginResult], None] | None = None
    ) -> None:
        """Change a password knowing the old one; an expired one may still be changed."""
        if not old or not new:
            raise InvalidCredentials() if not old else PasswordRefused(PasswordRefusal.TOO_SHORT)
        state = self.authenticate(dn, old)
        if before is not None:
            before(state)  # nothing written yet: whatever it raises leaves the account as it was
        if not state.ok and state.locked:
            raise PasswordRefused(PasswordRefusal.LOCKED, "account locked")
        if not (state.ok or state.expired):
            raise InvalidCredentials()
        with self._lock:
            entry = self._get(dn, "change_own_password")
            self._check_new(entry, new)
            self._write_password(entry, new)
            entry.must_change = False

    def write_recovery(
        self, dn: str, changes: Mapping[RecoveryField, Sequence[RecoveryValue]]
    ) -> None:
        """Replace recovery fields (an empty list removes the field)."""
        self._answer("write_recovery")
        targets = recovery_attributes(self._config)
        with self._lock:
            entry = self._get(dn, "write_recovery")
            for field_name, values in changes.items():
                attribute = targets.get(field_name)
                if attribute is None:
                    raise ValueError(f"no attribute is configured for {field_name}")
                entry.values[attribute.lower()] = [_text(value) for value in values]
            object_class = self._config.attributes.recovery_object_class
            classes = entry.values.setdefault("objectclass", [])
            wants_class = any(changes.get(name) for name in ("answers", "reminder"))
            if wants_class and object_class and object_class.lower() not in _folded(classes):
                classes.append(object_class)

    def password_rules(
        self, entry: UserEntry | None, *, base: str | None = None
    ) -> DirectoryPasswordRules | None:
        """The rules of the account's policy; without one named, of the configured default."""
        self._answer("password_rules")
        source = (entry.policy_dn if entry else None) or self._config.default_policy_dn
        if not self._config.read_password_policy or source is None:
            return None
        found = self._entries.get(self._key(entry.dn)) if entry is not None else None
        return (found.policy if found else self.default_policy).rules(source)

    # -- the helpdesk console ------------------------------------------------------------------

    def find_by_attribute(
        self, base: str, attribute: str, value: str, *, limit: int
    ) -> list[UserEntry]:
        """Return up to `limit` entries under `base` whose `attribute` equals `value`."""
        self._answer("find_by_attribute")
        if not value or limit < 1:
            return []
        return self._search(base, f"({attribute}={escape_filter_chars(value)})", limit)

    def search_people(
        self, query: str, scopes: Sequence[tuple[str, str]], *, offset: int, limit: int
    ) -> tuple[list[UserEntry], bool]:
        """One page of the accounts whose login, mail or names contain `query`."""
        self._answer("search_people")
        if not query or limit < 1 or offset < 0:
            return [], False
        wanted = offset + limit + 1
        found: dict[str, UserEntry] = {}
        for base, scope_filter in scopes:
            if len(found) >= wanted:
                break
            ldap_filter = people_filter(self._config, query, scope_filter)
            for entry in self._search(base, ldap_filter, wanted):
                found.setdefault(entry.dn.lower(), entry)
        page = list(found.values())[offset : offset + limit]
        return page, len(found) > offset + limit

    def in_group(self, dn: str, group_dn: str) -> bool:
        """Whether `dn` is a member of the group `group_dn`, directly or through nested groups."""
        self._answer("in_group")
        with self._lock:
            groups = [(e.dn, e.values.get("member", [])) for e in self._entries.values()]
        return nested_member(lambda dns: listing(groups, dns), dn, group_dn)

    def unlock(self, dn: str) -> None:
        """Clear the account's lock and its count of failed binds."""
        self._answer("unlock")
        with self._lock:
            entry = self._get(dn, "unlock")
            entry.failures, entry.locked_at, entry.admin_lock = [], None, False

    def ping(self) -> None:
        """Answer, unless the test made the directory unavailable."""
        self._answer("ping")

    # -- helpers -------------------------------------------------------------------------------

    def _answer(self, operation: str) -> None:
        fault = self._faults.pop(operation, None)
        if fault is not None:
            raise fault
        if not self.available:
            raise DirectoryUnavailable(f"{operation}: the in-memory directory is switched off")

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    def _key(self, dn: str) -> DnKey:
        if (key := dn_key(dn)) is None:
            raise DirectoryRefused("dn", f"Invalid DN syntax (34): {dn}")
        return key

    def _get(self, dn: str, operation: str) -> _Entry:
        if (entry := self._entries.get(self._key(dn))) is None:
            raise DirectoryRefused(operation, f"No such object (32): {dn}")
        return entry

    def _search(self, base: str, ldap_filter: str, limit: int) -> list[UserEntry]:
        matches = compile_filter(ldap_filter)
        if (base_key := dn_key(base)) is None:
            raise DirectoryRefused(f"search under {base}", "Invalid DN syntax (34)")
        with self._lock:
            entries = list(self._entries.items())
        found = [e for key, e in entries if is_within(key, base_key) and matches(e.values)]
        return [self._user(entry) for entry in found[:limit]]

    def _user(self, entry: _Entry) -> UserEntry:
        raw = {name: [value.encode() for value in values] for name, values in entry.values.items()}
        return user_entry(self._config, entry.dn, raw, lambda _get: entry.state())

    def _check_new(self, entry: _Entry, password: str) -> None:
        check_new(entry.policy, password, entry.password, entry.history, entry.changed_at,
                  self._now())  # fmt: skip

    def _write_password(self, entry: _Entry, password: str) -> None:
        entry.history[:0] = [entry.password] if entry.password is not None else []
        entry.password, now = password, self._now()
        # Strictly later than the previous change: proofs bind to this time.
        if entry.changed_at is not None and now <= entry.changed_at:
            now = entry.changed_at + timedelta(microseconds=1)
        entry.changed_at, entry.grace_used = now, 0

    def _refuses_binds(self, entry: _Entry) -> bool:
        if entry.admin_lock or entry.locked_at is None:
            return entry.admin_lock
        duration = entry.policy.lockout_seconds
        return not duration or self._now() < entry.locked_at + timedelta(seconds=duration)

    def _count_failure(self, entry: _Entry) -> None:
        policy, now = entry.policy, self._clock.now()
        window = policy.failure_window or float("inf")
        entry.failures = [t for t in entry.failures if now - t < window] + [now]
        if policy.max_failures and len(entry.failures) >= policy.max_failures:
            entry.locked_at = self._now()

    def _bound(self, entry: _Entry) -> LoginResult:
        """A bind with the right password: expired (maybe with grace), must change, or fine."""
        policy = entry.policy
        age = self._now() - entry.changed_at if entry.changed_at else timedelta(0)
        if policy.max_age and age > timedelta(seconds=policy.max_age):
            if entry.grace_used < policy.grace_logins:
                entry.grace_used += 1
                return LoginResult(ok=True, grace_left=policy.grace_logins - entry.grace_used)
            return LoginResult(ok=False, expired=True)
        return LoginResult(ok=True, must_change=entry.must_change)


def _text(value: str | bytes | datetime) -> str:
    if isinstance(value, datetime):
        return to_generalized_time(value)
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _folded(values: Iterable[str]) -> set[str]:
    return {value.lower() for value in values}
