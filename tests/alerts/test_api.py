"""The alerts API: rules, alerts, root causes, improvements, case settings; who may do what."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import AlertRule, RootCause
from core.models import ActivityLog
from tenancy.scoping import tenant_scope
from tests.alerts.api_support import (  # noqa: F401 (fixtures)
    API,
    case_fixture,
    foreign_fixture,
    hand_case,
    ids,
    improvement,
    low_score_case,
    root_cause,
    rule_fixture,
    survey_fixture,
    touchpoint_fixture,
)
from tests.alerts.support import low_csat_rule, owned_touchpoint, submit_csat
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LISTS = ["alert-rules/", "alerts/", "cases/", "root-causes/", "improvements/"]


def object_urls(things: dict, base: str = API) -> list[str]:
    case = things["case"]
    return [
        f"{base}alert-rules/{things['rule'].public_id}/",
        f"{base}alerts/{things['alert'].public_id}/",
        f"{base}cases/{case.public_id}/",
        f"{base}root-causes/{things['root_cause'].public_id}/",
        f"{base}improvements/{things['improvement'].public_id}/",
    ]


def action_urls(things: dict, base: str = API) -> list[str]:
    case = f"{base}cases/{things['case'].public_id}/"
    return [
        f"{base}alert-rules/{things['rule'].public_id}/preview/",
        case + "status/",
        case + "assign/",
        case + "notes/",
        case + "contacts/",
        case + "improvement/",
    ]


@pytest.fixture
def ours(org, survey, rule, case):
    return {
        "rule": rule,
        "case": case,
        "alert": case.alert,
        "root_cause": root_cause(org),
        "improvement": improvement(org),
    }


# --- tenancy and permissions ---------------------------------------------------------------------


def test_outsider_key_gets_404_for_every_alerts_url(outsider_api, ours):
    for url in [API + path for path in LISTS] + object_urls(ours) + [API + "case-settings/"]:
        assert outsider_api.get(url).status_code == 404, url
    for url in object_urls(ours):
        assert outsider_api.patch(url, {"name": "x"}, format="json").status_code == 404, url
        assert outsider_api.delete(url).status_code == 404, url
    for url in action_urls(ours) + [API + path for path in LISTS]:
        assert outsider_api.post(url, {"text": "x"}, format="json").status_code == 404, url
    assert outsider_api.patch(API + "case-settings/", {}, format="json").status_code == 404


def test_another_organizations_ids_answer_404_and_never_show_in_lists(write_api, ours, foreign):
    for url in object_urls(foreign):
        assert write_api.get(url).status_code == 404, url
        # Alerts and cases have no PATCH or DELETE at all (405 whatever the id).
        if "/alerts/" not in url and "/cases/" not in url:
            assert write_api.patch(url, {"name": "x"}, format="json").status_code == 404, url
    assert write_api.delete(object_urls(foreign)[0]).status_code == 404
    for url in action_urls(foreign):
        assert write_api.post(url, {"text": "x"}, format="json").status_code == 404, url
    theirs = {thing.public_id for thing in foreign.values() if hasattr(thing, "public_id")}
    for path in LISTS:
        listed = set(ids(write_api.get(API + path)))
        assert listed and not listed & theirs, path


def test_read_key_and_viewer_can_read_but_get_403_on_every_write(read_api, personas, ours):
    viewer = client_for(personas.viewer)
    before = ActivityLog.all_objects.count()
    for client in (read_api, viewer):
        for url in [API + path for path in LISTS] + object_urls(ours) + [API + "case-settings/"]:
            assert client.get(url).status_code == 200, url
        for url in [API + path for path in LISTS] + action_urls(ours):
            refused = client.post(url, {"name": "x"}, content_type="application/json")
            assert refused.status_code == 403, url
            assert refused.json()["code"] == "permission_denied"
        for url in object_urls(ours):
            assert client.patch(url, {}, content_type="application/json").status_code == 403, url
            assert client.delete(url).status_code == 403, url
        assert (
            client.patch(API + "case-settings/", {}, content_type="application/json").status_code
            == 403
        )
    assert ActivityLog.all_objects.count() == before


def test_write_key_cannot_change_case_settings_but_an_admin_can(write_api, personas, org):
    url = API + "case-settings/"
    assert write_api.patch(url, {"holiday_country": "SE"}, format="json").status_code == 403
    admin = client_for(personas.admin)
    response = admin.patch(url, {"holiday_country": "se"}, content_type="application/json")
    assert response.status_code == 200, response.json()
    assert response.json()["holiday_country"] == "SE"


# --- alert rules ---------------------------------------------------------------------------------


def test_build_a_response_rule_through_the_api(write_api, org, touchpoint):
    response = write_api.post(
        API + "alert-rules/",
        {"name": "Unhappy at the store", "kind": "response", "metric": "csat",
         "touchpoint": touchpoint.public_id, "priority": "urgent",
         "hidden_fields": {"store": "12"}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("arl_")
    # Left out, the condition is the metric's negative answer.
    assert (body["operator"], body["threshold"]) == ("lte", 2)
    assert body["touchpoint"] == touchpoint.public_id and body["journey"] is None
    assert timezone.datetime.fromisoformat(body["created_at"]).tzinfo is not None
    url = f"{API}alert-rules/{body['id']}/"
    changed = write_api.patch(url, {"threshold": 1, "is_active": False}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["threshold"] == 1 and changed.json()["is_active"] is False
    assert write_api.get(url).json()["name"] == "Unhappy at the store"
    assert write_api.delete(url).status_code == 204
    assert write_api.get(url).status_code == 404
    actions = set(ActivityLog.all_objects.values_list("action", flat=True))
    assert {"alerts.rule.created", "alerts.rule.updated", "alerts.rule.deleted"} <= actions


def test_invalid_rules_are_400_with_field_errors(write_api, touchpoint):
    url = API + "alert-rules/"
    missing = write_api.post(url, {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "invalid"
    assert {"name", "kind"} <= set(missing.json()["extra"]["fields"])
    out_of_scale = write_api.post(
        url, {"name": "x", "kind": "response", "metric": "csat", "threshold": 9}, format="json"
    )
    assert out_of_scale.status_code == 400
    assert list(out_of_scale.json()["extra"]["fields"]) == ["threshold"]
    aggregate = write_api.post(
        url,
        {"name": "x", "kind": "negative_share", "window_minutes": 5, "min_n": 3},
        format="json",
    )
    assert aggregate.status_code == 400
    assert {"window_minutes", "min_n"} <= set(aggregate.json()["extra"]["fields"])
    internal = write_api.post(
        url,
        {"name": "x", "kind": "response", "slack_webhook_url": "https://169.254.169.254/hook"},
        format="json",
    )
    assert internal.status_code == 400
    assert "slack_webhook_url" in internal.json()["extra"]["fields"]
    assert not AlertRule.all_objects.exists()


def test_scope_of_another_organization_is_a_field_error_not_found(write_api, foreign):
    for field, thing in (("touchpoint", foreign["touchpoint"]), ("survey", foreign["survey"]),
                         ("journey", foreign["touchpoint"].journey)):  # fmt: skip
        response = write_api.post(
            API + "alert-rules/",
            {"name": "x", "kind": "response", field: thing.public_id},
            format="json",
        )
        assert response.status_code == 400, field
        assert response.json()["extra"]["fields"] == {field: ["Not found."]}


def test_webhook_url_is_written_but_never_read_back(write_api, rule):
    url = f"{API}alert-rules/{rule.public_id}/"
    hook = "https://hooks.slack.com/services/T000/B000/secret"
    response = write_api.patch(url, {"slack_webhook_url": hook}, format="json")
    assert response.status_code == 200, response.json()
    body = write_api.get(url).json()
    assert body["has_slack_webhook"] is True and body["has_teams_webhook"] is False
    assert "secret" not in str(body)
    rule.refresh_from_db()
    assert rule.slack_webhook_url == hook


def test_preview_says_how_often_the_rule_would_have_fired(write_api, org, survey, rule):
    now = timezone.now()
    with tenant_scope(org):
        for days_ago, score in ((1, 1), (3, 2), (5, 5), (8, 4), (40, 1)):
            submit_csat(org, survey, score, when=now - timedelta(days=days_ago))
    response = write_api.post(f"{API}alert-rules/{rule.public_id}/preview/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["fired"], body["evaluated"], body["days"]) == (2, 4, 30)
    assert body["insufficient"] == ""
    assert len(body["examples"]) == 2
    assert not ActivityLog.all_objects.filter(action__contains="preview").exists()


# --- alerts --------------------------------------------------------------------------------------


def test_alerts_list_and_detail_carry_the_evidence_and_the_case(read_api, org, survey, rule):
    case = low_score_case(org, survey, 2)
    listed = read_api.get(API + "alerts/").json()["results"]
    assert [row["id"] for row in listed] == [case.alert.public_id]
    detail = read_api.get(f"{API}alerts/{case.alert.public_id}/").json()
    assert detail["case"] == case.public_id == listed[0]["case"]
    assert detail["rule"] == rule.public_id and detail["rule_name"] == rule.name
    assert detail["status"] == "open" and detail["kind"] == "response"
    assert detail["evidence"]["answers"][0]["value"] == 2
    assert detail["touchpoint"] == survey.touchpoint.public_id
    assert detail["response"].startswith("rsp_")


def test_alert_filters(read_api, org, personas, survey, rule, foreign):
    case = low_score_case(org, survey)
    with tenant_scope(org):
        quiet = owned_touchpoint(org, personas.cx_manager, name="Web shop")
    url = API + "alerts/"
    assert ids(read_api.get(f"{url}?status=open")) == [case.alert.public_id]
    assert ids(read_api.get(f"{url}?status=resolved")) == []
    assert ids(read_api.get(f"{url}?rule={rule.public_id}")) == [case.alert.public_id]
    assert ids(read_api.get(f"{url}?touchpoint={quiet.public_id}")) == []
    assert ids(read_api.get(f"{url}?touchpoint={survey.touchpoint.public_id}")) == [
        case.alert.public_id
    ]
    refused = read_api.get(f"{url}?rule={foreign['rule'].public_id}")
    assert refused.status_code == 400
    assert refused.json()["extra"]["fields"] == {"rule": ["Not found."]}
    assert read_api.get(f"{url}?status=bogus").status_code == 400


# --- root causes and improvements ----------------------------------------------------------------


def test_root_causes_are_kept_and_retired_not_deleted(write_api, org):
    url = API + "root-causes/"
    made = write_api.post(url, {"category": "Staff", "name": "Rude"}, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["id"].startswith("rc_") and made.json()["controllable"] is True
    twin = write_api.post(url, {"category": "Staff", "name": "Rude"}, format="json")
    assert twin.status_code == 400 and twin.json()["code"] == "duplicate"
    assert "name" in twin.json()["extra"]["fields"]
    detail = f"{url}{made.json()['id']}/"
    assert write_api.patch(detail, {"is_active": False}, format="json").json()["is_active"] is False
    assert write_api.delete(detail).status_code == 405
    assert ids(write_api.get(url + "?active=true")) == []
    assert ids(write_api.get(url)) == [made.json()["id"]]


def test_starter_taxonomy_loads_once(write_api, org):
    url = API + "root-causes/load-starter/"
    first = write_api.post(url, {"industry": "retail"}, format="json")
    assert first.status_code == 200 and first.json()["added"] > 5
    assert write_api.post(url, {"industry": "retail"}, format="json").json()["added"] == 0
    bad = write_api.post(url, {"industry": "mining"}, format="json")
    assert bad.status_code == 400 and "industry" in bad.json()["extra"]["fields"]
    assert RootCause.all_objects.filter(organization=org).count() == first.json()["added"]


def test_improvement_gathers_cases(write_api, org, personas, case, foreign):
    cause = root_cause(org)
    response = write_api.post(
        API + "improvements/",
        {"title": "Second checkout", "root_cause": cause.public_id,
         "owner": personas.cx_manager.public_id, "due_date": "2030-01-31"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    item = response.json()
    assert item["id"].startswith("imp_") and item["owner"] == personas.cx_manager.public_id
    assert item["status"] == "open" and item["case_count"] == 0
    linked = write_api.post(
        f"{API}cases/{case.public_id}/improvement/", {"improvement": item["id"]}, format="json"
    )
    assert linked.status_code == 200 and linked.json()["improvement"] == item["id"]
    detail = write_api.get(f"{API}improvements/{item['id']}/").json()
    assert (detail["case_count"], detail["open_case_count"]) == (1, 1)
    done = write_api.patch(
        f"{API}improvements/{item['id']}/", {"status": "done"}, format="json"
    ).json()
    assert done["status"] == "done" and done["case_count"] == 1
    assert ids(write_api.get(API + "improvements/?status=open")) == []
    for field, value in (("owner", personas.outsider.public_id),
                         ("root_cause", foreign["root_cause"].public_id)):  # fmt: skip
        refused = write_api.post(API + "improvements/", {"title": "x", field: value}, format="json")
        assert refused.status_code == 400 and field in refused.json()["extra"]["fields"]
    foreign_link = write_api.post(
        f"{API}cases/{case.public_id}/improvement/",
        {"improvement": foreign["improvement"].public_id},
        format="json",
    )
    assert foreign_link.json()["extra"]["fields"] == {"improvement": ["Not found."]}


# --- case settings -------------------------------------------------------------------------------


def test_case_settings_read_and_change(owner_client, read_api, personas):
    url = API + "case-settings/"
    current = read_api.get(url).json()
    assert current["sla_hours"]["urgent"] == [1.0, 8.0]
    assert current["workdays"] == [0, 1, 2, 3, 4]
    response = owner_client.patch(
        url,
        {"sla_hours": {"urgent": [2, 6]}, "default_assignee": personas.cx_manager.public_id,
         "day_end": "17:00"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["sla_hours"]["urgent"] == [2.0, 6.0] and body["sla_hours"]["low"] == [16.0, 80.0]
    assert body["default_assignee"] == personas.cx_manager.public_id
    assert body["day_end"] == "17:00:00" and body["day_start"] == "08:00:00"


def test_invalid_case_settings_are_field_errors(owner_client, personas):
    url = API + "case-settings/"
    cases = [
        ({"day_start": "18:00"}, "day_end"),
        ({"workdays": [7]}, "workdays"),
        ({"sla_hours": {"urgent": [9, 2]}}, "sla_hours"),
        ({"sla_hours": {"someday": [1, 2]}}, "sla_hours"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"default_assignee": personas.outsider.public_id}, "default_assignee"),
        ({"escalation_contact": "nobody@example.com"}, "escalation_contact"),
    ]
    for body, field in cases:
        response = owner_client.patch(url, body, content_type="application/json")
        assert response.status_code == 400, body
        assert field in response.json()["extra"]["fields"], (body, response.json())


# --- cost and schema -----------------------------------------------------------------------------


def test_list_endpoints_cost_the_same_queries_for_1_or_20_rows(
    read_api, org, survey, rule, django_assert_max_num_queries, django_assert_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            low_score_case(org, survey)
            n = RootCause.all_objects.count()
            root_cause(org, name=f"Cause {n}")
            improvement(org)
            with tenant_scope(org):
                low_csat_rule(org, name=f"Rule {n}", touchpoint=survey.touchpoint)

    add(1)
    read_api.get(API + "cases/")  # warm the key's last-used stamp
    costs = {}
    for path in LISTS:
        # The organization, the key, and one query for the page (related rows joined in).
        with django_assert_max_num_queries(3) as captured:
            assert read_api.get(API + path).status_code == 200
        costs[path] = len(captured.captured_queries)
    add(19)
    for path in LISTS:
        with django_assert_num_queries(costs[path]):
            response = read_api.get(API + path)
        rows = response.json()["results"] if path != "root-causes/" else response.json()
        assert len(rows) >= 20, path


def test_schema_tags_every_alerts_operation(owner_client):
    import yaml

    response = owner_client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    expected = {
        "alert-rules": "Alert rules",
        "alerts": "Alerts",
        "cases": "Cases",
        "root-causes": "Root causes",
        "improvements": "Improvements",
        "case-settings": "Case settings",
    }
    seen = set()
    for path, operations in schema["paths"].items():
        resource = path.removeprefix("/api/v1/orgs/{org_slug}/").split("/")[0]
        if resource not in expected:
            continue
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["tags"] == [expected[resource]], (method, path)
            seen.add(resource)
    assert seen == set(expected)
    assert "/api/v1/orgs/{org_slug}/alert-rules/{public_id}/preview/" in schema["paths"]
    assert "/api/v1/orgs/{org_slug}/cases/{public_id}/status/" in schema["paths"]
