"""The Directory port over LDAP (ldap3): the port's operations, on pooled connections."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from ldap3 import BASE, MODIFY_ADD, SUBTREE, Connection
from ldap3.utils.conv import escape_filter_chars

from sspr.config import DirectoryConfig
from sspr.directory import active_directory as ad
from sspr.directory.connection import ConnectionPool, LatencyHook
from sspr.directory.dialects import ActiveDirectory, Changes, apply, dialect_for
from sspr.directory.entries import (
    RawAttributes,
    entry_attributes,
    recovery_modifications,
    user_entry,
)
from sspr.directory.filters import (
    dn_key,
    identifier_filter,
    is_within,
    people_filter,
    user_class_filter,
)
from sspr.directory.groups import (
    MAX_GROUPS,
    Parents,
    in_chain_filter,
    member_filters,
    nested_member,
)
from sspr.directory.policy_rules import PolicyReader
from sspr.directory.search import NO_ATTRIBUTES, Scope, logged, search
from sspr.domain.errors import (
    DirectoryRefused,
    InvalidCredentials,
    PasswordRefusal,
    PasswordRefused,
)
from sspr.domain.ports import (
    Clock,
    DirectoryPasswordRules,
    IdentifierKind,
    LoginResult,
    RecoveryField,
    RecoveryValue,
    UserEntry,
)

_logger = logging.getLogger(__name__)


class LdapDirectory:
    """The directory over LDAP, safe to share between the threads of one worker."""

    def __init__(
        self,
        config: DirectoryConfig,
        password: str,
        *,
        on_latency: LatencyHook | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._config = config
        self._dialect = dialect_for(config.kind)
        self.pool = ConnectionPool(config, password, on_latency=on_latency)
        self._attributes = entry_attributes(config, self._dialect.state_attributes)
        self._contexts: list[str] | None = None
        self._policies = PolicyReader(config, self.pool, clock, self.policy_hints_control)

    def __repr__(self) -> str:
        return f"LdapDirectory({self._config.urls!r}, bind_dn={self._config.bind_dn!r})"

    # -- the Directory protocol ------------------------------------------------------------

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
        if not value or not kinds or limit < 1:
            return []
        ldap_filter = identifier_filter(self._config, kinds, value)
        if ldap_filter is None:
            return []  # DOMAINE\login of another domain: nobody here
        if within is not None:
            ldap_filter = f"(&{ldap_filter}{within})"
        found = self.pool.read(
            "find_users",
            lambda conn: self._search(conn, base, ldap_filter, SUBTREE, self._attributes, limit),
        )
        return [self._entry(dn, raw) for dn, raw in found]

    def memberships(self, dn: str, candidates: Iterable[tuple[str, str, str]]) -> set[str]:
        """Return the ids of the (id, base, filter) candidates whose base and filter hold `dn`."""
        target = dn_key(dn)
        if target is None:
            return set()
        keys = [(candidate_id, dn_key(base), f) for candidate_id, base, f in candidates]
        # Every candidate costs one search, even for (objectClass=*) or a base that does not
        # hold the entry (its answer then ignored): no timing oracle on the profiles it is in.
        queries = [(i if k is not None and is_within(target, k) else None, f) for i, k, f in keys]
        if not queries:
            return set()
        found = self.pool.read("memberships", lambda conn: self._matching(conn, dn, queries))
        return {candidate_id for candidate_id in found if candidate_id is not None}

    def read_user(self, dn: str) -> UserEntry | None:
        """Read one account by DN, or None when it no longer exists."""
        ldap_filter = user_class_filter(self._config)
        found = self.pool.read(
            "read_user",
            lambda conn: self._search(conn, dn, ldap_filter, BASE, self._attributes, 1),
        )
        return self._entry(*found[0]) if found else None

    def is_current_password(self, dn: str, password: str) -> bool:
        """Tell whether `password` is the current one, without reading any hash.

        slapd compares userPassword byte for byte, so a compare never matches a hashed
        value: the dialect says how (OpenLDAP's exop trick). AD cannot: a bind as the
        user answers there (see active_directory.password_binds for what it costs).
        """
        if not password:
            return False
        if self._dialect.kind == "ad":
            with self.pool.user_connection("is_current_password", dn, password) as (conn, bound):
                return ad.password_binds(bound, conn.result)
        if not self._dialect.compares_passwords:
            return False
        return self.pool.read(
            "is_current_password",
            lambda conn: self._dialect.is_current_password(conn, dn, password),
        )

    def refuses_current_password(self, dn: str) -> bool:
        """ppolicy refuses to write the current password again; AD's resets do not check."""
        return self._dialect.refuses_current_password

    def set_password(self, dn: str, password: str, *, must_change: bool = False) -> None:
        """Write a new password as the service account, unlocking the account.

        Raises PasswordRefused (nothing written), PartialWrite (the password is written but
        the must-change flag is not as asked) or DirectoryUnavailable.
        """
        if not password:
            # An empty exop value asks slapd to generate a password: never send one.
            raise PasswordRefused(PasswordRefusal.TOO_SHORT, "empty password")
        self._dialect.check_transport(self._config)
        with logged("set_password", dn):
            self.pool.write(
                "set_password",
                lambda conn: self._dialect.set_password(conn, dn, password, must_change),
            )

    # -- the user's own account -------------------------------------------------------------

    def authenticate(self, dn: str, password: str) -> LoginResult:
        """Bind as the user, on a connection of its own, and report the ppolicy state."""
        if not password:
            # An empty password would be an anonymous bind that "succeeds".
            return LoginResult(ok=False)
        with self.pool.user_connection("authenticate", dn, password) as (conn, bound):
            return self._dialect.login_result(bound, conn.result)

    def change_own_password(
        self, dn: str, old: str, new: str, *, before: Callable[[LoginResult], None] | None = None
    ) -> None:
        """Change a known password with one bind as the user (`before` judges its outcome)."""
        if not old or not new:
            raise InvalidCredentials() if not old else PasswordRefused(PasswordRefusal.TOO_SHORT)
        with self.pool.user_connection("change_own_password", dn, old) as (conn, bound):
            state = self._dialect.login_result(bound, conn.result)
            if before is not None:
                before(state)
            if bound:
                with logged("change_own_password", dn):
                    return self._dialect.change_own(conn, dn, old, new)
        with logged("change_own_password", dn):
            # The old password could not bind: refused, or sent by the service account.
            self.pool.write(
                "change_own_password", self._dialect.unbound_change(state, dn, old, new)
            )

    def write_recovery(
        self, dn: str, changes: Mapping[RecoveryField, Sequence[RecoveryValue]]
    ) -> None:
        """Replace recovery fields in one modify (an empty list removes the field)."""
        modifications = recovery_modifications(self._config, self._dialect.time_value, changes)
        if not modifications:
            return
        class_added: Changes = {}
        if any(changes.get(name) for name in ("answers", "reminder")):
            object_class = self._config.attributes.recovery_object_class
            present = self.pool.read("write_recovery", lambda conn: self._object_classes(conn, dn))
            if object_class and object_class.lower() not in present:
                class_added = {"objectClass": [(MODIFY_ADD, [object_class])]}
        with logged("write_recovery", dn):
            if class_added and self._dialect.adds_classes_alone:
                self.pool.write(
                    "write_recovery", lambda conn: apply(conn, dn, class_added, "write_recovery")
                )
                class_added = {}
            modifications.update(class_added)
            self.pool.write(
                "write_recovery", lambda conn: apply(conn, dn, modifications, "write_recovery")
            )

    def _object_classes(self, conn: Connection, dn: str) -> set[str]:
        found = self._search(conn, dn, "(objectClass=*)", BASE, ["objectClass"], 1)
        if not found:
            raise DirectoryRefused("write_recovery", f"no entry {dn}")
        return {value.decode().lower() for value in found[0][1].get("objectClass", [])}

    def password_rules(
        self, entry: UserEntry | None, *, base: str | None = None
    ) -> DirectoryPasswordRules | None:
        """The directory's own rules for `entry`, from its policy entry (cached per policy)."""
        return self._policies.rules(entry)

    # -- the helpdesk console --------------------------------------------------------------

    def find_by_attribute(
        self, base: str, attribute: str, value: str, *, limit: int
    ) -> list[UserEntry]:
        """Return up to `limit` entries under `base` whose `attribute` equals `value`."""
        if not value or limit < 1:
            return []
        # The attribute name comes from the configuration, validated there; the value is typed.
        ldap_filter = f"({attribute}={escape_filter_chars(value)})"
        found = self.pool.read(
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
            ldap_filter = people_filter(self._config, query, scope_filter)
            for dn, raw in self._people_under(base, ldap_filter, wanted):
                found.setdefault(dn.lower(), (dn, raw))  # nested bases list an entry once
        page = list(found.values())[offset : offset + limit]
        return [self._entry(dn, raw) for dn, raw in page], len(found) > offset + limit

    def in_group(self, dn: str, group_dn: str) -> bool:
        """Whether `dn` is a member of the group `group_dn`, directly or through nested groups.

        AD answers in one search (its matching rule in chain); OpenLDAP is walked upwards,
        bounded, by memberOf when the overlay is configured, else by the groups' member values.
        """
        if dn_key(dn) is None or dn_key(group_dn) is None:
            return False
        if self._dialect.kind == "ad":
            chain = in_chain_filter(group_dn)
            return self.pool.read(
                "in_group", lambda conn: bool(self._search(conn, dn, chain, BASE, NO_ATTRIBUTES, 1))
            )
        return self.pool.read(
            "in_group", lambda conn: nested_member(self._parents_on(conn), dn, group_dn)
        )

    def _parents_on(self, conn: Connection) -> Parents:
        """The one-level lookup of the nested walk, on one connection."""
        member_of = self._config.member_of_attribute
        if member_of:
            return lambda dns: [
                value.decode()
                for dn in dns
                for _, raw in self._search(conn, dn, "(objectClass=*)", BASE, [member_of], 1)
                for value in raw.get(member_of, [])
            ]
        bases = self._naming_contexts(conn)
        return lambda dns: [
            found
            for base in bases
            for member_filter in member_filters(dns)
            for found, _ in self._search(
                conn, base, member_filter, SUBTREE, NO_ATTRIBUTES, MAX_GROUPS
            )
        ]

    def _naming_contexts(self, conn: Connection) -> list[str]:
        """The server's suffixes, where groups may live wherever the accounts are."""
        if self._contexts is None:
            root = self._search(conn, "", "(objectClass=*)", BASE, ["namingContexts"], 1)
            values = root[0][1].get("namingContexts", []) if root else []
            self._contexts = [v.decode() for v in values] or [self._config.base_dn]
        return self._contexts

    def unlock(self, dn: str) -> None:
        """Clear the account's lock and its count of failed binds."""
        changes = self._dialect.unlock_changes()
        with logged("unlock", dn):
            self.pool.write("unlock", lambda conn: apply(conn, dn, changes, "unlock"))

    def _people_under(
        self, base: str, ldap_filter: str, limit: int
    ) -> list[tuple[str, RawAttributes]]:
        return self.pool.read(
            "search_people",
            lambda conn: self._search(conn, base, ldap_filter, SUBTREE, self._attributes, limit),
        )

    # -- operations ------------------------------------------------------------------------

    def policy_hints_control(self) -> str | None:
        """AD: the policy-hints OID the DC supports; None without (Samba 4.17) or on OpenLDAP."""
        if not isinstance(dialect := self._dialect, ActiveDirectory):
            return None
        return self.pool.read("policy_hints", dialect.resets.policy_hints_oid)

    def ping(self) -> None:
        """Bind as the service account (or prove an open connection still answers)."""
        self.pool.read(
            "ping", lambda conn: self._search(conn, "", "(objectClass=*)", BASE, NO_ATTRIBUTES, 1)
        )

    def read_entries(
        self,
        base: str,
        ldap_filter: str,
        attributes: Sequence[str],
        limit: int,
        *,
        scope: Scope = SUBTREE,
        missing_ok: bool = False,
    ) -> list[tuple[str, dict[str, list[str]]]]:
        """Up to `limit` entries with their values as text, names lower-cased (check-config).

        A missing base is a DirectoryRefused naming it, unless `missing_ok`.
        """
        found = self.pool.read(
            "read_entries",
            lambda conn: self._search(
                conn, base, ldap_filter, scope, list(attributes) or NO_ATTRIBUTES, limit,
                missing_ok=missing_ok,
            ),
        )  # fmt: skip
        return [
            (dn, {name.lower(): [v.decode("utf-8", "replace") for v in raw[name]] for name in raw})
            for dn, raw in found
        ]

    def close(self) -> None:
        """Unbind the pooled connections; the next call reconnects."""
        self.pool.close()

    # -- searches and entries --------------------------------------------------------------

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
        return search(conn, base, ldap_filter, scope, attributes, limit,
                      time_limit=self.pool.time_limit, missing_ok=missing_ok)  # fmt: skip

    def _matching(
        self, conn: Connection, dn: str, queries: list[tuple[str | None, str]]
    ) -> set[str | None]:
        """One BASE search per filter: the ids whose filter holds the entry."""
        return {
            candidate_id
            for candidate_id, ldap_filter in queries
            if self._search(conn, dn, ldap_filter, BASE, NO_ATTRIBUTES, 1)
        }

    def _entry(self, dn: str, raw: RawAttributes) -> UserEntry:
        return user_entry(self._config, dn, raw, self._dialect.password_state)
