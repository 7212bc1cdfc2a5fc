"""Phone numbers to E.164, fast for the plain shapes that make up almost every import.

`phonenumbers.parse` costs about 100 µs a number (pure Python, general enough for vanity
numbers, extensions and RFC 3966), which made it the largest cost of a contact import. Most
cells are plain: digits with spaces or hyphens, written nationally (`040 123 4567`) or with a
plus and a country code. For those, `fast_e164` follows the same steps as `parse` +
`is_valid_number` (country code, national prefix, length, region, number type) on the same
metadata, with its patterns compiled once per region. Whatever it is not sure of (a national
prefix with a transformation, an international call prefix, a number starting with the region's
country code, a number it finds invalid) it leaves to phonenumbers, so a fast answer is always
one phonenumbers would give; a property test holds it to that for every region.
"""

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, REGION_CODE_FOR_NON_GEO_ENTITY

MAX_COUNTRY_CODE_DIGITS = 3
MIN_NATIONAL_DIGITS = 2
MAX_NATIONAL_DIGITS = 17
# The number types phonenumbers tries before it gives up (its `_number_type_helper`).
_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@dataclass(frozen=True)
class _Desc:
    lengths: frozenset[int]
    pattern: re.Pattern


@dataclass(frozen=True)
class _Rules:
    """One region's metadata, compiled."""

    country_code: int
    country_prefix: str  # the country code as digits
    general_pattern: re.Pattern
    lengths: frozenset[int]
    local_only_lengths: frozenset[int]
    # Per length, one pattern matching the numbers of that length that fit the general pattern
    # and any number type (premium rate ... mobile): `_has_type` in one regular expression.
    types: dict[int, re.Pattern]
    national_prefix: re.Pattern | None
    plain_national_prefix: bool
    international_prefix: re.Pattern | None
    leading_digits: re.Pattern | None


def _desc(desc) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return _Desc(frozenset(desc.possible_length), re.compile(desc.national_number_pattern))


@cache
def _rules(region: str) -> _Rules | None:
    if region == REGION_CODE_FOR_NON_GEO_ENTITY:
        return None  # non-geographic numbers (+800...) are rare: phonenumbers handles them
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or _desc(metadata.general_desc) is None:
        return None
    national_prefix = metadata.national_prefix_for_parsing or ""
    general = _desc(metadata.general_desc)
    return _Rules(
        country_code=metadata.country_code,
        country_prefix=str(metadata.country_code),
        general_pattern=general.pattern,
        lengths=frozenset(metadata.general_desc.possible_length),
        local_only_lengths=frozenset(metadata.general_desc.possible_length_local_only),
        types=_types_by_length(metadata, general),
        national_prefix=re.compile(national_prefix) if national_prefix else None,
        plain_national_prefix=national_prefix.isdigit()
        and not metadata.national_prefix_transform_rule,
        international_prefix=re.compile(metadata.international_prefix)
        if metadata.international_prefix
        else None,
        leading_digits=re.compile(metadata.leading_digits) if metadata.leading_digits else None,
    )


def _types_by_length(metadata, general: _Desc) -> dict[int, re.Pattern]:
    descs = [
        desc
        for name in _TYPE_DESCS
        if (desc := _desc(getattr(metadata, name))) is not None
        # A number that is fixed-line-or-mobile is found by the fixed-line pattern.
        and not (name == "mobile" and metadata.same_mobile_and_fixed_line_pattern)
    ]
    lengths = set().union(*(desc.lengths for desc in descs)) if descs else set()
    if general.lengths:
        lengths &= general.lengths
    by_length = {}
    for length in lengths:
        fitting = [
            desc.pattern.pattern for desc in descs if not desc.lengths or length in desc.lengths
        ]
        # The lookahead holds the whole number to the general pattern as well.
        by_length[length] = re.compile(
            rf"(?=(?:{general.pattern.pattern})\Z)(?:"
            + "|".join(f"(?:{pattern})" for pattern in fitting)
            + ")"
        )
    return by_length


def _without_national_prefix(number: str, rules: _Rules) -> str | None:
    """The national significant number, or None when phonenumbers must decide."""
    if rules.national_prefix is None:
        return number
    found = rules.national_prefix.match(number)
    if found is None:
        return number
    if not rules.plain_national_prefix:
        return None
    stripped = number[found.end() :]
    # phonenumbers strips the prefix when the rest still fits the plan, and keeps it when the
    # rest has a length that is only possible locally or not at all.
    if not rules.general_pattern.fullmatch(stripped):
        return None
    if len(stripped) in rules.local_only_lengths or len(stripped) not in rules.lengths:
        return None
    return stripped


@cache
def _country_rules(country_code: int) -> tuple[_Rules | None, ...]:
    return tuple(_rules(region) for region in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()))


def _is_valid(country_code: int, national: str) -> bool:
    """phonenumbers' `is_valid_number`: the region the number belongs to, then a known type."""
    candidates = _country_rules(country_code)
    region_rules = None
    for rules in candidates:
        if rules is None:
            return False  # unsure (non-geographic or no metadata): the slow path decides
        if len(candidates) == 1:
            region_rules = rules
        elif rules.leading_digits is not None:
            if rules.leading_digits.match(national):
                region_rules = rules
        elif _has_type(national, rules):
            region_rules = rules
        if region_rules is not None:
            break
    if region_rules is None or region_rules.country_code != country_code:
        return False
    return _has_type(national, region_rules)


def _has_type(national: str, rules: _Rules) -> bool:
    types = rules.types.get(len(national))
    return types is not None and types.fullmatch(national) is not None


def fast_e164(raw: str, region: str) -> str | None:
    """`+<country><number>` for a plain, valid number; None when phonenumbers must decide
    (including every invalid number, so the error always comes from one place)."""
    text = raw.replace(" ", "").replace("-", "")
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if len(digits) < 3 or not (digits.isascii() and digits.isdigit()):
        return None
    if plus:
        if digits[0] == "0" or len(digits) <= MIN_NATIONAL_DIGITS:
            return None
        for size in range(1, MAX_COUNTRY_CODE_DIGITS + 1):
            if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
                country_code, rest = int(digits[:size]), digits[size:]
                break
        else:
            return None
        rules = _rules(COUNTRY_CODE_TO_REGION_CODE[country_code][0])
    else:
        rules = _rules(region)
        if rules is None:
            return None
        calls_abroad = rules.international_prefix and rules.international_prefix.match(digits)
        if calls_abroad or digits.startswith(rules.country_prefix):
            return None
        country_code, rest = rules.country_code, digits
    if rules is None or len(rest) < MIN_NATIONAL_DIGITS:
        return None
    national = _without_national_prefix(rest, rules)
    if national is None or not MIN_NATIONAL_DIGITS <= len(national) <= MAX_NATIONAL_DIGITS:
        return None
    if not _is_valid(country_code, national):
        return None
    return f"+{country_code}{national}"


def slow_e164(raw: str, region: str) -> str | None:
    """phonenumbers' answer: E.164 for a valid number, else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
