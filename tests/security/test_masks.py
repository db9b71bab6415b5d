"""The masks of reset pages tell no account apart: real and unknown identifiers, in bulk.

A mask is shown before anyone proves anything, so the masks of an attacker's guesses must be
distributed like the masks of real accounts: compared here over many identifiers, feature by
feature (domain, shape, prefix, last digits), not one pair.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from collections import Counter
from typing import Any

import pytest

from sspr.config import Settings
from sspr.demo.outbox import Outbox
from sspr.domain.masks import decoy_mobile
from sspr.domain.phone import normalize_mobile
from tests.helpers import build_app

ACCOUNTS = 40
PROFILE = "agent-siege"  # login, then email and SMS: both masks on the flow


def french_mobile(rng: random.Random) -> str:
    """A valid mobile as staff directories hold them: 06 more often than 07, any last digits."""
    prefix = "06" if rng.random() < 0.6 else "07"
    while True:
        number = prefix + "".join(rng.choice("0123456789") for _ in range(8))
        if normalize_mobile(number) is not None:
            return number


def shape(mask: str) -> str:
    return re.sub(r"\d", "9", re.sub(r"[a-z]", "a", mask))


@pytest.fixture
def masks(
    settings: Settings, outbox: Outbox, make_account: Any, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[dict[str, str]]]:
    """The email and SMS masks of ACCOUNTS real accounts and as many unknown identifiers."""
    monkeypatch.setenv(settings.secret_key_env, "a fixed key, so the decoys are the same" * 2)
    raw = settings.model_dump(mode="json")
    for profile in raw["profiles"]:
        if profile["id"] == PROFILE:
            profile["mail_domains"] = ["example.org"]  # the test accounts' domain
    app = build_app(Settings.model_validate(raw), outbox, io.StringIO())
    services = app.extensions["sspr"]
    profile = services.rules.profile(PROFILE)
    rng = random.Random(2026)
    found: dict[str, list[dict[str, str]]] = {"real": [], "unknown": []}
    with app.test_request_context():
        for index in range(ACCOUNTS):
            account = make_account(PROFILE, mobile=french_mobile(rng))
            flow = services.reset.start(profile, account.login)
            assert flow.dn is not None
            found["real"].append(flow.contacts)
            # Shaped like the real logins (test.userN.agentsiege), but no account has it.
            unknown = services.reset.start(profile, f"test.user{90000 + index}.agentsiege")
            assert unknown.dn is None
            found["unknown"].append(unknown.contacts)
    return found


def test_email_masks_of_real_and_unknown_identifiers_are_alike(
    masks: dict[str, list[dict[str, str]]],
) -> None:
    real = Counter(contacts["email"] for contacts in masks["real"])
    unknown = Counter(contacts["email"] for contacts in masks["unknown"])
    # The same masks, in the same proportions: the domain is the profile's, never made up.
    assert real == unknown, (real, unknown)


def test_mobile_masks_of_real_and_unknown_identifiers_are_alike(
    masks: dict[str, list[dict[str, str]]],
) -> None:
    real = [contacts["sms"] for contacts in masks["real"]]
    unknown = [contacts["sms"] for contacts in masks["unknown"]]
    assert {shape(mask) for mask in real} == {shape(mask) for mask in unknown}
    # Prefixes: the shares of 06 agree (within sampling error of 40 identifiers).
    share = {
        name: sum(mask.startswith("06") for mask in group) / len(group)
        for name, group in (("real", real), ("unknown", unknown))
    }
    assert abs(share["real"] - share["unknown"]) <= 0.25, share
    # Last digits: every mask shows two, spread over the same range.
    endings = {name: {mask[-2:] for mask in group} for name, group in (("r", real), ("u", unknown))}
    assert len(endings["u"]) >= len(endings["r"]) - 8, endings


def test_decoy_mobiles_end_with_uniform_digits_in_the_regions_plan() -> None:
    """Over many identifiers the last two digits are uniform (no modulo bias), and a decoy
    follows the configured region's numbering plan, not France's."""
    seeds = [hashlib.sha256(str(index).encode()).digest() for index in range(4000)]
    endings = [int(decoy_mobile(seed, "FR")[-2:]) for seed in seeds]
    assert 0.52 <= sum(ending < 56 for ending in endings) / len(endings) <= 0.60
    counts = Counter(ending % 10 for ending in endings)
    assert all(0.08 <= counts[digit] / len(endings) <= 0.12 for digit in range(10)), counts
    prefixes = Counter(decoy_mobile(seed, "FR")[:2] for seed in seeds[:500])
    assert set(prefixes) == {"06", "07"}
    assert all(decoy_mobile(seed, "BE").startswith("04") for seed in seeds[:50])
