"""List filters are django-filter FilterSets: a bad value is a 400 naming the parameter, in the
error format, never a 500 and never silently ignored; good values still narrow the list."""

import pytest
from django.utils import timezone

from distribution.models import Invitation
from tests.distribution.factories import ContactFactory
from tests.surveys.factories import make_survey, make_touchpoint

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/invitations/?status=lost", "status"),
        ("/invitations/?channel=pigeon", "channel"),
        ("/contacts/?segment=seg_nothere", "segment"),
        ("/surveys/?status=sleeping", "status"),
        ("/responses/?touchpoint=tp_nothere", "touchpoint"),
        ("/responses/?survey=srv_nothere", "survey"),
        ("/responses/?channel=pigeon", "channel"),
        ("/responses/?submitted_before=yesterday", "submitted_before"),
        ("/email-templates/?survey=srv_nothere", "survey"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(read_api, path, parameter):
    response = read_api.get(BASE + path)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["extra"]["fields"]) == [parameter]


def test_another_organizations_survey_is_not_a_filter_value(read_api, other_org):
    theirs = make_survey(other_org, touchpoint=make_touchpoint(other_org))
    response = read_api.get(f"{BASE}/responses/?survey={theirs.public_id}")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["survey"] == ["No such item in this organization."]


def test_invitation_filters_narrow_the_list(read_api, org):
    survey = make_survey(org, touchpoint=make_touchpoint(org))
    contact = ContactFactory(organization=org)
    for number, (status, channel) in enumerate([("sent", "email"), ("failed", "sms")]):
        Invitation.all_objects.create(
            organization=org,
            contact=contact,
            survey=survey,
            channel=channel,
            status=status,
            natural_key=f"filters:{number}",
            scheduled_for=timezone.now(),
        )

    def statuses(query: str) -> list[str]:
        return [
            row["status"] for row in read_api.get(f"{BASE}/invitations/?{query}").json()["results"]
        ]

    assert statuses("status=failed") == ["failed"]
    assert statuses("channel=email") == ["sent"]
    assert sorted(statuses(f"survey={survey.public_id}")) == ["failed", "sent"]
    assert statuses("survey=srv_other") == []


def test_contact_filters_still_normalise_and_read_attributes(read_api, org):
    ContactFactory(organization=org, phone="+358401234567", attributes={"plan": "gold"})
    ContactFactory(organization=org, phone="+358409999999", attributes={"plan": "basic"})

    found = read_api.get(f"{BASE}/contacts/?phone=040 123 4567").json()["results"]
    assert [row["phone"] for row in found] == ["+358401234567"]
    found = read_api.get(f"{BASE}/contacts/?attr.plan=basic").json()["results"]
    assert [row["phone"] for row in found] == ["+358409999999"]
