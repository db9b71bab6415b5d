"""`sspr explain`: what the reset pages would do with an identifier, told to an administrator.

It asks the directory what identification asks, profile by profile, and says which page
the user would see and why. Contacts are masked and answers only counted: the report is
read by support staff and may be pasted into a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.flow import registered_questions
from sspr.domain.flow_codes import code_destination
from sspr.domain.masks import mask_email
from sspr.domain.new_flows import NewFlows
from sspr.domain.phone import first_mobile, mask_mobile
from sspr.domain.ports import Directory, IdentifierKind, UserEntry
from sspr.domain.settings import DomainSettings, Profile

# Entries listed for one identifier: more is a directory to clean, not a list to read.
MATCH_CAP = 10
EVERYTHING = "(objectClass=*)"
DECOY = "neutral page (decoy: looks like a real account, nothing is sent)"


@dataclass(frozen=True)
class Enrolment:
    """What an account has to prove itself with, without any value."""

    questions: tuple[str, ...]
    answers: int
    mails: tuple[str, ...]
    mobiles: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """One entry the identifier names (without its recovery values), and its profiles."""

    entry: UserEntry
    profiles: tuple[str, ...]
    not_in: dict[str, str]
    channels: tuple[str, ...]
    enrolment: Enrolment
    # The name of the directory that holds the entry, when there are several.
    directory: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The page a user typing the identifier on one profile's form would see."""

    profile: str
    page: str
    why: str


@dataclass(frozen=True)
class Explanation:
    """Every entry the identifier matches, and each profile's verdict."""

    identifier: str
    matches: tuple[Match, ...]
    more: bool
    verdicts: tuple[Verdict, ...]


class Explainer:
    """Runs identification as the reset pages do, and says what happened at each step."""

    def __init__(self, settings: DomainSettings, directory: Directory, audit: AuditLog) -> None:
        self._settings = settings
        self._directory = directory
        self._audit = audit
        self._flows = NewFlows(settings, b"", lambda c, e: code_destination(settings, c, e))

    def explain(self, identifier: str, *, profile_id: str | None, agent: str) -> Explanation:
        """Explain `identifier` on one profile, or on all; audited as `admin.explain`."""
        identifier = identifier.strip()
        profiles = [p for p in self._settings.profiles if profile_id in (None, p.id)]
        kinds = list(dict.fromkeys(k for p in profiles for k in p.identifier))
        found = self._find_everywhere(profiles, kinds, identifier)
        matches = tuple(self._match(entry) for entry in found[:MATCH_CAP])
        verdicts = tuple(self._verdict(p, identifier) for p in profiles)
        self._audit.record(
            AuditEvent.ADMIN_EXPLAIN, Outcome.SUCCESS if matches else Outcome.NO_ACCOUNT,
            agent=agent, profile=profile_id,
            user_dn=matches[0].entry.dn if len(matches) == 1 else None, matches=len(found),
        )  # fmt: skip
        return Explanation(identifier, matches, len(found) > MATCH_CAP, verdicts)

    def _find_everywhere(
        self, profiles: list[Profile], kinds: list[IdentifierKind], identifier: str
    ) -> list[UserEntry]:
        """The entries under the whole of each directory the profiles use, not only their
        bases: an account outside every profile is what an admin wants to see."""
        used = {p.directory for p in profiles}
        found: list[UserEntry] = []
        for name, base_dn in self._settings.directories:
            if name in used and len(found) <= MATCH_CAP:
                left = MATCH_CAP + 1 - len(found)
                found += self._directory.find_users(base_dn, kinds, identifier, limit=left)
        return found

    def _match(self, entry: UserEntry) -> Match:
        held = self._directory.memberships(entry.dn, self._settings.membership_candidates())
        in_base = self._directory.memberships(
            entry.dn, [(p.id, p.base, EVERYTHING) for p in self._settings.profiles]
        )
        not_in = {
            p.id: f"the filter {p.filter} does not match"
            if p.id in in_base
            else f"outside the base {p.base}"
            for p in self._settings.profiles
            if p.id not in held
        }
        ordered = tuple(p.id for p in self._settings.profiles if p.id in held)
        # The report keeps the entry's state, never its recovery values: they are counted
        # and masked in `enrolment`, and nothing unmasked can reach the output.
        stripped = replace(entry, mails=(), mobiles=(), answers=())
        channels = self._flows.available(entry)
        several = len(self._settings.directories) > 1
        directory = self._settings.directory_of(entry.dn) if several else None
        return Match(stripped, ordered, not_in, channels, self._enrolment(entry), directory)

    def _enrolment(self, entry: UserEntry) -> Enrolment:
        region = self._settings.region
        mobiles = []
        for value in entry.mobiles:
            number = first_mobile([value], region)
            mobiles.append(mask_mobile(number, region) if number else "(not a usable mobile)")
        return Enrolment(
            questions=registered_questions(self._settings, entry),
            answers=len(entry.answers),
            mails=tuple(mask_email(mail) for mail in entry.mails),
            mobiles=tuple(mobiles),
        )

    def _verdict(self, profile: Profile, identifier: str) -> Verdict:
        """The reset service's identification, step by step (see ResetService.identify)."""
        decoy = DECOY
        # The same search as the reset's: with the filter when the profile stands apart.
        within = profile.filter if self._settings.apart(profile) else None
        entries = self._directory.find_users(
            profile.base, profile.identifier, identifier, limit=2, within=within
        )
        if not entries:
            kinds = " or ".join(profile.identifier)
            matching = f" and matches {within}" if within else ""
            why = f"no account under {profile.base} has this {kinds}{matching}"
            return Verdict(profile.id, decoy, why)
        if len(entries) > 1:
            return Verdict(profile.id, decoy, "several accounts match: none is chosen")
        entry = entries[0]
        held = self._directory.memberships(entry.dn, self._settings.membership_candidates())
        if profile.id not in held:
            return Verdict(profile.id, decoy, f"{entry.dn} is not in this profile")
        if len(held) > 1:
            others = ", ".join(sorted(held - {profile.id}))
            return Verdict(profile.id, decoy, f"{entry.dn} is also in profile(s) {others}")
        missing = self._flows.missing_channel(profile, entry)
        if missing is not None:
            if profile.not_enrolled.explicit:
                return Verdict(profile.id, "not-enrolled text", f"nothing enrolled for {missing}")
            why = f"nothing enrolled for {missing}, and not_enrolled.explicit is off"
            return Verdict(profile.id, decoy, why)
        return Verdict(profile.id, self._first_page(profile, entry), f"{entry.dn}, enrolled")

    def _first_page(self, profile: Profile, entry: UserEntry) -> str:
        step = profile.steps()[0]
        if len(step) > 1:
            return f"channel choice ({' or '.join(step)})"
        if step[0] == "question":
            return "question page"
        destination = code_destination(self._settings, step[0], entry) or ""
        masked = (
            mask_email(destination)
            if step[0] == "email"
            else mask_mobile(destination, self._settings.region)
        )
        return f"code page (a code by {step[0]} to {masked})"


def when(moment: datetime | None) -> str:
    """A time for the report, in UTC, or a dash."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
