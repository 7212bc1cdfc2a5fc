"""The real path: a low score reaches a Celery worker through Redis and the owner's inbox."""

import pytest

from alerts.models import Case
from core.scoping import tenant_scope
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint, submit_csat
from tests.plugins.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_low_csat_reaches_the_owner_as_a_case_and_an_email_through_the_worker(
    org, personas, smtp_outbox, worker
):
    with tenant_scope(org):
        touchpoint = owned_touchpoint(org, personas.cx_manager)
        survey = csat_survey(org, touchpoint)
        low_csat_rule(org)
        submit_csat(org, survey, 1, comment="Nobody helped me")
        assert wait_for(lambda: Case.objects.filter(organization=org).exists())
        case = Case.objects.get(organization=org)
    assert case.assignee == personas.cx_manager
    mail = smtp_outbox.wait_for(1, timeout=20).to(personas.cx_manager.email)[0]
    assert f"{case.number}" in mail.subject


def test_a_burst_of_submissions_is_evaluated_in_batches_and_every_response_is_checked(
    org, personas, smtp_outbox, worker
):
    from alerts.models import ResponseCheck

    with tenant_scope(org):
        touchpoint = owned_touchpoint(org, personas.cx_manager)
        survey = csat_survey(org, touchpoint)
        low_csat_rule(org)
        for i in range(40):
            submit_csat(org, survey, 1 if i == 25 else 5)
        assert wait_for(lambda: ResponseCheck.objects.filter(organization=org).count() == 40)
        assert Case.objects.filter(organization=org).count() == 1
