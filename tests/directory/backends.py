"""The directories the contract suite runs against, each behind the same small test API.

A backend creates accounts and groups, and changes what only an administrator (or time)
changes: an administrative lock, the age of a password. The routed backend is the router
of several directories, over two in-memory ones. Active Directory plugs in as a
third Backend (see conftest.py) once a Samba DC fixture exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sspr.config import DirectoryConfig
from sspr.demo.slapd import Slapd, SlapdError
from sspr.directory.ldap import LdapDirectory
from sspr.directory.memory import MemoryDirectory
from sspr.directory.memory_policy import MemoryPolicy
from sspr.directory.routing import RoutingDirectory
from sspr.domain.ports import Directory
from tests.clock import FakeClock
from tests.helpers import (
    DEFAULT_PASSWORD,
    FAST_HASHER,
    Account,
    account_ldif,
    add_policy,
    age_password,
    can_bind,
    lock_out,
)

SUFFIX = "dc=example,dc=org"

# The password policies a test may put an account under, for ppolicy and in memory.
POLICIES: dict[str, tuple[dict[str, str], MemoryPolicy]] = {
    # The demo slapd's own "young" policy: the default one with a minimum age of an hour.
    "young": ({}, MemoryPolicy(min_age=3600)),  # (already in the demo slapd)
    "expiring-with-grace": (
        {"pwdMaxAge": "3600", "pwdGraceAuthNLimit": "3", "pwdInHistory": "5"},
        MemoryPolicy(max_age=3600, grace_logins=3, min_length=0, max_failures=0),
    ),
    "expiring-without-grace": (
        {"pwdMaxAge": "3600", "pwdGraceAuthNLimit": "0", "pwdInHistory": "5"},
        MemoryPolicy(max_age=3600, min_length=0, max_failures=0),
    ),
    # Stricter than the default: longer, bounded, a longer history (quality checks on).
    "strict": (
        {"pwdMinLength": "14", "pwdMaxLength": "64", "pwdCheckQuality": "2", "pwdInHistory": "8"},
        MemoryPolicy(min_length=14, max_length=64, in_history=8, max_failures=0),
    ),
}


def policy_dn(suffix: str, name: str) -> str:
    """The DN of one of POLICIES (and of the default policy, "default")."""
    return f"cn={name},ou=policies,{suffix}"


class Backend(Protocol):
    """A directory under test, and what the test may do behind the port's back."""

    name: str
    directory: Directory
    suffix: str

    def account(
        self,
        unit: str = "tests",
        *,
        mail: str | None = None,
        mobile: str | None = None,
        answers: Sequence[bytes] = (),
        policy: str | None = None,
        plain: bool = False,
    ) -> Account:
        """A new account under ou=<unit>,ou=people (plain: no ssprAccount class)."""
        ...

    def group(self, members: Sequence[str], *, dn: str | None = None) -> str:
        """A new groupOfNames with these members (at `dn`, or a fresh one); returns its DN."""
        ...

    def can_bind(self, dn: str, password: str) -> bool:
        """Whether a bind as the user works (a wrong password counts as a failure)."""
        ...

    def lock_until_admin_unlocks(self, dn: str) -> None:
        """Lock as an administrator does (ppolicy's 000001010000Z)."""
        ...

    def lock_by_failures(self, dn: str) -> None:
        """Fail binds until the policy locks the account."""
        ...

    def age_password(self, dn: str, seconds: float) -> None:
        """Make the last password change `seconds` older."""
        ...


def people(suffix: str, unit: str) -> str:
    """The DN of an organisational unit under ou=people."""
    return f"ou={unit},ou=people,{suffix}"


def everyone(backend: Backend) -> str:
    """The base of every account a backend holds (its directory's base_dn)."""
    return f"ou=people,{backend.suffix}"


def group_dn(suffix: str) -> str:
    """A fresh group DN under ou=tests."""
    return f"cn=g-{uuid.uuid4().hex[:10]},{people(suffix, 'tests')}"


def _new_account(suffix: str, unit: str, mail: str | None) -> Account:
    login = f"t-{uuid.uuid4().hex[:10]}"
    return Account(
        dn=f"uid={login},{people(suffix, unit)}",
        login=login,
        password=DEFAULT_PASSWORD,
        mail=mail or f"{login}@tests.sspr.test",
    )


@dataclass
class SlapdBackend:
    """The real slapd of the session, with ppolicy, written to as the service account."""

    slapd: Slapd
    directory: LdapDirectory
    name: str = "slapd"

    @property
    def suffix(self) -> str:
        return self.slapd.suffix

    def account(
        self,
        unit: str = "tests",
        *,
        mail: str | None = None,
        mobile: str | None = None,
        answers: Sequence[bytes] = (),
        policy: str | None = None,
        plain: bool = False,
    ) -> Account:
        self._ensure_unit(unit)
        account = _new_account(self.suffix, unit, mail)
        policy_dn = self._policy(policy) if policy else None
        ldif = account_ldif(account, policy_dn=policy_dn, answers=tuple(answers), mobile=mobile)
        if plain:
            ldif = ldif.replace("objectClass: ssprAccount\n", "")
        self.slapd.add(ldif)
        return account

    def group(self, members: Sequence[str], *, dn: str | None = None) -> str:
        dn = dn or group_dn(self.suffix)
        lines = [f"dn: {dn}", "objectClass: groupOfNames", f"cn: {dn[3:16]}"]
        self.slapd.add("\n".join([*lines, *(f"member: {m}" for m in members)]) + "\n")
        return dn

    def can_bind(self, dn: str, password: str) -> bool:
        return can_bind(self.slapd.url, dn, password)

    def lock_by_failures(self, dn: str) -> None:
        lock_out(self.slapd, dn)  # five failures, more if two shared a timestamp

    def lock_until_admin_unlocks(self, dn: str) -> None:
        self.slapd.modify(
            f"dn: {dn}\nchangetype: modify\n"
            "replace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"
        )

    def age_password(self, dn: str, seconds: float) -> None:
        age_password(self.slapd, dn, seconds)

    def _ensure_unit(self, unit: str) -> None:
        dn = people(self.suffix, unit)
        self._add_once(f"dn: {dn}\nobjectClass: organizationalUnit\nou: {unit}\n")

    def _policy(self, name: str) -> str:
        add_policy(self.slapd, name, **POLICIES[name][0])
        return policy_dn(self.suffix, name)

    def _add_once(self, ldif: str) -> None:
        """Add an entry the session slapd may hold already (the demo's, an earlier test's)."""
        try:
            self.slapd.add(ldif)
        except SlapdError as error:
            if "Already exists (68)" not in str(error):
                raise


