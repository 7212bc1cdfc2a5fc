import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import scores
from surveys.models import Response
from tests.metrics.conftest import at
from tests.surveys.factories import make_survey, make_touchpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/metrics/"


@pytest.fixture
def march_answers(scoped, submit, touchpoint, django_capture_on_commit_callbacks, settings):
    """March 2026: 6 promoters, 2 passives, 2 detractors (NPS 40); February: 2 promoters, 3 detractors."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        for score in [10, 10, 9, 9, 9, 10, 7, 8, 0, 5]:
            submit(score, at(2026, 3, 10))
        for score in [9, 10, 2, 3, 4]:
            submit(score, at(2026, 2, 10), channel="email")
    return touchpoint


def get(api, **params):
    return api.get(URL, params)


def test_monthly_nps_has_n_score_interval_and_counts(march_answers, read_api):
    response = get(read_api, metric="nps", start="2026-03-01", end="2026-03-31", interval="month")
    assert response.status_code == 200
    body = response.json()
    assert body["metric"] == "nps" and body["interval"] == "month"
    [march] = body["results"]
    expected = scores.nps({10: 3, 9: 3, 7: 1, 8: 1, 0: 1, 5: 1})
    assert (march["period_start"], march["period_end"]) == ("2026-03-01", "2026-03-31")
    assert march["n"] == 10 and march["score"] == pytest.approx(40.0)
    assert march["ci_low"] == pytest.approx(expected.ci_low) and march["ci_high"] == pytest.approx(
        expected.ci_high
    )
    assert march["hidden"] is False and march["low_precision"] is True  # fewer than 30 answers
    assert march["counts"] == {"10": 3, "9": 3, "7": 1, "8": 1, "0": 1, "5": 1}
    assert body["total"]["n"] == 10


def test_change_compares_with_the_equally_long_range_before(march_answers, read_api):
    body = get(read_api, metric="nps", start="2026-03-01", end="2026-03-31").json()
    change = body["change"]
    # 31 days before 1 March reach back to 29 January: February's five answers (NPS -20).
    assert change["previous_n"] == 5
    assert change["previous_score"] == pytest.approx(-20.0)
    assert change["delta"] == pytest.approx(60.0)
    assert 0 < change["p_value"] < 1
    assert change["significant"] is (change["p_value"] < 0.05)


def test_small_periods_are_hidden_but_counted(march_answers, read_api):
    body = get(
        read_api, metric="nps", start="2026-02-01", end="2026-03-31", interval="month"
    ).json()
    february, march = body["results"]
    assert march["n"] == 10
    assert february["n"] == 5 and february["hidden"] is False
    weekly = get(
        read_api, metric="nps", start="2026-02-09", end="2026-02-15", interval="day"
    ).json()
    tenth = next(r for r in weekly["results"] if r["period_start"] == "2026-02-10")
    assert tenth["n"] == 5
    empty = next(r for r in weekly["results"] if r["period_start"] == "2026-02-11")
    assert empty == {**empty, "n": 0, "score": None, "hidden": True}


def test_filters_narrow_by_channel_touchpoint_and_language(march_answers, read_api, scoped):
    by_channel = get(
        read_api, metric="nps", start="2026-02-01", end="2026-03-31", channel="email"
    ).json()
    assert by_channel["total"]["n"] == 5
    other_touchpoint = make_touchpoint(scoped, name="Store visit")
    none = get(
        read_api,
        metric="nps",
        start="2026-02-01",
        end="2026-03-31",
        touchpoint=other_touchpoint.public_id,
    )
    assert none.json()["total"]["n"] == 0
    mine = get(
        read_api,
        metric="nps",
        start="2026-02-01",
        end="2026-03-31",
        touchpoint=march_answers.public_id,
    )
    assert mine.json()["total"]["n"] == 15
    assert (
        get(read_api, metric="nps", start="2026-02-01", end="2026-03-31", language="sv").json()[
            "total"
        ]["n"]
        == 0
    )
    journey = get(
        read_api,
        metric="nps",
        start="2026-02-01",
        end="2026-03-31",
        journey=march_answers.journey.public_id,
    )
    assert journey.json()["total"]["n"] == 15


def test_query_count_does_not_grow_with_responses_or_days(march_answers, read_api, submit):
    def count_queries(**params):
        with CaptureQueriesContext(connection) as ctx:
            assert get(read_api, **params).status_code == 200
        return len(ctx.captured_queries)

    get(read_api, metric="nps")  # the key's first use of the minute writes last_used_at
    few = count_queries(metric="nps", start="2026-03-01", end="2026-03-31", interval="day")
    for day in range(1, 28):
        submit(9, at(2026, 1, day))
    many = count_queries(metric="nps", start="2025-01-01", end="2026-03-31", interval="day")
    assert many == few


def test_api_reads_rollups_not_raw_responses(march_answers, read_api):
    with CaptureQueriesContext(connection) as ctx:
        get(read_api, metric="nps", start="2026-03-01", end="2026-03-31")
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "metrics_dailytotal" in sql  # one row per day, whatever the channels and languages
    assert Response._meta.db_table not in sql
    with CaptureQueriesContext(connection) as ctx:
        answer = get(read_api, metric="nps", start="2026-03-01", end="2026-03-31", channel="web")
    assert answer.status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "metrics_dailyrollup" in sql
    assert Response._meta.db_table not in sql


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric": "bogus"}, "metric"),
        ({"metric": "nps", "start": "2026-03-31", "end": "2026-03-01"}, "start"),
        ({"metric": "nps", "start": "not-a-date"}, "start"),
        ({"metric": "nps", "interval": "fortnight"}, "interval"),
        ({"metric": "nps", "touchpoint": "tp_doesnotexist"}, "touchpoint"),
    ],
)
def test_bad_parameters_are_400_with_field_errors(personas, read_api, params, field):
    response = get(read_api, **params)
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


def test_touchpoint_of_another_organization_is_a_field_error_not_data(
    personas, read_api, other_org
):
    from core.scoping import tenant_scope

    with tenant_scope(other_org):
        foreign = make_touchpoint(other_org, name="Their checkout")
    response = get(read_api, metric="nps", touchpoint=foreign.public_id)
    assert response.status_code == 400


def test_outsider_key_gets_404(march_answers, outsider_api):
    assert get(outsider_api, metric="nps").status_code == 404
    assert outsider_api.get("/api/v1/orgs/acme/kpis/").status_code == 404


def test_viewer_reads_but_cannot_post(personas, march_answers):
    from rest_framework.test import APIClient

    viewer = APIClient()
    viewer.force_login(personas.viewer)
    assert viewer.get(URL, {"metric": "nps"}).status_code == 200
    assert viewer.post(URL, {"metric": "nps"}).status_code == 403


def test_other_metrics_come_from_their_own_questions(
    scoped, read_api, settings, django_capture_on_commit_callbacks
):
    from surveys.services.responses import response_submit
    from tests.surveys.factories import texts

    settings.CELERY_TASK_ALWAYS_EAGER = True
    survey = make_survey(
        scoped,
        questions=[
            {
                "key": "sat",
                "type": "csat",
                "texts": texts("Sat"),
                "labels": {},
                "scale_min": 1,
                "scale_max": 5,
                "required": True,
                "metric": "csat",
            },
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        for value in [5, 4, 4, 2, 1]:
            response_submit(
                organization=scoped,
                survey=survey,
                answers={"sat": value},
                channel="web",
                language="fi",
                submitted_at=at(2026, 3, 5),
            )
    body = get(read_api, metric="csat", start="2026-03-01", end="2026-03-31").json()
    assert body["total"]["n"] == 5 and body["total"]["score"] == pytest.approx(60.0)
    assert body["total"]["secondary"]["mean"] == pytest.approx(3.2)
    assert (
        get(read_api, metric="nps", start="2026-03-01", end="2026-03-31").json()["total"]["n"] == 0
    )


def test_channel_figures_add_up_to_the_all_channel_figures(march_answers, read_api):
    """The all-channel answer (day totals) and the per-channel answers (finer rollups) agree."""
    window = {"metric": "nps", "start": "2026-02-01", "end": "2026-03-31", "interval": "week"}
    everything = get(read_api, **window).json()
    by_channel = [get(read_api, channel=channel, **window).json() for channel in ("web", "email")]
    for index, period in enumerate(everything["results"]):
        assert period["n"] == sum(part["results"][index]["n"] for part in by_channel)
    assert everything["total"]["n"] == 15
    assert [part["total"]["n"] for part in by_channel] == [10, 5]
    weeks = [(p["period_start"], p["n"]) for p in everything["results"] if p["n"]]
    assert weeks == [("2026-02-09", 5), ("2026-03-09", 10)]  # ISO weeks, Monday first


def test_a_hidden_score_gives_away_neither_its_answer_counts_nor_its_shares(
    scoped, submit, read_api, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    params = {"metric": "nps", "start": "2026-04-01", "end": "2026-04-30", "interval": "month"}
    with django_capture_on_commit_callbacks(execute=True):
        for score in [10, 9, 2]:
            submit(score, at(2026, 4, 10))
    body = get(read_api, **params).json()
    for figures in (body["results"][0], body["total"]):
        assert figures["n"] == 3 and figures["hidden"] is True and figures["score"] is None
        assert figures["counts"] is None
        assert set(figures["secondary"].values()) == {None}

    with django_capture_on_commit_callbacks(execute=True):
        for score in [7, 0]:
            submit(score, at(2026, 4, 11))
    body = get(read_api, **params).json()
    for figures in (body["results"][0], body["total"]):
        assert figures["n"] == 5 and figures["hidden"] is False
        assert figures["counts"] == {"10": 1, "9": 1, "7": 1, "2": 1, "0": 1}
        assert figures["secondary"]["promoters_pct"] == pytest.approx(40.0)
