import pytest

from core.models import ActivityLog, IdempotencyKey
from distribution.models import Contact
from tests.distribution.factories import ContactFactory, SegmentFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/contacts/"


def test_key_creates_a_contact_with_normalised_phone_and_api_consent(write_api, personas):
    response = write_api.post(
        URL,
        {
            "external_id": "CRM-7",
            "name": "Maija",
            "email": "Maija@Example.fi",
            "phone": "040 123 4567",
            "attributes": {"plan": "gold", "visits": 3},
            "email_consent": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("ct_")
    assert body["phone"] == "+358401234567" and body["email"] == "maija@example.fi"
    assert body["consent"]["email"]["given"] and body["consent"]["email"]["source"] == "api"
    assert body["reachable_by"] == ["email"]


def test_invalid_phone_is_a_field_error_in_the_error_format(write_api, personas):
    response = write_api.post(URL, {"phone": "12345"}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"] == {"field": "phone"}


def test_duplicate_email_answers_409_naming_the_existing_contact(org, write_api, personas):
    existing = ContactFactory(organization=org, email="same@example.fi")
    response = write_api.post(URL, {"email": "SAME@example.fi"}, format="json")
    assert response.status_code == 409
    assert response.json()["extra"]["contact"] == existing.public_id


def test_idempotency_key_replays_the_first_answer(write_api, personas):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-sync-1"}
    first = write_api.post(URL, {"email": "a@example.fi"}, format="json", **headers)
    second = write_api.post(URL, {"email": "a@example.fi"}, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Contact.all_objects.count() == 1


def test_idempotency_key_reused_with_another_body_is_422(write_api, personas):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-sync-2"}
    write_api.post(URL, {"email": "a@example.fi"}, format="json", **headers)
    response = write_api.post(URL, {"email": "b@example.fi"}, format="json", **headers)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Contact.all_objects.count() == 1


def test_a_refused_request_does_not_burn_its_idempotency_key(write_api, personas):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-sync-3"}
    assert write_api.post(URL, {"phone": "1"}, format="json", **headers).status_code == 400
    assert not IdempotencyKey.all_objects.exists()


def test_idempotency_keys_are_per_organization(org, other_org, write_api, outsider_api, personas):
    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    assert (
        write_api.post(URL, {"email": "a@example.fi"}, format="json", **headers).status_code == 201
    )
    rival = outsider_api.post(
        "/api/v1/orgs/rival/contacts/", {"email": "z@example.fi"}, format="json", **headers
    )
    assert rival.status_code == 201


def test_filters_by_email_phone_external_id_attribute_and_segment(org, read_api, personas):
    gold = ContactFactory(
        organization=org,
        email="gold@example.fi",
        phone="+358401234567",
        external_id="G1",
        attributes={"plan": "gold", "visits": 3},
    )
    ContactFactory(organization=org, attributes={"plan": "silver", "visits": 1})
    segment = SegmentFactory(
        organization=org, rules=[{"field": "attr.plan", "op": "eq", "value": "gold"}]
    )
    for query in (
        "email=GOLD@example.fi",
        "phone=040 123 4567",
        "external_id=G1",
        "attr.plan=gold",
        "attr.visits=3",
        f"segment={segment.public_id}",
    ):
        results = read_api.get(f"{URL}?{query}").json()["results"]
        assert [c["id"] for c in results] == [gold.public_id], query


def test_list_is_cursor_paginated_with_a_pinned_query_count(
    org, read_api, personas, django_assert_num_queries
):
    ContactFactory.create_batch(30, organization=org)
    read_api.get(URL)  # the key's first use writes last_used_at once
    # organization, key, one page of contacts: not one query per contact
    with django_assert_num_queries(3):
        response = read_api.get(f"{URL}?page_size=10")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 10 and "cursor=" in body["next"]


def test_patch_updates_only_given_fields_and_records_opt_out(org, write_api, personas):
    contact = ContactFactory(organization=org, name="Old", phone="+358401234567")
    response = write_api.patch(
        f"{URL}{contact.public_id}/",
        {"name": "New", "sms_opted_out": True, "opt_out_reason": "asked by phone"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "New" and body["phone"] == "+358401234567"
    assert body["consent"]["sms"]["opted_out"]
    assert body["consent"]["sms"]["opt_out_reason"] == "asked by phone"


def test_export_is_audited_and_delete_erases(org, write_api, personas):
    contact = ContactFactory(organization=org, name="Maija", email="maija@example.fi")
    export = write_api.get(f"{URL}{contact.public_id}/export/")
    assert export.status_code == 200
    assert export.json()["contact"]["email"] == "maija@example.fi"
    assert ActivityLog.all_objects.filter(
        action="distribution.contact.exported", object_id=contact.public_id
    ).exists()
    assert write_api.delete(f"{URL}{contact.public_id}/").status_code == 204
    assert not Contact.all_objects.exists()


def test_viewer_reads_but_cannot_write_or_export(org, personas):
    from rest_framework.test import APIClient

    contact = ContactFactory(organization=org)
    viewer = APIClient()
    viewer.force_login(personas.viewer)
    assert viewer.get(URL).status_code == 200
    assert viewer.post(URL, {"email": "v@example.fi"}, format="json").status_code == 403
    assert (
        viewer.patch(f"{URL}{contact.public_id}/", {"name": "x"}, format="json").status_code == 403
    )
    assert viewer.delete(f"{URL}{contact.public_id}/").status_code == 403
    assert viewer.get(f"{URL}{contact.public_id}/export/").status_code == 403
    assert (
        viewer.post("/api/v1/orgs/acme/segments/", {"name": "x"}, format="json").status_code == 403
    )


def test_read_key_cannot_write(read_api, personas):
    assert read_api.post(URL, {"email": "r@example.fi"}, format="json").status_code == 403


def test_outsider_gets_404_for_every_contact_and_segment_url(org, outsider_api, personas):
    contact = ContactFactory(organization=org)
    segment = SegmentFactory(organization=org)
    for url in (
        URL,
        f"{URL}{contact.public_id}/",
        f"{URL}{contact.public_id}/export/",
        "/api/v1/orgs/acme/segments/",
        f"/api/v1/orgs/acme/segments/{segment.public_id}/contacts/",
    ):
        assert outsider_api.get(url).status_code == 404, url
    # Their own organization's URL with our ids: still not found.
    assert outsider_api.get(f"/api/v1/orgs/rival/contacts/{contact.public_id}/").status_code == 404
    assert (
        outsider_api.delete(f"/api/v1/orgs/rival/contacts/{contact.public_id}/").status_code == 404
    )


def test_segments_api_validates_rules_and_lists_members(org, write_api, personas):
    ContactFactory(organization=org, preferred_language="fi", attributes={"plan": "gold"})
    ContactFactory(organization=org, preferred_language="sv", attributes={"plan": "gold"})
    bad = write_api.post(
        "/api/v1/orgs/acme/segments/",
        {"name": "x", "rules": [{"field": "attr.plan", "op": "gt", "value": 1}]},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["extra"] == {"field": "rules"}
    created = write_api.post(
        "/api/v1/orgs/acme/segments/",
        {
            "name": "Finnish gold",
            "rules": [
                {"field": "attr.plan", "op": "eq", "value": "gold"},
                {"field": "preferred_language", "op": "eq", "value": "fi"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201
    members = write_api.get(f"/api/v1/orgs/acme/segments/{created.json()['id']}/contacts/")
    assert len(members.json()["results"]) == 1
