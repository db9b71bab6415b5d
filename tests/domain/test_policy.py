"""The password policy engine, with a table for both reference portals' presets."""

from __future__ import annotations

import pytest

from sspr.domain.policy import PRESETS, PasswordPolicy, Rule, UserContext, normalize_password

SEED000 = PRESETS["websig-ales"]
SEED003 = PRESETS["dgfip"]


def failed_codes(
    policy: PasswordPolicy, password: str, user: UserContext = UserContext()
) -> set[str]:
    return {rule.code for rule in policy.check(password, user)}


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        # The WebSIG portal: 10+ characters, 1 upper, 1 lower, 1 special (and not the old one).
        ("Abcdefgh!j", set()),
        ("Abcdefg!j", {"min_length"}),
        ("abcdefgh!j", {"min_upper"}),
        ("ABCDEFGH!J", {"min_lower"}),
        ("Abcdefghij", {"min_special"}),
        ("Abcdefgh1j", {"min_special"}),
        ("abc", {"min_length", "min_upper", "min_special"}),
        ("", {"min_length", "min_upper", "min_lower", "min_special"}),
        ("Éléphant rose", set()),  # a space counts as special, É as upper
        ("ÉLÉPHANT!!É", {"min_lower"}),
    ],
)
def test_seed000_preset(password: str, expected: set[str]) -> None:
    assert failed_codes(SEED000, password) == expected


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        # The DGFiP portal: 8 to 20 characters, 2 letters, 2 digits, 1 special or accented.
        ("ab12!xyz", set()),
        ("ab12éxyz", set()),  # an accented letter counts as "special or accented"
        ("AB12ÉXYZ", set()),
        ("ab12!xy", {"length"}),
        ("ab12!xyzab12!xyzab12!", {"length"}),  # 21 characters
        ("ab12!xyzab12!xyzab12", set()),  # exactly 20
        ("a1234567!", {"min_letters"}),
        ("abcdefg1!", {"min_digit"}),
        ("abcdefg12", {"min_special_or_accented"}),
        ("12345678", {"min_letters", "min_special_or_accented"}),
        ("!!!!", {"length", "min_letters", "min_digit"}),
    ],
)
def test_seed003_preset(password: str, expected: set[str]) -> None:
    assert failed_codes(SEED003, password) == expected


def test_seed_presets_list_their_rules_in_reading_order() -> None:
    assert SEED000.rules() == [
        Rule("not_current"),
        Rule("min_length", 10),
        Rule("min_upper", 1),
        Rule("min_lower", 1),
        Rule("min_special", 1),
    ]
    assert SEED003.rules() == [
        Rule("length", (8, 20)),
        Rule("min_letters", 2),
        Rule("min_digit", 2),
        Rule("min_special_or_accented", 1),
    ]


def test_not_current_is_left_to_the_directory() -> None:
    assert "not_current" not in failed_codes(SEED000, "Whatever!123")


def test_min_classes_counts_distinct_classes() -> None:
    policy = PasswordPolicy(min_length=1, min_classes=3)
    assert failed_codes(policy, "abcDEF") == {"min_classes"}
    assert failed_codes(policy, "abcDEF1") == set()
    assert failed_codes(policy, "abc12#") == set()


def test_forbidden_chars() -> None:
    policy = PasswordPolicy(min_length=1, forbidden_chars='<>"')
    assert failed_codes(policy, "a<b") == {"forbidden_chars"}
    assert failed_codes(policy, "ab") == set()


def test_user_parts_are_found_whatever_the_case_and_accents() -> None:
    policy = PasswordPolicy(min_length=1, forbid_user_parts=True)
    user = UserContext(login="jeanne.martin", name_parts=("Jérôme", "Lé"))
    assert failed_codes(policy, "xxMARTINxx", user) == {"no_user_parts"}
    assert failed_codes(policy, "jerome2024!", user) == {"no_user_parts"}
    # Parts shorter than three characters would forbid too much.
    assert failed_codes(policy, "le-chat-42", user) == set()


def test_forbidden_words_match_inside_the_password() -> None:
    policy = PasswordPolicy(min_length=1, forbidden_words=frozenset({"azerty", "soleil"}))
    assert failed_codes(policy, "Azerty123!") == {"forbidden_words"}
    assert failed_codes(policy, "MonSOLEIL") == {"forbidden_words"}
    assert failed_codes(policy, "Tournesol") == set()


def test_passwords_are_composed_before_checking() -> None:
    decomposed = "e\u0301"  # e + combining acute accent
    assert normalize_password(decomposed) == "\u00e9"
    assert failed_codes(PasswordPolicy(min_length=2), decomposed) == {"min_length"}


def test_every_failure_is_listed_at_once() -> None:
    policy = PasswordPolicy(min_length=12, min_upper=2, min_digit=2, min_special=1)
    assert failed_codes(policy, "abc") == {"min_length", "min_upper", "min_digit", "min_special"}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_generated_passwords_satisfy_the_presets(name: str) -> None:
    from sspr.domain.policy import generate_password

    user = UserContext(login="jeanne.martin", name_parts=("Jeanne", "Martin"))
    passwords = {generate_password(PRESETS[name], user) for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert PRESETS[name].check(password, user) == []


def test_generated_passwords_need_a_satisfiable_policy() -> None:
    from sspr.domain.policy import generate_password

    strict = PasswordPolicy(min_length=20, max_length=20, min_digit=3, min_upper=3, min_special=2)
    assert strict.check(generate_password(strict)) == []
    impossible = PasswordPolicy(min_length=4, max_length=4, min_digit=3, min_upper=3)
    with pytest.raises(ValueError, match="accepts no generated password"):
        generate_password(impossible)
