"""Notifications leave through real channels: SMTP, the twilio SDK, chat webhooks; once each."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from alerts.delivery import RetryLater, notification_send
from alerts.enums import CaseStatus, DeliveryStatus, NotificationChannel, NotificationPurpose
from alerts.models import Case, MemberAlertSettings, Notification
from alerts.service_levels import case_settings_update
from alerts.services.cases import case_record_contact
from alerts.services.escalation import overdue_cases_escalate
from alerts.tasks import escalate_organization_cases
from distribution.models import Contact, Invitation
from tenancy.actors import Actor
from tests.alerts.support import csat_survey, low_csat_rule, owned_touchpoint, submit_csat
from tests.surveys.factories import make_link

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.fixture(autouse=True)
def _eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def touchpoint(scoped, personas):
    return owned_touchpoint(scoped, personas.cx_manager)


@pytest.fixture
def survey(scoped, touchpoint):
    return csat_survey(scoped, touchpoint)


class ChatServer:
    """A local stand-in for a Slack or Teams incoming webhook."""

    def __init__(self):
        self.posts: list[dict] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/hook"


@pytest.fixture
def chat():
    server = ChatServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.OUTBOUND_ALLOW_HTTP = True


def test_slack_and_teams_webhooks_receive_the_alert_once(
    scoped, survey, chat, loopback_allowed, django_capture_on_commit_callbacks
):
    low_csat_rule(
        scoped, notify_email=False, slack_webhook_url=chat.url, teams_webhook_url=chat.url
    )
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1)
    assert len(chat.posts) == 2
    case = Case.objects.get()
    assert all(f"{case.number}" in post["text"] for post in chat.posts)
    for notification in Notification.objects.all():  # a second run sends nothing more
        assert (
            notification_send(organization=scoped, notification_id=notification.pk) == "not_claimed"
        )
    assert len(chat.posts) == 2


def test_webhook_to_a_private_address_is_blocked_at_connect_time(
    scoped, survey, chat, loopback_allowed, settings, django_capture_on_commit_callbacks
):
    low_csat_rule(scoped, notify_email=False, slack_webhook_url=chat.url)
    settings.OUTBOUND_ALLOWED_NETWORKS = []  # the operator no longer allows the loopback range
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1)
    notification = Notification.objects.get(channel=NotificationChannel.SLACK)
    assert notification.status == DeliveryStatus.FAILED
    assert "private" in notification.last_error or "internal" in notification.last_error
    assert chat.posts == []


def test_owner_gets_an_sms_alert_through_twilio(
    scoped, personas, survey, fake_twilio, django_capture_on_commit_callbacks
):
    MemberAlertSettings.objects.create(
        organization=scoped, user=personas.cx_manager, sms_phone="+358401112233"
    )
    low_csat_rule(scoped, notify_email=False, notify_sms=True)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1)
    assert [m["To"] for m in fake_twilio.messages] == ["+358401112233"]
    assert Notification.objects.get().status == DeliveryStatus.SENT


def test_a_transient_twilio_failure_is_retried_and_sent_once(
    scoped, personas, survey, fake_twilio, django_capture_on_commit_callbacks
):
    MemberAlertSettings.objects.create(
        organization=scoped, user=personas.cx_manager, sms_phone="+358401112233"
    )
    low_csat_rule(scoped, notify_email=False, notify_sms=True)
    fake_twilio.fail_next(503)
    with django_capture_on_commit_callbacks(execute=False):
        submit_csat(scoped, survey, 1)
    from alerts.services.alerting import response_evaluate
    from surveys.models import Response

    response_evaluate(organization=scoped, response_id=Response.objects.get().pk)
    notification = Notification.objects.get()
    with pytest.raises(RetryLater):
        notification_send(organization=scoped, notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == DeliveryStatus.PENDING
    assert notification_send(organization=scoped, notification_id=notification.pk) == "sent"
    assert len(fake_twilio.messages) == 1


def _invited_contact(scoped, survey, *, consent: bool, channel: str = "email"):
    contact = Contact.objects.create(
        organization=scoped,
        email="customer@example.com",
        preferred_language="sv",
        **({"email_consent": True, "email_consent_at": timezone.now()} if consent else {}),
    )
    link = make_link(survey, language="sv")
    Invitation.objects.create(
        organization=scoped,
        contact=contact,
        survey=survey,
        personal_link=link,
        channel=channel,
        natural_key=f"test:{contact.pk}",
        scheduled_for=timezone.now(),
    )
    return contact, link


def test_recovery_message_goes_once_in_the_customers_language_with_consent(
    scoped, survey, smtp_outbox, django_capture_on_commit_callbacks
):
    _contact, link = _invited_contact(scoped, survey, consent=True)
    low_csat_rule(scoped, notify_email=False, recovery_message=True)
    low_csat_rule(scoped, name="Second rule", notify_email=False, recovery_message=True)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1, personal_link=link, channel="email", language="sv")
    recovery = Notification.objects.get(purpose=NotificationPurpose.RECOVERY)
    assert recovery.language == "sv"
    assert len(smtp_outbox.wait_for(1).to("customer@example.com")) == 1
    assert smtp_outbox.settle().to("customer@example.com")[0].subject


def test_no_recovery_message_without_consent(
    scoped, survey, smtp_outbox, django_capture_on_commit_callbacks
):
    contact, link = _invited_contact(scoped, survey, consent=False)
    contact.email_consent = False
    contact.save()
    low_csat_rule(scoped, notify_email=False, recovery_message=True)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1, personal_link=link, channel="email")
    assert not Notification.objects.filter(purpose=NotificationPurpose.RECOVERY).exists()
    assert smtp_outbox.settle().to("customer@example.com") == []


def test_due_times_count_business_hours_across_a_finnish_holiday(
    scoped, survey, django_capture_on_commit_callbacks
):
    from alerts.services.cases import case_create

    case_settings_update(
        actor=Actor.system(scoped),
        organization=scoped,
        sla_hours={"normal": [4, 8]},
        day_start="08:00",
        day_end="16:00",
    )
    thursday = datetime(2024, 12, 5, 14, 0, tzinfo=HELSINKI)  # Friday 6 Dec: Independence Day
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("alerts.services.cases.timezone.now", lambda: thursday)
        case = case_create(
            actor=Actor.system(scoped), organization=scoped, title="Complaint by phone"
        )
    # 2 h on Thursday, then Monday 9 Dec from 08:00.
    assert case.first_contact_due.astimezone(HELSINKI) == datetime(
        2024, 12, 9, 10, 0, tzinfo=HELSINKI
    )
    assert case.resolution_due.astimezone(HELSINKI) == datetime(2024, 12, 9, 14, 0, tzinfo=HELSINKI)


def test_escalation_contact_hears_of_a_breach_once(
    scoped, personas, survey, smtp_outbox, django_capture_on_commit_callbacks
):
    case_settings_update(
        actor=Actor.system(scoped), organization=scoped, escalation_contact=personas.admin
    )
    low_csat_rule(scoped, notify_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1)
    case = Case.objects.get()
    later = case.first_contact_due + timedelta(minutes=1)
    assert len(overdue_cases_escalate(organization=scoped, now=later)) == 1
    assert overdue_cases_escalate(organization=scoped, now=later + timedelta(hours=1)) == []
    case.refresh_from_db()
    assert case.first_contact_escalated_at is not None


def test_escalation_task_sends_the_email_and_a_contacted_case_is_not_escalated(
    scoped, personas, survey, smtp_outbox, django_capture_on_commit_callbacks
):
    case_settings_update(
        actor=Actor.system(scoped), organization=scoped, escalation_contact=personas.admin
    )
    low_csat_rule(scoped, notify_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        submit_csat(scoped, survey, 1)
        submit_csat(scoped, survey, 2)
    contacted, breached = Case.objects.order_by("number")
    case_record_contact(
        actor=Actor.system(scoped), case=contacted, method="phone", outcome="reached"
    )
    Case.objects.filter(pk__in=[contacted.pk, breached.pk]).update(
        first_contact_due=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        escalate_organization_cases.apply(kwargs={"organization_id": scoped.pk})
        escalate_organization_cases.apply(kwargs={"organization_id": scoped.pk})
    mails = smtp_outbox.wait_for(1).settle().to(personas.admin.email)
    assert len(mails) == 1
    assert f"{breached.number}" in mails[0].subject
    contacted.refresh_from_db()
    assert contacted.status == CaseStatus.IN_PROGRESS
