"""Password quality: the CNIL's entropy, passphrases, common passwords, zxcvbn, the generator."""

from __future__ import annotations

import math

import pytest
from zxcvbn import matching

from sspr import data
from sspr.config import PolicyConfig
from sspr.domain.common_words import contains_forbidden, is_common, normalise_list
from sspr.domain.entropy import alphabet_size, entropy_bits, passphrase_words, rounded_bits
from sspr.domain.guessability import GuessEstimator, user_words
from sspr.domain.passphrase import generate_passphrase
from sspr.domain.policy import PRESETS, PasswordPolicy, UserContext, preset_name

ALONE = PRESETS["cnil-2022-alone"]
RESTRICTED = PRESETS["cnil-2022-restricted"]


def codes(policy: PasswordPolicy, password: str, user: UserContext = UserContext()) -> set[str]:
    return {rule.code for rule in policy.check(password, user)}


@pytest.mark.parametrize(
    ("password", "size"),
    [
        ("abc", 26),
        ("ABC", 26),
        ("123", 10),
        ("!?", 37),
        ("aB", 52),
        ("aB1", 62),
        ("aB1!", 99),
        ("a b", 26 + 37),  # a space is a special
        ("été", 26),  # accented letters count in their case's class, adding none
        ("ÉTÉ", 26),
        ("éÉ", 52),
        ("٣٤", 10),  # digits of any script are digits
        ("漢字", 37),  # letters without case count as specials
        ("", 0),
    ],
)
def test_the_alphabet_is_the_sum_of_the_cnil_classes_used(password: str, size: int) -> None:
    assert alphabet_size(password) == size


def test_entropy_is_length_times_log2_of_the_alphabet() -> None:
    assert entropy_bits("aB1!aB1!aB1!") == pytest.approx(12 * math.log2(99))
    assert entropy_bits("abcdefgh") == pytest.approx(8 * math.log2(26))
    assert entropy_bits("") == 0


@pytest.mark.parametrize(
    ("password", "bits"),
    [
        # The CNIL's examples for 80 bits: 12 characters of the four classes (79.55,
        # counted as 80 as the CNIL does), 14 of upper, lower and digits (83.4).
        ("Xk9#mP2qLw!z", 80),
        ("Xk9mP2qLwAz7Rt", 83),
        ("Xk9#mP2qLw!", 73),
        # For 50 bits: 8 characters of upper, lower and specials (51.8).
        ("Xk#mPqL!", 52),
    ],
)
def test_rounded_bits_match_the_cnil_examples(password: str, bits: int) -> None:
    assert rounded_bits(password) == bits


def test_cnil_presets_require_their_bits() -> None:
    assert "min_entropy_bits" not in codes(ALONE, "Xk9#mP2qLw!z")
    assert "min_entropy_bits" in codes(ALONE, "Xk9#mP2qLw!")
    assert "min_entropy_bits" not in codes(RESTRICTED, "Xk#mPqL!")
    assert "min_entropy_bits" in codes(RESTRICTED, "xkqmpql")  # 7 lower-case: 32.9 bits


def test_cnil_alone_asks_twelve_characters() -> None:
    assert ALONE.min_length == 12
    assert "min_length" in codes(ALONE, "Xk9#mP2qLw!")


@pytest.mark.parametrize("name", ["cnil-2022-alone", "cnil-2022-restricted"])
def test_cnil_presets_have_no_composition_rules(name: str) -> None:
    counted = {"min_lower", "min_upper", "min_digit", "min_special", "min_letters",
               "min_special_or_accented", "min_classes"}  # fmt: skip
    assert not counted & {rule.code for rule in PRESETS[name].rules()}
    # Lower-case letters alone are enough when they are enough bits.
    assert codes(PRESETS[name], "xkqmpqlwzrtvbnhgd") == set()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("cheval orange vélo lune table porte arbre", 7),
        ("cheval-orange-velo", 3),
        ("ChevalOrangeVelo", 3),  # a capital after a small letter starts a word
        ("CHEVAL ORANGE", 2),  # all capitals stay whole words
        ("le chat de la mer", 2),  # words of fewer than 3 letters do not count
        ("été Été ete", 1),  # case and accents do not make two words
        ("chat1chien2loup", 3),  # digits separate words
        ("a b c d e f g", 0),
    ],
)
def test_passphrase_words(text: str, words: int) -> None:
    assert passphrase_words(text) == words


