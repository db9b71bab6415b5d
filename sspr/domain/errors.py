"""Every error the domain raises on purpose, in one hierarchy the web layer maps to pages.

- `Unavailable`: something sspr depends on does not answer (an error page, 503).
- `Blocked`: too many attempts; the user must wait `retry_after` seconds (the block page):
  `AccountBlocked` after failed proofs, `SourceLimited` for a network address.
- `FlowGone`: the reset flow expired or a step came out of order (start again).
- `Refusal`: the request was understood and refused; the form says why. Two are the
  directory's own: `DirectoryRefused` (rights, schema: logged, an error page) and
  `PartialWrite` (a change written but its follow-up refused: the domain reports it).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sspr.domain.channels import Channel

if TYPE_CHECKING:
    from sspr.domain.policy import Assessment, Rule


class SsprError(Exception):
    """Base class of every error the domain raises on purpose."""


# -- outages -------------------------------------------------------------------------------


class Unavailable(SsprError):
    """A service sspr depends on does not answer."""


class DirectoryUnavailable(Unavailable):
    """No configured directory server answered in time."""


class StoreUnavailable(Unavailable):
    """The shared store (SQLite file or Redis) failed or did not answer in time.

    The message names the backend and the kind of failure, never a URL (it may hold a password).
    """


class RangeUnavailable(Unavailable):
    """The breached-password range service did not answer in time, or answered nonsense.

    BreachCheck turns it into a verdict (allow or block, as configured): it never reaches a
    view.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- blocks --------------------------------------------------------------------------------


class Blocked(SsprError):
    """Too many attempts: nothing more is tried for `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class AccountBlocked(Blocked):
    """The account (or the identifier) is blocked after too many failed proofs."""


class SourceLimited(Blocked):
    """Too many requests of one area came from this network address (an IPv6 /64)."""

    def __init__(self, retry_after: float, area: str) -> None:
        super().__init__(retry_after)
        self.area = area


# -- the reset flow ------------------------------------------------------------------------


class FlowGone(SsprError):
    """The reset flow cannot go on from here: the user starts again."""


class FlowExpired(FlowGone):
    """The reset flow is unknown, finished, expired or its proof no longer holds."""


class StepNotAllowed(FlowGone):
    """A step was requested before the steps it depends on were completed."""


# -- refusals: the form says why -----------------------------------------------------------


class Refusal(SsprError):
    """A request understood and refused; the page shows why on its form."""


class DirectoryRefused(Refusal):
    """The directory answered and refused an operation (schema, rights): not an outage.

    No form describes it: the application's handler logs it and shows the error page.
    Retrying elsewhere would be refused alike. `detail` is the server's text, for the log;
    it never holds a secret.
    """

    def __init__(self, operation: str, detail: str) -> None:
        super().__init__(f"{operation}: {detail}")
        self.operation = operation
        self.detail = detail


class PartialWrite(Refusal):
    """The main change is written but the directory refused its follow-up: a new state.

    A password write followed by a failed must-change flag, for instance: the password did
    change, and the user must be told so.
    """

    def __init__(self, written: str, not_written: str, detail: str) -> None:
        super().__init__(f"{written} written, {not_written} not: {detail}")
        self.written = written
        self.not_written = not_written
        self.detail = detail


class PasswordRefusal(enum.Enum):
    """Why the directory refused a password write (ppolicy error or AD code)."""

    TOO_SHORT = "too_short"
    IN_HISTORY = "in_history"
    QUALITY = "quality"
    # AD's 0000052D when the DC does not say which rule failed (Windows never does).
    POLICY = "policy"
    TOO_YOUNG = "too_young"
    LOCKED = "locked"
    NOT_ALLOWED = "not_allowed"
    OTHER = "other"


class PasswordRefused(Refusal):
    """The directory refused the new password; nothing was written."""

    def __init__(self, reason: PasswordRefusal, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class CurrentPassword(PasswordRefused):
    """The new password is the current one: the directory would not write it."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(PasswordRefusal.IN_HISTORY, detail)


class PolicyViolations(Refusal):
    """The new password breaks one or more rules; all of them are listed, and whether the
    confirmation differs too (so the user learns every problem at once)."""

    def __init__(
        self,
        failed: Sequence[Rule],
        assessment: Assessment | None = None,
        *,
        mismatch: bool = False,
    ) -> None:
        super().__init__(", ".join(rule.code for rule in failed))
        self.failed = tuple(failed)
        # The measures the page shows again (CNIL bits, zxcvbn's feedback), when known.
        self.assessment = assessment
        self.mismatch = mismatch


class PasswordMismatch(Refusal):
    """The password and its confirmation differ."""


class WrongAnswer(Refusal):
    """At least one security answer was wrong."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"{attempts_left} attempts left")
        self.attempts_left = attempts_left


class NotEnrolled(Refusal):
    """The account cannot prove a step, and the profile says so openly."""

    def __init__(self, profile_id: str, channel: str = Channel.QUESTION) -> None:
        super().__init__(f"{profile_id}: {channel}")
        self.profile_id = profile_id
        self.channel = channel


class InvalidCredentials(Refusal):
    """The identifier or the password is wrong (never said which)."""


class AccountUnusable(Refusal):
    """The account is disabled or expired in the directory: no password lets it log in."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why  # "disabled" or "expired"


class AnswerProblems(Refusal):
    """Some answers cannot be registered: (position, problem code) for each."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        super().__init__(", ".join(f"{i}:{code}" for i, code in problems))
        self.problems = tuple(problems)


class InvalidContact(Refusal):
    """A new mobile number or email address that cannot be used."""


# -- codes ---------------------------------------------------------------------------------


class CodeInvalid(Refusal):
    """The code typed is wrong; `attempts_left` more tries before it dies."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"{attempts_left} attempts left")
        self.attempts_left = attempts_left


class CodeMalformed(Refusal):
    """What was typed cannot be a code of this channel (length or characters): no try used."""

    def __init__(self, length: int, digits_only: bool) -> None:
        super().__init__(f"a code has {length} {'digits' if digits_only else 'characters'}")
        self.length = length
        self.digits_only = digits_only


class CodeExpired(Refusal):
    """No live code: absent, expired, used, revoked, out of tries, or the password changed.

    `reason` is one of "expired", "attempts", "revoked", "used", "password_changed".
    """

    def __init__(self, reason: str = "expired") -> None:
        super().__init__(reason)
        self.reason = reason


class ResendTooSoon(Refusal):
    """A code was sent less than the cooldown ago."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class TooManySends(Refusal):
    """The destination has received its hourly quota of codes."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class DeliveryFailed(Refusal):
    """The mail or SMS could not be handed over; `reason` never holds a code or a secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryUncertain(DeliveryFailed):
    """The provider took the message but did not answer in time: it may still arrive."""


# -- the helpdesk --------------------------------------------------------------------------


class NotStaff(Refusal):
    """The credentials are right, but the account may not use the console."""


class PasswordChangeNeeded(Refusal):
    """The staff account's password has expired or was reset: change it first."""


class OutOfScope(Refusal):
    """No such account in the configured profiles: the console does not see it."""


class ReasonRequired(Refusal):
    """This action needs a written reason."""


class IdentityNotChecked(Refusal):
    """This action needs the caller's identity checked first."""


class ActionUnavailable(Refusal):
    """The action cannot apply to this account; `why` says why (a code for the page)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
