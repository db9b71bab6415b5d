"""How long each LdapDirectory operation takes against a real slapd on the loopback.

Run: .venv/bin/python -m bench.directory
Starts its own slapd (Debian's package, ppolicy on) in a temporary folder, seeded with the demo
accounts, and stops it at the end. Prints the median and p95 of N calls per operation, and
the cost of a first connection (TCP, bind as the service account, first search).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sspr.config import Settings
from sspr.demo.data import DEMO_PASSWORD, DEMO_STAFF, demo_ldif, helpdesk_group_dn
from sspr.demo.run import demo_settings
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import AnswerHasher

N = 300
CONNECTS = 50
# Answers are not verified here: the cheapest cost keeps the seeding quick.
SEED_HASHER = AnswerHasher(time_cost=1, memory_kib=8192, parallelism=1)


def timings(operation: Callable[[int], object], rounds: int = N) -> list[float]:
    """Milliseconds per call of `operation(i)`."""
    spent = []
    for i in range(rounds):
        start = time.perf_counter()
        operation(i)
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def first_connects(settings: Settings, password: str) -> list[float]:
    """A fresh LdapDirectory each round: connect, bind, and one search (ping)."""

    def connect(i: int) -> None:
        directory = LdapDirectory(settings.directory, password)
        directory.ping()
        directory.close()

    return timings(connect, CONNECTS)


def operations(settings: Settings, slapd: Slapd) -> list[tuple[str, list[float]]]:
    """Time each Directory operation on one kept-open connection, as a worker does."""
    directory = LdapDirectory(settings.directory, slapd.service_password)
    usagers = f"ou=usagers,ou=people,{slapd.suffix}"
    jeanne = f"uid=jeanne.martin,{usagers}"
    lucie = f"uid=lucie.bernard,ou=usagers,ou=people,{slapd.suffix}"
    candidates = [(p.id, p.base, p.filter) for p in settings.profiles]
    agent, compta, helpdesk = nested_groups(slapd)
    directory.ping()  # the connection is open before timing starts
    # The directory's own policy: from the cache, and read every time (a TTL of 0).
    entry = directory.read_user(jeanne)
    uncached_config = settings.directory.model_copy(update={"policy_cache_seconds": 0})
    uncached = LdapDirectory(uncached_config, slapd.service_password)
    uncached.ping()
    calls: list[tuple[str, Callable[[int], object]]] = [
        (
            "find_users",
            lambda i: directory.find_users(usagers, ["login"], "jeanne.martin", limit=2),
        ),
        ("memberships", lambda i: directory.memberships(jeanne, candidates)),
        ("read_user", lambda i: directory.read_user(jeanne)),
        (
            "is_current_password (yes)",
            lambda i: directory.is_current_password(jeanne, DEMO_PASSWORD),
        ),
        ("is_current_password (no)", lambda i: directory.is_current_password(jeanne, f"No-{i}!")),
        ("in_group (direct member)", lambda i: directory.in_group(agent, helpdesk)),
        ("in_group (3 levels deep)", lambda i: directory.in_group(compta, helpdesk)),
        ("in_group (not a member)", lambda i: directory.in_group(jeanne, helpdesk)),
        # A new password each time: ppolicy keeps a history of 5.
        ("set_password", lambda i: directory.set_password(lucie, f"Bench-{i:04d}-Passw0rd!")),
        ("password_rules (cached)", lambda i: directory.password_rules(entry)),
        ("password_rules (read)", lambda i: uncached.password_rules(entry)),
    ]
    try:
        return [(name, timings(call)) for name, call in calls]
    finally:
        directory.close()
        uncached.close()


def nested_groups(slapd: Slapd) -> tuple[str, str, str]:
    """The demo agent (a direct member), and a staff member three groups below cn=helpdesk."""
    agent, compta = (staff.dn(slapd.suffix) for staff in DEMO_STAFF)
    helpdesk = helpdesk_group_dn(slapd.suffix)
    member = compta
    for name in ("team", "service", "direction"):
        dn = f"cn={name},ou=groups,{slapd.suffix}"
        slapd.add(f"dn: {dn}\nobjectClass: groupOfNames\ncn: {name}\nmember: {member}\n")
        member = dn
    slapd.modify(f"dn: {helpdesk}\nchangetype: modify\nadd: member\nmember: {member}\n")
    return agent, compta, helpdesk


def p95(values: list[float]) -> float:
    """The 95th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    """Print one row per operation."""
    with tempfile.TemporaryDirectory(prefix="sspr-bench-") as tmp:
        workdir = Path(tmp)
        slapd = Slapd(workdir / "slapd")
        try:
            slapd.start(demo_ldif(slapd.suffix, SEED_HASHER))
            settings = demo_settings(slapd, workdir, "http://127.0.0.1:8080")
            rows = [
                ("first connect + bind + search", first_connects(settings, slapd.service_password))
            ]
            rows += operations(settings, slapd)
        finally:
            slapd.stop()
    print(f"LdapDirectory against a local slapd (ppolicy on); {N} calls each, {CONNECTS} connects")
    print(f"{'operation':<32} {'calls':>6} {'median ms':>10} {'p95 ms':>8}")
    for name, spent in rows:
        print(f"{name:<32} {len(spent):>6} {statistics.median(spent):>10.2f} {p95(spent):>8.2f}")


if __name__ == "__main__":
    main()
