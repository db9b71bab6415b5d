"""The one fake clock of the test suite."""

from __future__ import annotations


class FakeClock:
    """A clock the test moves by hand; picklable, so child processes can get a copy."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.current = start

    def now(self) -> float:
        """The time the test has set."""
        return self.current

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.current += seconds
