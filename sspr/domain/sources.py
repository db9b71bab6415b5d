"""The source of a request: what per-address limits and the captcha count against.

One IPv6 subscriber usually holds a whole /64 and can change address at will inside it, so
an IPv6 address counts as its network (the prefix is configurable). An IPv4-mapped IPv6
address counts as the IPv4 address it carries. Anything unreadable is one "unknown" source.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

UNKNOWN = "unknown"
DEFAULT_IPV6_PREFIX = 64

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Source:
    """Where a request comes from, as the limits count it."""

    # "192.0.2.1", "2001:db8:1:2::/64" or "unknown": never a key by itself (see keys.py).
    key: str
    # In a network the admin listed as trusted (higher limits).
    trusted: bool = False


class Sources:
    """Turns client addresses into sources, with the configured IPv6 prefix and trusted nets."""

    def __init__(self, ipv6_prefix: int = DEFAULT_IPV6_PREFIX, trusted: Sequence[str] = ()) -> None:
        if not 32 <= ipv6_prefix <= 128:
            raise ValueError("the IPv6 prefix counted as one source is between /32 and /128")
        self._ipv6_prefix = ipv6_prefix
        self._trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(network, strict=False) for network in trusted
        )

    def of(self, address: str | None) -> Source:
        """The source an address counts for."""
        try:
            ip = ipaddress.ip_address((address or "").strip().split("%", 1)[0])
        except ValueError:
            return Source(UNKNOWN)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        trusted = any(ip in network for network in self._trusted)
        if isinstance(ip, ipaddress.IPv6Address):
            network = ipaddress.IPv6Network((ip, self._ipv6_prefix), strict=False)
            return Source(str(network), trusted)
        return Source(str(ip), trusted)
