"""Normalising what people type or import into contacts: one set of rules for every entry path.

Each function returns the normalised value or raises `ApplicationError` naming the field, so the
browser form, the API and the CSV import report the same message.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from tenancy.enums import Language

DEFAULT_PHONE_REGION = "FI"
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$")
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_VALUE = 500
TRUE_WORDS = frozenset({"1", "y", "yes", "true", "x", "k", "kyllä", "ja", "on"})
FALSE_WORDS = frozenset({"0", "n", "no", "false", "e", "ei", "nej", "off"})


def normalize_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            _("Enter a valid email address."), code="invalid_email", extra={"field": "email"}
        ) from None
    return email


def normalize_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 (`+358401234567`); numbers without a country code are read in `region`."""
    raw = (value or "").strip()
    if not raw:
        return ""
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ApplicationError(
            _("Enter a valid phone number, e.g. 040 123 4567 or +358 40 123 4567."),
            code="invalid_phone",
            extra={"field": "phone"},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_language(value: str) -> str:
    language = (value or "").strip().lower()
    if language and language not in Language.values:
        raise ApplicationError(
            _("Use fi, sv or en."), code="invalid_language", extra={"field": "preferred_language"}
        )
    return language


def check_attribute_name(name: str) -> str:
    if not ATTRIBUTE_NAME.match(name or "") or "__" in name:
        raise ApplicationError(
            _("Attribute names use letters, digits, - and _ (at most 50)."),
            code="invalid_attribute",
            extra={"field": "attributes"},
        )
    return name


def normalize_attributes(value) -> dict:
    """Free keys; values are strings, numbers or booleans (dates travel as ISO strings)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ApplicationError(
            _("Attributes are an object of names and values."),
            code="invalid_attribute",
            extra={"field": "attributes"},
        )
    if len(value) > MAX_ATTRIBUTES:
        raise ApplicationError(
            _("At most %(n)s attributes.") % {"n": MAX_ATTRIBUTES},
            code="invalid_attribute",
            extra={"field": "attributes"},
        )
    cleaned = {}
    for name, item in value.items():
        check_attribute_name(name)
        if isinstance(item, str):
            item = item.strip()[:MAX_ATTRIBUTE_VALUE]
        elif item is not None and not isinstance(item, bool | int | float):
            raise ApplicationError(
                _("Attribute %(name)s must be text, a number or true/false.") % {"name": name},
                code="invalid_attribute",
                extra={"field": "attributes"},
            )
        cleaned[name] = item
    return cleaned


def parse_flag(value: str, *, field: str) -> bool | None:
    """A yes/no cell: None when empty (no change), else True or False."""
    word = (value or "").strip().lower()
    if not word:
        return None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ApplicationError(
        _("Use yes or no (or 1 / 0)."), code="invalid_flag", extra={"field": field}
    )
