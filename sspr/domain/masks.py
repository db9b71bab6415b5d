"""Masked contacts: enough for users to recognise theirs, too little to learn anyone's."""

from __future__ import annotations

MASK = "•"


def mask_email(address: str) -> str:
    """Show the first letters and the top-level domain: "jeanne@mairie.fr" → "j•••@m•••.fr"."""
    local, _, domain = address.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    masked_domain = f"{name[:1]}{MASK * 3}" + (f".{tld}" if tld else "")
    return f"{local[:1]}{MASK * 3}@{masked_domain}"


def decoy_email(identifier: str, seed: bytes) -> str:
    """A masked address for an unknown account: the typed address, or one made from the seed."""
    if "@" in identifier:
        return mask_email(identifier.strip())
    letters = "abcdefghijklmnoprstuv"
    first = identifier.strip()[:1].lower() or letters[seed[0] % len(letters)]
    return f"{first}{MASK * 3}@{letters[seed[1] % len(letters)]}{MASK * 3}.fr"


def decoy_mobile(seed: bytes) -> str:
    """A masked French mobile for an unknown account, stable for its identifier."""
    return f"0{6 + seed[2] % 2} {MASK * 2} {MASK * 2} {MASK * 2} {seed[3] % 100:02d}"
