"""The answers attribute, as slapd holds it, is in the documented sspr2 format."""

from __future__ import annotations

import re

from sspr.demo.data import DEMO_ACCOUNTS
from sspr.demo.slapd import Slapd
from sspr.directory.ldap import LdapDirectory
from sspr.domain.answers import parse_stored
from tests.helpers import FAST_HASHER

FORMAT = re.compile(r"^sspr2:[a-z0-9_-]{1,40}:\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[^:]+$")


def test_demo_answers_are_stored_in_the_sspr2_format(
    directory: LdapDirectory, slapd: Slapd
) -> None:
    jeanne = next(a for a in DEMO_ACCOUNTS if a.login == "jeanne.martin")
    entry = directory.read_user(jeanne.dn(slapd.suffix))
    assert entry is not None
    assert len(entry.answers) == 1
    assert FORMAT.match(entry.answers[0])
    (stored,) = parse_stored(entry.answers)
    assert stored.question_id == "birth_city"
    assert FAST_HASHER.verify(stored, "saint-etienne")
    assert "tienne" not in entry.answers[0]
