"""The Have I Been Pwned range API (or a mirror of it) over HTTP: the BreachCheck's port."""

from __future__ import annotations

import re

import requests

from sspr.domain.breach import PREFIX_LENGTH
from sspr.domain.errors import RangeUnavailable

_PREFIX = re.compile(rf"^[0-9A-F]{{{PREFIX_LENGTH}}}$")
_LINE = re.compile(r"^([0-9A-F]{35}):(\d+)$")
# HIBP refuses requests without a user agent.
USER_AGENT = "sspr-password-check"


class HttpPwnedRanges:
    """GET {base_url}{prefix} with padding asked, on one pooled keep-alive session."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT, "Add-Padding": "true"})

    def suffixes(self, prefix: str) -> dict[str, int]:
        """The suffixes known under `prefix` (padding entries have a count of 0)."""
        if not _PREFIX.match(prefix):
            # Anything longer would leak more than the k-anonymity model allows.
            raise ValueError("a range prefix is exactly 5 upper-case hexadecimal digits")
        try:
            response = self._session.get(self._base_url + prefix, timeout=self._timeout)
        except requests.RequestException as exc:
            raise RangeUnavailable(type(exc).__name__) from exc
        if response.status_code != 200:
            raise RangeUnavailable(f"HTTP {response.status_code}")
        return parse_range(response.text)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()


def parse_range(body: str) -> dict[str, int]:
    """Read "SUFFIX:COUNT" lines; a malformed body means the service is not usable."""
    found: dict[str, int] = {}
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _LINE.match(line.upper())
        if match is None:
            raise RangeUnavailable("malformed range body")
        found[match.group(1)] = int(match.group(2))
    return found
