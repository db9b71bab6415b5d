"""Access logs without email-link references: the URLs that carry a proof are masked."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

# /reset/link/<reference>: whoever reads the reference in a log could use the link first.
_PREFIX = "/reset/link/"
_LINK = re.compile(rf"({re.escape(_PREFIX)})[^\s?#\"'/]+")
MASKED = "[masked]"


def redact(text: str) -> str:
    """The text with every email-link reference replaced by a mark."""
    return _LINK.sub(rf"\g<1>{MASKED}", text)


class RedactingLogger(Logger):
    """gunicorn's logger (sspr.serving sets it): every field of an access line (request line,
    path, referer, headers, environ) is redacted."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: timedelta) -> dict[str, Any]:
        """gunicorn's atoms, with link references masked."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        # About 55 atoms a request (every header and environ entry): a plain substring test
        # skips the expression where there is nothing to mask (61 → 15 µs a line).
        return {
            key: redact(v) if isinstance(v, str) and _PREFIX in v else v for key, v in atoms.items()
        }
