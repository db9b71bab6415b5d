"""The source of a request: an IPv4 address, an IPv6 network, trusted or not."""

from __future__ import annotations

import pytest

from sspr.domain.sources import Source, Sources


def test_ipv4_counts_as_itself() -> None:
    assert Sources().of("192.0.2.1") == Source("192.0.2.1")
    assert Sources().of(" 192.0.2.1 ") == Source("192.0.2.1")


def test_ipv6_counts_as_its_64_by_default() -> None:
    sources = Sources()
    assert sources.of("2001:db8:1:2::10").key == "2001:db8:1:2::/64"
    assert sources.of("2001:db8:1:2:ffff:ffff:ffff:ffff") == sources.of("2001:db8:1:2::1")
    assert sources.of("2001:db8:1:3::1") != sources.of("2001:db8:1:2::1")
    assert sources.of("fe80::1%eth0").key == "fe80::/64"


def test_the_prefix_is_configurable() -> None:
    assert Sources(ipv6_prefix=56).of("2001:db8:1:2ff::1").key == "2001:db8:1:200::/56"
    assert Sources(ipv6_prefix=128).of("2001:db8::1").key == "2001:db8::1/128"
    with pytest.raises(ValueError):
        Sources(ipv6_prefix=16)


def test_mapped_ipv4_counts_as_ipv4() -> None:
    assert Sources().of("::ffff:192.0.2.1") == Source("192.0.2.1")


def test_unreadable_addresses_are_one_unknown_source() -> None:
    assert Sources().of("not an address") == Sources().of(None) == Source("unknown")


def test_trusted_networks() -> None:
    sources = Sources(trusted=["10.20.0.0/16", "2001:db8:aa::/48"])
    assert sources.of("10.20.9.9").trusted
    assert sources.of("::ffff:10.20.9.9").trusted
    assert sources.of("2001:db8:aa:1::5").trusted
    assert not sources.of("10.21.0.1").trusted
    assert not sources.of("2001:db8:ab::1").trusted
    assert not sources.of(None).trusted
