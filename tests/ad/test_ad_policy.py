"""AD's own password policy against the real Samba DC: the domain policy, PSOs, their rights.

Samba 4.17 as Windows: msDS-ResultantPSO is returned to the service account, but a PSO's
settings are not (the Password Settings Container is readable by administrators only), so
sspr falls back to the domain policy until the account is given read on the PSOs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from sspr.directory.ldap import LdapDirectory
from sspr.directory_checks import policy_check
from sspr.domain.errors import PasswordRefused
from sspr.domain.ports import DirectoryPasswordRules
from tests.ad.samba_dc import SAMBA_TOOL, AdAccount, AdUsers, SambaDC, ad_interval
from tests.ad.test_ad_journeys import binds, change, log_in, text
from tests.ad.test_checks import ad_config

# Samba's provisioned domain policy; the test DC sets minPwdAge to 0 (samba_dc._seed).
DOMAIN = {"min_length": 7, "min_classes": 3, "forbid_user_parts": True, "history": 24}
TWELVE = "Girafe-Rose1"  # 3 classes, 12 characters: the "agents" policy (10) accepts it


@pytest.fixture
def directory(samba_dc: SambaDC) -> Iterator[LdapDirectory]:
    instance = LdapDirectory(ad_config(samba_dc), samba_dc.service_password)
    yield instance
    instance.close()


def pso(dc: SambaDC, applies_to: str, *, readable: bool, min_age: float = 0) -> str:
    """A PSO for one user: 14 characters, complexity, 5 in history; readable by sspr or not."""
    dn = f"CN=pso-{uuid.uuid4().hex[:8]},CN=Password Settings Container,CN=System,{dc.base_dn}"
    dc.add(dn, "msDS-PasswordSettings", {
        "msDS-PasswordSettingsPrecedence": "10",
        "msDS-PasswordReversibleEncryptionEnabled": "FALSE",
        "msDS-PasswordHistoryLength": "5",
        "msDS-PasswordComplexityEnabled": "TRUE",
        "msDS-MinimumPasswordLength": "14",
        "msDS-MinimumPasswordAge": ad_interval(min_age),
        "msDS-MaximumPasswordAge": ad_interval(100 * 86400),
        "msDS-LockoutThreshold": "0",
        "msDS-LockoutObservationWindow": ad_interval(1800),
        "msDS-LockoutDuration": ad_interval(1800),
        "msDS-PSOAppliesTo": applies_to,
    })  # fmt: skip
    if readable:
        # What docs/active-directory.md asks: read on the PSOs (here on this one only).
        sid = dc.sid(dc.service_dn)
        dc._run(
            SAMBA_TOOL, "dsacl", "set", "-s", str(dc._smb_conf),
            "-H", str(dc._dc / "private" / "sam.ldb"), f"--objectdn={dn}",
            f"--sddl=(A;;RPLCLORC;;;{sid})",
        )  # fmt: skip
    return dn


def test_the_domain_policy_is_read_from_the_domain_root(
    ad_users: AdUsers, directory: LdapDirectory, samba_dc: SambaDC
) -> None:
    user = ad_users.create()
    entry = directory.read_user(user.dn)
    assert entry is not None and entry.policy_dn is None
    # Samba has no policy-hints control: history and age bind only the user's own changes.
    expected = DirectoryPasswordRules(
        source=samba_dc.base_dn,
        age_and_history_on_resets=False,
        **DOMAIN,  # type: ignore[arg-type]
    )
    assert directory.password_rules(entry) == expected
    assert directory.password_rules(None) == expected


def test_an_unreadable_pso_falls_back_to_the_domain_policy(
    ad_users: AdUsers, directory: LdapDirectory, samba_dc: SambaDC
) -> None:
    user = ad_users.create()
    applied = pso(samba_dc, user.dn, readable=False)
    entry = directory.read_user(user.dn)
    assert entry is not None and entry.policy_dn == applied
    rules = directory.password_rules(entry)
    assert rules is not None and rules.source == samba_dc.base_dn and rules.min_length == 7


def test_a_readable_pso_wins_and_is_what_the_dc_enforces(
    ad_users: AdUsers, directory: LdapDirectory, samba_dc: SambaDC
) -> None:
    user = ad_users.create()
    applied = pso(samba_dc, user.dn, readable=True)
    entry = directory.read_user(user.dn)
    rules = directory.password_rules(entry)
    assert rules == DirectoryPasswordRules(
        source=applied, min_length=14, min_classes=3, forbid_user_parts=True, history=5,
        age_and_history_on_resets=False,
    )  # fmt: skip
    # The DC applies the PSO, not the domain's 7 characters, to a reset.
    with pytest.raises(PasswordRefused):
        directory.set_password(user.dn, TWELVE)
    directory.set_password(user.dn, "Girafe-Rose-Trompette1")
    assert binds(samba_dc, user, "Girafe-Rose-Trompette1")


def test_the_account_page_shows_the_pso_and_refuses_before_writing(
    ad_users: AdUsers, ad_client: FlaskClient, samba_dc: SambaDC
) -> None:
    user: AdAccount = ad_users.create()
    pso(samba_dc, user.dn, readable=True)
    assert log_in(ad_client, user.login, user.password).status_code == 302
    page = text(ad_client.get("/account/password"))
    assert "comporter au moins 14 caractères" in page
    assert "mélanger au moins 3 types de caractères" in page
    assert "ne contenir ni votre identifiant ni votre nom" in page
    assert "être différent de vos 5 derniers mots de passe" in page
    refused = change(ad_client, user.password, TWELVE)
    assert refused.status_code == 200
    assert "Le mot de passe ne respecte pas toutes les règles" in text(refused)
    assert binds(samba_dc, user, user.password)
    # AD's complexity: neither the login nor a name part ("Test <login>"), refused before
    # writing (the DC would refuse both).
    for named in (f"{user.login}-Girafe-1", "Test-Girafe-Rose-12"):
        refused = change(ad_client, user.password, named)
        assert "Le mot de passe ne respecte pas toutes les règles" in text(refused), named
    assert binds(samba_dc, user, user.password)


def test_the_minimum_age_binds_changes_but_not_resets_on_samba(
    ad_users: AdUsers, ad_client: FlaskClient, directory: LdapDirectory, samba_dc: SambaDC
) -> None:
    user = ad_users.create()
    pso(samba_dc, user.dn, readable=True, min_age=86400)
    assert log_in(ad_client, user.login, user.password).status_code == 302
    page = text(ad_client.get("/account/password"))
    assert "Votre mot de passe a été changé trop récemment" in page
    assert binds(samba_dc, user, user.password)
    # A reset by the service account is not bound by it (no policy-hints control on Samba).
    entry = directory.read_user(user.dn)
    rules = directory.password_rules(entry)
    assert rules is not None and rules.min_age == 86400 and not rules.age_and_history_on_resets
    directory.set_password(user.dn, "Girafe-Rose-Trompette2")
    assert binds(samba_dc, user, "Girafe-Rose-Trompette2")


def test_check_config_names_the_domain_policy(directory: LdapDirectory, samba_dc: SambaDC) -> None:
    (row,) = policy_check(directory, ad_config(samba_dc))
    assert row.ok and not row.warning
    assert row.detail == (
        f"{samba_dc.base_dn}: 7+ characters, 3 classes, no name parts, 24 in history"
    )