def test_a_seven_word_passphrase_satisfies_the_cnil_presets_whatever_its_classes() -> None:
    strict = ALONE.with_changes(min_upper=1, min_digit=1, min_special=1, min_classes=4)
    passphrase = "ChevalOrangeVeloLuneTablePorteArbre"  # no digit, no special
    assert codes(strict, passphrase) == set()
    # Six words are not a passphrase: every class rule applies again.
    assert {"min_digit", "min_special", "min_classes"} <= codes(strict, "chevalOrangeVeloLune")


def test_presets_have_self_explaining_names_and_the_old_ones_still_work() -> None:
    assert preset_name("seed000") == "websig-ales"
    assert preset_name("seed003") == "dgfip"
    assert preset_name("cnil-2022-restricted") == "cnil-2022-restricted"
    assert preset_name("seed999") is None
    assert PolicyConfig(preset="seed003").preset == "dgfip"
    assert PolicyConfig(preset="seed000").build() == PRESETS["websig-ales"]


@pytest.fixture(scope="module")
def restricted() -> PasswordPolicy:
    return PolicyConfig(preset="cnil-2022-restricted").build()


@pytest.mark.parametrize(
    "password",
    [
        "marseille",
        "Marseille",
        "MARSEILLE13",
        "M4rseille2024!",  # leetspeak and added digits and symbols
        "2024marseille",
        "P@ssw0rd",
        "azerty123",
        "Azerty123!",
        "Soleil!!",
        "motdepasse",
        "Motdepasse2024?",
        "1loveyou!",  # "1" read as "i"
    ],
)
def test_common_french_passwords_are_refused_whatever_their_decoration(
    restricted: PasswordPolicy, password: str
) -> None:
    assert "forbidden_words" in codes(restricted, password)


@pytest.mark.parametrize(
    "password",
    ["Marseille-Chocolat-Velo-Nuage", "Vacances-Bretagne-2016", "Xk9#mP2qLw!z"],
)
def test_a_passphrase_holding_a_common_word_is_not_a_common_password(
    restricted: PasswordPolicy, password: str
) -> None:
    assert "forbidden_words" not in codes(restricted, password)


def test_the_bundled_list_is_the_richelieu_top_20000() -> None:
    common = data.common_passwords()
    assert 19_000 < len(common) <= 20_000
    assert {"123456", "azerty", "marseille"} <= common
    assert (data.DATA_DIR / "french-passwords" / "LICENSE").is_file()
    assert "CC BY 4.0" in (data.DATA_DIR / "french-passwords" / "README.md").read_text()


def test_admins_extend_the_common_list_and_forbid_words_anywhere(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "common.txt").write_text("# ours\nGrenouille\n", encoding="utf-8")
    (folder / "words.txt").write_text("Région\n", encoding="utf-8")
    policy = PolicyConfig(
        preset="cnil-2022-restricted",
        common_passwords_file=folder / "common.txt",
        forbidden_words_file=folder / "words.txt",
    ).build()
    assert "forbidden_words" in codes(policy, "Gr3nouille99")
    assert "forbidden_words" in codes(policy, "azerty")  # the bundled list stays
    assert "forbidden_words" in codes(policy, "Ma-REGION-Cherie-2024")  # anywhere inside
    assert "forbidden_words" not in codes(policy, "Ma-Grenouille-Cherie-2024")
    without = PolicyConfig(preset="cnil-2022-restricted", common_passwords=False).build()
    assert "forbidden_words" not in codes(without, "azerty")


