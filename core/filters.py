"""List filters of the API: django-filter FilterSets, validated as forms.

A bad value is a 400 in the error format with the messages per parameter in `extra.fields`
(`DjangoFilterBackend` raises a ValidationError), never ignored and never a 500. A FilterSet
that subclasses `OrganizationFilterSet` is given the URL's organization (its time zone, and the
choices among its objects); REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] names `FilterBackend`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.scoping import no_rows


class OrganizationFilterSet(django_filters.FilterSet):
    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, organization=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.organization = organization


class FilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and issubclass(filterset_class, OrganizationFilterSet):
            kwargs["organization"] = getattr(view, "organization", None)
        return kwargs


def in_organization(model):
    """The `queryset` of a ModelChoiceFilter naming an object by public id: the organization's
    objects (the view runs in its tenant scope), none while the schema is generated."""

    def queryset(request):
        return no_rows(model) if request is None else model.objects.all()

    return queryset


@extend_schema_field(OpenApiTypes.STR)
class PublicIdFilter(django_filters.ModelChoiceFilter):
    """Documented as the string it is (a public id), whatever field it filters on."""


def public_id_filter(model, description: str, **kwargs) -> PublicIdFilter:
    """An object of the organization by public id; an unknown id is a 400, not an empty list."""
    return PublicIdFilter(
        queryset=in_organization(model),
        to_field_name="public_id",
        label=description,
        error_messages={"invalid_choice": _("No such item in this organization.")},
        **kwargs,
    )


class MomentField(forms.Field):
    """An ISO 8601 time (with or without its offset) or a date."""

    default_error_messages = {"invalid": _("Use an ISO 8601 date or time.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:  # a well-formed but impossible date (2026-02-30) raises ValueError
            # A date first: parse_datetime() would read "2026-03-01" as that midnight, and
            # "before" a date must include the whole day.
            parsed = parse_date(value) or parse_datetime(value)
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class MomentFilter(django_filters.Filter):
    """`field >= moment` ("after", inclusive) or `field < moment` ("before", exclusive). A date
    is a day in the organization's time zone, and "before" a date includes that whole day."""

    field_class = MomentField

    def __init__(self, *args, before: bool = False, **kwargs):
        super().__init__(*args, lookup_expr="lt" if before else "gte", **kwargs)
        self.before = before

    def filter(self, qs, value):
        if value is None:
            return qs
        if not isinstance(value, datetime):
            day: date = value
            if self.before:
                try:
                    day += timedelta(days=1)
                except OverflowError:  # the last representable day: nothing comes after it
                    return qs
            value = datetime.combine(day, time.min)
        if timezone.is_naive(value):
            value = timezone.make_aware(value, self.parent.organization.zone)
        return super().filter(qs, value)
