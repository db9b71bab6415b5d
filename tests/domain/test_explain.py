"""sspr explain's verdicts agree with what the reset service really does, case by case."""

from __future__ import annotations

from typing import Any

import pytest

from sspr.domain.audit import AuditLog
from sspr.domain.errors import NotEnrolled
from sspr.domain.explain import DECOY, Explainer, Explanation
from tests.domain.conftest import Domain, MakeDomain

ANSWER = "Saint-Étienne"


def explain(domain: Domain, identifier: str, profile: str | None = None) -> Explanation:
    audit = AuditLog([domain.audit_lines], clock=domain.clock)
    explainer = Explainer(domain.rules, domain.directory, audit)
    return explainer.explain(identifier, profile_id=profile, agent="cli:test")


def real_page(domain: Domain, profile: str, identifier: str) -> str:
    """What ResetService.start shows, in explain's words."""
    try:
        flow = domain.reset.start(domain.profile(profile), identifier)
    except NotEnrolled:
        return "not-enrolled text"
    if flow.dn is None:
        return DECOY
    return "question page" if flow.steps[0] == ("question",) else "code page"


def verdict(explanation: Explanation, profile: str) -> Any:
    return next(v for v in explanation.verdicts if v.profile == profile)


def test_an_enrolled_account_gets_the_question_page(domain: Domain) -> None:
    account = domain.person(answers={"birth_city": ANSWER})
    found = explain(domain, account.login)
    assert verdict(found, "usager").page == real_page(domain, "usager", account.login)
    assert verdict(found, "usager").page == "question page"
    [match] = found.matches
    assert match.profiles == ("usager",) and match.enrolment.answers == 1
    assert match.enrolment.questions == ("birth_city",)
    assert ANSWER not in repr(found) and "$argon2id$" not in repr(found)
    assert account.mail not in repr(found)


def test_not_enrolled_and_unknown(domain: Domain) -> None:
    account = domain.person()
    for identifier, expected in ((account.login, "not-enrolled text"), ("nobody", DECOY)):
        page = verdict(explain(domain, identifier, "usager"), "usager").page
        assert page == expected == real_page(domain, "usager", identifier)


def test_several_matches_get_the_decoy(domain: Domain) -> None:
    account = domain.person(answers={"birth_city": ANSWER})
    twin_dn = account.dn.replace(f"uid={account.login}", "cn=Twin")
    domain.directory.add(
        twin_dn, {"objectClass": ["inetOrgPerson"], "uid": [account.login], "cn": ["Twin"]}
    )
    found = explain(domain, account.login)
    assert len(found.matches) == 2
    assert verdict(found, "usager").page == DECOY == real_page(domain, "usager", account.login)
    assert "several accounts match" in verdict(found, "usager").why


def test_a_namesake_in_another_profile_does_not_hide_the_account(domain: Domain) -> None:
    # Identification searches the profile's own base: an elu with the same login is elsewhere.
    account = domain.person(answers={"birth_city": ANSWER})
    twin_dn = account.dn.replace("ou=usagers", "ou=elus")
    domain.directory.add(
        twin_dn, {"objectClass": ["inetOrgPerson"], "uid": [account.login], "cn": ["Twin"]}
    )
    found = explain(domain, account.login)
    assert len(found.matches) == 2
    assert verdict(found, "usager").page == "question page"
    assert real_page(domain, "usager", account.login) == "question page"


def test_an_account_in_two_profiles_gets_the_decoy(make_domain: MakeDomain) -> None:
    def overlap(raw: dict[str, Any]) -> None:
        raw["profiles"][1]["base"] = "ou=people,dc=example,dc=org"
        raw["profiles"][1]["filter"] = "(objectClass=*)"

    domain = make_domain(overlap)
    account = domain.person(answers={"birth_city": ANSWER})
    found = explain(domain, account.login, "usager")
    assert found.matches[0].profiles == ("usager", "elu")
    assert verdict(found, "usager").page == DECOY == real_page(domain, "usager", account.login)
    assert "also in profile(s) elu" in verdict(found, "usager").why


def test_outside_the_filter_is_told_apart_from_outside_the_base(make_domain: MakeDomain) -> None:
    def narrow(raw: dict[str, Any]) -> None:
        raw["profiles"][0]["filter"] = "(employeeType=usager)"

    domain = make_domain(narrow)
    account = domain.person(answers={"birth_city": ANSWER})
    [match] = explain(domain, account.login).matches
    assert match.profiles == ()
    assert match.not_in["usager"] == "the filter (employeeType=usager) does not match"
    assert match.not_in["elu"].startswith("outside the base ou=elus")


def test_a_code_profile_and_the_account_state(domain: Domain) -> None:
    account = domain.person("elu", answers={"birth_city": ANSWER}, mobile="06 12 34 56 78")
    domain.directory.lock_until_admin_unlocks(account.dn)
    found = explain(domain, account.login, "elu")
    page = verdict(found, "elu").page
    assert page.startswith("code page (a code by email to ")
    assert real_page(domain, "elu", account.login) == "code page"
    [match] = found.matches
    assert match.entry.lock.value == "until_admin_unlock"
    assert match.enrolment.mobiles == ("06 •• •• •• 78",)


@pytest.mark.parametrize("identifier", ["", "   "])
def test_an_empty_identifier_matches_nothing(domain: Domain, identifier: str) -> None:
    found = explain(domain, identifier)
    assert found.matches == () and {v.page for v in found.verdicts} == {DECOY}
    assert [line["outcome"] for line in domain.events("admin.explain")] == ["no_account"]
