"""The Have I Been Pwned range API (or a mirror of it) over HTTP: the BreachCheck's port."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping

import requests

from sspr.domain.breach import PREFIX_LENGTH
from sspr.domain.errors import RangeUnavailable

_PREFIX = re.compile(rf"^[0-9A-F]{{{PREFIX_LENGTH}}}$")
_SUFFIX_LENGTH = 40 - PREFIX_LENGTH
# "SUFFIX:COUNT" lines (CRLF or LF), blank lines and spaces around an entry tolerated.
_ENTRY = rf"[ \t]*(?:[0-9A-Fa-f]{{{_SUFFIX_LENGTH}}}:\d+[ \t]*)?"
_BODY = re.compile(rf"{_ENTRY}(?:\r?\n{_ENTRY})*\s*")
_PAIR = re.compile(rf"([0-9A-F]{{{_SUFFIX_LENGTH}}}):(\d+)")
_COUNT = re.compile(r"\d+")
# HIBP refuses requests without a user agent.
USER_AGENT = "sspr-password-check"


class HttpPwnedRanges:
    """GET {base_url}{prefix} with padding asked, on one pooled keep-alive session."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT, "Add-Padding": "true"})
        # The proxy and CA settings of the environment, read once here rather than by
        # requests on every call (a third of the call's cost): a proxy is still honoured.
        self._session.proxies = requests.utils.get_environ_proxies(self._base_url)
        self._session.verify = _ca_bundle() or True
        self._session.trust_env = False

    def suffixes(self, prefix: str) -> RangeBody:
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


def _ca_bundle() -> str | None:
    """The CA bundle requests itself would take from the environment."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")


def parse_range(body: str) -> RangeBody:
    """Read "SUFFIX:COUNT" lines; a malformed body means the service is not usable."""
    return RangeBody(body)


class RangeBody(Mapping[str, int]):
    """A range answer, checked whole and then read where asked.

    A change asks for one suffix among the ~900 padded lines: finding it in the text costs a
    tenth of building a dictionary of them all.
    """

    def __init__(self, body: str) -> None:
        if _BODY.fullmatch(body) is None:
            raise RangeUnavailable("malformed range body")
        self._text = body.upper()

    def __getitem__(self, suffix: str) -> int:
        # Checked whole: a ':' ends a suffix, so "SUFFIX:" can only be found at an entry.
        key = suffix.upper() + ":"
        at = self._text.find(key) if len(key) == _SUFFIX_LENGTH + 1 else -1
        count = _COUNT.match(self._text, at + len(key)) if at >= 0 else None
        if count is None:
            raise KeyError(suffix)
        return int(count.group())

    def __iter__(self) -> Iterator[str]:
        return (match.group(1) for match in _PAIR.finditer(self._text))

    def __len__(self) -> int:
        return self._text.count(":")
