"""The filters every report page shares, read from the query string so a view can be bookmarked.

`ReportFilterForm(request.GET, organization=...)` validates the parameters; `form.report_filters()`
always answers a usable `ReportFilters` (the defaults stand in for any value that failed, and the
form keeps its errors for the page to show), so bad input gives a form error, never a 500.

Parameters: `range` (a preset: 7d, 30d, 90d, 12m, quarter, ytd; or `custom` with `from` and `to`,
ISO dates), `channel`, `language`, `survey` and `segment` (public ids), `period` (day, week,
month; empty chooses by the length of the range). The default is the last 90 days in the
organization's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from distribution.models import Segment
from metrics.periods import Interval
from metrics.selectors import MetricFilters
from surveys.enums import Channel
from surveys.models import Survey
from tenancy.enums import Language

MAX_DAYS = 3 * 366


class Preset:
    LAST_7_DAYS = "7d"
    LAST_30_DAYS = "30d"
    LAST_90_DAYS = "90d"
    LAST_12_MONTHS = "12m"
    THIS_QUARTER = "quarter"
    YEAR_TO_DATE = "ytd"
    CUSTOM = "custom"

    DEFAULT = LAST_90_DAYS
    CHOICES = [
        (LAST_7_DAYS, _("Last 7 days")),
        (LAST_30_DAYS, _("Last 30 days")),
        (LAST_90_DAYS, _("Last 90 days")),
        (LAST_12_MONTHS, _("Last 12 months")),
        (THIS_QUARTER, _("This quarter")),
        (YEAR_TO_DATE, _("Year to date")),
        (CUSTOM, _("Custom dates")),
    ]


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """(first day, last day) of a preset, ending today."""
    if preset == Preset.LAST_7_DAYS:
        return today - timedelta(days=6), today
    if preset == Preset.LAST_30_DAYS:
        return today - timedelta(days=29), today
    if preset == Preset.LAST_12_MONTHS:
        return one_year_before(today) + timedelta(days=1), today
    if preset == Preset.THIS_QUARTER:
        return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
    if preset == Preset.YEAR_TO_DATE:
        return today.replace(month=1, day=1), today
    return today - timedelta(days=89), today


def default_interval(start: date, end: date) -> Interval:
    """Days for a month, weeks up to half a year, months beyond: a chart of at most ~40 bars
    that stays readable on a phone."""
    days = (end - start).days + 1
    if days <= 31:
        return Interval.DAY
    if days <= 183:
        return Interval.WEEK
    return Interval.MONTH


@dataclass(frozen=True)
class ReportFilters:
    """Validated filters: the date range, the period length and the dimensions to narrow by."""

    start: date
    end: date
    preset: str = Preset.DEFAULT
    interval: Interval = Interval.WEEK
    period: str = ""  # what the URL said; empty when chosen by the length of the range
    channel: str = ""
    language: str = ""
    survey: Survey | None = None
    segment: Segment | None = None
    today: date | None = field(default=None, compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def range_label(self) -> str:
        first = formats.date_format(self.start, "SHORT_DATE_FORMAT")
        last = formats.date_format(self.end, "SHORT_DATE_FORMAT")
        return f"{first} – {last}"

    def metric_filters(self, **narrowing) -> MetricFilters:
        """metrics.selectors.MetricFilters for these filters, narrowed further by `narrowing`
        (touchpoint_ids, journey_id, stage_id, question_key...)."""
        return MetricFilters(
            survey_id=self.survey.pk if self.survey else None,
            channels=(self.channel,) if self.channel else (),
            languages=(self.language,) if self.language else (),
            segment=self.segment,
            **narrowing,
        )

    def params(self) -> dict[str, str]:
        """The query parameters that reproduce these filters (defaults left out)."""
        params: dict[str, str] = {}
        if self.preset == Preset.CUSTOM:
            params |= {
                "range": Preset.CUSTOM,
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
            }
        elif self.preset != Preset.DEFAULT:
            params["range"] = self.preset
        if self.period:
            params["period"] = self.period
        if self.channel:
            params["channel"] = self.channel
        if self.language:
            params["language"] = self.language
        if self.survey:
            params["survey"] = self.survey.public_id
        if self.segment:
            params["segment"] = self.segment.public_id
        return params

    def querystring(self, **overrides: str | None) -> str:
        """URL-encoded filters without the leading "?"; `overrides` add or replace parameters
        (None removes one), e.g. `filters.querystring(metric="nps")`."""
        params: dict[str, str] = self.params()
        for key, value in overrides.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = str(value)
        return urlencode(params)

    @property
    def query(self) -> str:
        """`querystring()` for templates: `href="...?{{ filters.query }}"`."""
        return self.querystring()

    @property
    def is_narrowed(self) -> bool:
        return bool(self.channel or self.language or self.survey or self.segment)

    @property
    def is_default(self) -> bool:
        """The view without any parameter: the default range, period and no narrowing."""
        return not self.params()


def default_filters(organization, today: date | None = None) -> ReportFilters:
    today = today or timezone.localdate(timezone=organization.zone)
    start, end = preset_range(Preset.DEFAULT, today)
    return ReportFilters(start=start, end=end, interval=default_interval(start, end), today=today)


class _PublicIdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class ReportFilterForm(forms.Form):
    """The filters as a GET form. `from` is a Python keyword, so it is added in __init__."""

    range = forms.ChoiceField(
        label=_("Date range"), choices=Preset.CHOICES, required=False, initial=Preset.DEFAULT
    )
    to = forms.DateField(
        label=_("To"),
        required=False,
        help_text=_("Used with “Custom dates”."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("", _("Automatic")),
            (Interval.DAY.value, _("Day")),
            (Interval.WEEK.value, _("Week")),
            (Interval.MONTH.value, _("Month")),
        ],
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *Language.choices]
    )

    field_order = ["range", "from", "to", "period", "channel", "language", "survey", "segment"]

    def __init__(self, data=None, *, organization, today: date | None = None, **kwargs):
        # Always bound, so an empty query string is the default view and the form shows the
        # range in force: a date without a preset means custom dates.
        params = dict(data.items()) if data is not None else {}
        if not params.get("range"):
            custom = params.get("from") or params.get("to")
            params["range"] = Preset.CUSTOM if custom else Preset.DEFAULT
        super().__init__(params, **kwargs)
        self.organization = organization
        self.today = today or timezone.localdate(timezone=organization.zone)
        self.fields["from"] = forms.DateField(
            label=_("From"),
            required=False,
            help_text=_("Used with “Custom dates”."),
            widget=forms.DateInput(attrs={"type": "date"}),
        )
        self.fields["survey"] = _PublicIdChoiceField(
            label=_("Survey"),
            required=False,
            empty_label=_("All surveys"),
            to_field_name="public_id",
            queryset=Survey.objects.filter(organization=organization)
            .only("id", "public_id", "name")
            .order_by("name"),
        )
        self.fields["segment"] = _PublicIdChoiceField(
            label=_("Contact segment"),
            required=False,
            empty_label=_("All respondents"),
            to_field_name="public_id",
            queryset=Segment.objects.filter(organization=organization)
            .only("id", "public_id", "name")
            .order_by("name"),
        )
        self.order_fields(self.field_order)
        for name in ("survey", "segment"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "No such item in this organization."
            )

    def clean(self):
        data = super().clean()
        preset = data.get("range") or ""
        first, last = data.get("from"), data.get("to")
        if preset == Preset.CUSTOM:
            if not first or not last:
                raise forms.ValidationError(_("Give both dates of a custom range."))
            if first > last:
                raise forms.ValidationError(_("The first day must not be after the last day."))
            if (last - first).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("A range may span at most %(days)s days.") % {"days": MAX_DAYS}
                )
        return data

    def report_filters(self) -> ReportFilters:
        """The filters to show: what validated, with the defaults for whatever did not."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        range_ok = not self.non_field_errors() and not (
            self.has_error("range") or self.has_error("from") or self.has_error("to")
        )
        preset = (data.get("range") or Preset.DEFAULT) if range_ok else Preset.DEFAULT
        if preset == Preset.CUSTOM:
            start, end = data["from"], data["to"]
        else:
            start, end = preset_range(preset, self.today)
        period = data.get("period") or ""
        interval = Interval(period) if period else default_interval(start, end)
        return ReportFilters(
            start=start,
            end=end,
            preset=preset,
            interval=interval,
            period=period,
            channel=data.get("channel") or "",
            language=data.get("language") or "",
            survey=data.get("survey"),
            segment=data.get("segment"),
            today=self.today,
        )


def filters_from_request(request, organization) -> tuple[ReportFilterForm, ReportFilters]:
    """(form, filters) from a request's query string; check `form.errors` to answer 400."""
    form = ReportFilterForm(request.GET, organization=organization)
    return form, form.report_filters()
