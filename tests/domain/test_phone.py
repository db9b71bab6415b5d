"""Mobile numbers from the directory: E.164 normalisation, masking, attribute order."""

from __future__ import annotations

import pytest

from sspr.domain.phone import first_mobile, mask_mobile, normalize_mobile


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("07 81 23 45 67", "+33781234567"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+44 7911 123456", "+447911123456"),
        ("+32 470 12 34 56", "+32470123456"),
    ],
)
def test_mobiles_become_e164(raw: str, e164: str) -> None:
    assert normalize_mobile(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "01 23 45 67 89",  # a landline cannot receive SMS
        "09 70 12 34 56",  # nor can a VoIP number
        "06 12",
        "not a number",
        "",
        "+33 6 12 34 56 78 90",
    ],
)
def test_invalid_or_non_mobile_numbers_are_refused(raw: str) -> None:
    assert normalize_mobile(raw) is None


def test_default_region_is_configurable() -> None:
    assert normalize_mobile("07911 123456", default_region="GB") == "+447911123456"
    assert normalize_mobile("07911 123456") is None  # not a French number


def test_french_mobiles_are_masked_in_national_form() -> None:
    assert mask_mobile("+33612345678") == "06 •• •• •• 78"
    assert mask_mobile("+33781234542") == "07 •• •• •• 42"


def test_foreign_mobiles_keep_their_country_code_and_last_digits() -> None:
    assert mask_mobile("+447911123456") == "+44 •••• ••••56"
    assert mask_mobile("+447911123456", default_region="GB") == "07••• ••••56"


def test_first_mobile_follows_attribute_order() -> None:
    values = ["01 23 45 67 89", "garbage", "07 81 23 45 67", "06 12 34 56 78"]
    assert first_mobile(values) == "+33781234567"
    assert first_mobile(["01 23 45 67 89"]) is None
    assert first_mobile([]) is None
