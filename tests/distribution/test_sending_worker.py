"""Sending through a real Celery worker and Redis: the path production takes when the provider
cannot take a message at once (Twilio answers 429 or 5xx) is Celery's own retry."""

import time

import pytest

from core.scoping import tenant_scope
from distribution.enums import InvitationStatus
from distribution.models import Invitation, InvitationEvent
from distribution.services.invitations import invitation_trigger
from tests.distribution.factories import reachable_contact
from tests.plugins.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PHONE = "+358401234567"


def test_a_busy_then_failing_twilio_is_retried_by_the_worker_and_the_sms_goes_out_once(
    org, nps_survey, fake_twilio, public_base, settings, worker
):
    settings.INVITATION_RETRY_SECONDS = 1  # waits 1 s, then 2 s
    fake_twilio.fail_next(429)
    fake_twilio.fail_next(500)
    contact = reachable_contact(org, phone=PHONE, preferred_language="en")
    with tenant_scope(org):
        invitation = invitation_trigger(
            actor=None, organization=org, contact=contact, survey=nps_survey, channel="sms"
        ).invitation

    def sent() -> bool:
        return Invitation.all_objects.get(pk=invitation.pk).status == InvitationStatus.SENT

    assert wait_for(sent, seconds=30)
    time.sleep(1.5)  # a duplicate send would arrive by now
    assert len(fake_twilio.messages) == 1
    assert fake_twilio.messages[0]["To"] == PHONE
    invitation.refresh_from_db()
    assert invitation.attempts == 3
    assert invitation.provider_message_id == fake_twilio.messages[0]["sid"]
    history = InvitationEvent.all_objects.filter(invitation=invitation)
    assert list(history.values_list("status", flat=True)) == ["queued", "sent"]
