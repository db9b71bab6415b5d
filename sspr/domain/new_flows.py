"""What a new reset flow holds: the account's channels and questions, or a decoy's.

A decoy (an unknown, ambiguous or silently not enrolled account) gets questions and masked
contacts derived from the identifier, stable across retries, so that nothing on the pages
tells it from a real account.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from sspr.domain.answers import parse_custom_questions
from sspr.domain.channels import Channel
from sspr.domain.flow import Flow, password_state, registered_questions
from sspr.domain.keys import account_subject, identifier_subject
from sspr.domain.masks import decoy_email, decoy_mobile, reset_email_mask
from sspr.domain.phone import mask_mobile
from sspr.domain.ports import UserEntry
from sspr.domain.settings import DomainSettings, Profile


class NewFlows:
    """Builds the flows `ResetService.start` opens."""

    def __init__(
        self,
        settings: DomainSettings,
        secret: bytes,
        destination: Callable[[str, UserEntry], str | None],
    ) -> None:
        self._settings = settings
        self._secret = secret
        self._destination = destination

    def build(
        self, profile: Profile, identifier: str, subject: str, entry: UserEntry | None, lang: str
    ) -> Flow:
        """A flow not yet saved (its id is the session's, given when it is opened)."""
        if entry is None:
            return Flow(
                id="",
                profile=profile.id,
                subject=subject,
                steps=profile.steps(),
                available=tuple(c for step in profile.steps() for c in step),
                questions=self._decoy_questions(profile, identifier),
                contacts=self._decoy_contacts(profile, identifier),
                lang=lang,
                identifier=identifier,
            )
        return Flow(
            id="",
            profile=profile.id,
            subject=subject,
            steps=profile.steps(),
            available=self.available(entry),
            questions=self._questions_of(entry)[: profile.questions_asked],
            custom_questions=parse_custom_questions(entry.answers),
            contacts=self._contacts(profile, entry),
            dn=entry.dn,
            password_state=password_state(entry),
            policy_dn=entry.policy_dn,
            changed_at=entry.password_changed_at.timestamp() if entry.password_changed_at else None,
            lang=lang,
            identifier=identifier,
        )

    def available(self, entry: UserEntry) -> tuple[str, ...]:
        """The channels on which the account can prove a step."""
        channels = []
        if self._questions_of(entry):
            channels.append(Channel.QUESTION)
        if entry.mails and self._settings.mail_enabled:
            channels.append(Channel.EMAIL)
        if self._settings.sms_region is not None and self._destination(Channel.SMS, entry):
            channels.append(Channel.SMS)
        return tuple(channels)

    def missing_channel(self, profile: Profile, entry: UserEntry) -> str | None:
        """The first step the account cannot prove, as its first channel; None if all can."""
        available = set(self.available(entry))
        for step in profile.steps():
            if not available.intersection(step):
                return Channel.SMS if Channel.SMS in step else step[0]
        return None

    def _contacts(self, profile: Profile, entry: UserEntry) -> dict[str, str]:
        contacts: dict[str, str] = {}
        if entry.mails:
            contacts[Channel.EMAIL] = reset_email_mask(entry.mails[0], profile.mail_domains)
        mobile = self._destination(Channel.SMS, entry) if self._settings.sms_region else None
        if mobile:
            contacts[Channel.SMS] = mask_mobile(mobile, self._settings.region)
        return contacts

    def _decoy_contacts(self, profile: Profile, identifier: str) -> dict[str, str]:
        seed = self._seed("contacts", identifier)
        return {
            Channel.EMAIL: decoy_email(identifier, seed, profile.mail_domains),
            Channel.SMS: decoy_mobile(seed, self._settings.region),
        }

    def _questions_of(self, entry: UserEntry) -> tuple[str, ...]:
        """Registered questions that can be asked: the admin's in order, then the user's own."""
        return registered_questions(self._settings, entry)

    def _decoy_questions(self, profile: Profile, identifier: str) -> tuple[str, ...]:
        """Questions for an unknown account, stable per identifier so retries look real."""
        ids = [q.id for q in self._settings.questions]
        if not ids:
            return ()
        chosen: list[str] = []
        for byte in self._seed(profile.id, identifier):
            candidate = ids[byte % len(ids)]
            if candidate not in chosen:
                chosen.append(candidate)
            if len(chosen) == min(profile.questions_asked, len(ids)):
                break
        return tuple(chosen)

    def _seed(self, purpose: str, identifier: str) -> bytes:
        message = f"{purpose}\0{identifier.casefold()}".encode()
        return hmac.new(self._secret, message, "sha256").digest()

    def subject(self, profile: Profile, identifier: str, entry: UserEntry | None) -> str:
        """The key failed proofs count under: the account's, or the identifier's for a decoy."""
        if entry is not None:
            return account_subject(self._settings.directory_of(entry.dn), entry.dn)
        return identifier_subject(profile.id, identifier)
