import json

import pytest

from core.models import ActivityLog
from distribution.models import Contact
from tests.distribution.factories import ContactFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_cx_manager_adds_a_contact_in_the_browser(cx_client):
    response = cx_client.post(
        "/o/acme/contacts/new/",
        {
            "name": "Maija",
            "email": "maija@example.fi",
            "phone": "040 123 4567",
            "preferred_language": "fi",
            "attributes": "plan = gold\nstore = Kamppi",
            "sms_consent": "on",
        },
    )
    contact = Contact.all_objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/contacts/{contact.public_id}/"
    assert contact.phone == "+358401234567"
    assert contact.attributes == {"plan": "gold", "store": "Kamppi"}
    assert contact.sms_consent_source == "form"


def test_invalid_phone_is_shown_on_its_field(cx_client):
    response = cx_client.post("/o/acme/contacts/new/", {"name": "M", "phone": "123"})
    assert response.status_code == 400
    assert 'id="id_phone_error"' in response.content.decode()


def test_edit_records_an_opt_out_with_its_reason(org, cx_client):
    contact = ContactFactory(organization=org)
    response = cx_client.post(
        f"/o/acme/contacts/{contact.public_id}/edit/",
        {"name": contact.name, "email": contact.email, "email_opted_out": "on",
         "opt_out_reason": "asked at the till"},
    )  # fmt: skip
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.email_opted_out_at is not None
    assert contact.email_opt_out_reason == "asked at the till"
    page = cx_client.get(f"/o/acme/contacts/{contact.public_id}/").content.decode()
    assert "asked at the till" in page and "distribution.contact.updated" in page


def test_contact_page_shows_attributes_consent_and_activity(org, viewer_client):
    contact = ContactFactory(organization=org, attributes={"plan": "gold"})
    response = viewer_client.get(f"/o/acme/contacts/{contact.public_id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "gold" in html and "Consent and opt-outs" in html and "<caption" in html
    assert "/edit/" not in html and "/erase/" not in html  # a viewer gets no write buttons


def test_list_searches_and_filters_by_attribute_and_segment_with_pinned_queries(
    org, cx_client, django_assert_max_num_queries
):
    ContactFactory.create_batch(60, organization=org, attributes={"plan": "silver"})
    ContactFactory(organization=org, name="Gold Person", attributes={"plan": "gold"})
    segment = SegmentFactory(
        organization=org, rules=[{"field": "attr.plan", "op": "eq", "value": "gold"}]
    )
    with django_assert_max_num_queries(8):
        page = cx_client.get("/o/acme/contacts/")
    assert page.status_code == 200
    assert page.content.decode().count("/o/acme/contacts/ct_") == 50
    assert "Page 1 of 2" in page.content.decode()
    for query in ("q=Gold", "attribute=plan&value=gold", f"segment={segment.public_id}"):
        html = cx_client.get(f"/o/acme/contacts/?{query}").content.decode()
        assert "Gold Person" in html and html.count("/o/acme/contacts/ct_") == 1, query


def test_export_downloads_json_and_writes_the_audit_log(org, cx_client):
    contact = ContactFactory(organization=org, email="maija@example.fi")
    response = cx_client.get(f"/o/acme/contacts/{contact.public_id}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["contact"]["email"] == "maija@example.fi"
    assert ActivityLog.all_objects.filter(action="distribution.contact.exported").count() == 1


def test_erase_removes_the_contact_after_confirmation(org, cx_client):
    contact = ContactFactory(organization=org)
    assert cx_client.get(f"/o/acme/contacts/{contact.public_id}/erase/").status_code == 200
    assert cx_client.post(f"/o/acme/contacts/{contact.public_id}/erase/").status_code == 302
    assert not Contact.all_objects.exists()


def test_viewer_cannot_write_or_export(org, viewer_client):
    contact = ContactFactory(organization=org)
    segment = SegmentFactory(organization=org)
    assert viewer_client.get("/o/acme/contacts/").status_code == 200
    assert viewer_client.post("/o/acme/contacts/new/", {"name": "x"}).status_code == 403
    assert viewer_client.post(f"/o/acme/contacts/{contact.public_id}/edit/", {}).status_code == 403
    assert viewer_client.get(f"/o/acme/contacts/{contact.public_id}/export/").status_code == 403
    assert viewer_client.get(f"/o/acme/contacts/{contact.public_id}/erase/").status_code == 403
    assert viewer_client.post(f"/o/acme/contacts/{contact.public_id}/erase/").status_code == 403
    assert viewer_client.post("/o/acme/segments/", {"name": "x"}).status_code == 403
    assert viewer_client.post(f"/o/acme/segments/{segment.public_id}/delete/").status_code == 403
    assert Contact.all_objects.count() == 1


def test_outsider_gets_404_on_every_page(org, outsider_client):
    contact = ContactFactory(organization=org)
    segment = SegmentFactory(organization=org)
    for url in (
        "/o/acme/contacts/",
        "/o/acme/contacts/new/",
        f"/o/acme/contacts/{contact.public_id}/",
        f"/o/acme/contacts/{contact.public_id}/export/",
        f"/o/acme/contacts/{contact.public_id}/erase/",
        "/o/acme/contacts/imports/",
        "/o/acme/segments/",
        f"/o/acme/segments/{segment.public_id}/",
        f"/o/rival/contacts/{contact.public_id}/",
        f"/o/rival/segments/{segment.public_id}/",
    ):
        assert outsider_client.get(url).status_code == 404, url
    assert outsider_client.post(f"/o/rival/contacts/{contact.public_id}/erase/").status_code == 404
    assert Contact.all_objects.count() == 1


def test_nav_links_to_contacts(cx_client):
    assert 'href="/o/acme/contacts/"' in cx_client.get("/o/acme/").content.decode()
