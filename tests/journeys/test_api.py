import pytest

from core.models import ActivityLog
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from surveys.models import Survey
from tests.conftest import client_for
from tests.journeys.factories import (
    JourneyFactory,
    MeasurementPlanFactory,
    StageFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme/"


def detail_urls(tp) -> list[str]:
    plan = MeasurementPlan.all_objects.filter(touchpoint=tp).first()
    return [
        f"{API}journeys/{tp.journey.public_id}/",
        f"{API}stages/{tp.stage.public_id}/",
        f"{API}touchpoints/{tp.public_id}/",
        f"{API}measurement-plans/{plan.public_id}/",
    ]


LIST_URLS = [f"{API}{p}/" for p in ("journeys", "stages", "touchpoints", "measurement-plans")]


def test_outsider_key_gets_404_everywhere(outsider_api, touchpoint):
    for url in LIST_URLS + detail_urls(touchpoint):
        assert outsider_api.get(url).status_code == 404, url
        assert outsider_api.delete(url).status_code == 404, url
    for url in LIST_URLS:
        assert outsider_api.post(url, {}, format="json").status_code == 404, url


def test_another_organizations_objects_answer_404(write_api, foreign_touchpoint):
    MeasurementPlanFactory(touchpoint=foreign_touchpoint)
    for url in detail_urls(foreign_touchpoint):
        url = url.replace("/orgs/rival/", "/orgs/acme/")
        assert write_api.get(url).status_code == 404, url
        assert write_api.patch(url, {"name": "x"}, format="json").status_code == 404, url
        assert write_api.delete(url).status_code == 404, url


def test_read_key_and_viewer_cannot_write(read_api, personas, touchpoint):
    viewer = client_for(personas.viewer)
    for client in (read_api, viewer):
        for url in LIST_URLS:
            assert client.get(url).status_code == 200, url
            assert (
                client.post(url, {"name": "x"}, content_type="application/json").status_code == 403
            )
        for url in detail_urls(touchpoint):
            assert client.get(url).status_code == 200, url
            refused = client.delete(url)
            assert refused.status_code == 403, url
            assert refused.json()["message"] == "Your role or API key may not do this."
            assert client.patch(url, {}, content_type="application/json").status_code == 403
    for url in (f"{API}stages/{touchpoint.stage.public_id}/move/",
                f"{API}touchpoints/{touchpoint.public_id}/move/",
                f"{API}journeys/{touchpoint.journey.public_id}/copy/"):  # fmt: skip
        assert (
            read_api.post(url, {"direction": "up", "name": "x"}, format="json").status_code == 403
        )
    assert not ActivityLog.all_objects.exists()


def test_build_a_journey_through_the_api(write_api, personas):
    journey = write_api.post(
        f"{API}journeys/", {"name": "B2B", "segment": "Key accounts"}, format="json"
    ).json()
    assert journey["id"].startswith("jny_") and journey["status"] == "active"
    stage = write_api.post(
        f"{API}stages/", {"journey": journey["id"], "name": "Purchase"}, format="json"
    ).json()
    assert stage["position"] == 0
    response = write_api.post(
        f"{API}touchpoints/",
        {"stage": stage["id"], "name": "Sales call", "channel": "phone", "is_key": True,
         "owner": personas.analyst.email.upper(), "external_ref": "crm-call"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    tp = response.json()
    assert tp["journey"] == journey["id"] and tp["is_digital"] is False
    assert tp["owner"] == personas.analyst.public_id and tp["owner_email"] == personas.analyst.email
    plan = write_api.post(
        f"{API}measurement-plans/",
        {"touchpoint": tp["id"], "metric": "nps", "kpi_kind": "tactical",
         "baseline_value": "12.5", "baseline_date": "2025-12-31", "target_value": "30"},
        format="json",
    )  # fmt: skip
    assert plan.status_code == 201, plan.json()
    tp = write_api.get(f"{API}touchpoints/{tp['id']}/").json()
    assert tp["measurement_plan"] == [
        {"id": plan.json()["id"], "metric": "nps", "kpi_kind": "tactical",
         "baseline_value": "12.50", "baseline_date": "2025-12-31", "target_value": "30.00",
         "target_date": None}
    ]  # fmt: skip
    assert ActivityLog.all_objects.filter(actor_label__startswith="API key").count() == 4


def test_ids_of_another_organization_in_the_body_are_field_errors(
    write_api, other_org, stages, touchpoint
):
    foreign = TouchpointFactory(stage=StageFactory(journey=JourneyFactory(organization=other_org)))
    cases = [
        ("stages/", {"journey": foreign.journey.public_id, "name": "x"}, "journey"),
        ("touchpoints/", {"stage": foreign.stage.public_id, "name": "x"}, "stage"),
        ("measurement-plans/", {"touchpoint": foreign.public_id, "metric": "nps"}, "touchpoint"),
    ]
    for path, body, field in cases:
        response = write_api.post(API + path, body, format="json")
        assert response.status_code == 400, path
        assert response.json()["extra"]["fields"] == {field: ["Not found."]}
    assert not Stage.all_objects.filter(name="x").exists()


def test_owner_must_be_a_member_by_email_or_id(write_api, touchpoint, personas):
    url = f"{API}touchpoints/{touchpoint.public_id}/"
    for reference in (personas.outsider.email, personas.outsider.public_id, "nobody@example.com"):
        response = write_api.patch(url, {"owner": reference}, format="json")
        assert response.status_code == 400
        assert list(response.json()["extra"]["fields"]) == ["owner"]
    assert (
        write_api.patch(url, {"owner": personas.viewer.public_id}, format="json").json()[
            "owner_email"
        ]
        == personas.viewer.email
    )
    assert write_api.patch(url, {"owner": None}, format="json").json()["owner"] is None


def test_moving_a_touchpoint_to_a_stage_of_another_journey_is_a_field_error(
    write_api, org, touchpoint
):
    other = StageFactory(journey=JourneyFactory(organization=org))
    response = write_api.patch(
        f"{API}touchpoints/{touchpoint.public_id}/", {"stage": other.public_id}, format="json"
    )
    assert response.status_code == 400 and "stage" in response.json()["extra"]["fields"]


def test_validation_errors_are_400_with_field_errors(write_api, touchpoint):
    response = write_api.post(f"{API}touchpoints/", {"channel": "fax"}, format="json")
    assert response.status_code == 400
    assert {"stage", "name", "channel"} <= set(response.json()["extra"]["fields"])
    response = write_api.post(
        f"{API}measurement-plans/",
        {"touchpoint": touchpoint.public_id, "metric": "ces", "target_value": "9"},
        format="json",
    )
    assert response.status_code == 400 and "metric" in response.json()["extra"]["fields"]
    response = write_api.post(
        f"{API}measurement-plans/",
        {"touchpoint": touchpoint.public_id, "metric": "csat", "target_value": "101"},
        format="json",
    )
    assert response.json()["extra"]["fields"] == {"target_value": ["CSAT % is between 0 and 100."]}


def test_touchpoint_filters(write_api, org, stages, touchpoint):
    TouchpointFactory(stage=stages[0], channel="phone", external_ref="ivr-1")
    TouchpointFactory(stage=stages[2], channel="chat")
    other = TouchpointFactory(stage=StageFactory(journey=JourneyFactory(organization=org)))
    url = f"{API}touchpoints/"

    def names(query: str) -> set[str]:
        response = write_api.get(url + "?" + query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert len(names("")) == 4
    assert len(names(f"journey={touchpoint.journey.public_id}")) == 3
    assert names(f"journey={other.journey.public_id}") == {other.public_id}
    assert names(f"stage={stages[1].public_id}") == {touchpoint.public_id}
    assert len(names("channel=phone")) == 1
    assert names("is_key=true") == {touchpoint.public_id}
    assert len(names("external_ref=ivr-1")) == 1
    assert write_api.get(url + "?channel=fax").status_code == 400


def test_lists_have_pinned_query_counts(write_api, stages, django_assert_max_num_queries):
    for i in range(30):
        tp = TouchpointFactory(stage=stages[i % 3])
        MeasurementPlanFactory(touchpoint=tp, metric="nps")
    for path, limit in (("journeys/", 5), ("stages/", 5), ("touchpoints/", 6),
                        ("measurement-plans/", 5)):  # fmt: skip
        with django_assert_max_num_queries(limit):
            assert write_api.get(API + path).status_code == 200


def test_stage_and_touchpoint_move_actions(write_api, stages):
    response = write_api.post(
        f"{API}stages/{stages[2].public_id}/move/", {"direction": "up"}, format="json"
    )
    assert response.json()["position"] == 1
    a, b = TouchpointFactory(stage=stages[0]), TouchpointFactory(stage=stages[0])
    response = write_api.post(
        f"{API}touchpoints/{a.public_id}/move/", {"direction": "down"}, format="json"
    )
    assert response.json()["position"] == 1
    b.refresh_from_db()
    assert b.position == 0
    bad = write_api.post(
        f"{API}stages/{stages[0].public_id}/move/", {"direction": "left"}, format="json"
    )
    assert bad.status_code == 400


def test_archive_restore_copy_and_delete(write_api, journey, touchpoint):
    url = f"{API}touchpoints/{touchpoint.public_id}/"
    assert write_api.patch(url, {"archived": True}, format="json").json()["archived_at"]
    assert write_api.get(f"{API}touchpoints/?archived=true").json()["results"][0]["id"] == (
        touchpoint.public_id
    )
    assert write_api.patch(url, {"archived": False}, format="json").json()["archived"] is False
    jurl = f"{API}journeys/{journey.public_id}/"
    assert (
        write_api.patch(jurl, {"status": "archived"}, format="json").json()["status"] == "archived"
    )
    copy = write_api.post(jurl + "copy/", {"name": "B2B", "segment": "B2B"}, format="json")
    assert copy.status_code == 201 and copy.json()["status"] == "active"
    assert Touchpoint.all_objects.filter(journey__public_id=copy.json()["id"]).count() == 1
    assert write_api.delete(url).status_code == 204
    assert write_api.delete(jurl).status_code == 204
    assert Journey.all_objects.count() == 1


def test_refused_delete_is_409_with_the_reason(write_api, org, touchpoint):
    Survey.all_objects.create(organization=org, name="Checkout", touchpoint=touchpoint)
    response = write_api.delete(f"{API}touchpoints/{touchpoint.public_id}/")
    assert response.status_code == 409
    assert response.json()["code"] == "touchpoint_in_use"
    assert "Archive it instead" in response.json()["message"]
