"""The codes of a reset flow: sent to the account's address or mobile, or rehearsed for a decoy."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sspr.domain.audit import AuditEvent, AuditLog, Outcome
from sspr.domain.channels import Channel
from sspr.domain.codes import CodePolicy, CodeService
from sspr.domain.errors import DeliveryFailed, TooManySends
from sspr.domain.flow import Collaborators, Flow
from sspr.domain.notify import Notifier
from sspr.domain.phone import first_mobile
from sspr.domain.ports import UserEntry
from sspr.domain.sessions import fingerprint
from sspr.domain.settings import DomainSettings


class FlowCodes:
    """Issues a flow's codes; each send is audited, and decoys cost what a real send costs."""

    def __init__(
        self,
        settings: DomainSettings,
        parts: Collaborators,
        code_policies: Mapping[str, CodePolicy],
    ) -> None:
        self._settings = settings
        self._audit: AuditLog = parts.audit
        self._codes: CodeService = parts.codes
        self._notifier: Notifier = parts.notifier
        self._code_policies = code_policies

    def send(self, flow: Flow, entry: UserEntry | None) -> None:
        """Issue a code on the flow's channel: to the account, or nowhere for a decoy."""
        policy = self._code_policies[flow.channel]
        destination = self.destination(flow.channel, entry) if entry else None
        if destination is None:
            # A decoy: a code is issued, so limits and cooldowns behave alike, and the same
            # message is built and handed over up to the point of no return, never sent: the
            # work is the same by construction, so the time taken tells nothing.
            destination = flow.identifier.casefold()
            deliver = self._deliverer(flow, self._decoy_destination(flow), policy, rehearsal=True)
        else:
            deliver = self._deliverer(flow, destination, policy)
        try:
            self._codes.issue(
                subject=flow.subject, channel=flow.channel, destination=destination,
                password_state=flow.password_state, policy=policy, deliver=deliver,
            )  # fmt: skip
        except DeliveryFailed as failed:
            self._audit.record(
                AuditEvent.CODE_SENT, Outcome.FAILURE, user_dn=flow.dn, profile=flow.profile,
                channel=flow.channel, cause=failed.reason,
            )  # fmt: skip
            raise
        except TooManySends:
            self._audit.record(
                AuditEvent.RATELIMIT_HIT, Outcome.FAILURE, user_dn=flow.dn, profile=flow.profile,
                channel=flow.channel, cause="destination",
            )  # fmt: skip
            raise
        self._audit.record(
            AuditEvent.CODE_SENT, Outcome.SUCCESS, user_dn=flow.dn, profile=flow.profile,
            channel=flow.channel,
        )  # fmt: skip

    def _deliverer(
        self, flow: Flow, destination: str, policy: CodePolicy, *, rehearsal: bool = False
    ) -> Callable[[str], None]:
        minutes = max(1, int(policy.ttl // 60))

        def deliver(code: str) -> None:
            if flow.channel == Channel.SMS:
                self._notifier.sms_code(to=destination, lang=flow.lang, code=code,
                                        minutes=minutes, rehearsal=rehearsal)  # fmt: skip
                return
            reference = self._codes.make_link(
                target=fingerprint(flow.id), subject=flow.subject, channel=flow.channel,
                code=code, ttl=policy.ttl,
            )  # fmt: skip
            link = f"{self._settings.public_url}/reset/link/{reference}"
            self._notifier.email_code(
                to=destination, profile=flow.profile, lang=flow.lang, code=code, link=link,
                minutes=minutes, rehearsal=rehearsal,
            )  # fmt: skip

        return deliver

    @staticmethod
    def _decoy_destination(flow: Flow) -> str:
        """The To of a decoy's rehearsed message, shaped like a real one (never delivered)."""
        identifier = flow.identifier.strip()
        if flow.channel == Channel.SMS or "@" in identifier:
            return identifier
        # RFC 2606's reserved top-level domain: an address that can never be delivered.
        return f"{identifier}@mail.invalid"

    def destination(self, channel: str, entry: UserEntry) -> str | None:
        """Where the account receives codes on `channel`, if anywhere."""
        return code_destination(self._settings, channel, entry)


def code_destination(settings: DomainSettings, channel: str, entry: UserEntry) -> str | None:
    """Where an account receives codes on `channel`: its first mail, its first usable mobile."""
    if channel == Channel.EMAIL:
        return entry.mails[0] if entry.mails else None
    return first_mobile(list(entry.mobiles), settings.region)
