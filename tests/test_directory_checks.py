"""check-config's directory rows and `sspr explain`, against the session's real slapd."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import yaml

from sspr.cli import main
from sspr.config import DirectoryConfig
from sspr.demo.slapd import Slapd
from sspr.directory_checks import transport_check
from tests.test_cli import demo_config_for


@pytest.fixture(autouse=True)
def env(slapd: Slapd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSPR_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("SSPR_TWILIO_ACCOUNT_SID", "AC" + "0123456789abcdef" * 2)
    monkeypatch.setenv("SSPR_TWILIO_AUTH_TOKEN", "fedcba9876543210" * 2)
    monkeypatch.setenv("SSPR_LDAP_PASSWORD", slapd.service_password)


def edit_profile(path: Path, index: int, **changes: object) -> None:
    """Change some settings of one profile of a configuration file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["profiles"][index].update(changes)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def config(slapd: Slapd, tmp_path: Path, **directory: object) -> Path:
    path = demo_config_for(slapd, tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["directory"].update(directory)
    raw.pop("sms", None)
    raw.pop("mail", None)
    for profile in raw["profiles"]:
        profile["channels"] = ["question"]
        profile["temporary_password"] = False  # mailing one needs the mail section left out
    # The breach check has its own tests (test_cli.py); these are about the directory rows.
    for policy in raw["policies"].values():
        policy["not_breached"] = False
    raw["audit"] = {"file": str(tmp_path / "audit.jsonl"), "stdout": False}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["check-config", str(path)])
    return status, capsys.readouterr().out


