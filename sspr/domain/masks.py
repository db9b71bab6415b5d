"""Masked contacts: enough for users to recognise theirs, too little to learn anyone's.

Reset pages are seen before anyone has proved anything, so their masks must not tell a real
account from an unknown identifier's decoy: `reset_email_mask` shows a domain only from the
profile's configured list, and decoys draw from the same list and the same numbering plan.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sspr.domain.phone import mask_mobile, random_mobile

MASK = "•"
_NO_DOMAIN = MASK * 3


def mask_email(address: str) -> str:
    """Show the first letters and the top-level domain: "jeanne@mairie.fr" → "j•••@m•••.fr"."""
    local, _, domain = address.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    masked_domain = f"{name[:1]}{MASK * 3}" + (f".{tld}" if tld else "")
    return f"{local[:1]}{MASK * 3}@{masked_domain}"


def reset_email_mask(address: str, domains: Sequence[str]) -> str:
    """The mask a reset page shows: the domain only when it is one of the profile's."""
    local, _, domain = address.strip().partition("@")
    first = local[:1].lower()
    if domain.casefold() in domains:
        return mask_email(f"{first}@{domain.casefold()}")
    return f"{first}{MASK * 3}@{_NO_DOMAIN}"


def decoy_email(identifier: str, seed: bytes, domains: Sequence[str]) -> str:
    """An unknown identifier's masked address, drawn like a real account's, stable per seed."""
    if "@" in identifier:
        return reset_email_mask(identifier, domains)
    first = identifier.strip()[:1] or "x"
    if not domains:
        return reset_email_mask(f"{first}@", domains)
    return reset_email_mask(f"{first}@{domains[_rng(seed).randrange(len(domains))]}", domains)


def decoy_mobile(seed: bytes, region: str) -> str:
    """An unknown identifier's masked mobile: a number drawn from the region's numbering plan
    (its prefixes as the plan allots them, its last digits uniform), masked like a real one."""
    return mask_mobile(random_mobile(region, _rng(seed)), region)


def _rng(seed: bytes) -> random.Random:
    # Not for secrets: a stable draw per identifier, so a retried decoy looks the same.
    return random.Random(seed)  # noqa: S311


# No account has this name: a bind to it costs the round trip a wrong password costs.
DECOY_RDN = "cn=sspr-decoy-account"


def decoy_dn(base: str) -> str:
    """The DN an unknown identifier's login binds to, so it takes a known one's time."""
    return f"{DECOY_RDN},{base}"
