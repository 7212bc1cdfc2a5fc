"""An invitation whose email task never ran (the broker was down) still reaches the colleague."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import MemberInvitation
from accounts.tasks import send_unsent_invitations
from tenancy.enums import Role
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"<>]+(/accounts/invitations/[\w-]+/)")


def test_sent_invitation_is_marked_sent(
    personas, settings, smtp_outbox, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        client_for(personas.admin).post(
            "/o/acme/members/", {"email": "sent@example.com", "role": Role.VIEWER}
        )
    smtp_outbox.wait_for(1)
    assert MemberInvitation.all_objects.get(email="sent@example.com").sent_at is not None
    assert send_unsent_invitations.apply().get() == 0


def test_sweep_emails_an_invitation_the_broker_never_took_with_a_working_link(
    personas, smtp_outbox
):
    # No commit callbacks run here: the task was never sent, as when Redis is down.
    client_for(personas.admin).post(
        "/o/acme/members/", {"email": "late@example.com", "role": Role.ANALYST}
    )
    invitation = MemberInvitation.all_objects.get(email="late@example.com")
    assert invitation.sent_at is None
    MemberInvitation.all_objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    assert send_unsent_invitations.apply().get() == 1
    [message] = smtp_outbox.wait_for(1)
    path = LINK.search(message.text).group(1)
    page = client_for(personas.outsider).get(path)  # anyone holding the link sees it
    assert page.status_code == 200
    assert "late@example.com" in page.content.decode()
    assert send_unsent_invitations.apply().get() == 0  # sent once, not again


def test_admins_are_not_offered_the_owner_role(personas):
    page = client_for(personas.admin).get("/o/acme/members/").content.decode()
    assert 'value="owner"' not in page
    owner_page = client_for(personas.owner).get("/o/acme/members/").content.decode()
    assert 'value="owner"' in owner_page
