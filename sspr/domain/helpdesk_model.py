"""What the helpdesk console works with: agents, search results, account summaries."""

from __future__ import annotations

from dataclasses import dataclass

from sspr.domain.errors import PasswordRefusal
from sspr.domain.ports import UserEntry

SEARCH_MIN = 2
SEARCH_MAX = 100
# Deeper than this, the agent refines the query: offset paging re-reads what it skips.
MAX_RESULTS = 200
REASON_MAX = 300
# Long enough to read a temporary password out to the caller after the page loads.
RESULT_TTL = 300


@dataclass(frozen=True)
class Agent:
    """A logged-in staff member.

    `session` tells the agent's sessions apart (the token's hash); `seal` opens what this
    session keeps to show once (derived from the token). Neither is stored.
    """

    dn: str
    login: str
    name: str
    session: str = ""
    seal: str = ""

    def state(self) -> dict[str, str]:
        """What the agent's session keeps."""
        return {"dn": self.dn, "login": self.login, "name": self.name}


@dataclass(frozen=True)
class Found:
    """One search result and the profiles it belongs to."""

    entry: UserEntry
    profiles: tuple[str, ...]


@dataclass(frozen=True)
class SearchPage:
    """One page of results; `capped` when more exist beyond what the console pages through."""

    query: str
    results: tuple[Found, ...]
    page: int
    more: bool
    capped: bool = False


@dataclass(frozen=True)
class UserSummary:
    """What an agent sees of an account: never an answer, contacts masked."""

    entry: UserEntry
    profiles: tuple[str, ...]
    question_count: int
    mobile: str
    email: str
    proof_block: float | None
    reset_channels: tuple[str, ...]
    identity_channels: tuple[str, ...]

    @property
    def profile(self) -> str | None:
        """The account's profile, when it has exactly one."""
        return self.profiles[0] if len(self.profiles) == 1 else None


def audit_error(problem: Exception) -> str:
    """A short, secret-free cause for the audit line."""
    reason = getattr(problem, "reason", None) or getattr(problem, "why", None)
    if isinstance(reason, PasswordRefusal):
        reason = reason.value
    name = type(problem).__name__
    return f"{name}: {reason}" if isinstance(reason, str) and reason else name
