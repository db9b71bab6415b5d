"""Mobile numbers: read from the directory, normalised to E.164 and masked for display."""

from __future__ import annotations

import functools
import random
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

MASK = "•"
# Fixed-line-or-mobile is what numbering plans such as the US one report for every number.
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


# A flow asks for its account's mobile several times (channels, masks, the send, the check):
# parsed once. Bounded; a number is no secret to the process that sends it codes.
@functools.lru_cache(maxsize=1024)
def normalize_mobile(raw: str, default_region: str = "FR") -> str | None:
    """The E.164 form of a valid mobile number ("06 12 34 56 78" → "+33612345678"), or None."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def first_mobile(values_in_attribute_order: list[str], default_region: str = "FR") -> str | None:
    """The first value that is a valid mobile number, in E.164, or None."""
    for value in values_in_attribute_order:
        mobile = normalize_mobile(value, default_region)
        if mobile is not None:
            return mobile
    return None


def random_mobile(region: str, rng: random.Random) -> str:
    """A valid mobile number of the region (E.164), each national number equally likely."""
    example = phonenumbers.example_number_for_type(
        region, PhoneNumberType.MOBILE
    ) or phonenumbers.example_number_for_type("FR", PhoneNumberType.MOBILE)
    assert example is not None  # France's plan has mobiles
    digits = len(str(example.national_number))
    # Rejection sampling: about one draw in five is a mobile in most plans; bounded anyway.
    for _ in range(1000):
        number = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=rng.randrange(10 ** (digits - 1), 10**digits),
        )
        if phonenumbers.number_type(number) in _MOBILE_TYPES:
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, PhoneNumberFormat.E164)


def mask_mobile(e164: str, default_region: str = "FR") -> str:
    """Show enough to recognise one's number: "+33612345678" → "06 •• •• •• 78".

    A number of the default region's country keeps its national form with the first two and last two
    digits; another keeps its country code and last two digits ("+44 •••• ••••23").
    """
    number = phonenumbers.parse(e164, None)
    if number.country_code == phonenumbers.country_code_for_region(default_region):
        return _mask_digits(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), 2)
    shown = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{number.country_code}"
    return prefix + _mask_digits(shown.removeprefix(prefix), 0)


def _mask_digits(formatted: str, keep_first: int, keep_last: int = 2) -> str:
    """Replace the digits between the first `keep_first` and the last `keep_last`."""
    positions = [match.start() for match in re.finditer(r"\d", formatted)]
    hidden = set(positions[keep_first : len(positions) - keep_last])
    return "".join(MASK if index in hidden else char for index, char in enumerate(formatted))
