import pytest
from django.utils import timezone

from core.exceptions import ApplicationError
from distribution import services
from distribution.models import Segment
from distribution.selectors import segment_contacts
from tests.distribution.factories import ContactFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def consented(**extra):
    return {"email_consent": True, "email_consent_at": timezone.now(), **extra}


@pytest.fixture
def people(scoped):
    return {
        "gold_fi": ContactFactory(
            organization=scoped, preferred_language="fi", attributes={"plan": "gold"}, **consented()
        ),
        "gold_sv": ContactFactory(
            organization=scoped, preferred_language="sv", attributes={"plan": "gold"}
        ),
        "silver_fi_opted_out": ContactFactory(
            organization=scoped,
            preferred_language="fi",
            attributes={"plan": "silver", "visits": 3},
            **consented(email_opted_out_at=timezone.now()),
        ),
        "no_plan": ContactFactory(organization=scoped, preferred_language="en"),
    }


def members(rules, organization) -> set[str]:
    segment = SegmentFactory(organization=organization, rules=rules)
    return {c.name for c in segment_contacts(segment)}


@pytest.mark.parametrize(
    "rules,expected",
    [
        ([{"field": "attr.plan", "op": "eq", "value": "gold"}], {"gold_fi", "gold_sv"}),
        ([{"field": "attr.plan", "op": "ne", "value": "gold"}], {"silver_fi_opted_out", "no_plan"}),
        ([{"field": "attr.plan", "op": "exists", "value": True}], {"gold_fi", "gold_sv", "silver_fi_opted_out"}),
        ([{"field": "attr.visits", "op": "eq", "value": "3"}], {"silver_fi_opted_out"}),
        ([{"field": "preferred_language", "op": "eq", "value": "fi"}], {"gold_fi", "silver_fi_opted_out"}),
        ([{"field": "consent.email", "op": "is", "value": True}], {"gold_fi", "silver_fi_opted_out"}),
        ([{"field": "reachable.email", "op": "is", "value": True}], {"gold_fi"}),
        (
            [
                {"field": "attr.plan", "op": "eq", "value": "gold"},
                {"field": "preferred_language", "op": "eq", "value": "fi"},
                {"field": "consent.email", "op": "is", "value": True},
            ],
            {"gold_fi"},
        ),
        ([], {"gold_fi", "gold_sv", "silver_fi_opted_out", "no_plan"}),
    ],
)  # fmt: skip
def test_segment_rules_select_the_right_contacts(scoped, people, rules, expected):
    names = {contact.name: key for key, contact in people.items()}
    assert {names[name] for name in members(rules, scoped)} == expected


def test_segment_audience_is_one_query(scoped, people, django_assert_num_queries):
    segment = SegmentFactory(
        organization=scoped,
        rules=[
            {"field": "attr.plan", "op": "eq", "value": "gold"},
            {"field": "reachable.email", "op": "is", "value": True},
        ],
    )
    with django_assert_num_queries(1):
        assert len(list(segment_contacts(segment))) == 1


def test_segment_of_another_organization_never_includes_our_contacts(scoped, people, other_org):
    segment = SegmentFactory(organization=other_org, rules=[])
    assert segment_contacts(segment).count() == 0


@pytest.mark.parametrize(
    "rules",
    [
        [{"field": "attr.bad name", "op": "eq", "value": "x"}],
        [{"field": "attr.plan", "op": "gt", "value": "x"}],
        [{"field": "preferred_language", "op": "eq", "value": "de"}],
        [{"field": "consent.email", "op": "is", "value": "yes"}],
        [{"field": "password", "op": "eq", "value": "x"}],
        "plan=gold",
    ],
)
def test_rules_outside_the_vocabulary_are_refused(scoped, cx_actor, rules):
    with pytest.raises(ApplicationError) as error:
        services.segment_create(actor=cx_actor, organization=scoped, name="x", rules=rules)
    assert error.value.extra == {"field": "rules"}


def test_segment_page_shows_count_preview_and_round_trips_its_rules(org, people, cx_client):
    response = cx_client.post(
        "/o/acme/segments/",
        {
            "name": "Gold in Finnish",
            "language": "fi",
            "email_consent": "yes",
            "attribute_rules": "plan = gold\nvisits exists\nstore != Espoo",
        },
    )
    segment = Segment.all_objects.get()
    assert response.status_code == 302
    assert segment.rules[0] == {"field": "preferred_language", "op": "eq", "value": "fi"}
    page = cx_client.get(f"/o/acme/segments/{segment.public_id}/").content.decode()
    assert "0 contacts match now" in page
    assert "plan = gold\nvisits exists\nstore != Espoo" in page
    cx_client.post(
        f"/o/acme/segments/{segment.public_id}/",
        {"name": "Gold", "attribute_rules": "plan = gold"},
    )
    page = cx_client.get(f"/o/acme/segments/{segment.public_id}/").content.decode()
    assert "2 contacts match now" in page and people["gold_sv"].public_id in page
