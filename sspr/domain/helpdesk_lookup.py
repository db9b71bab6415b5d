"""What the helpdesk console reads: searches, an account's summary, the audit trail."""

from __future__ import annotations

from sspr.domain.audit import AuditLog
from sspr.domain.audit_trail import Event, recent_events
from sspr.domain.channels import CODE_CHANNELS, Channel
from sspr.domain.errors import OutOfScope
from sspr.domain.flow import registered_questions
from sspr.domain.helpdesk_model import (
    MAX_RESULTS,
    SEARCH_MAX,
    SEARCH_MIN,
    Found,
    SearchPage,
    UserSummary,
)
from sspr.domain.masks import mask_email
from sspr.domain.phone import first_mobile, mask_mobile
from sspr.domain.ports import Directory, UserEntry
from sspr.domain.reset import ResetService
from sspr.domain.settings import DomainSettings, HelpdeskRules, Profile


class AccountLookup:
    """The console's reads, within the configured profiles only."""

    def __init__(
        self,
        settings: DomainSettings,
        config: HelpdeskRules,
        directory: Directory,
        reset: ResetService,
        audit: AuditLog,
    ) -> None:
        self._settings = settings
        self._config = config
        self._directory = directory
        self._reset = reset
        self._audit = audit

    def search(self, query: str, page: int = 0) -> SearchPage:
        """Accounts of the profiles whose login, mail or name contains the query."""
        query = query.strip()[:SEARCH_MAX]
        if len(query) < SEARCH_MIN:
            return SearchPage(query, (), 0, False)
        size = self._config.page_size
        page = min(max(page, 0), MAX_RESULTS // size - 1)
        scopes = [(profile.base, profile.filter) for profile in self._settings.profiles]
        entries, more = self._directory.search_people(query, scopes, offset=page * size, limit=size)
        capped = more and (page + 1) * size >= MAX_RESULTS
        found = tuple(Found(entry, self._profiles_of(entry.dn)) for entry in entries)
        return SearchPage(query, found, page, more and not capped, capped)

    def summary(self, dn: str) -> UserSummary:
        """The account as an agent sees it; OutOfScope outside the configured profiles."""
        # Membership first: it reads a DN outside every base (or no DN at all) without LDAP.
        profiles = self._profiles_of(dn) if dn else ()
        entry = self._directory.read_user(dn) if profiles else None
        if entry is None:
            raise OutOfScope(dn)
        mobile = self.mobile(entry)
        profile = self._settings.profile(profiles[0]) if len(profiles) == 1 else None
        return UserSummary(
            entry=entry,
            profiles=profiles,
            question_count=len(registered_questions(self._settings, entry)),
            mobile=mask_mobile(mobile, self._region()) if mobile else "",
            email=mask_email(entry.mails[0]) if entry.mails else "",
            proof_block=self._reset.proof_block(entry.dn),
            reset_channels=self._reset_channels(profile, entry) if profile else (),
            identity_channels=self._identity_channels(entry),
        )

    def events(self, *, user: str = "", event: str = "", limit: int = 100) -> list[Event]:
        """The latest audit events of every host, filtered."""
        return recent_events(self._audit.newest(), user=user, event=event, limit=limit)

    def _profiles_of(self, dn: str) -> tuple[str, ...]:
        candidates = [(p.id, p.base, p.filter) for p in self._settings.profiles]
        matched = self._directory.memberships(dn, candidates)
        return tuple(p.id for p in self._settings.profiles if p.id in matched)

    def _reset_channels(self, profile: Profile, entry: UserEntry) -> tuple[str, ...]:
        """The code channels of the profile's first step that can reach this account."""
        usable = self._identity_channels(entry)
        first = profile.steps()[0]
        return tuple(channel for channel in first if channel in CODE_CHANNELS and channel in usable)

    def _identity_channels(self, entry: UserEntry) -> tuple[str, ...]:
        channels = []
        if self._settings.sms_region is not None and self.mobile(entry):
            channels.append(Channel.SMS)
        if self._settings.mail_enabled and entry.mails:
            channels.append(Channel.EMAIL)
        return tuple(channels)

    def masked(self, entry: UserEntry, channel: str) -> str:
        """The account's destination on `channel`, as an agent may see it."""
        if channel == Channel.EMAIL:
            return mask_email(entry.mails[0])
        mobile = self.mobile(entry)
        return mask_mobile(mobile, self._region()) if mobile else ""

    def mobile(self, entry: UserEntry) -> str | None:
        """The account's first usable mobile, if any."""
        return first_mobile(list(entry.mobiles), self._region())

    def _region(self) -> str:
        return self._settings.region
