import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import ActivityLog
from journeys.enums import JourneyStatus
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from surveys.models import Survey
from tests.journeys.factories import (
    JourneyFactory,
    MeasurementPlanFactory,
    StageFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def map_url(journey) -> str:
    return f"/o/acme/journeys/{journey.public_id}/"


def tp_url(touchpoint) -> str:
    return f"/o/acme/touchpoints/{touchpoint.public_id}/"


# --- access --------------------------------------------------------------------------------------


def read_urls(tp) -> list[str]:
    return ["/o/acme/journeys/", map_url(tp.journey), tp_url(tp)]


def write_urls(tp) -> list[tuple[str, str]]:
    """(method, url) of every page that changes something or shows a form for it."""
    plan = MeasurementPlan.all_objects.filter(touchpoint=tp).first()
    j, s, t = map_url(tp.journey), f"/o/acme/stages/{tp.stage.public_id}/", tp_url(tp)
    p = f"/o/acme/measurement-plans/{plan.public_id}/"
    urls = ["/o/acme/journeys/new/", j + "edit/", j + "copy/", j + "archive/", j + "delete/",
            j + "stages/new/", s + "edit/", s + "delete/", s + "touchpoints/new/", t + "edit/",
            t + "archive/", t + "delete/", t + "plans/new/", p + "edit/", p + "delete/"]  # fmt: skip
    posts = [j + "restore/", s + "move/", t + "move/", t + "restore/"]
    return [("get", u) for u in urls] + [("post", u) for u in urls + posts]


def foreign_urls(tp) -> list[tuple[str, str]]:
    plan = MeasurementPlanFactory(touchpoint=tp)
    return [
        (method, url.replace("/o/acme/", "/o/acme/"))
        for method, url in [("get", u) for u in read_urls(tp)[1:]] + write_urls(tp)
        if tp.public_id in url
        or tp.journey.public_id in url
        or tp.stage.public_id in url
        or plan.public_id in url
    ]


def test_outsider_gets_404_on_every_journeys_page(outsider_client, touchpoint):
    for url in read_urls(touchpoint):
        assert outsider_client.get(url).status_code == 404, url
    for method, url in write_urls(touchpoint):
        assert getattr(outsider_client, method)(url).status_code == 404, url


def test_another_organizations_objects_answer_404_to_a_member(cx_client, foreign_touchpoint):
    for method, url in foreign_urls(foreign_touchpoint):
        assert getattr(cx_client, method)(url).status_code == 404, url


def test_viewer_reads_but_cannot_write_anything(viewer_client, touchpoint):
    for url in read_urls(touchpoint):
        response = viewer_client.get(url)
        assert response.status_code == 200, url
        assert "/edit/" not in response.content.decode(), url
    for method, url in write_urls(touchpoint):
        assert getattr(viewer_client, method)(url).status_code == 403, (method, url)
    assert not ActivityLog.objects.exists()


def test_signed_out_visitor_is_sent_to_sign_in(client, touchpoint):
    response = client.get("/o/acme/journeys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- list, create, archive, delete ---------------------------------------------------------------


def test_list_shows_active_and_archived_journeys_separately(
    org, cx_client, django_assert_max_num_queries
):
    JourneyFactory(organization=org, name="Store visit")
    JourneyFactory(organization=org, name="Old web shop", status=JourneyStatus.ARCHIVED)
    for _ in range(20):
        StageFactory(journey=JourneyFactory(organization=org))
    with django_assert_max_num_queries(6):
        response = cx_client.get("/o/acme/journeys/")
    assert response.status_code == 200
    html = response.content.decode()
    active, archived = html.split("Archived journeys", 1)
    assert "Store visit" in active and "Old web shop" in archived
    assert "New journey" in html


def test_cx_manager_creates_a_journey_and_lands_on_its_map(cx_client, personas):
    response = cx_client.post(
        "/o/acme/journeys/new/", {"name": "B2B", "segment": "Key accounts", "description": ""}
    )
    journey = Journey.all_objects.get()
    assert response.status_code == 302 and response["Location"] == map_url(journey)
    assert journey.segment == "Key accounts"
    assert "No stages yet" in cx_client.get(map_url(journey)).content.decode()


def test_journey_without_name_is_a_field_error(cx_client, personas):
    response = cx_client.post("/o/acme/journeys/new/", {"name": ""})
    assert response.status_code == 400 and 'id="id_name_error"' in response.content.decode()


def test_archive_asks_first_then_moves_the_journey_to_the_archived_list(cx_client, journey):
    page = cx_client.get(map_url(journey) + "archive/")
    assert page.status_code == 200 and "Archive B2C web shop?" in page.content.decode()
    response = cx_client.post(map_url(journey) + "archive/")
    assert response.status_code == 302
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.ARCHIVED
    cx_client.post(map_url(journey) + "restore/")
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.ACTIVE


def test_delete_asks_first_then_deletes_the_journey(cx_client, journey, touchpoint):
    assert "Delete for good" in cx_client.get(map_url(journey) + "delete/").content.decode()
    response = cx_client.post(map_url(journey) + "delete/")
    assert response.status_code == 302 and response["Location"] == "/o/acme/journeys/"
    assert not Journey.all_objects.exists() and not Touchpoint.all_objects.exists()


def test_copy_page_makes_a_new_journey_for_another_segment(cx_client, journey, touchpoint):
    page = cx_client.get(map_url(journey) + "copy/").content.decode()
    assert "Copy of B2C web shop" in page
    response = cx_client.post(map_url(journey) + "copy/", {"name": "B2B shop", "segment": "B2B"})
    copy = Journey.all_objects.get(name="B2B shop")
    assert response["Location"] == map_url(copy)
    assert Touchpoint.all_objects.filter(journey=copy, name="Web shop checkout").exists()


# --- the map -------------------------------------------------------------------------------------


def test_map_shows_stages_in_order_and_key_touchpoints_with_a_text_badge(
    viewer_client, stages, touchpoint, personas
):
    Touchpoint.all_objects.filter(pk=touchpoint.pk).update(owner=personas.analyst)
    html = viewer_client.get(map_url(touchpoint.journey)).content.decode()
    assert html.index("Awareness") < html.index("Purchase") < html.index("Support")
    assert "Key touchpoint" in html and 'class="tp-card key"' in html
    assert personas.analyst.full_name in html
    assert "CES 2.0 (1-7)" in html and "target 5.5" in html


def test_map_and_touchpoint_page_link_to_their_scores_on_the_report_pages(
    viewer_client, touchpoint
):
    # The editor pages show plans, baselines and targets; scores live in reports (tests/reports).
    html = viewer_client.get(map_url(touchpoint.journey)).content.decode()
    assert f'href="/o/acme/reports/journeys/{touchpoint.journey.public_id}/"' in html
    assert f'href="/o/acme/reports/touchpoints/{touchpoint.public_id}/"' in html
    html = viewer_client.get(tp_url(touchpoint)).content.decode()
    assert f'href="/o/acme/reports/touchpoints/{touchpoint.public_id}/"' in html


def test_map_query_count_does_not_grow_with_touchpoints(
    org, cx_client, journey, stages, personas, django_assert_num_queries
):
    def add(count: int) -> None:
        for i in range(count):
            tp = TouchpointFactory(stage=stages[i % 3], owner=personas.analyst, is_key=i % 2)
            MeasurementPlanFactory(touchpoint=tp, metric="nps")
            MeasurementPlanFactory(touchpoint=tp, metric="csat")

    add(3)
    response = cx_client.get(map_url(journey))  # warm the session and any one-off caches
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as small:
        response = cx_client.get(map_url(journey))
    assert response.status_code == 200
    add(27)
    with django_assert_num_queries(len(small)):
        response = cx_client.get(map_url(journey))
    assert response.status_code == 200
    assert response.content.decode().count('class="tp-card') == 30


def test_archived_touchpoints_leave_the_map_and_can_be_restored(cx_client, touchpoint):
    url = tp_url(touchpoint)
    assert "leaves the journey map" in cx_client.get(url + "archive/").content.decode()
    cx_client.post(url + "archive/")
    html = cx_client.get(map_url(touchpoint.journey)).content.decode()
    assert 'id="tp-' + touchpoint.public_id not in html
    assert "Archived touchpoints" in html
    cx_client.post(url + "restore/")
    assert (
        f'id="tp-{touchpoint.public_id}"'
        in cx_client.get(map_url(touchpoint.journey)).content.decode()
    )


# --- stages and touchpoints ----------------------------------------------------------------------


def test_add_a_stage_from_the_map(cx_client, journey, stages):
    response = cx_client.post(map_url(journey) + "stages/new/", {"name": "Repurchase"})
    stage = Stage.all_objects.get(name="Repurchase")
    assert response["Location"] == map_url(journey) + f"#stage-{stage.public_id}"
    assert stage.position == 3


def test_move_buttons_reorder_stages_without_javascript(cx_client, stages):
    response = cx_client.post(f"/o/acme/stages/{stages[2].public_id}/move/", {"direction": "up"})
    assert response.status_code == 302
    order = list(Stage.all_objects.order_by("position").values_list("name", flat=True))
    assert order == ["Awareness", "Support", "Purchase"]


def test_move_with_htmx_answers_the_board_and_announces_the_move(cx_client, stages):
    a = TouchpointFactory(stage=stages[0], name="First")
    b = TouchpointFactory(stage=stages[0], name="Second")
    response = cx_client.post(
        f"/o/acme/touchpoints/{b.public_id}/move/", {"direction": "up"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.count('id="journey-board"') == 1
    assert "<html" not in html and "Second moved up." in html and 'hx-swap-oob="true"' in html
    assert html.index("Second") < html.index("First")
    a.refresh_from_db()
    assert a.position == 1


def test_touchpoint_added_with_an_owner_appears_on_the_map(cx_client, stages, personas):
    url = f"/o/acme/stages/{stages[0].public_id}/touchpoints/new/"
    assert "Digital or physical" in cx_client.get(url).content.decode()
    response = cx_client.post(url, {
        "name": "Store visit", "channel": "physical_store", "kind": "", "is_key": "on",
        "owner": personas.analyst.public_id, "external_ref": "store-12", "description": "",
    })  # fmt: skip
    touchpoint = Touchpoint.all_objects.get(name="Store visit")
    assert response.status_code == 302
    assert touchpoint.owner == personas.analyst and touchpoint.is_key
    assert touchpoint.is_digital is False and touchpoint.journey == stages[0].journey


def test_owner_choices_are_members_only(cx_client, stages, personas):
    url = f"/o/acme/stages/{stages[0].public_id}/touchpoints/new/"
    html = cx_client.get(url).content.decode()
    assert personas.viewer.email in html and personas.outsider.email not in html
    response = cx_client.post(
        url, {"name": "X", "channel": "web", "owner": personas.outsider.public_id}
    )
    assert response.status_code == 400 and 'id="id_owner_error"' in response.content.decode()


def test_inline_edit_of_a_card_with_htmx(cx_client, touchpoint, personas):
    url = tp_url(touchpoint) + "edit/"
    fragment = cx_client.get(url, **HTMX).content.decode()
    assert "<html" not in fragment and f'hx-post="{url}"' in fragment
    assert f'id="tp-{touchpoint.public_id}-id_name"' not in fragment  # auto_id per card
    assert f'id="tp-{touchpoint.public_id}-name"' in fragment
    data = {"name": "Checkout", "stage": touchpoint.stage.public_id, "channel": "web",
            "kind": "digital", "owner": personas.cx_manager.public_id, "next": "map"}  # fmt: skip
    card = cx_client.post(url, data, **HTMX).content.decode()
    assert card.startswith("\n<article") or "<article" in card
    assert "Checkout" in card and "<html" not in card and "Key touchpoint" not in card
    touchpoint.refresh_from_db()
    assert touchpoint.owner == personas.cx_manager and not touchpoint.is_key


def test_inline_edit_errors_stay_in_the_card(cx_client, touchpoint):
    data = {"name": "", "stage": touchpoint.stage.public_id, "channel": "web"}
    response = cx_client.post(tp_url(touchpoint) + "edit/", data, **HTMX)
    assert response.status_code == 200 and "tp-card editing" in response.content.decode()
    assert cx_client.post(tp_url(touchpoint) + "edit/", data).status_code == 400


def test_edit_without_javascript_returns_to_the_map_when_asked(cx_client, touchpoint):
    page = cx_client.get(tp_url(touchpoint) + "edit/?next=map").content.decode()
    assert "<html" in page and 'name="next" value="map"' in page
    data = {"name": "Checkout", "stage": touchpoint.stage.public_id, "channel": "web",
            "is_key": "on", "next": "map"}  # fmt: skip
    response = cx_client.post(tp_url(touchpoint) + "edit/", data)
    assert response["Location"] == map_url(touchpoint.journey) + f"#tp-{touchpoint.public_id}"


def test_inline_rename_of_a_stage(cx_client, stages):
    url = f"/o/acme/stages/{stages[0].public_id}/edit/"
    assert "stage-head editing" in cx_client.get(url, **HTMX).content.decode()
    html = cx_client.post(url, {"name": "Discovery"}, **HTMX).content.decode()
    assert "Discovery" in html and "<html" not in html
    assert cx_client.post(url, {"name": "Discovery 2"}).status_code == 302


def test_deleting_a_touchpoint_asks_first(cx_client, stages, touchpoint):
    later = TouchpointFactory(stage=touchpoint.stage, name="later")
    page = cx_client.get(tp_url(touchpoint) + "delete/").content.decode()
    assert "Delete the touchpoint Web shop checkout?" in page
    assert cx_client.post(tp_url(touchpoint) + "delete/").status_code == 302
    later.refresh_from_db()
    assert later.position == 0


def test_refused_delete_explains_and_offers_archive(cx_client, org, touchpoint):
    Survey.all_objects.create(organization=org, name="Checkout", touchpoint=touchpoint)
    response = cx_client.post(tp_url(touchpoint) + "delete/")
    html = response.content.decode()
    assert response.status_code == 409
    assert "Archive it instead" in html and "Archive instead" in html
    assert Touchpoint.all_objects.filter(pk=touchpoint.pk).exists()


# --- touchpoint page and measurement plan --------------------------------------------------------


def test_touchpoint_page_shows_details_plan_and_owner(cx_client, touchpoint, personas):
    Touchpoint.all_objects.filter(pk=touchpoint.pk).update(
        owner=personas.analyst, external_ref="/checkout/*"
    )
    html = cx_client.get(tp_url(touchpoint)).content.decode()
    assert "Web shop checkout" in html and "/checkout/*" in html
    assert personas.analyst.email in html and "Measurement plan" in html
    assert "<caption" in html and "Measure a metric here" in html


def test_plan_baseline_and_target_are_edited_on_their_page(cx_client, touchpoint):
    response = cx_client.post(tp_url(touchpoint) + "plans/new/", {
        "metric": "nps", "kpi_kind": "tactical", "baseline_value": "12", "baseline_date": "2025-12-31",
        "target_value": "30", "target_date": "2026-12-31",
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"] == tp_url(touchpoint)
    plan = MeasurementPlan.all_objects.get(metric="nps")
    url = f"/o/acme/measurement-plans/{plan.public_id}/edit/"
    assert "NPS at Web shop checkout" in cx_client.get(url).content.decode()
    bad = cx_client.post(url, {"metric": "nps", "kpi_kind": "tactical", "target_value": "130"})
    assert bad.status_code == 400 and 'id="id_target_value_error"' in bad.content.decode()
    cx_client.post(url, {"metric": "nps", "kpi_kind": "tactical", "target_value": "35"})
    plan.refresh_from_db()
    assert str(plan.target_value) == "35.00" and plan.baseline_value is None
    html = cx_client.get(tp_url(touchpoint)).content.decode()
    assert "35" in html
    cx_client.post(f"/o/acme/measurement-plans/{plan.public_id}/delete/")
    assert not MeasurementPlan.all_objects.filter(metric="nps").exists()


def test_a_metric_is_planned_once_per_touchpoint(cx_client, touchpoint):
    response = cx_client.post(
        tp_url(touchpoint) + "plans/new/", {"metric": "ces", "kpi_kind": "operational"}
    )
    assert (
        response.status_code == 400
        and "measured at this touchpoint already" in response.content.decode()
    )
