"""Security answers: normalisation, hashing and the stored format."""

from __future__ import annotations

import pytest

from sspr.domain.answers import (
    AnswerHasher,
    StoredAnswer,
    normalize_answer,
    normalize_answer_v1,
    parse_stored,
    upgraded_values,
)

# The cheapest argon2id cost: these tests check behaviour, not strength.
FAST = {"time_cost": 1, "memory_kib": 8192, "parallelism": 1}


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Saint-Étienne", "saint etienne"),
        ("  saint-etienne  ", "saint etienne"),
        ("SAINT-ÉTIENNE", "saint etienne"),
        ("L'Haÿ-les-Roses", "l hay les roses"),
        ("l’hay les roses", "l hay les roses"),
        ("St. Malo", "st malo"),
        ("Jean—Pierre", "jean pierre"),
        ("Le   Puy   en Velay", "le puy en velay"),
        ("Médor\t", "medor"),
        ("Straße", "strasse"),
        ("e\u0301cole", "ecole"),
    ],
)
def test_normalize_answer(typed: str, normalized: str) -> None:
    assert normalize_answer(typed) == normalized


def test_answer_matches_without_case_accents_punctuation_or_spaces() -> None:
    hasher = AnswerHasher(**FAST)
    stored = hasher.store("birth_city", "Saint-Étienne")
    assert stored.encode().startswith("sspr2:birth_city:$argon2id$")
    assert hasher.verify(stored, " saint-etienne ")
    assert hasher.verify(stored, "SAINT-ÉTIENNE")
    assert hasher.verify(stored, "saint etienne")
    assert not hasher.verify(stored, "Saint-Étienne-du-Rouvray")


def legacy(hasher: AnswerHasher, question_id: str, answer: str) -> str:
    """A value as sspr1 wrote it: punctuation kept."""
    from argon2 import PasswordHasher

    digest = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
        normalize_answer_v1(answer)
    )
    return f"sspr1:{question_id}:{digest}"


def test_sspr1_values_are_checked_the_old_way_then_upgraded() -> None:
    hasher = AnswerHasher(**FAST)
    values = [legacy(hasher, "birth_city", "Saint-Étienne"), "sspr1q:custom-2:VGVzdA",
              legacy(hasher, "first_pet", "Médor")]  # fmt: skip
    stored = {answer.question_id: answer for answer in parse_stored(values)}
    assert stored["birth_city"].outdated
    # The old way, exactly: no one who typed it as before is refused, and no one gains more.
    assert hasher.verify(stored["birth_city"], "saint-ÉTIENNE")
    assert not hasher.verify(stored["birth_city"], "saint etienne")
    upgraded = upgraded_values(values, hasher, {"birth_city": "saint-ÉTIENNE"})
    assert upgraded is not None
    assert upgraded[0].startswith("sspr2:birth_city:") and upgraded[1:] == values[1:]
    (new,) = [a for a in parse_stored(upgraded) if a.question_id == "birth_city"]
    assert not new.outdated and hasher.verify(new, "saint etienne")
    assert upgraded_values(upgraded, hasher, {"birth_city": "saint etienne"}) is None


def test_verify_without_a_stored_answer_is_false() -> None:
    assert not AnswerHasher(**FAST).verify(None, "anything")


def test_stored_format_round_trips() -> None:
    hasher = AnswerHasher(**FAST)
    stored = hasher.store("first_pet", "Médor")
    encoded = stored.encode()
    assert encoded.startswith("sspr2:first_pet:$argon2id$")
    assert parse_stored([encoded]) == [stored]
    assert "Médor".casefold() not in encoded.casefold()


def test_the_hash_records_its_cost() -> None:
    stored = AnswerHasher(time_cost=2, memory_kib=19456, parallelism=1).store("q", "a")
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in stored.hash


def test_parse_skips_foreign_values() -> None:
    values = ["plain text", "sspr1:Bad Id:$argon2id$x", "sspr3:q:$argon2id$x", "sspr1:q:$argon2i$x"]
    assert parse_stored(values) == []
    assert parse_stored(["sspr2:q:$argon2id$x"]) == [StoredAnswer("q", "$argon2id$x")]
    assert parse_stored(["sspr1:q:$argon2id$x"]) == [StoredAnswer("q", "$argon2id$x", "sspr1")]