def test_matching_folds_case_accents_and_leetspeak() -> None:
    common = normalise_list(["Étoile"])
    assert is_common("3t0il3!!", common) and is_common("ÉTOILE", common)
    assert contains_forbidden("xxR3g10nxx", normalise_list(["région"]))
    assert not contains_forbidden("xxrgnxx", normalise_list(["région"]))


def test_user_parts_are_refused_in_leetspeak_and_from_the_mail() -> None:
    policy = RESTRICTED
    user = UserContext("jdupont", ("Jeanne", "Dupont"), ("jeanne.martin@mairie.fr",))
    assert "no_user_parts" in codes(policy, "Xk9#Dup0nt!z", user)
    assert "no_user_parts" in codes(policy, "Xk9#martin!z", user)
    assert "no_user_parts" not in codes(policy, "Xk9#mP2qLw!z", user)


@pytest.fixture(scope="module")
def guessing() -> PasswordPolicy:
    return PolicyConfig(preset="cnil-2022-restricted", min_guess_score=3).build(
        context_words=("Région Occitanie",)
    )


def test_guess_score_refuses_what_zxcvbn_guesses_and_says_why(guessing: PasswordPolicy) -> None:
    assessment = guessing.assess("qwertyuiop1234567")
    assert "min_guess_score" in {rule.code for rule in assessment.failed}
    assert assessment.guess is not None and assessment.guess.score < 3
    assert assessment.guess.warning  # "Straight rows of keys are easy to guess."
    assert "qwerty" not in assessment.guess.warning.casefold()
    assert guessing.assess("Girafe!Trompette42").guess.score >= 3  # type: ignore[union-attr]


def test_zxcvbn_is_fed_the_user_the_organisation_and_french_words(
    guessing: PasswordPolicy,
) -> None:
    user = UserContext("xquinta", ("Xavier", "Quintavalle"), ("xq@example.org",))
    # Without knowing these words, zxcvbn calls them strong (score 4).
    loose = guessing.with_changes(forbid_user_parts=False, context_words=())
    assert "min_guess_score" not in codes(loose, "Quintavalle2024")
    assert "min_guess_score" in codes(loose, "Quintavalle2024", user)
    assert "min_guess_score" not in codes(loose, "Trebeurden2024")
    town = loose.with_changes(context_words=("Mairie de Trébeurden",))
    assert "min_guess_score" in codes(town, "Trebeurden2024")
    plain = GuessEstimator()
    french = data.french_guesser()
    assert french.estimate("grenouillebavarde").score < plain.estimate("grenouillebavarde").score


def test_the_estimator_leaves_zxcvbn_module_state_alone() -> None:
    before = dict(matching.RANKED_DICTIONARIES.get("user_inputs", {}))
    data.french_guesser().estimate("whatever", user_words("secret.name@example.org"))
    assert matching.RANKED_DICTIONARIES.get("user_inputs", {}) == before


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_generated_passphrases_pass_the_policy_with_the_entropy_it_asks(name: str) -> None:
    policy = PolicyConfig(preset=name).build()
    words = data.passphrase_words()
    assert len(set(words)) == 4096
    for _ in range(5):
        suggestion = generate_passphrase(policy, words)
        assert policy.check(suggestion.password) == []
        assert suggestion.bits >= max(policy.min_entropy_bits, 50)


def test_a_passphrase_draws_enough_french_words() -> None:
    suggestion = generate_passphrase(ALONE, data.passphrase_words())
    parts = suggestion.password.split("-")
    assert suggestion.passphrase and len(parts) == 7  # 7 x 12 bits = 84 >= 80
    assert all(part.casefold() in data.passphrase_words() for part in parts)
    # Too short a maximum for words: random characters instead, still accepted.
    fallback = generate_passphrase(PRESETS["dgfip"], data.passphrase_words())
    assert not fallback.passphrase and PRESETS["dgfip"].check(fallback.password) == []
