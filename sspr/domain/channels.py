"""The ways a user proves who they are."""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    """A proof channel, by the name the configuration uses."""

    QUESTION = "question"
    EMAIL = "email"
    SMS = "sms"


# The channels that send a one-time code.
CODE_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})