@dataclass
class MemoryBackend:
    """The in-memory directory, on a fake clock."""

    directory: MemoryDirectory
    clock: FakeClock
    name: str = "memory"
    suffix: str = SUFFIX

    def account(
        self,
        unit: str = "tests",
        *,
        mail: str | None = None,
        mobile: str | None = None,
        answers: Sequence[bytes] = (),
        policy: str | None = None,
        plain: bool = False,
    ) -> Account:
        account = _new_account(self.suffix, unit, mail)
        attributes: dict[str, list[str] | list[bytes]] = {
            "objectClass": ["inetOrgPerson", *([] if plain else ["ssprAccount"])],
            "uid": [account.login],
            "cn": [f"Test {account.login}"],
            "givenName": ["Test"],
            "sn": [account.login],
            "mail": [account.mail],
            "ssprRecoveryAnswer": list(answers),
            "mobile": [mobile] if mobile else [],
            "pwdPolicySubentry": [policy_dn(self.suffix, policy)] if policy else [],
        }
        chosen = POLICIES[policy][1] if policy else None
        self.directory.add(account.dn, attributes, password=account.password, policy=chosen)
        return account

    def group(self, members: Sequence[str], *, dn: str | None = None) -> str:
        dn = dn or group_dn(self.suffix)
        self.directory.add(dn, {"objectClass": ["groupOfNames"], "member": list(members)})
        return dn

    def can_bind(self, dn: str, password: str) -> bool:
        return self.directory.authenticate(dn, password).ok

    def lock_by_failures(self, dn: str) -> None:
        for _ in range(5):
            self.directory.authenticate(dn, "wrong password")

    def lock_until_admin_unlocks(self, dn: str) -> None:
        self.directory.lock_until_admin_unlocks(dn)

    def age_password(self, dn: str, seconds: float) -> None:
        self.directory.age_password(dn, seconds)


# The second directory of the routed backend: accounts of its own, under another suffix.
OTHER_SUFFIX = "dc=agents,dc=example,dc=org"


@dataclass
class RoutedBackend:
    """A router over two in-memory directories; the test's accounts live in the first."""

    inner: MemoryBackend
    other: MemoryDirectory
    directory: RoutingDirectory
    name: str = "routed"
    suffix: str = SUFFIX

    @classmethod
    def over_memory(cls, clock: FakeClock) -> RoutedBackend:
        first = MemoryDirectory(memory_config(), clock=clock)
        other = MemoryDirectory(memory_config(OTHER_SUFFIX), clock=clock)
        bases = [("first", f"ou=people,{SUFFIX}"), ("other", f"ou=people,{OTHER_SUFFIX}")]
        router = RoutingDirectory({"first": first, "other": other}, bases)
        return cls(MemoryBackend(first, clock), other, router)

    def account(
        self,
        unit: str = "tests",
        *,
        mail: str | None = None,
        mobile: str | None = None,
        answers: Sequence[bytes] = (),
        policy: str | None = None,
        plain: bool = False,
    ) -> Account:
        return self.inner.account(
            unit, mail=mail, mobile=mobile, answers=answers, policy=policy, plain=plain
        )

    def group(self, members: Sequence[str], *, dn: str | None = None) -> str:
        return self.inner.group(members, dn=dn)

    def can_bind(self, dn: str, password: str) -> bool:
        return self.directory.authenticate(dn, password).ok

    def lock_by_failures(self, dn: str) -> None:
        self.inner.lock_by_failures(dn)

    def lock_until_admin_unlocks(self, dn: str) -> None:
        self.inner.lock_until_admin_unlocks(dn)

    def age_password(self, dn: str, seconds: float) -> None:
        self.inner.age_password(dn, seconds)


def memory_config(suffix: str = SUFFIX) -> DirectoryConfig:
    """The in-memory directory's configuration: the demo's attribute names."""
    return DirectoryConfig(
        urls=["ldap://memory.invalid"],
        bind_dn=f"cn=sspr,{suffix}",
        base_dn=f"ou=people,{suffix}",
        default_policy_dn=policy_dn(suffix, "default"),
    )


def answer(question: str = "birth_city", text: str = "Bordeaux") -> bytes:
    """A stored answer as the directory holds it."""
    return FAST_HASHER.store(question, text).encode()


def fail_binds(backend: Backend, dn: str, times: int) -> None:
    """Bind with a wrong password `times` times."""
    for _ in range(times):
        assert not backend.can_bind(dn, "wrong password")
