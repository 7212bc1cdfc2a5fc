"""The fast path of phone normalisation gives phonenumbers' answer or none at all."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distribution.normalize import normalize_phone
from distribution.phones import fast_e164, slow_e164

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.VOIP,
]


def written_forms(region: str) -> list[str]:
    """Each region's example numbers as people write them: nationally and internationally."""
    forms = []
    for kind in TYPES:
        number = phonenumbers.example_number_for_type(region, kind)
        if number is None:
            continue
        for style in (
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.E164,
        ):
            forms.append(phonenumbers.format_number(number, style))
    return forms


@pytest.mark.parametrize("region", REGIONS)
def test_fast_path_agrees_with_phonenumbers_on_every_regions_examples(region):
    for written in written_forms(region):
        for home in (region, "FI", "US"):
            fast = fast_e164(written, home)
            assert fast is None or fast == slow_e164(written, home), (written, home)


def test_plain_finnish_and_swedish_numbers_take_the_fast_path():
    assert fast_e164("040 123 4567", "FI") == "+358401234567"
    assert fast_e164("+358 40 123 4567", "FI") == "+358401234567"
    assert fast_e164("+358 040 123 4567", "SE") == "+358401234567"
    assert fast_e164("070-123 45 67", "SE") == "+46701234567"
    assert fast_e164("(040) 123 4567", "FI") is None  # other shapes: phonenumbers decides
    assert normalize_phone("(040) 123 4567") == "+358401234567"


@settings(max_examples=3000, deadline=None)
@given(
    region=st.sampled_from(["FI", "AX", "SE", "NO", "DK", "EE", "DE", "GB", "US", "IT", "RU"]),
    home=st.sampled_from(["FI", "SE", "US", "GB", "IT", "AR", "MX", "BR"]),
    plus=st.booleans(),
    prefix=st.sampled_from(["", "0", "00", "1", "358", "46", "7", "39", "44", "99"]),
    rest=st.text(alphabet="0123456789", min_size=0, max_size=13),
    spaces=st.booleans(),
)
def test_fast_path_never_disagrees_with_phonenumbers(region, home, plus, prefix, rest, spaces):
    country = str(phonenumbers.country_code_for_region(region))
    digits = (country if plus else "") + prefix + rest
    written = ("+" if plus else "") + (
        " ".join(digits[i : i + 3] for i in range(0, len(digits), 3)) if spaces else digits
    )
    fast = fast_e164(written, home)
    assert fast is None or fast == slow_e164(written, home)