def test_a_passing_config_reports_schema_users_and_rights(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = check(config(slapd, tmp_path), capsys)
    assert status == 0, out
    assert re.search(r"schema\s+OK\s+8 attributes and 2 object classes found in cn=Subschema", out)
    assert re.search(r"directory: password modify\s+OK", out)
    assert re.search(r"directory: ppolicy\s+OK\s+\d+ policy entr", out)
    assert re.search(
        r"directory: password policy\s+OK\s+cn=default,ou=policies,dc=example,dc=org: "
        r"6\+ characters, 5 in history", out
    )  # fmt: skip
    # "20+" once the session's directory holds more test accounts than the sample.
    assert re.search(r"profile usager: users\s+OK\s+\d+\+? account\(s\); login filled on", out)
    assert re.search(r"profile usager: rights\s+WARN\s+reads ssprRecoveryAnswer.*not tried", out)
    assert re.search(r"directory: transport\s+WARN\s+clear", out)


def test_a_missing_attribute_is_named_with_its_config_path(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attributes = {"answers": "securityAnswer", "mobile": ["mobile", "portable"]}
    status, out = check(config(slapd, tmp_path, attributes=attributes), capsys)
    assert status == 2
    assert re.search(
        r'schema: directory.attributes.answers\s+FAIL\s+attribute "securityAnswer"', out
    )
    assert re.search(r'schema: directory.attributes.mobile\[1\]\s+FAIL\s+attribute "portable"', out)
    assert "directory.attributes.mobile[0]" not in out


def test_member_of_without_the_overlay_is_a_schema_failure(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = check(config(slapd, tmp_path, member_of_attribute="memberOf"), capsys)
    assert status == 2
    assert re.search(r'schema: directory.member_of_attribute\s+FAIL\s+attribute "memberOf"', out)


def test_a_class_the_directory_lacks_fails_schema_and_users(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = check(config(slapd, tmp_path, user_object_class="user"), capsys)
    assert status == 2
    assert re.search(r'schema: directory.user_object_class\s+FAIL\s+object class "user"', out)
    assert re.search(r"profile usager: users\s+FAIL\s+\d+ entr\(ies\).*none is of class user", out)


def test_inet_org_person_on_entries_without_it_finds_nobody(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = f"ad-like-{uuid.uuid4().hex[:6]}"
    base = f"ou={unit},{slapd.suffix}"
    slapd.add(f"dn: {base}\nobjectClass: organizationalUnit\nou: {unit}\n")
    slapd.add(f"dn: uid=a1,{base}\nobjectClass: account\nuid: a1\n")
    path = config(slapd, tmp_path)
    edit_profile(path, 1, base=base, filter="(objectClass=*)")
    status, out = check(path, capsys)
    assert status == 2
    assert re.search(
        r"profile elu: users\s+FAIL\s+2 entr\(ies\) .* none is of class inetOrgPerson "
        r"\(directory.user_object_class\): every identification would get the neutral page",
        out,
    )


def test_a_filter_that_finds_nobody(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(slapd, tmp_path)
    edit_profile(path, 0, filter="(employeeType=nobody)")
    status, out = check(path, capsys)
    assert status == 2
    assert re.search(r"profile usager: users\s+FAIL\s+no entry under ou=usagers.*nobody\)", out)


def test_a_base_that_does_not_exist_is_named(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(slapd, tmp_path)
    edit_profile(path, 2, base=f"ou=nowhere,{slapd.suffix}")
    status, out = check(path, capsys)
    assert status == 2
    assert re.search(
        r"profile agent-lycee: users\s+FAIL\s+search under ou=nowhere.*noSuchObject", out
    )


def test_clear_text_active_directory_is_rejected(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = check(config(slapd, tmp_path, kind="ad"), capsys)
    assert status == 2
    assert re.search(r"directory: transport\s+FAIL\s+clear: .* only over TLS", out)


@pytest.mark.parametrize(
    ("urls", "start_tls", "kind", "expected"),
    [
        (["ldaps://dc.example.org"], False, "ad", (True, False, "ldaps")),
        (["ldap://dc.example.org"], True, "ad", (True, False, "StartTLS")),
        (["ldap://dc.example.org"], False, "ad", (False, False, "clear")),
        (["ldap://ldap.example.org"], False, "openldap", (True, True, "clear")),
    ],
)
def test_transport_states(
    urls: list[str], start_tls: bool, kind: str, expected: tuple[bool, bool, str]
) -> None:
    directory = DirectoryConfig.model_validate(
        {"urls": urls, "kind": kind, "tls": {"start_tls": start_tls},
         "bind_dn": "cn=sspr", "base_dn": "dc=example,dc=org"}
    )  # fmt: skip
    row = transport_check(directory)
    assert (row.ok, row.warning, row.detail.split(":")[0]) == expected


# -- sspr explain -------------------------------------------------------------------------------


def explain(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["explain", *args, "--config", str(path)])
    return status, capsys.readouterr().out


def audit_lines(tmp_path: Path) -> list[dict[str, object]]:
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_explain_an_enrolled_account(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = explain(config(slapd, tmp_path), capsys, "jeanne.martin")
    assert status == 0, out
    dn = f"uid=jeanne.martin,ou=usagers,ou=people,{slapd.suffix}"
    assert f"  {dn}\n" in out
    assert "    profiles: usager\n" in out
    assert "      not in elu: outside the base ou=elus" in out
    assert "enrolled: 1 answer(s) (questions: birth_city)" in out
    assert "Saint" not in out and "$argon2id$" not in out  # never an answer nor its hash
    assert re.search(r"mail: j\S*@", out) and "jeanne.martin@" not in out
    assert "state: lock unlocked, disabled no, must change no" in out
    assert "password policy: the default one (none named by the entry)" in out
    assert f"profile usager: question page ({dn}, enrolled)" in out
    assert "profile elu: neutral page (decoy" in out
    assert "(no account under ou=elus,ou=people,dc=example,dc=org has this " in out
    [line] = audit_lines(tmp_path)
    assert (line["event"], line["outcome"], line["user_dn"]) == ("admin.explain", "success", dn)
    assert str(line["agent"]).startswith("cli:")


def test_explain_a_not_enrolled_and_an_unknown_account(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(slapd, tmp_path)
    status, out = explain(path, capsys, "paul.durand", "--profile", "usager")
    assert status == 0
    assert "profile usager: not-enrolled text (nothing enrolled for question)" in out
    assert "profile elu" not in out
    status, out = explain(path, capsys, "nobody-at-all")
    assert status == 0
    assert 'identifier "nobody-at-all": 0 entries' in out
    assert "profile usager: neutral page (decoy: looks like a real account, nothing is sent)" in out
    assert [line["outcome"] for line in audit_lines(tmp_path)] == ["success", "no_account"]


def test_explain_says_when_the_filter_excludes_the_account(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(slapd, tmp_path)
    edit_profile(path, 0, filter="(employeeType=nobody)")
    status, out = explain(path, capsys, "jeanne.martin")
    assert status == 0
    assert "    profiles: none\n" in out
    assert "not in usager: the filter (employeeType=nobody) does not match" in out


def test_explain_an_unknown_profile_is_a_clear_error(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = explain(config(slapd, tmp_path), capsys, "x", "--profile", "nope")
    assert status == 1 and 'no profile "nope"' in out


def test_an_unreadable_or_unset_default_policy_is_said(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"cn=nowhere,ou=policies,{slapd.suffix}"
    status, out = check(config(slapd, tmp_path, default_policy_dn=missing), capsys)
    assert status != 0
    assert re.search(rf"directory: password policy\s+FAIL\s+default_policy_dn {missing}", out)
    status, out = check(config(slapd, tmp_path, default_policy_dn=None), capsys)
    assert re.search(r"directory: password policy\s+WARN\s+default_policy_dn is not set", out)
