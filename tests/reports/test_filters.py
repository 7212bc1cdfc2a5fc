"""The shared report filters: presets, custom ranges, errors and the query string they keep."""

from datetime import date
from urllib.parse import parse_qs

import pytest
from django.http import QueryDict

from distribution.models import Segment
from metrics.periods import Interval
from reports.filters import Preset, ReportFilterForm, preset_range
from tests.surveys.factories import make_survey

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 15)


def parse(scoped, query: str):
    form = ReportFilterForm(QueryDict(query), organization=scoped, today=TODAY)
    return form, form.report_filters()


def test_no_parameters_mean_the_last_90_days(scoped):
    form, filters = parse(scoped, "")
    assert not form.errors
    assert (filters.start, filters.end) == (date(2026, 2, 15), TODAY)
    assert filters.days == 90
    assert filters.preset == Preset.LAST_90_DAYS
    assert filters.interval == Interval.WEEK
    assert filters.query == ""


@pytest.mark.parametrize(
    ("preset", "first"),
    [
        ("7d", date(2026, 5, 9)),
        ("30d", date(2026, 4, 16)),
        ("90d", date(2026, 2, 15)),
        ("12m", date(2025, 5, 16)),
        ("quarter", date(2026, 4, 1)),
        ("ytd", date(2026, 1, 1)),
    ],
)
def test_presets_end_today(preset, first):
    assert preset_range(preset, TODAY) == (first, TODAY)


def test_last_12_months_from_a_leap_day():
    assert preset_range("12m", date(2028, 2, 29)) == (date(2027, 3, 1), date(2028, 2, 29))


def test_custom_dates_are_kept_in_the_query_string(scoped):
    form, filters = parse(scoped, "from=2026-01-01&to=2026-01-31&period=day")
    assert not form.errors
    assert (filters.start, filters.end, filters.interval) == (
        date(2026, 1, 1),
        date(2026, 1, 31),
        Interval.DAY,
    )
    assert parse_qs(filters.query) == {
        "range": ["custom"],
        "from": ["2026-01-01"],
        "to": ["2026-01-31"],
        "period": ["day"],
    }


def test_survey_segment_channel_and_language_become_metric_filters(scoped):
    survey = make_survey(scoped)
    segment = Segment.objects.create(organization=scoped, name="VIP")
    query = f"survey={survey.public_id}&segment={segment.public_id}&channel=email&language=sv"
    form, filters = parse(scoped, query)
    assert not form.errors
    metric_filters = filters.metric_filters(touchpoint_ids=(7,))
    assert metric_filters.survey_id == survey.pk
    assert metric_filters.segment == segment
    assert metric_filters.channels == ("email",)
    assert metric_filters.languages == ("sv",)
    assert metric_filters.touchpoint_ids == (7,)
    assert parse_qs(filters.querystring(metric="nps")) == {
        "survey": [survey.public_id],
        "segment": [segment.public_id],
        "channel": ["email"],
        "language": ["sv"],
        "metric": ["nps"],
    }


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-02-01&to=2026-01-01&range=custom",
        "range=custom&from=2026-01-01",
        "from=yesterday&to=2026-01-01",
        "range=forever",
        "from=2020-01-01&to=2026-01-01&range=custom",
        "period=hour",
        "channel=pigeon",
        "language=de",
        "survey=srv_doesnotexist",
        "segment=42",
    ],
)
def test_invalid_values_are_form_errors_and_the_defaults_stand_in(scoped, query):
    form, filters = parse(scoped, query)
    assert form.errors
    assert filters.end == TODAY
    assert filters.start <= filters.end


def test_another_organizations_survey_is_not_found(scoped, other_org):
    foreign = make_survey(other_org)
    form, filters = parse(scoped, f"survey={foreign.public_id}")
    assert "survey" in form.errors
    assert filters.survey is None


def test_valid_fields_survive_an_invalid_neighbour(scoped):
    form, filters = parse(scoped, "range=30d&channel=pigeon&language=en")
    assert list(form.errors) == ["channel"]
    assert filters.preset == Preset.LAST_30_DAYS
    assert filters.language == "en"
    assert filters.channel == ""
