import pytest

from core.exceptions import ApplicationError, ConflictError
from core.models import ActivityLog
from distribution import services
from distribution.enums import Channel
from distribution.models import Contact
from distribution.normalize import normalize_phone
from tests.distribution.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    ["040 123 4567", "0401234567", "+358 40 123 4567", "00358401234567", "(040) 123-4567"],
)
def test_finnish_mobile_numbers_are_stored_in_e164(typed):
    assert normalize_phone(typed) == "+358401234567"


def test_foreign_numbers_keep_their_country_and_local_ones_follow_the_region():
    assert normalize_phone("+46 70 123 45 67") == "+46701234567"
    assert normalize_phone("070-123 45 67", "SE") == "+46701234567"


@pytest.mark.parametrize("typed", ["123", "040 123", "not a number", "+358 00 000"])
def test_invalid_numbers_are_a_field_error(typed):
    with pytest.raises(ApplicationError) as error:
        normalize_phone(typed)
    assert error.value.extra["field"] == "phone"


def test_created_contact_has_normalised_email_and_phone(scoped, cx_actor):
    contact = services.contact_create(
        actor=cx_actor,
        organization=scoped,
        name="Maija Meikäläinen",
        email="  Maija@Example.FI ",
        phone="040 123 4567",
        preferred_language="FI",
        attributes={"plan": "gold", "visits": 3},
        email_consent=True,
    )
    assert (contact.email, contact.phone, contact.preferred_language) == (
        "maija@example.fi",
        "+358401234567",
        "fi",
    )
    assert contact.public_id.startswith("ct_")
    consent = contact.consent_for(Channel.EMAIL)
    assert consent.given and consent.source == "form" and consent.given_at is not None
    assert contact.is_reachable_by(Channel.EMAIL)
    assert not contact.is_reachable_by(Channel.SMS)  # no SMS consent


def test_audit_entries_of_contacts_hold_no_personal_data(scoped, cx_actor):
    contact = services.contact_create(
        actor=cx_actor, organization=scoped, name="Maija", email="maija@example.fi"
    )
    services.contact_update(
        actor=cx_actor, organization=scoped, contact=contact, name="Maija M", phone="0401234567"
    )
    entries = ActivityLog.objects.filter(object_id=contact.public_id)
    assert entries.count() == 2
    text = str(list(entries.values("object_repr", "data")))
    assert "maija" not in text.lower() and "358" not in text
    assert "phone" in text  # the changed field's name, not its value


@pytest.mark.parametrize("field,value", [("email", "SAME@example.fi"), ("phone", "040 123 4567")])
def test_creating_a_duplicate_email_or_phone_is_refused_with_the_existing_id(
    scoped, cx_actor, field, value
):
    existing = ContactFactory(organization=scoped, email="same@example.fi", phone="+358401234567")
    with pytest.raises(ConflictError) as error:
        services.contact_create(actor=cx_actor, organization=scoped, **{field: value})
    assert error.value.extra == {"field": field, "contact": existing.public_id}


def test_external_id_is_unique_per_organization_only(scoped, cx_actor, other_org):
    ContactFactory(organization=other_org, external_id="CRM-1")
    services.contact_create(actor=cx_actor, organization=scoped, external_id="CRM-1")
    with pytest.raises(ConflictError):
        services.contact_create(actor=cx_actor, organization=scoped, external_id="CRM-1")


def test_contact_without_any_identifying_field_is_refused(scoped, cx_actor):
    with pytest.raises(ApplicationError):
        services.contact_create(actor=cx_actor, organization=scoped, attributes={"plan": "x"})


def test_opt_out_keeps_its_first_time_and_reason_and_stops_reachability(scoped, cx_actor):
    contact = ContactFactory(organization=scoped, phone="+358401234567")
    contact = services.contact_set_consent(
        actor=cx_actor,
        organization=scoped,
        contact=contact,
        channel="sms",
        given=True,
        source="crm",
    )
    assert contact.is_reachable_by("sms")
    first = services.contact_opt_out(
        actor=None, organization=scoped, contact=contact, channel="sms", reason="STOP reply"
    )
    again = services.contact_opt_out(
        actor=None, organization=scoped, contact=first, channel="sms", reason="another"
    )
    assert again.sms_opted_out_at == first.sms_opted_out_at
    assert again.sms_opt_out_reason == "STOP reply"
    assert not again.is_reachable_by("sms")
    assert again.sms_consent  # consent is a separate fact; the opt-out wins at send time
    assert not Contact.objects.filter(Contact.reachable_q("sms")).exists()
    back = services.contact_opt_in(actor=None, organization=scoped, contact=again, channel="sms")
    assert back.is_reachable_by("sms")


def test_opted_out_contacts_are_excluded_from_an_audience_in_one_query(
    scoped, django_assert_num_queries
):
    ContactFactory.create_batch(3, organization=scoped, **_consented())
    ContactFactory(organization=scoped, **_consented(), email_opted_out_at=_now())
    ContactFactory(organization=scoped, email="", **_consented())
    with django_assert_num_queries(1):
        assert Contact.objects.filter(Contact.reachable_q("email")).count() == 3


def test_withdrawn_consent_clears_its_time_and_source(scoped, cx_actor):
    contact = ContactFactory(organization=scoped, **_consented())
    contact = services.contact_update(
        actor=cx_actor, organization=scoped, contact=contact, email_consent=False
    )
    assert (contact.email_consent, contact.email_consent_at, contact.email_consent_source) == (
        False,
        None,
        "",
    )


def _now():
    from django.utils import timezone

    return timezone.now()


def _consented():
    return {"email_consent": True, "email_consent_at": _now(), "email_consent_source": "form"}
