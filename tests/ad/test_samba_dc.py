"""The Samba AD DC fixture: each user state binds as a real DC says it should."""

from __future__ import annotations

import uuid

import pytest

from tests.ad.samba_dc import AdUsers, SambaDC


@pytest.mark.parametrize(
    ("state", "data"),
    [
        ("must_change", "data 773"),
        ("password_expired", "data 532"),
        ("disabled", "data 533"),
        ("account_expired", "data 701"),
        ("locked", "data 775"),
    ],
)
def test_each_state_is_refused_with_its_data_code(
    samba_dc: SambaDC, ad_users: AdUsers, state: str, data: str
) -> None:
    account = ad_users.create(state)
    bound, message = samba_dc.bind_result(account.dn, account.password)
    assert not bound
    assert data in message


def test_a_normal_user_binds_and_a_wrong_password_is_52e(
    samba_dc: SambaDC, ad_users: AdUsers
) -> None:
    account = ad_users.create()
    assert samba_dc.bind_result(account.dn, account.password) == (True, "")
    assert "data 52e" in samba_dc.bind_result(account.dn, "wrong")[1]


def test_answers_are_confidential_to_the_service_account(
    samba_dc: SambaDC, ad_users: AdUsers
) -> None:
    owner = ad_users.create(answers=("sspr1:pet:hash",))
    other = ad_users.create()
    read_as = {
        "service": samba_dc.connect(samba_dc.service_dn, samba_dc.service_password),
        "other user": samba_dc.connect(other.dn, other.password),
    }
    seen = {}
    for who, conn in read_as.items():
        conn.search(owner.dn, "(objectClass=*)", "BASE", attributes=["ssprRecoveryAnswer", "mail"])
        seen[who] = conn.response[0]["raw_attributes"]
        conn.unbind()
    assert seen["service"]["ssprRecoveryAnswer"] == [b"sspr1:pet:hash"]
    assert seen["other user"]["mail"] == [owner.mail.encode()]
    # searchFlags 128: without CONTROL_ACCESS the attribute is not even listed.
    assert not seen["other user"].get("ssprRecoveryAnswer")


def test_the_dc_listens_on_its_own_loopback_address(samba_dc: SambaDC) -> None:
    assert samba_dc.address.startswith("127.0.0.")
    assert samba_dc.address != "127.0.0.1"
    assert samba_dc.pid is not None
    with open(f"/proc/{samba_dc.pid}/cmdline", "rb") as cmdline:
        assert cmdline.read().startswith(b"samba: root process")


def test_nested_groups_are_followed_by_the_matching_rule_in_chain(
    samba_dc: SambaDC, ad_users: AdUsers
) -> None:
    inner = ad_users.group(f"inner-{uuid.uuid4().hex[:8]}")
    outer = ad_users.group(f"outer-{uuid.uuid4().hex[:8]}", (inner,))
    member = ad_users.create(groups=(inner,))
    conn = samba_dc.connect(samba_dc.service_dn, samba_dc.service_password)
    found = {}
    for name, ldap_filter in {
        "direct": f"(memberOf={outer})",
        "in chain": f"(memberOf:1.2.840.113556.1.4.1941:={outer})",
    }.items():
        conn.search(member.dn, ldap_filter, "BASE", attributes=["1.1"])
        found[name] = [r["dn"] for r in conn.response if r.get("type") == "searchResEntry"]
    conn.unbind()
    assert found == {"direct": [], "in chain": [member.dn]}
