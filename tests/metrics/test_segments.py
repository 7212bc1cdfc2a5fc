"""Scores for a contact segment come from the responses its contacts gave through invitations."""

import pytest
from django.utils import timezone

from distribution.models import Invitation
from surveys.services.responses import response_submit
from tests.distribution.factories import ContactFactory, SegmentFactory
from tests.metrics.conftest import at
from tests.surveys.factories import make_link

pytestmark = pytest.mark.django_db


def invited_answer(organization, survey, contact, score, when):
    link = make_link(survey, language="fi")
    Invitation.all_objects.create(
        organization=organization,
        contact=contact,
        survey=survey,
        personal_link=link,
        channel="email",
        natural_key=f"test:{link.pk}",
        scheduled_for=timezone.now(),
    )
    return response_submit(
        organization=organization,
        survey=survey,
        answers={"score": score},
        channel="email",
        language="fi",
        personal_link=link,
        submitted_at=when,
    )


def test_segment_filter_scores_only_that_segments_contacts(scoped, nps_survey, submit, read_api):
    gold = SegmentFactory(
        organization=scoped, rules=[{"field": "attr.plan", "op": "eq", "value": "gold"}]
    )
    gold_customer = ContactFactory(organization=scoped, attributes={"plan": "gold"})
    basic_customer = ContactFactory(organization=scoped, attributes={"plan": "basic"})
    for score in (10, 10, 9, 9, 8):
        invited_answer(scoped, nps_survey, gold_customer, score, at(2026, 3, 3))
    for score in (1, 2, 3):
        invited_answer(scoped, nps_survey, basic_customer, score, at(2026, 3, 3))
    submit(0, at(2026, 3, 3))  # anonymous: in no segment

    body = read_api.get(
        "/api/v1/orgs/acme/metrics/",
        {"metric": "nps", "start": "2026-03-01", "end": "2026-03-31", "segment": gold.public_id},
    ).json()
    assert body["total"]["n"] == 5
    assert body["total"]["score"] == pytest.approx(80.0)
    assert (
        read_api.get(
            "/api/v1/orgs/acme/metrics/", {"metric": "nps", "segment": "seg_nope"}
        ).status_code
        == 400
    )
