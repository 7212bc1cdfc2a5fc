"""Segment rules: the vocabulary, its validation, and its translation into one queryset filter.

A rule is `{"field": ..., "op": ..., "value": ...}`; a segment matches contacts for which every
rule holds. Fields: `preferred_language` (eq), `consent.<channel>` and `reachable.<channel>`
(is true/false), and `attr.<name>` (eq, ne, exists). Attribute values compare as text, so
`attr.visits = 3` matches both the number 3 and the string "3".
"""

from typing import Any

from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.lookups import Exact
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from distribution.enums import Channel, RuleField, RuleOperator
from distribution.models import Contact
from distribution.normalize import check_attribute_name, normalize_language

ATTRIBUTE_PREFIX = "attr."
MAX_RULES = 20


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_rules", extra={"field": "rules"})


def clean_rules(rules: Any) -> list[dict]:
    """Validated, normalised rules; raises ApplicationError(field="rules")."""
    if rules in (None, ""):
        return []
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise _refuse(_("Rules are a list of at most %(n)s conditions.") % {"n": MAX_RULES})
    cleaned = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise _refuse(_("Each rule has a field, an operator and a value."))
        field, op, value = rule.get("field"), rule.get("op"), rule.get("value")
        if not isinstance(field, str):
            raise _refuse(_("Each rule names a field."))
        if field.startswith(ATTRIBUTE_PREFIX):
            try:
                check_attribute_name(field[len(ATTRIBUTE_PREFIX) :])
            except ApplicationError as error:
                raise _refuse(error.message) from None
            if op not in (RuleOperator.EQUALS, RuleOperator.NOT_EQUALS, RuleOperator.EXISTS):
                raise _refuse(_("Attributes are compared with eq, ne or exists."))
            if op == RuleOperator.EXISTS:
                value = True
            elif isinstance(value, bool) or not isinstance(value, str | int | float):
                raise _refuse(_("Compare attributes with text or a number."))
            else:
                value = str(value).strip()
        elif field == RuleField.LANGUAGE:
            if op != RuleOperator.EQUALS or not isinstance(value, str) or not value:
                raise _refuse(_("Preferred language is compared with eq and fi, sv or en."))
            try:
                value = normalize_language(value)
            except ApplicationError as error:
                raise _refuse(error.message) from None
        elif field in RuleField.values:
            if op != RuleOperator.IS or not isinstance(value, bool):
                raise _refuse(_("Consent and reachability are compared with is true or false."))
        else:
            raise _refuse(_("Unknown rule field %(field)s.") % {"field": field})
        cleaned.append({"field": field, "op": str(op), "value": value})
    return cleaned


def rules_filter(rules: list[dict]) -> Q:
    """One Q for all rules (ANDed); an empty list matches every contact."""
    condition = Q()
    for rule in rules:
        field, op, value = rule["field"], rule["op"], rule["value"]
        if field.startswith(ATTRIBUTE_PREFIX):
            name = field[len(ATTRIBUTE_PREFIX) :]
            if op == RuleOperator.EXISTS:
                condition &= Q(attributes__has_key=name)
            elif op == RuleOperator.EQUALS:
                condition &= attribute_equals(name, value)
            else:
                # Contacts without the attribute do not equal the value either.
                condition &= ~Q(attributes__has_key=name) | (
                    Q(attributes__has_key=name) & ~attribute_equals(name, value)
                )
        elif field == RuleField.LANGUAGE:
            condition &= Q(preferred_language=value)
        else:
            kind, channel = field.split(".", 1)
            Channel(channel)
            if kind == "consent":
                test = Q(**{f"{channel}_consent": True})
            else:
                test = Contact.reachable_q(channel)
            condition &= test if value else ~test
    return condition


def attribute_equals(name: str, value: str) -> Q:
    """Attribute `name` equals `value` as text (numbers and strings alike)."""
    return Q(Exact(KT(f"attributes__{name}"), value))
