"""Security answers: normalisation, hashing and the stored format."""

from __future__ import annotations

import pytest

from sspr.domain.answers import AnswerHasher, StoredAnswer, normalize_answer, parse_stored

# The cheapest argon2id cost: these tests check behaviour, not strength.
FAST = {"time_cost": 1, "memory_kib": 8192, "parallelism": 1}


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Saint-Étienne", "saint-etienne"),
        ("  saint-etienne  ", "saint-etienne"),
        ("SAINT-ÉTIENNE", "saint-etienne"),
        ("Le   Puy   en Velay", "le puy en velay"),
        ("Médor\t", "medor"),
        ("Straße", "strasse"),
        ("e\u0301cole", "ecole"),
    ],
)
def test_normalize_answer(typed: str, normalized: str) -> None:
    assert normalize_answer(typed) == normalized


def test_answer_matches_without_case_accents_or_spaces() -> None:
    hasher = AnswerHasher(**FAST)
    stored = hasher.store("birth_city", "Saint-Étienne")
    assert hasher.verify(stored, " saint-etienne ")
    assert hasher.verify(stored, "SAINT-ÉTIENNE")
    assert not hasher.verify(stored, "Saint-Étienne-du-Rouvray")


def test_verify_without_a_stored_answer_is_false() -> None:
    assert not AnswerHasher(**FAST).verify(None, "anything")


def test_stored_format_round_trips() -> None:
    hasher = AnswerHasher(**FAST)
    stored = hasher.store("first_pet", "Médor")
    encoded = stored.encode()
    assert encoded.startswith("sspr1:first_pet:$argon2id$")
    assert parse_stored([encoded]) == [stored]
    assert "Médor".casefold() not in encoded.casefold()


def test_the_hash_records_its_cost() -> None:
    stored = AnswerHasher(time_cost=2, memory_kib=19456, parallelism=1).store("q", "a")
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in stored.hash


def test_parse_skips_foreign_values() -> None:
    values = ["plain text", "sspr1:Bad Id:$argon2id$x", "sspr2:q:$argon2id$x", "sspr1:q:$argon2i$x"]
    assert parse_stored(values) == []
    assert parse_stored(["sspr1:q:$argon2id$x"]) == [StoredAnswer("q", "$argon2id$x")]
