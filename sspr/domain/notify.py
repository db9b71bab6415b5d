"""What the domain asks to be told to users; the web layer renders and sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.errors import DeliveryFailed, StoreUnavailable
from sspr.domain.ports import UserEntry


class Notifier(Protocol):
    """Messages to users, rendered in their language from the configured templates."""

    def email_code(
        self,
        *,
        to: str,
        profile: str,
        lang: str,
        code: str,
        link: str,
        minutes: int,
        rehearsal: bool = False,
    ) -> None:
        """Mail a code and its link; raise DeliveryFailed when it cannot.

        A rehearsal (flows of no account) does the same work up to the point of no return
        and sends nothing, so its time and failures are those of a send.
        """
        ...

    def sms_code(
        self, *, to: str, lang: str, code: str, minutes: int, rehearsal: bool = False
    ) -> None:
        """Text a code (or rehearse it, as email_code does); raise DeliveryFailed if it cannot."""
        ...

    def password_changed(self, *, entry: UserEntry, profile: str, lang: str) -> None:
        """Tell the account's owner that its password changed (never the password)."""
        ...

    def temporary_password(
        self, *, entry: UserEntry, profile: str, lang: str, password: str
    ) -> None:
        """Mail a generated password that must be changed at the next login."""
        ...

    def contact_code(self, *, to: str, profile: str, lang: str, code: str, minutes: int) -> None:
        """Mail a code that confirms a new address (no link: the user is logged in)."""
        ...

    def email_changed(self, *, to: str, profile: str, lang: str, login: str, new: str) -> None:
        """Warn the old address that the account's address changed."""
        ...

    def personal_data_changed(self, *, to: str, profile: str, lang: str, login: str) -> None:
        """Confirm a change of personal data (the DGFiP portal's wording)."""
        ...

    def identity_code(
        self, *, to: str, channel: str, profile: str, lang: str, code: str, minutes: int
    ) -> None:
        """Send the code a caller reads out to a helpdesk agent; raise DeliveryFailed if not."""
        ...


def notify_after_write(
    audit: AuditLog, kind: str, send: Callable[[], None], **fields: str | None
) -> None:
    """Send a notice about a change already written, and audit how it went.

    The change stands whatever happens: a failed notice is recorded, never raised, so the user
    is told the truth about the change and the trail says who was not told.
    """
    try:
        send()
    except (DeliveryFailed, StoreUnavailable) as failed:
        audit.record(
            AuditEvent.NOTIFICATION_SENT, Outcome.FAILURE, cause=f"{kind}: {failed}", **fields,
        )  # fmt: skip
    # A success is recorded by whoever hands the mail over: the outbox, once it is sent.
