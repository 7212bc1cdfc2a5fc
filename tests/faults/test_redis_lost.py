"""Redis loses everything it held (a restart without its file, a flush) while work is queued:
the sweeps beat runs find the work in the database, so every accepted answer is counted and
every invitation sent, once."""

from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from core.scoping import tenant_scope, unscoped
from cxplatform.celery import app as celery_app
from distribution.enums import CampaignStatus, InvitationStatus
from distribution.models import Campaign, Invitation
from distribution.tasks import resend_lost_sends, send_invitation
from metrics.models import DailyTotal
from metrics.tasks import sweep_unprocessed_responses
from surveys.models import Response
from surveys.services.responses import response_submit
from tests.distribution.factories import reachable_contact
from tests.plugins.worker import QUEUES, wait_for
from tests.surveys.factories import make_link, make_survey

pytestmark = pytest.mark.django_db(transaction=True)


def _queued_invitations(org, survey, count: int) -> list[Invitation]:
    campaign = Campaign.all_objects.create(
        organization=org, name="Autumn", survey=survey, channel="email",
        status=CampaignStatus.SENT,
    )  # fmt: skip
    return [
        Invitation.all_objects.create(
            organization=org,
            contact=(contact := reachable_contact(org, email=f"lost{n}@example.fi")),
            survey=survey,
            campaign=campaign,
            personal_link=make_link(survey),
            channel="email",
            address=contact.email,
            natural_key=f"lost:{n}",
            status=InvitationStatus.QUEUED,
            scheduled_for=timezone.now(),
        )
        for n in range(count)
    ]


def test_after_redis_loses_queued_work_every_answer_is_counted_and_every_invitation_sent_once(
    org, settings, smtp_outbox
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.PUBLIC_BASE_URL = "https://cx.example.com"
    survey = make_survey(org)
    invitations = _queued_invitations(org, survey, 3)
    for invitation in invitations:  # their tasks wait in Redis: no worker runs yet
        send_invitation.delay(organization_id=org.pk, invitation_id=invitation.pk)
    with tenant_scope(org):
        for score in (10, 9, 3, 7, 8):
            response_submit(
                organization=org, survey=survey, answers={"score": score}, channel="web",
                language="fi",
            )  # fmt: skip

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # everything queued is gone
    with unscoped():  # time passes: the sweeps' grace is over
        Response.all_objects.update(created_at=timezone.now() - timedelta(minutes=1))
        Invitation.all_objects.update(scheduled_for=timezone.now() - timedelta(minutes=1))

    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=QUEUES):
        for _tick in range(2):  # two beat ticks before the first one's work is done
            resend_lost_sends.delay()
            sweep_unprocessed_responses.delay()

        def all_counted() -> bool:
            with tenant_scope(org):
                total = DailyTotal.objects.filter(survey=survey).first()
                unprocessed = Response.objects.filter(processed_at__isnull=True).exists()
                return total is not None and total.n == 5 and not unprocessed

        assert wait_for(all_counted, seconds=30)
        smtp_outbox.wait_for(3, timeout=20)
        smtp_outbox.settle(1.0)

    assert sorted(message.to[0] for message in smtp_outbox) == sorted(
        invitation.address for invitation in invitations
    )
    statuses = set(Invitation.all_objects.values_list("status", flat=True))
    assert statuses <= {InvitationStatus.SENT, InvitationStatus.DELIVERED}


def test_an_invitation_whose_worker_died_mid_send_is_sent_by_the_sweep(org, settings, smtp_outbox):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.PUBLIC_BASE_URL = "https://cx.example.com"
    [invitation] = _queued_invitations(org, make_survey(org), 1)
    # Claimed (queued -> sending), then the worker was killed before it sent anything.
    Invitation.all_objects.filter(pk=invitation.pk).update(
        status=InvitationStatus.SENDING, updated_at=timezone.now() - timedelta(minutes=3)
    )

    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=QUEUES):
        resend_lost_sends.delay()
        resend_lost_sends.delay()
        smtp_outbox.wait_for(1, timeout=20)
        smtp_outbox.settle(1.0)

    assert [message.to[0] for message in smtp_outbox] == [invitation.address]
    assert Invitation.all_objects.get(pk=invitation.pk).status == InvitationStatus.SENT
