"""Access logs without email-link references: the URLs that carry a proof are masked."""

from __future__ import annotations

import logging
import re

# /reset/link/<reference>: whoever reads the reference in a log could use the link first.
_PREFIX = "/reset/link/"
_LINK = re.compile(rf"({re.escape(_PREFIX)})[^\s?#\"'/]+")
MASKED = "[masked]"


def redact(text: str) -> str:
    """The text with every email-link reference replaced by a mark."""
    return _LINK.sub(rf"\g<1>{MASKED}", text)


class RedactingFilter(logging.Filter):
    """On granian's access log (sspr.serving sets it): link references masked in every field."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the fields of one access line; never drop the line."""
        fields = record.args
        if isinstance(fields, dict):
            # A plain substring test skips the expression where there is nothing to mask.
            record.args = {
                key: redact(value) if isinstance(value, str) and _PREFIX in value else value
                for key, value in fields.items()
            }
        elif _PREFIX in record.getMessage():
            record.msg, record.args = redact(record.getMessage()), None
        return True
