"""The response path is safe to build on: receivers only enqueue, a failing one never turns a saved
response into an error page, and an alert lost to a down broker is raised by the sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, Case, ResponseCheck
from alerts.tasks import sweep_organization_responses
from distribution.enums import InvitationStatus
from distribution.models import Contact, Invitation
from distribution.tasks import sweep_invitations
from surveys.models import Response
from surveys.signals import response_submitted
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint, submit_csat
from tests.surveys.factories import make_link

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def touchpoint(org, personas):
    return owned_touchpoint(org, personas.cx_manager)


@pytest.fixture
def survey(org, touchpoint):
    return csat_survey(org, touchpoint)


@pytest.fixture
def broker_down(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 0.5
    settings.CELERY_BROKER_CONNECTION_RETRY = False
    settings.CELERY_BROKER_CONNECTION_MAX_RETRIES = 0
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        "max_retries": 0,
    }


def _invitation(org, survey):
    contact = Contact.all_objects.create(organization=org, email="c@example.com")
    link = make_link(survey)
    Invitation.all_objects.create(
        organization=org,
        contact=contact,
        survey=survey,
        personal_link=link,
        channel="email",
        status=InvitationStatus.SENT,
        natural_key="test:1",
        scheduled_for=timezone.now(),
    )
    return link


def test_a_failing_listener_never_turns_a_saved_answer_into_an_error_page(
    client, org, survey, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    link = make_link(survey)

    def broken(sender, **kwargs):
        raise RuntimeError("a listener with a bug")

    response_submitted.connect(broken, dispatch_uid="test.broken")
    try:
        page = client.post(f"/r/{link.token}/", {"csat": "4", "seen": "csat,comment", "lang": "fi"})
    finally:
        response_submitted.disconnect(dispatch_uid="test.broken")
    assert page.status_code == 302
    assert page["Location"].startswith(f"/r/{link.token}/thanks/")
    assert Response.all_objects.filter(personal_link=link).exists()


def test_with_the_broker_down_the_answer_is_saved_and_the_sweep_raises_the_alert_later(
    client, org, survey, broker_down, settings
):
    from core.scoping import tenant_scope

    with tenant_scope(org):
        low_csat_rule(org)
    link = _invitation(org, survey)
    page = client.post(f"/r/{link.token}/", {"csat": "1", "seen": "csat,comment", "lang": "fi"})
    assert page.status_code == 302
    assert Response.all_objects.count() == 1
    assert not Alert.all_objects.exists()  # its task never reached a worker
    invitation = Invitation.all_objects.get()
    assert invitation.status == InvitationStatus.SENT  # nor did "mark answered"

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the broker is back: the sweeps run
    Response.all_objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert sweep_organization_responses.apply(kwargs={"organization_id": org.pk}).get() == 1
    assert Case.all_objects.count() == 1
    assert ResponseCheck.all_objects.count() == 1
    # A second sweep finds nothing left to do and raises nothing twice.
    assert sweep_organization_responses.apply(kwargs={"organization_id": org.pk}).get() == 0
    assert Alert.all_objects.count() == 1
    sweep_invitations.apply()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED


def test_submitting_writes_nothing_of_other_apps_inside_the_request(
    org, survey, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    from core.scoping import tenant_scope

    with tenant_scope(org):
        low_csat_rule(org)
        link = _invitation(org, survey)
        submit_csat(org, survey, 1, personal_link=link)
    # Only tasks were queued: no alert, case or invitation change happened in the request.
    assert not Alert.all_objects.exists()
    assert Invitation.all_objects.get().status == InvitationStatus.SENT
