"""The cases API: the inbox and its filters, the status machine, assigning, notes, contacts."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from alerts.models import Case, CaseEvent
from core.models import ActivityLog
from tenancy.scoping import tenant_scope
from tests.alerts.api_support import (  # noqa: F401 (fixtures)
    API,
    case_fixture,
    foreign_fixture,
    hand_case,
    ids,
    low_score_case,
    root_cause,
    rule_fixture,
    survey_fixture,
    touchpoint_fixture,
)
from tests.alerts.support import owned_touchpoint
from tests.conftest import client_for
from tests.distribution.factories import ContactFactory

pytestmark = pytest.mark.django_db


def status(client, case, **body):
    return client.post(f"{API}cases/{case.public_id}/status/", body, format="json")


def aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def test_low_score_case_shows_its_response_alert_and_timeline(read_api, case, personas):
    body = read_api.get(f"{API}cases/{case.public_id}/").json()
    assert body["id"].startswith("cas_") and body["number"] == 1
    assert body["status"] == "new" and body["priority"] == "high"
    assert body["assignee"] == personas.cx_manager.public_id
    assert body["assignee_email"] == personas.cx_manager.email
    assert body["alert"] == case.alert.public_id and body["response"].startswith("rsp_")
    assert aware(body["first_contact_due"]) < aware(body["resolution_due"])
    assert body["overdue"] is False
    assert [event["kind"] for event in body["timeline"]] == ["created", "assigned"]
    assert body["timeline"][0]["actor"] is None and body["timeline"][0]["actor_label"] == "system"


def test_open_a_case_by_hand(write_api, org, touchpoint, personas):
    contact = ContactFactory(organization=org)
    response = write_api.post(
        API + "cases/",
        {"title": "Called about a broken delivery", "priority": "urgent",
         "touchpoint": touchpoint.public_id, "contact": contact.public_id},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["priority"] == "urgent" and body["contact"] == contact.public_id
    # Left out, the assignee is the touchpoint's owner.
    assert body["assignee"] == personas.cx_manager.public_id
    assert body["timeline"][0]["kind"] == "created"
    assert body["timeline"][0]["actor_label"].startswith("API key")
    assert ActivityLog.all_objects.filter(action="alerts.case.created").count() == 1


def test_opening_a_case_validates_every_field(write_api, foreign, personas):
    response = write_api.post(
        API + "cases/",
        {"priority": "someday", "touchpoint": foreign["touchpoint"].public_id,
         "assignee": personas.outsider.public_id},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert set(fields) == {"title", "priority", "touchpoint", "assignee"}
    assert fields["touchpoint"] == ["Not found."]
    assert not Case.all_objects.filter(organization__slug="acme").exists()


def test_case_goes_through_the_status_machine(write_api, org, case):
    cause = root_cause(org, controllable=False)
    started = status(write_api, case, status="in_progress")
    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "in_progress"

    back = status(write_api, case, status="new")
    assert back.status_code == 400
    assert back.json()["code"] == "note_required" and "note" in back.json()["extra"]["fields"]
    assert status(write_api, case, status="new", note="Wrong shop").json()["status"] == "new"

    unresolved = status(write_api, case, status="resolved")
    assert unresolved.status_code == 400
    assert unresolved.json()["code"] == "root_cause_required"
    assert set(unresolved.json()["extra"]["fields"]) == {"root_cause", "action_taken"}

    resolved = status(
        write_api, case, status="resolved", root_cause=cause.public_id, action_taken="Apologised"
    )
    assert resolved.status_code == 200, resolved.json()
    body = resolved.json()
    assert body["root_cause"] == cause.public_id and body["controllable"] is False
    assert body["action_taken"] == "Apologised" and aware(body["resolved_at"])
    # Resolving the case resolves its alert.
    assert write_api.get(f"{API}alerts/{case.alert.public_id}/").json()["status"] == "resolved"

    closed = write_api.patch(
        f"{API}cases/{case.public_id}/status/", {"status": "closed"}, format="json"
    )
    assert closed.status_code == 200 and aware(closed.json()["closed_at"])
    refused = status(write_api, case, status="resolved")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_transition"
    moves = [
        (event["data"]["old"], event["data"]["new"])
        for event in closed.json()["timeline"]
        if event["kind"] == "status"
    ]
    assert moves == [
        ("new", "in_progress"), ("in_progress", "new"), ("new", "resolved"),
        ("resolved", "closed"),
    ]  # fmt: skip


def test_resolving_with_another_organizations_root_cause_is_a_field_error(write_api, case, foreign):
    response = status(
        write_api,
        case,
        status="resolved",
        root_cause=foreign["root_cause"].public_id,
        action_taken="x",
    )
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"root_cause": ["Not found."]}
    assert status(write_api, case, status="sleeping").status_code == 400


def test_assign_only_to_members(write_api, case, personas):
    url = f"{API}cases/{case.public_id}/assign/"
    for stranger in (personas.outsider.public_id, "usr_doesnotexist", "nobody@example.com"):
        refused = write_api.post(url, {"assignee": stranger}, format="json")
        assert refused.status_code == 400, stranger
        assert refused.json()["extra"]["fields"] == {
            "assignee": ["Not a member of this organization."]
        }
    assert write_api.post(url, {}, format="json").status_code == 400
    given = write_api.post(url, {"assignee": personas.analyst.public_id}, format="json")
    assert given.status_code == 200
    assert given.json()["assignee"] == personas.analyst.public_id
    assert given.json()["timeline"][-1]["data"] == {"assignee": personas.analyst.email}
    nobody = write_api.post(url, {"assignee": None}, format="json")
    assert nobody.json()["assignee"] is None


def test_notes_join_the_timeline(write_api, case):
    url = f"{API}cases/{case.public_id}/notes/"
    response = write_api.post(url, {"text": "  Customer calls back at 3 pm  "}, format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "note" and response.json()["text"] == (
        "Customer calls back at 3 pm"
    )
    blank = write_api.post(url, {"text": "   "}, format="json")
    assert blank.status_code == 400 and "text" in blank.json()["extra"]["fields"]
    timeline = write_api.get(f"{API}cases/{case.public_id}/").json()["timeline"]
    assert timeline[-1]["text"] == "Customer calls back at 3 pm"


def test_recording_the_customer_contact_stops_the_first_contact_clock(write_api, case):
    url = f"{API}cases/{case.public_id}/contacts/"
    when = (timezone.now() - timedelta(hours=1)).isoformat()
    response = write_api.post(
        url,
        {"method": "phone", "outcome": "reached", "contacted_at": when, "note": "Sorted"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "in_progress"
    assert aware(body["first_contacted_at"]) == datetime.fromisoformat(when)
    event = body["timeline"][-1]
    assert event["kind"] == "contacted" and event["data"]["method"] == "phone"
    future = (timezone.now() + timedelta(days=1)).isoformat()
    refused = write_api.post(
        url, {"method": "fax", "outcome": "reached", "contacted_at": future}, format="json"
    )
    assert refused.status_code == 400 and "method" in refused.json()["extra"]["fields"]
    refused = write_api.post(
        url, {"method": "email", "outcome": "reached", "contacted_at": future}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_contact"
    assert "contacted_at" in refused.json()["extra"]["fields"]


def test_inbox_filters(org, personas, survey, rule, write_api, foreign):
    alerted = low_score_case(org, survey)
    with tenant_scope(org):
        quiet = owned_touchpoint(org, personas.analyst, name="Web shop")
    contact = ContactFactory(organization=org)
    mine = hand_case(org, "Mine", touchpoint=quiet, assignee=personas.owner, priority="low")
    nobody = hand_case(org, "Nobody's", contact=contact)
    Case.all_objects.filter(pk=nobody.pk).update(first_contact_due=timezone.now() - timedelta(1))
    url = API + "cases/"

    def found(query: str, client=write_api) -> set[str]:
        return set(ids(client.get(f"{url}?{query}")))

    assert found("") == {alerted.public_id, mine.public_id, nobody.public_id}
    assert found(f"assignee={personas.owner.public_id}") == {mine.public_id}
    assert found("assignee=me", client_for(personas.owner)) == {mine.public_id}
    assert found("unassigned=true") == {nobody.public_id}
    assert found(f"touchpoint={quiet.public_id}") == {mine.public_id}
    assert found("priority=low") == {mine.public_id}
    assert found("overdue=true") == {nobody.public_id}
    assert found(f"contact={contact.public_id}") == {nobody.public_id}
    assert found(f"q=%23{mine.number}") == {mine.public_id}
    status(write_api, mine, status="cancelled")
    assert found("status=cancelled") == {mine.public_id}
    assert found("status=new&status=cancelled") == {
        alerted.public_id, mine.public_id, nobody.public_id
    }  # fmt: skip
    assert found("open=true") == {alerted.public_id, nobody.public_id}
    listed = write_api.get(url + "?overdue=true").json()["results"][0]
    assert listed["overdue"] is True and listed["contact"] == contact.public_id
    # A key is not a person; ids of another organization are field errors.
    assert write_api.get(url + "?assignee=me").status_code == 400
    refused = write_api.get(f"{url}?touchpoint={foreign['touchpoint'].public_id}")
    assert refused.json()["extra"]["fields"] == {"touchpoint": ["Not found."]}
    assert write_api.get(f"{url}?status=sleeping").status_code == 400


def test_cursor_pagination_walks_every_case_once(write_api, org):
    made = {hand_case(org, f"Case {n}").public_id for n in range(5)}
    first = write_api.get(API + "cases/?page_size=2").json()
    seen = [row["id"] for row in first["results"]]
    link = first["next"]
    while link:
        page = write_api.get(link).json()
        seen += [row["id"] for row in page["results"]]
        link = page["next"]
    assert len(seen) == 5 and set(seen) == made


def test_case_detail_costs_a_fixed_number_of_queries(
    read_api, org, case, django_assert_max_num_queries
):
    url = f"{API}cases/{case.public_id}/"
    read_api.get(url)
    for _ in range(10):
        with tenant_scope(org):
            CaseEvent.objects.create(organization=org, case=case, kind="note", text="x")
    # The organization, the key, the case (joined), its timeline (actors joined), overdue.
    with django_assert_max_num_queries(5):
        response = read_api.get(url)
    assert response.status_code == 200
    assert len(response.json()["timeline"]) == 12
