import pytest

from core.models import ActivityLog
from distribution import services
from distribution.models import Contact
from tests.distribution.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_export_holds_everything_stored_about_the_contact(scoped, cx_actor):
    contact = services.contact_create(
        actor=cx_actor,
        organization=scoped,
        external_id="CRM-1",
        name="Maija",
        email="maija@example.fi",
        phone="0401234567",
        attributes={"plan": "gold"},
        email_consent=True,
    )
    data = services.contact_export(actor=cx_actor, organization=scoped, contact=contact)
    assert data["contact"] == {
        "id": contact.public_id,
        "external_id": "CRM-1",
        "name": "Maija",
        "email": "maija@example.fi",
        "phone": "+358401234567",
        "preferred_language": "",
        "attributes": {"plan": "gold"},
        "created_at": contact.created_at.isoformat(),
        "updated_at": contact.updated_at.isoformat(),
    }
    assert data["consent"]["email"]["given"] and data["consent"]["email"]["source"] == "form"
    assert [entry["action"] for entry in data["activity"]] == [
        "distribution.contact.exported",
        "distribution.contact.created",
    ]


def test_every_export_is_written_to_the_audit_log(scoped, cx_actor):
    contact = ContactFactory(organization=scoped)
    for _ in range(2):
        services.contact_export(actor=cx_actor, organization=scoped, contact=contact)
    entries = ActivityLog.objects.filter(action="distribution.contact.exported")
    assert entries.count() == 2
    assert {entry.actor_label for entry in entries} == {cx_actor.label}


def test_erase_deletes_personal_data_and_leaves_an_anonymous_audit_entry(scoped, cx_actor):
    contact = services.contact_create(
        actor=cx_actor, organization=scoped, name="Maija Meikäläinen", email="maija@example.fi"
    )
    public_id = services.contact_erase(actor=cx_actor, organization=scoped, contact=contact)
    assert not Contact.objects.filter(public_id=public_id).exists()
    erased = ActivityLog.objects.get(action="distribution.contact.erased")
    assert erased.object_id == public_id and erased.actor_label == cx_actor.label
    everything = str(list(ActivityLog.objects.values()))
    assert "maija" not in everything.lower() and "Meikäläinen" not in everything
