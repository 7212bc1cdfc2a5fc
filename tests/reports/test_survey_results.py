"""Survey results: each question's distribution and score (n, interval), choice counts, open
answers with a link to them, the report filters, roles and a flat number of queries."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys.enums import SurveyStatus, VersionStatus
from surveys.models import Question, Survey, SurveyVersion
from tests.reports.results_support import mixed_survey, rebuild, submit
from tests.surveys.factories import make_survey, texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org):
    return mixed_survey(org)


def url(survey, query=""):
    return f"/o/{survey.organization.slug}/reports/surveys/{survey.public_id}/{query}"


def answer_many(org, survey, scores, **options):
    for number, score in enumerate(scores):
        answers = {"score": score, "reason": "price" if number % 3 else "service"}
        answers["liked_most"] = ["price", "range"] if number % 2 else ["service"]
        answers["useful"] = "yes" if number % 4 else "no"
        if score <= 6:
            answers["improve"] = f"Queue was long ({number})"
        submit(org, survey, answers, **options)
    rebuild(org)


def chart_data(html: str, key: str) -> dict:
    match = re.search(
        rf'<script id="chart-{key}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no chart {key}"
    return json.loads(match.group(1))


def section(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


def test_nps_question_shows_score_with_n_interval_and_distribution(viewer_client, org, survey):
    answer_many(org, survey, [10, 10, 9, 9, 8, 7, 6, 3, 10, 9])
    page = viewer_client.get(url(survey))
    assert page.status_code == 200
    html = page.content.decode()
    nps = section(html, "q-score-heading")
    # 6 promoters, 2 passives, 2 detractors of 10: NPS 40.
    assert 'NPS: <strong class="score-value">40.0</strong>' in nps
    assert "n = 10" in nps
    assert "95 % interval" in nps
    assert "Low precision" in nps  # fewer than 30 answers
    figure = chart_data(html, "q-score")
    bars = {x: y for trace in figure["data"] for x, y in zip(trace["x"], trace["y"], strict=True)}
    assert bars["10"] == 3 and bars["9"] == 3 and bars["0"] == 0
    groups = {trace["name"] for trace in figure["data"]}
    assert groups == {"Detractors (0-6)", "Passives (7-8)", "Promoters (9-10)"}


def test_choice_questions_show_counts_by_choice_text(viewer_client, org, survey):
    answer_many(org, survey, [9, 9, 9, 9, 9, 9])
    html = viewer_client.get(url(survey)).content.decode()
    reason = chart_data(html, "q-reason")["data"][0]
    assert dict(zip(reason["x"], reason["y"], strict=True)) == {
        "Price (en)": 4,
        "Service (en)": 2,
        "Range (en)": 0,
    }
    liked = chart_data(html, "q-liked_most")["data"][0]
    # One answer may pick several: six answers, nine picks.
    assert dict(zip(liked["x"], liked["y"], strict=True)) == {
        "Price (en)": 3,
        "Service (en)": 3,
        "Range (en)": 3,
    }
    assert "6 answers in the range." in section(html, "q-liked_most-heading")


def test_yes_no_question_is_scored_with_yes_and_no_bars(viewer_client, org, survey):
    answer_many(org, survey, [9] * 8)
    html = viewer_client.get(url(survey)).content.decode()
    useful = section(html, "q-useful-heading")
    assert ">75.0%</strong>" in useful and "n = 8" in useful
    bars = {
        x: y
        for trace in chart_data(html, "q-useful")["data"]
        for x, y in zip(trace["x"], trace["y"], strict=True)
    }
    assert bars == {"No": 2, "Yes": 6}


def test_open_question_links_to_its_written_answers(viewer_client, org, survey):
    answer_many(org, survey, [3, 5, 10])
    html = viewer_client.get(url(survey)).content.decode()
    improve = section(html, "q-improve-heading")
    assert "Read the written answers" in improve
    assert f"/o/acme/reports/surveys/{survey.public_id}/responses/?comment=improve" in improve


def test_score_under_five_answers_is_hidden_but_counted(viewer_client, org, survey):
    answer_many(org, survey, [10, 9, 2])
    html = viewer_client.get(url(survey)).content.decode()
    nps = section(html, "q-score-heading")
    assert "Not enough answers for a score" in nps and "n = 3" in nps
    assert "score-value" not in nps
    # The answers per value would show the hidden score.
    assert 'id="chart-q-score"' not in nps
    answer_many(org, survey, [7, 0])
    assert 'id="chart-q-score"' in section(
        viewer_client.get(url(survey)).content.decode(), "q-score-heading"
    )


def test_channel_filter_narrows_scores_and_counts(viewer_client, org, survey):
    answer_many(org, survey, [10] * 6, channel="web")
    answer_many(org, survey, [0] * 5, channel="sms")
    html = viewer_client.get(url(survey, "?channel=sms")).content.decode()
    nps = section(html, "q-score-heading")
    assert ">-100.0</strong>" in nps and "n = 5" in nps
    assert "channel=sms&amp;comment=improve" in section(html, "q-improve-heading")
    assert 'value="sms" selected' in html  # the form shows the filter in force


def test_questions_of_older_versions_are_shown_by_key(viewer_client, org, survey):
    answer_many(org, survey, [9] * 5)
    v2 = SurveyVersion.all_objects.create(
        organization=org,
        survey=survey,
        number=2,
        status=VersionStatus.PUBLISHED,
        published_at=timezone.now(),
        languages=["fi", "sv", "en"],
    )
    old_score = Question.all_objects.get(version__survey=survey, key="score")
    Question.all_objects.create(
        organization=org,
        version=v2,
        position=0,
        key="score",
        type="nps",
        texts=texts("Recommend us now"),
        scale_min=0,
        scale_max=10,
        metric="nps",
        labels=old_score.labels,
    )
    Question.all_objects.create(
        organization=org, version=v2, position=1, key="wish", type="text", texts=texts("Wish")
    )
    Survey.all_objects.filter(pk=survey.pk).update(current_version=v2)
    submit(org, Survey.all_objects.get(pk=survey.pk), {"score": 10, "wish": "More staff"})
    rebuild(org)
    html = viewer_client.get(url(survey)).content.decode()
    nps = section(html, "q-score-heading")
    assert "Recommend us now (en)" in nps  # the newest wording speaks for the key
    assert "versions 1, 2" in nps and "n = 6" in nps
    assert "version 1" in section(html, "q-reason-heading")  # only version 1 asked it
    assert html.index('id="q-wish-heading"') < html.index('id="q-reason-heading"')


def test_bad_filter_is_a_form_error_not_a_crash(viewer_client, org, survey):
    page = viewer_client.get(url(survey, "?range=custom&from=2026-05-10&to=2026-05-01"))
    assert page.status_code == 400
    assert "The first day must not be after the last day." in page.content.decode()
    assert viewer_client.get(url(survey, "?channel=pigeon")).status_code == 400


def test_draft_only_survey_says_there_is_nothing_to_show(viewer_client, org):
    draft = make_survey(org, name="Draft", published=False)
    assert Survey.all_objects.get(pk=draft.pk).status == SurveyStatus.DRAFT
    html = viewer_client.get(url(draft)).content.decode()
    assert "no published version yet" in html


def test_outsider_and_other_organizations_survey_get_404(
    outsider_client, viewer_client, org, other_org, survey
):
    assert outsider_client.get(url(survey)).status_code == 404
    theirs = mixed_survey(other_org, name="Rival visit")
    assert viewer_client.get(f"/o/acme/reports/surveys/{theirs.public_id}/").status_code == 404
    assert viewer_client.get("/o/acme/reports/surveys/srv_nosuchsurvey/").status_code == 404


def test_viewer_cannot_write(viewer_client, survey):
    assert viewer_client.post(url(survey)).status_code == 403


def test_survey_list_links_to_results(cx_client, survey):
    html = cx_client.get("/o/acme/surveys/").content.decode()
    assert url(survey) in html


def test_queries_do_not_grow_with_responses(viewer_client, org, survey):
    answer_many(org, survey, [9])
    viewer_client.get(url(survey))
    with CaptureQueriesContext(connection) as one:
        assert viewer_client.get(url(survey)).status_code == 200
    answer_many(org, survey, list(range(11)) * 3)
    with CaptureQueriesContext(connection) as many:
        assert viewer_client.get(url(survey)).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
    assert len(one.captured_queries) <= 14


def test_womi_shows_both_questions_distributions(viewer_client, org):
    womi = make_survey(
        org,
        name="Word of mouth",
        questions=[
            {
                "key": "womi",
                "type": "womi",
                "texts": texts("Recommend"),
                "texts_secondary": texts("Discourage others"),
                "labels": {lang: {"min": "0", "max": "10"} for lang in ("fi", "sv", "en")},
                "scale_min": 0,
                "scale_max": 10,
                "metric": "womi",
                "required": True,
            }
        ],
    )
    for recommend, discourage in [(10, 0), (10, 0), (9, 1), (3, 9), (7, 2)]:
        submit(org, womi, {"womi": {"recommend": recommend, "discourage": discourage}})
    rebuild(org)
    html = viewer_client.get(url(womi)).content.decode()
    assert "n = 5" in section(html, "q-womi-heading")
    recommend = chart_data(html, "q-womi")
    bars = {
        x: y for trace in recommend["data"] for x, y in zip(trace["x"], trace["y"], strict=True)
    }
    assert (bars["10"], bars["9"], bars["7"], bars["3"]) == (2, 1, 1, 1)
    discourage = chart_data(html, "q-womi-discourage")["data"][0]
    assert dict(zip(discourage["x"], discourage["y"], strict=True))["0"] == 2
    assert "Discourage others (en)" in html
