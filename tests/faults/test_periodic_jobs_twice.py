"""Periodic jobs run twice at the same moment (two schedulers, a sweep that overlaps itself) act
once: each claims its due rows with one conditional UPDATE before acting."""

import threading
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from accounts.models import MemberInvitation
from accounts.tasks import send_unsent_invitations
from cxplatform.celery import app as celery_app
from cxplatform.schedule import BEAT_SCHEDULE
from distribution.enums import CampaignStatus, InvitationStatus
from distribution.models import Campaign, Invitation
from distribution.tasks import resend_lost_sends, sweep_invitations
from tenancy.enums import Role
from tests.conftest import client_for
from tests.distribution.factories import reachable_contact
from tests.plugins.worker import QUEUES, wait_for
from tests.surveys.factories import make_link, make_survey

pytestmark = pytest.mark.django_db(transaction=True)


def twice_at_once(job) -> list:
    """Run `job` in two threads released together (each with its own connection)."""
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(job())
        except Exception as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def _sent_campaign(org, people: int) -> list[Invitation]:
    survey = make_survey(org)
    sent = timezone.now() - timedelta(days=3)
    campaign = Campaign.all_objects.create(
        organization=org,
        name="Spring",
        survey=survey,
        channel="email",
        status=CampaignStatus.SENT,
        reminders=2,
        reminder_after_days=2,
    )
    invitations = []
    for n in range(people):
        contact = reachable_contact(org, email=f"remind{n}@example.fi")
        link = make_link(survey)
        invitations.append(
            Invitation.all_objects.create(
                organization=org,
                contact=contact,
                survey=survey,
                campaign=campaign,
                personal_link=link,
                channel="email",
                address=contact.email,
                natural_key=f"campaign:{n}",
                status=InvitationStatus.SENT,
                scheduled_for=sent,
                sent_at=sent,
            )
        )
    return invitations


def test_two_sweeps_at_once_send_one_reminder_per_invitation(org, settings, smtp_outbox):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.PUBLIC_BASE_URL = "https://cx.example.com"
    invitations = _sent_campaign(org, people=4)

    # Both sweeps queue their reminder tasks before any runs, as with two schedulers.
    twice_at_once(sweep_invitations)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=QUEUES):
        smtp_outbox.wait_for(4)
        assert wait_for(
            lambda: not Invitation.all_objects.filter(reminders_sent=0).exists(), seconds=20
        )
        smtp_outbox.settle(1.0)

    assert sorted(message.to[0] for message in smtp_outbox) == sorted(
        invitation.address for invitation in invitations
    )
    assert set(Invitation.all_objects.values_list("reminders_sent", flat=True)) == {1}


def test_two_sweeps_at_once_email_an_unsent_colleague_invitation_once(personas, smtp_outbox):
    # The task was never sent (the broker was down): only the sweep can email it.
    client_for(personas.admin).post(
        "/o/acme/members/", {"email": "late@example.com", "role": Role.ANALYST}
    )
    MemberInvitation.all_objects.filter(email="late@example.com").update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    results = twice_at_once(send_unsent_invitations)

    assert sorted(results) == [0, 1]
    assert len(smtp_outbox.wait_for(1).settle(1.0)) == 1


def test_two_sweeps_at_once_start_a_scheduled_campaign_once(org, settings, smtp_outbox):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PUBLIC_BASE_URL = "https://cx.example.com"
    people = [reachable_contact(org, email=f"autumn{n}@example.fi") for n in range(3)]
    campaign = Campaign.all_objects.create(
        organization=org,
        name="Autumn",
        survey=make_survey(org),
        channel="email",
        contact_ids=[person.public_id for person in people],
        status=CampaignStatus.SCHEDULED,
        scheduled_for=timezone.now() - timedelta(minutes=1),
    )

    results = twice_at_once(resend_lost_sends)

    assert sorted(result["campaigns"] for result in results) == [0, 1]
    assert len(smtp_outbox.wait_for(3).settle(1.0)) == 3
    assert Invitation.all_objects.filter(campaign=campaign).count() == 3
    assert Campaign.all_objects.get(pk=campaign.pk).status == CampaignStatus.SENT


@pytest.mark.parametrize("entry", sorted(BEAT_SCHEDULE))
def test_every_periodic_task_runs_twice_at_once_without_error(entry, org, settings):
    """Each job of the schedule, twice at the same moment (as two schedulers would send it),
    finishes without an error or a deadlock; the tests above check the single effects."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    task = celery_app.tasks[BEAT_SCHEDULE[entry]["task"]]

    results = twice_at_once(lambda: task.apply(throw=True).result)

    assert len(results) == 2


def test_a_reminder_the_provider_failed_for_a_moment_is_sent_by_the_next_sweep(
    org, settings, fake_twilio
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PUBLIC_BASE_URL = "https://cx.example.com"
    [invitation] = _sent_campaign(org, people=1)
    contact = reachable_contact(org, phone="+358401234567")
    Invitation.all_objects.filter(pk=invitation.pk).update(
        channel="sms", address=contact.phone, contact=contact
    )
    fake_twilio.fail_next(503)

    sweep_invitations()
    assert Invitation.all_objects.get(pk=invitation.pk).reminders_sent == 0  # given back
    sweep_invitations()

    assert len(fake_twilio.bodies()) == 1
    assert Invitation.all_objects.get(pk=invitation.pk).reminders_sent == 1
