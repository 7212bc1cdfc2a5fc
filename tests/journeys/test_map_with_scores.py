"""The journey map and its heatmap with real scores: responses to NPS, CSAT, CES and WOMI surveys
go through `response_submit` and the metrics task the worker runs, so the pages read the same
rollups as in production. An EXQ plan (no instrument scores it yet) sits on the same map."""

from collections import Counter
from decimal import Decimal

import pytest

from journeys.models import MeasurementPlan
from metrics import registry
from metrics.tasks import process_response
from reports.charts import rounded
from surveys.models import Response
from surveys.services import response_submit, survey_create_from_template, survey_publish
from tenancy.actors import Actor
from tenancy.scoping import tenant_scope
from tests.reports.dashboard_support import RANGE, add_touchpoint, at, make_journey

pytestmark = pytest.mark.django_db

# touchpoint -> (stage, metric, target, library template, score question, answers)
MEASURED = {
    "Checkout": (0, "nps", "30", "nps", "score", [10, 10, 9, 8, 6, 3]),
    "Delivery": (1, "csat", "80", "csat_service", "satisfaction", [5, 4, 4, 2, 5]),
    "Support chat": (2, "ces", "5.5", "ces_support", "effort", [7, 6, 5, 5, 3]),
    "Store": (2, "womi", "10", "womi", "womi", [(9, 1), (10, 0), (6, 4), (3, 9), (8, 2)]),
}


@pytest.fixture
def scored_journey(org):
    journey = make_journey(org, stages=("Buy", "Get", "Support"))
    actor = Actor.system(org)
    response_ids = []
    for name, (stage, metric, target, template, key, answers) in MEASURED.items():
        touchpoint = add_touchpoint(journey, stage=stage, name=name, metric=metric, target=target)
        with tenant_scope(org):
            survey = survey_create_from_template(
                actor=actor,
                organization=org,
                template_key=template,
                name=name,
                touchpoint=touchpoint,
            )
            survey_publish(actor=actor, survey=survey)
            for value in answers:
                submitted = response_submit(
                    organization=org,
                    survey=survey,
                    answers={key: value},
                    channel="web",
                    language="en",
                    submitted_at=at(2025, 2, 10),
                )
                response_ids.append(submitted.pk)
    # Store, the last one made, also plans EXQ, which no instrument can score yet.
    MeasurementPlan.all_objects.create(
        organization=org, touchpoint=touchpoint, metric="exq", target_value=Decimal("5.5")
    )
    # What the worker does for each submitted response (the commit hook only enqueues this).
    for response_id in response_ids:
        assert process_response.apply(
            kwargs={"organization_id": org.pk, "response_id": response_id}
        ).get()
    assert not Response.all_objects.filter(organization=org, processed_at=None).exists()
    return journey


def expected(metric: str, answers: list) -> str:
    """The figure a tile shows for these answers, computed apart from the rollups."""
    score = registry.score(metric, Counter(answers))
    return f'<strong class="metric-value">{rounded(score.score, registry.digits(metric))}</strong>'


def heatmap_url(journey, metric: str) -> str:
    return f"/o/acme/reports/journeys/{journey.public_id}/?{RANGE}&metric={metric}"


def test_the_journey_map_with_scored_plans_answers_200_and_links_to_the_scores(
    viewer_client, scored_journey
):
    response = viewer_client.get(f"/o/acme/journeys/{scored_journey.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in MEASURED:
        assert name in html
    assert "EXQ" in html and "target 5.5" in html
    assert f'href="/o/acme/reports/journeys/{scored_journey.public_id}/"' in html


@pytest.mark.parametrize("chosen", ["nps", "csat", "ces", "womi"])
def test_the_heatmap_shows_every_planned_score_whichever_metric_colours_it(
    viewer_client, scored_journey, chosen
):
    response = viewer_client.get(heatmap_url(scored_journey, chosen))
    assert response.status_code == 200
    html = response.content.decode()
    for name, (_stage, metric, _target, _template, _key, answers) in MEASURED.items():
        tile = html[html.index(f">{name}</a>") :]
        tile = tile[: tile.index("</article>")]
        assert expected(metric, answers) in tile, (name, chosen)
        assert f"n = {len(answers)}" in tile, (name, chosen)
    store = html[html.index(">Store</a>") :]
    store = store[: store.index("</article>")]
    assert "EXQ" in store and "n = 0" in store
