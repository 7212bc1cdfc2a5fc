"""Normalising what people type or import into contacts: one set of rules for every entry path.

Each function returns the normalised value or raises `ApplicationError` naming the field, so the
browser form, the API and the CSV import report the same message.
"""

import re
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from distribution.phones import fast_e164, slow_e164
from tenancy.enums import Language

DEFAULT_PHONE_REGION = "FI"
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$")
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_VALUE = 500
TRUE_WORDS = frozenset({"1", "y", "yes", "true", "x", "k", "kyllä", "ja", "on"})
FALSE_WORDS = frozenset({"0", "n", "no", "false", "e", "ei", "nej", "off"})
_LANGUAGES = frozenset(Language.values)  # `.values` builds a new list on every call


# Django's own patterns, compiled here: its validator reaches them through lazy objects, which
# cost more than the match itself when an import checks 100,000 addresses.
_EMAIL_USER = re.compile(validate_email.user_regex.pattern, validate_email.user_regex.flags)
_EMAIL_DOMAIN = re.compile(validate_email.domain_regex.pattern, validate_email.domain_regex.flags)


def _plain_email(email: str) -> bool:
    """True when Django's validator would accept `email` on its first two checks."""
    user, _at, domain = email.rpartition("@")
    return bool(user and len(email) <= 320 and _EMAIL_USER.match(user) and _plain_domain(domain))


@lru_cache(maxsize=10_000)
def _plain_domain(domain: str) -> bool:
    # A file of 100,000 addresses names a few hundred domains: check each once.
    return _EMAIL_DOMAIN.match(domain) is not None


def normalize_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not email or _plain_email(email):
        return email
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            _("Enter a valid email address."), code="invalid_email", extra={"field": "email"}
        ) from None
    return email


# Imports repeat the odd shapes the fast path leaves to phonenumbers (`+358 (0)40 ...`).
_slow_e164 = lru_cache(maxsize=10_000)(slow_e164)


def normalize_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 (`+358401234567`); numbers without a country code are read in `region`."""
    raw = (value or "").strip()
    if not raw:
        return ""
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    number = fast_e164(raw, region) or _slow_e164(raw, region)
    if number is None:
        raise ApplicationError(
            _("Enter a valid phone number, e.g. 040 123 4567 or +358 40 123 4567."),
            code="invalid_phone",
            extra={"field": "phone"},
        )
    return number


def normalize_language(value: str) -> str:
    language = (value or "").strip().lower()
    if language and language not in _LANGUAGES:
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
