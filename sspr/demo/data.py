"""The demo directory's people: one table for the LDIF and for the README."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sspr.demo.slapd import ldif_attr, ssha
from sspr.domain.answers import AnswerHasher

DEMO_PASSWORD = "Demo-Passw0rd!"
# The demo's range server knows these as breached (with made-up counts): each passes every
# other rule of the "region" policy, so the page shows the breach refusal itself.
DEMO_BREACHED = (
    ("Vacances-Bretagne-2016", 1843),
    ("Chocolat-Noir-1990!", 57),
    ("Tournesol&Mistral77", 12),
)
MAIL_DOMAIN = "demo.sspr.test"

DEMO_QUESTIONS: dict[str, str] = {
    "birth_city": "Dans quelle ville êtes-vous né(e) ?",
    "first_pet": "Quel était le nom de votre premier animal de compagnie ?",
    "school": "Quel est le nom de votre premier établissement scolaire ?",
    "mother_maiden": "Quel est le nom de jeune fille de votre mère ?",
}

# `sspr demo` keeps these profiles' accounts in a second directory of their own (a stand-in
# for the agents' Active Directory), under this suffix; the others stay in the first.
AGENT_PROFILES = ("agent-lycee", "agent-siege")
AGENTS_SUFFIX = "dc=agents,dc=example,dc=org"

# Profile id → the organisational unit under ou=people that holds its accounts.
PROFILE_UNITS: dict[str, str] = {
    "usager": "usagers",
    "elu": "elus",
    "agent-lycee": "lycees",
    "agent-siege": "siege",
    "citoyen": "citoyens",
}


@dataclass(frozen=True)
class DemoAccount:
    """One demo user, as seeded and as the README lists it."""

    profile: str
    login: str
    given_name: str
    surname: str
    question_id: str | None
    answer: str | None
    mobile: str | None
    notes: str
    password: str = DEMO_PASSWORD

    @property
    def email(self) -> str:
        """The demo mail address, one per login."""
        return f"{self.login}@{MAIL_DOMAIN}"

    def dn(self, suffix: str) -> str:
        """Where the account lives for its profile."""
        return f"uid={self.login},ou={PROFILE_UNITS[self.profile]},ou=people,{suffix}"


DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount(
        "usager", "jeanne.martin", "Jeanne", "Martin", "birth_city", "Saint-Étienne", None,
        "enrolled; saint-etienne or SAINT-ÉTIENNE match too",
    ),
    DemoAccount(
        "usager", "paul.durand", "Paul", "Durand", None, None, None,
        "no answers at all: not enrolled",
    ),
    DemoAccount(
        "usager", "lucie.bernard", "Lucie", "Bernard", "first_pet", "Médor", None,
        "enrolled with another question",
    ),
    DemoAccount(
        "elu", "claire.petit", "Claire", "Petit", "birth_city", "Bordeaux", "06 12 34 56 78",
        "elected member, with a mobile number",
    ),
    DemoAccount(
        "agent-lycee", "marc.leroy", "Marc", "Leroy", "school", "Lycée Montaigne", "0611223344",
        "school staff, with a mobile number",
    ),
    DemoAccount(
        "agent-siege", "sophie.moreau", "Sophie", "Moreau", "birth_city", "Limoges",
        "07 98 76 54 32", "head-office staff, with a mobile number",
    ),
    DemoAccount(
        "citoyen", "louis.girard", "Louis", "Girard", "school", "Jean Jaurès", None,
        "compte citoyen: a new password by mail, captcha always on",
    ),
]  # fmt: skip


@dataclass(frozen=True)
class DemoStaff:
    """A staff account (outside every profile), with or without the helpdesk console."""

    login: str
    given_name: str
    surname: str
    helpdesk: bool
    notes: str
    password: str = DEMO_PASSWORD

    def dn(self, suffix: str) -> str:
        """Staff live under ou=staff, out of the profiles' reach."""
        return f"uid={self.login},ou=staff,{suffix}"


DEMO_STAFF: list[DemoStaff] = [
    DemoStaff("agent.support", "Alice", "Support", True, "helpdesk agent (cn=helpdesk)"),
    DemoStaff("agent.compta", "Bruno", "Compta", False, "staff without the console"),
]


def helpdesk_group_dn(suffix: str) -> str:
    """The groupOfNames whose members may use the helpdesk console."""
    return f"cn=helpdesk,ou=groups,{suffix}"


def demo_ldif(
    suffix: str,
    hasher: AnswerHasher,
    *,
    profiles: Collection[str] = tuple(PROFILE_UNITS),
    staff: bool = True,
) -> str:
    """Return the LDIF of the units and demo accounts of `profiles`, with the staff and their
    group unless `staff` is false (a second directory holds only its profiles)."""
    units = [
        f"dn: ou={unit},ou=people,{suffix}\nobjectClass: organizationalUnit\nou: {unit}"
        for profile, unit in PROFILE_UNITS.items()
        if profile in profiles
    ]
    accounts = [
        _account_ldif(account, suffix, hasher)
        for account in DEMO_ACCOUNTS
        if account.profile in profiles
    ]
    return "\n\n".join(units + accounts + (_staff_ldif(suffix) if staff else [])) + "\n"


def _staff_ldif(suffix: str) -> list[str]:
    """ou=staff with the staff accounts, ou=groups with the helpdesk group."""
    entries = [
        f"dn: ou={unit},{suffix}\nobjectClass: organizationalUnit\nou: {unit}"
        for unit in ("staff", "groups")
    ]
    for staff in DEMO_STAFF:
        entries.append(
            "\n".join([
                f"dn: {staff.dn(suffix)}", "objectClass: inetOrgPerson", f"uid: {staff.login}",
                ldif_attr("cn", f"{staff.given_name} {staff.surname}"),
                ldif_attr("givenName", staff.given_name), ldif_attr("sn", staff.surname),
                f"mail: {staff.login}@{MAIL_DOMAIN}", f"userPassword: {ssha(staff.password)}",
            ])
        )  # fmt: skip
    members = [f"member: {staff.dn(suffix)}" for staff in DEMO_STAFF if staff.helpdesk]
    group = [f"dn: {helpdesk_group_dn(suffix)}", "objectClass: groupOfNames", "cn: helpdesk"]
    entries.append("\n".join(group + members))
    return entries


def _account_ldif(account: DemoAccount, suffix: str, hasher: AnswerHasher) -> str:
    """One inetOrgPerson + ssprAccount entry; the password is stored as {SSHA}."""
    lines = [
        f"dn: {account.dn(suffix)}",
        "objectClass: inetOrgPerson",
        "objectClass: ssprAccount",
        f"uid: {account.login}",
        ldif_attr("cn", f"{account.given_name} {account.surname}"),
        ldif_attr("givenName", account.given_name),
        ldif_attr("sn", account.surname),
        f"mail: {account.email}",
        f"userPassword: {ssha(account.password)}",
    ]
    if account.mobile:
        lines.append(ldif_attr("mobile", account.mobile))
    if account.question_id and account.answer:
        stored = hasher.store(account.question_id, account.answer).encode()
        lines.append(ldif_attr("ssprRecoveryAnswer", stored))
    return "\n".join(lines)
