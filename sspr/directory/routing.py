"""The Directory port over several directories: each operation goes to the one holding its DN.

A DN belongs to the deepest of the configured areas (each directory's base_dn, and the bases
of the profiles and of the helpdesk that name it) that holds it, compared as LDAP compares
names. With one directory, sspr uses it directly and never builds a router.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from sspr.config import Settings
from sspr.directory.connection import LatencyHook
from sspr.directory.ldap import LdapDirectory
from sspr.domain.dn import deepest_base, dn_key
from sspr.domain.errors import DirectoryRefused, DirectoryUnavailable
from sspr.domain.ports import (
    Clock,
    Directory,
    DirectoryPasswordRules,
    IdentifierKind,
    LoginResult,
    RecoveryField,
    RecoveryValue,
    UserEntry,
)


def open_directory(
    settings: Settings,
    passwords: Mapping[str, str],
    *,
    latency: Callable[[str], LatencyHook] | None = None,
    clock: Clock | None = None,
) -> LdapDirectory | RoutingDirectory:
    """The configured directory: the one LdapDirectory itself, or a router over several.

    `latency` gives the latency hook of each directory by name.
    """
    built = {
        name: LdapDirectory(
            config,
            passwords.get(name, ""),
            on_latency=latency(name) if latency else None,
            clock=clock,
        )
        for name, config in settings.named_directories.items()
    }
    if len(built) == 1:
        return next(iter(built.values()))  # one directory: no routing, no overhead
    return RoutingDirectory(built, settings.routing_areas())


class RoutingDirectory:
    """Several named directories behind the one port the domain knows."""

    def __init__(self, directories: Mapping[str, Directory], areas: Iterable[tuple[str, str]]):
        self.directories = dict(directories)
        self._areas = list(areas)
        for name, dn in self._areas:
            if name not in self.directories or dn_key(dn) is None:
                raise ValueError(f"area {dn!r} of directory {name!r} cannot be routed")

    def __repr__(self) -> str:
        return f"RoutingDirectory({list(self.directories)!r})"

    def name_of(self, dn: str) -> str | None:
        """The name of the directory that holds `dn`, or None when none does."""
        return deepest_base(dn, self._areas)

    def _for(self, dn: str, operation: str) -> Directory:
        return self.directories[self._name_for(dn, operation)]

    def _name_for(self, dn: str, operation: str) -> str:
        name = self.name_of(dn)
        if name is None:
            raise DirectoryRefused(operation, f"no configured directory holds {dn}")
        return name

    def _routed_back(self, name: str, entries: list[UserEntry]) -> list[UserEntry]:
        """The entries found in `name` whose DN routes back to it.

        With one base_dn nested in another's, the outer directory may hold entries in the
        inner one's area: every later operation on such a DN (read, reset, bind) would reach
        the inner directory, and another person's account of the same DN.
        """
        return [entry for entry in entries if self.name_of(entry.dn) == name]

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
        name = self._name_for(base, "find_users")
        found = self.directories[name].find_users(base, kinds, value, limit=limit, within=within)
        return self._routed_back(name, found)

    def memberships(self, dn: str, candidates: Iterable[tuple[str, str, str]]) -> set[str]:
        """The candidates of the directory holding `dn` whose base and filter hold it."""
        name = self.name_of(dn)
        if name is None:
            return set()
        # Another directory's filters are never sent to this one's server.
        own = [c for c in candidates if self.name_of(c[1]) in (name, None)]
        return self.directories[name].memberships(dn, own) if own else set()

    def read_user(self, dn: str) -> UserEntry | None:
        """Read one account by DN, or None when it no longer exists (or no directory holds it)."""
        name = self.name_of(dn)
        return self.directories[name].read_user(dn) if name is not None else None

    def is_current_password(self, dn: str, password: str) -> bool:
        """Tell whether `password` is the current one."""
        return self._for(dn, "is_current_password").is_current_password(dn, password)

    def set_password(self, dn: str, password: str, *, must_change: bool = False) -> None:
        """Write a new password as the service account of the account's directory."""
        self._for(dn, "set_password").set_password(dn, password, must_change=must_change)

    def authenticate(self, dn: str, password: str) -> LoginResult:
        """Bind as the user on the account's directory."""
        return self._for(dn, "authenticate").authenticate(dn, password)

    def refuses_current_password(self, dn: str) -> bool:
        """What the account's directory does."""
        return self._for(dn, "set_password").refuses_current_password(dn)

    def change_own_password(
        self, dn: str, old: str, new: str, *, before: Callable[[LoginResult], None] | None = None
    ) -> None:
        """Change a password knowing the old one, with one bind on the account's directory."""
        directory = self._for(dn, "change_own_password")
        directory.change_own_password(dn, old, new, before=before)

    def write_recovery(
        self, dn: str, changes: Mapping[RecoveryField, Sequence[RecoveryValue]]
    ) -> None:
        """Replace recovery fields in one modify."""
        self._for(dn, "write_recovery").write_recovery(dn, changes)

    def password_rules(
        self, entry: UserEntry | None, *, base: str | None = None
    ) -> DirectoryPasswordRules | None:
        """The rules of the directory holding the account (or, without one, its base)."""
        where = entry.dn if entry is not None else base
        if where is None:
            raise DirectoryRefused("password_rules", "no account nor base to choose a directory")
        return self._for(where, "password_rules").password_rules(entry, base=base)

    def find_by_attribute(
        self, base: str, attribute: str, value: str, *, limit: int
    ) -> list[UserEntry]:
        """Return up to `limit` entries under `base` whose `attribute` equals `value`."""
        name = self._name_for(base, "find_by_attribute")
        found = self.directories[name].find_by_attribute(base, attribute, value, limit=limit)
        return self._routed_back(name, found)

    def search_people(
        self, query: str, scopes: Sequence[tuple[str, str]], *, offset: int, limit: int
    ) -> tuple[list[UserEntry], bool]:
        """One page over every directory: each one's matches in turn, in the order of scopes."""
        if not query or limit < 1 or offset < 0:
            return [], False
        wanted = offset + limit + 1
        found: list[UserEntry] = []
        for name, own in self._scopes_by_directory(scopes).items():
            if len(found) >= wanted:
                break
            page, _ = self.directories[name].search_people(
                query, own, offset=0, limit=wanted - len(found)
            )
            found += self._routed_back(name, page)
        return found[offset : offset + limit], len(found) > offset + limit

    def _scopes_by_directory(
        self, scopes: Sequence[tuple[str, str]]
    ) -> dict[str, list[tuple[str, str]]]:
        grouped: dict[str, list[tuple[str, str]]] = {}
        for base, scope_filter in scopes:
            name = self.name_of(base)
            if name is None:
                raise DirectoryRefused("search_people", f"no configured directory holds {base}")
            grouped.setdefault(name, []).append((base, scope_filter))
        return grouped

    def in_group(self, dn: str, group_dn: str) -> bool:
        """Whether `dn` is a member of `group_dn`, asked of the directory holding `dn`."""
        name = self.name_of(dn)
        return self.directories[name].in_group(dn, group_dn) if name is not None else False

    def unlock(self, dn: str) -> None:
        """Clear the account's lock and its count of failed binds."""
        self._for(dn, "unlock").unlock(dn)

    # -- operations ----------------------------------------------------------------------------

    def ping(self) -> None:
        """Ping every directory; DirectoryUnavailable names each one that did not answer."""
        failed: list[str] = []
        for name, directory in self.directories.items():
            try:
                directory.ping()
            except DirectoryUnavailable as exc:
                failed.append(f"{name}: {exc}")
        if failed:
            raise DirectoryUnavailable("; ".join(failed))

    def close(self) -> None:
        """Close every directory that holds connections."""
        for directory in self.directories.values():
            close = getattr(directory, "close", None)
            if close is not None:
                close()
