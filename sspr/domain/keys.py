"""Store keys of the limits and the captcha, in one place so no two features share one.

Subjects (accounts, identifiers, addresses) are hashed: a leaked store lists none of them.
"""

from __future__ import annotations

import hashlib

from sspr.domain.sources import Source


def subject_key(kind: str, *parts: str) -> str:
    """A store key for an account or identifier that does not reveal it when the store leaks."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


def account_subject(directory: str | None, dn: str) -> str:
    """An account of a directory, as the proof limits, codes and blocks count it."""
    return subject_key("dn", directory or "", dn.casefold())


def identifier_subject(profile_id: str, identifier: str) -> str:
    """An identifier that names no single account, counted exactly like an account."""
    return subject_key("id", profile_id, identifier.casefold())


def source_key(source: Source) -> str:
    """A source (an address or an IPv6 network), hashed like every other subject."""
    return subject_key("source", source.key)


def attempts_key(limiter: str, subject: str) -> str:
    """The failures counted against a subject by one attempt limiter."""
    return f"limit:{limiter}:count:{subject}"


def block_key(limiter: str, subject: str) -> str:
    """The temporary block of a subject, set when its failures ran out."""
    return f"limit:{limiter}:block:{subject}"


def captcha_failures_key(source: Source) -> str:
    """The failures from one source that bring the captcha up."""
    return "captcha:failures:" + source_key(source)


def captcha_used_key(signature: str) -> str:
    """A captcha challenge already answered: each is accepted once."""
    return "captcha:used:" + hashlib.sha256(signature.encode()).hexdigest()[:32]


def counter_key(key: str) -> str:
    """Where a counter of the `limits` library lives in the store."""
    return f"limits:{key}"
