"""Every periodic job of the schedule, run twice at the same moment (two schedulers, a sweep that
overlaps itself), has the effect a user notices once: an answer stored once, an email sent once,
an alert raised once, an import done once, and a purge that keeps what is still fresh.
Reminders, colleague invitations and scheduled campaigns: tests/faults/test_periodic_jobs_twice.py.
"""

import base64
import json
import uuid
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.utils import timezone

from accounts.models import MemberInvitation
from accounts.tasks import purge_expired_invitations
from alerts.enums import DeliveryStatus as NotificationStatus
from alerts.models import Alert, Case, Notification
from alerts.service_levels import case_settings_update
from alerts.services.alerting import response_evaluate
from alerts.tasks import (
    escalate_overdue_cases,
    resend_unsent_notifications,
    sweep_aggregate_rules,
    sweep_unchecked_responses,
)
from core.models import ActivityLog, IdempotencyKey, OutboxMessage
from core.tasks import purge_idempotency_keys, relay_outbox
from distribution.enums import ImportStatus as ContactImportStatus
from distribution.enums import InvitationStatus
from distribution.models import Contact, ContactImport, Invitation
from distribution.services import importing
from distribution.tasks import (
    purge_stale_import_drafts,
    resend_lost_sends,
    sweep_contact_imports,
)
from metrics.models import DailyRollup, DailyTotal
from metrics.tasks import sweep_unprocessed_responses
from reports import exports
from reports.models import (
    Cadence,
    DeliveryStatus,
    Digest,
    DigestDelivery,
    DigestRecipient,
    ExportChunk,
    ExportJob,
    ExportStatus,
)
from reports.tasks import send_due_digests, sweep_exports
from surveys import importing as response_importing
from surveys.enums import ImportStatus, SurveyStatus
from surveys.models import Response, ResponseImport, Survey
from surveys.services.responses import response_submit
from surveys.spool import REFUSED_KEY, SPOOL_KEY, spool_push
from surveys.tasks import announce_responses, drain_response_spool, sweep_response_imports
from tenancy.actors import Actor
from tenancy.models import Membership
from tenancy.scoping import tenant_scope
from tests.alerts.support import (
    csat_survey,
    low_csat_rule,
    negative_share_rule,
    owned_touchpoint,
    submit_csat,
)
from tests.distribution.factories import reachable_contact
from tests.faults.test_periodic_jobs_twice import twice_at_once
from tests.surveys.factories import make_link, make_survey

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = timedelta(minutes=5)  # past every sweep's grace period


@pytest.fixture(autouse=True)
def _eager(settings):
    # The sweeps fan out with .delay() and enqueue_on_commit(): run inline, in the sweep's thread,
    # so the two sweeps' tasks really overlap.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PUBLIC_BASE_URL = "https://cx.example.com"


@contextmanager
def tasks_lost(settings):
    """Tasks sent meanwhile go where no worker looks (Redis restarted without its file): only the
    sweeps can find their work."""
    broker = settings.CELERY_BROKER_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    try:
        yield
    finally:
        settings.CELERY_BROKER_URL = broker
        settings.CELERY_TASK_ALWAYS_EAGER = True


def long_ago(queryset, field: str = "created_at") -> None:
    queryset.update(**{field: timezone.now() - LONG_AGO})


# --- surveys: the spool and response imports -----------------------------------------------


@pytest.fixture
def spool(settings):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(SPOOL_KEY, REFUSED_KEY)
    yield client
    client.delete(SPOOL_KEY, REFUSED_KEY)


def _spool_answer(survey, *, link=None, score: str = "9") -> None:
    assert spool_push(
        survey=survey,
        link=link,
        answers={"score": score},
        language="fi",
        channel="web",
        hidden_fields={},
        idempotency_key=None if link else f"web:{uuid.uuid4().hex}",
        ip="192.0.2.1",
        user_agent="test",
    )


def test_two_drains_at_once_store_each_spooled_answer_once(org, other_org, spool):
    surveys = [make_survey(org), make_survey(other_org)]
    for survey in surveys:
        for score in ("9", "10", "3"):
            _spool_answer(survey, score=score)
        _spool_answer(survey, link=make_link(survey))

    twice_at_once(drain_response_spool)

    for survey in surveys:
        assert Response.all_objects.filter(survey=survey).count() == 4
        assert Survey.all_objects.get(pk=survey.pk).response_count == 4
    assert spool.llen(SPOOL_KEY) == 0
    assert spool.llen(REFUSED_KEY) == 0


def test_two_drains_at_once_set_a_refused_answer_aside_once(org, spool):
    survey = make_survey(org)
    _spool_answer(survey)
    Survey.all_objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)  # meanwhile

    twice_at_once(drain_response_spool)

    assert not Response.all_objects.exists()
    assert spool.llen(SPOOL_KEY) == 0
    assert spool.llen(REFUSED_KEY) == 1  # the operator sees it once


def _stuck_response_import(settings, survey, rows: int) -> ResponseImport:
    lines = "".join(f"2025-01-{day:02d},{day % 11}\n" for day in range(1, rows + 1))
    with tasks_lost(settings), tenant_scope(survey.organization):
        job = response_importing.response_import_start(
            actor=Actor.system(survey.organization),
            organization=survey.organization,
            survey=survey,
            filename="history.csv",
            raw=f"submitted_at,score\n{lines}".encode(),
        )
    long_ago(ResponseImport.all_objects.filter(pk=job.pk), "updated_at")
    return job


def test_two_sweeps_at_once_import_a_stuck_response_import_once(settings, org, other_org):
    jobs = [
        _stuck_response_import(settings, make_survey(org), rows=6),
        _stuck_response_import(settings, make_survey(other_org), rows=4),
    ]

    twice_at_once(sweep_response_imports)

    for job, rows in zip(jobs, (6, 4), strict=True):
        job.refresh_from_db()
        assert job.status == ImportStatus.DONE
        assert (job.processed_rows, job.created_count, job.duplicate_count) == (rows, rows, 0)
        assert Response.all_objects.filter(survey=job.survey).count() == rows
        imported = ActivityLog.all_objects.filter(
            organization=job.organization, action="surveys.responses.imported"
        )
        assert imported.count() == 1


# --- core: the outbox relay and idempotency keys -------------------------------------------


@pytest.fixture
def default_queue(settings):
    """The `default` queue as the Redis broker keeps it: the messages published, decoded."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("default")

    def published() -> list[tuple[str, dict]]:
        messages = [json.loads(raw) for raw in client.lrange("default", 0, -1)]
        return [
            (message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[1])
            for message in messages
        ]

    yield published
    client.delete("default")


def _key(kwargs: dict) -> tuple:
    return kwargs["organization_id"], kwargs["response_ids"]


def test_two_relays_at_once_publish_each_lost_task_once(org, other_org, settings, default_queue):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # published to the broker, where we count them
    lost = []
    for organization in (org, other_org):
        for n in range(15):
            kwargs = {"organization_id": organization.pk, "response_ids": [n]}
            OutboxMessage.all_objects.create(
                organization=organization,
                task_name=announce_responses.name,
                kwargs=kwargs,
                due_at=timezone.now() - timedelta(seconds=1),
            )
            lost.append(kwargs)

    results = twice_at_once(relay_outbox)

    published = default_queue()
    assert {task for task, _kwargs in published} == {announce_responses.name}
    assert sorted(_key(kwargs) for _task, kwargs in published) == sorted(map(_key, lost))
    assert sum(results) == 30
    assert not OutboxMessage.all_objects.exists()


def test_two_purges_at_once_forget_old_idempotency_keys_and_keep_fresh_ones(org, other_org):
    for organization in (org, other_org):
        for key in ("old", "fresh"):
            IdempotencyKey.all_objects.create(
                organization=organization, key=key, fingerprint="f", response_status=201
            )
    IdempotencyKey.all_objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    twice_at_once(purge_idempotency_keys)

    assert sorted(IdempotencyKey.all_objects.values_list("organization_id", "key")) == [
        (org.pk, "fresh"),
        (other_org.pk, "fresh"),
    ]


# --- metrics ---------------------------------------------------------------------------------


def _submit_nps(survey, *, score: int) -> None:
    response_submit(
        organization=survey.organization,
        survey=survey,
        answers={"score": score},
        channel="web",
        language="fi",
    )


def test_two_sweeps_at_once_count_each_unprocessed_response_once(settings, org, other_org):
    surveys = {make_survey(org): 7, make_survey(other_org): 3}
    with tasks_lost(settings):
        for survey, count in surveys.items():
            with tenant_scope(survey.organization):
                for n in range(count):
                    _submit_nps(survey, score=n % 11)
    long_ago(Response.all_objects.all())

    twice_at_once(sweep_unprocessed_responses)

    assert not Response.all_objects.filter(processed_at__isnull=True).exists()
    for survey, count in surveys.items():
        totals = DailyTotal.all_objects.filter(survey=survey, question_key="score")
        assert sum(totals.values_list("n", flat=True)) == count
        rollups = DailyRollup.all_objects.filter(survey=survey, question_key="score")
        assert sum(rollups.values_list("n", flat=True)) == count


# --- distribution ----------------------------------------------------------------------------


def _invitation(organization, contact, *, channel: str, **fields) -> Invitation:
    survey = make_survey(organization)
    return Invitation.all_objects.create(
        organization=organization,
        contact=contact,
        survey=survey,
        personal_link=make_link(survey),
        channel=channel,
        natural_key=f"lost:{contact.pk}",
        **fields,
    )


def test_two_sweeps_at_once_send_a_lost_invitation_and_an_expired_lease_once(
    org, other_org, smtp_outbox, fake_twilio
):
    emailed = _invitation(
        org,
        reachable_contact(org, email="lost@example.fi"),
        channel="email",
        status=InvitationStatus.QUEUED,
        scheduled_for=timezone.now() - LONG_AGO,
    )
    texted = _invitation(
        other_org,
        reachable_contact(other_org, phone="+358401234567"),
        channel="sms",
        status=InvitationStatus.SENDING,  # its worker died mid-send
        scheduled_for=timezone.now() - LONG_AGO,
        attempts=1,
    )
    long_ago(Invitation.all_objects.filter(pk=texted.pk), "updated_at")

    twice_at_once(resend_lost_sends)

    assert [message.to for message in smtp_outbox.wait_for(1).settle(1.0)] == [["lost@example.fi"]]
    assert [message["To"] for message in fake_twilio.messages] == ["+358401234567"]
    for invitation in (emailed, texted):
        assert Invitation.all_objects.get(pk=invitation.pk).status == InvitationStatus.SENT


def _stuck_contact_import(settings, organization, rows: int) -> ContactImport:
    lines = "".join(f"C-{n};Person {n};person{n}@example.fi\n" for n in range(rows))
    actor = Actor.system(organization)
    with tasks_lost(settings), tenant_scope(organization):
        contact_import = importing.contact_import_upload(
            actor=actor,
            organization=organization,
            filename="contacts.csv",
            raw=f"external_id;name;email\n{lines}".encode(),
        )
        importing.contact_import_start(
            actor=actor,
            organization=organization,
            contact_import=contact_import,
            mapping={"0": "external_id", "1": "name", "2": "email"},
        )
    long_ago(ContactImport.all_objects.filter(pk=contact_import.pk), "updated_at")
    return contact_import


def test_two_sweeps_at_once_import_a_stuck_contact_import_once(settings, org, other_org):
    imports = [
        _stuck_contact_import(settings, org, rows=8),
        _stuck_contact_import(settings, other_org, rows=5),
    ]

    twice_at_once(sweep_contact_imports)

    for contact_import, rows in zip(imports, (8, 5), strict=True):
        contact_import.refresh_from_db()
        assert contact_import.status == ContactImportStatus.DONE
        assert (contact_import.processed_rows, contact_import.created_count) == (rows, rows)
        organization = contact_import.organization
        assert Contact.all_objects.filter(organization=organization).count() == rows
        finished = ActivityLog.all_objects.filter(
            organization=organization, action="distribution.import.finished"
        )
        assert finished.count() == 1


def test_two_purges_at_once_delete_stale_import_drafts_and_keep_the_rest(org, other_org):
    def draft(organization, name: str, **fields) -> ContactImport:
        return ContactImport.all_objects.create(
            organization=organization, filename=name, content="email\na@example.fi\n", **fields
        )

    for organization in (org, other_org):
        draft(organization, "stale.csv")
        draft(organization, "fresh.csv")
        draft(organization, "started.csv", status=ContactImportStatus.PENDING)
    ContactImport.all_objects.exclude(filename="fresh.csv").update(
        created_at=timezone.now() - timedelta(days=2)
    )

    twice_at_once(purge_stale_import_drafts)

    kept = ContactImport.all_objects.values_list("organization_id", "filename")
    assert sorted(kept) == sorted(
        (organization.pk, name)
        for organization in (org, other_org)
        for name in ("fresh.csv", "started.csv")
    )


# --- accounts --------------------------------------------------------------------------------


def test_two_purges_at_once_delete_long_expired_member_invitations_only(org, other_org):
    now = timezone.now()
    for organization in (org, other_org):
        for email, expired, accepted in (
            ("gone@example.com", now - timedelta(days=31), None),
            ("recent@example.com", now - timedelta(days=29), None),
            ("joined@example.com", now - timedelta(days=90), now - timedelta(days=95)),
        ):
            MemberInvitation.all_objects.create(
                organization=organization,
                email=email,
                token_hash=uuid.uuid4().hex,
                expires_at=expired,
                accepted_at=accepted,
            )

    twice_at_once(purge_expired_invitations)

    kept = MemberInvitation.all_objects.values_list("organization_id", "email")
    assert sorted(kept) == sorted(
        (organization.pk, email)
        for organization in (org, other_org)
        for email in ("joined@example.com", "recent@example.com")
    )


# --- alerts ----------------------------------------------------------------------------------


@pytest.fixture
def csat_surveys(org, other_org, personas):
    """A CSAT survey on a touchpoint of each organization, owned by a member of it, whose
    answers of 1-2 raise an alert, a case and an email to the owner."""
    surveys = {}
    for organization, owner in ((org, personas.cx_manager), (other_org, personas.outsider)):
        with tenant_scope(organization):
            touchpoint = owned_touchpoint(organization, owner)
            surveys[owner] = csat_survey(organization, touchpoint)
            low_csat_rule(organization)
    return surveys


def test_two_sweeps_at_once_raise_one_alert_for_an_unchecked_low_score(
    settings, csat_surveys, smtp_outbox
):
    with tasks_lost(settings):  # the evaluation task never reached a worker
        for survey in csat_surveys.values():
            with tenant_scope(survey.organization):
                submit_csat(survey.organization, survey, 1)
    assert not Alert.all_objects.exists()
    long_ago(Response.all_objects.all())

    twice_at_once(sweep_unchecked_responses)

    smtp_outbox.wait_for(2).settle(1.0)
    for owner, survey in csat_surveys.items():
        assert Alert.all_objects.filter(organization=survey.organization).count() == 1
        assert Case.all_objects.filter(organization=survey.organization).count() == 1
        assert len(smtp_outbox.to(owner.email)) == 1
    assert len(smtp_outbox) == 2


def test_two_sweeps_at_once_raise_one_aggregate_alert_for_the_window(
    org, other_org, personas, smtp_outbox
):
    rules = {}
    for organization, owner in ((org, personas.cx_manager), (other_org, personas.outsider)):
        with tenant_scope(organization):
            survey = csat_survey(organization, owned_touchpoint(organization, owner))
            start = timezone.now() - timedelta(hours=1)
            for n in range(12):  # the rule's minimum is 10 answers
                submit_csat(organization, survey, 1, when=start + n * timedelta(minutes=1))
            # Made after the answers: only the 15-minute sweep can find them over threshold.
            rules[owner] = negative_share_rule(organization, notify_email=True)

    twice_at_once(sweep_aggregate_rules)

    smtp_outbox.wait_for(2).settle(1.0)
    for owner, rule in rules.items():
        assert Alert.all_objects.filter(rule=rule).count() == 1
        assert Case.all_objects.filter(organization=rule.organization).count() == 1
        assert len(smtp_outbox.to(owner.email)) == 1
    assert len(smtp_outbox) == 2


def test_two_sweeps_at_once_escalate_an_overdue_case_once(csat_surveys, personas, smtp_outbox):
    contacts = {personas.cx_manager: personas.admin, personas.outsider: personas.outsider}
    for owner, survey in csat_surveys.items():
        organization = survey.organization
        with tenant_scope(organization):
            case_settings_update(
                actor=Actor.system(organization),
                organization=organization,
                escalation_contact=contacts[owner],
            )
            submit_csat(organization, survey, 1)
    smtp_outbox.wait_for(2).settle(0.5)  # the two alerts' own emails
    alerted = len(smtp_outbox)
    Case.all_objects.update(first_contact_due=timezone.now() - timedelta(minutes=5))

    twice_at_once(escalate_overdue_cases)

    escalations = smtp_outbox.wait_for(alerted + 2).settle(1.0)[alerted:]
    assert sorted(message.to[0] for message in escalations) == sorted(
        [personas.admin.email, personas.outsider.email]
    )
    assert all("missed its service level" in message.subject for message in escalations)


def test_two_sweeps_at_once_email_an_unsent_notification_once(settings, csat_surveys, smtp_outbox):
    with tasks_lost(settings):  # the alert is raised, its email task is lost
        for survey in csat_surveys.values():
            with tenant_scope(survey.organization):
                submit_csat(survey.organization, survey, 2)
                response_evaluate(
                    organization=survey.organization,
                    response_id=Response.all_objects.get(survey=survey).pk,
                )
    assert Notification.all_objects.filter(status=NotificationStatus.PENDING).count() == 2
    long_ago(Notification.all_objects.all())

    twice_at_once(resend_unsent_notifications)

    smtp_outbox.wait_for(2).settle(1.0)
    for owner in csat_surveys:
        assert len(smtp_outbox.to(owner.email)) == 1
    assert len(smtp_outbox) == 2
    assert set(Notification.all_objects.values_list("status", flat=True)) == {
        NotificationStatus.SENT
    }


# --- reports ---------------------------------------------------------------------------------


def _zone_where_it_is_midday() -> str:
    """A fixed-offset time zone where it is now about noon: a daily digest is due there (after
    07:00), and its day does not change while the test runs."""
    offset = (12 - timezone.now().hour + 12) % 24 - 12  # -12..11 hours east of UTC
    return f"Etc/GMT{-offset:+d}"  # the Etc zones' signs are inverted: Etc/GMT-3 is UTC+3


def test_two_sweeps_at_once_send_a_due_digest_once(org, other_org, personas, smtp_outbox):
    readers = {org: personas.analyst, other_org: personas.outsider}
    for organization, reader in readers.items():
        organization.time_zone = _zone_where_it_is_midday()
        organization.save()
        digest = Digest.all_objects.create(organization=organization, cadence=Cadence.DAILY)
        DigestRecipient.all_objects.create(
            organization=organization,
            digest=digest,
            membership=Membership.all_objects.get(organization=organization, user=reader),
        )

    twice_at_once(send_due_digests)

    smtp_outbox.wait_for(2).settle(1.0)
    for organization, reader in readers.items():
        assert len(smtp_outbox.to(reader.email)) == 1
        delivery = DigestDelivery.all_objects.get(organization=organization)
        assert delivery.status == DeliveryStatus.SENT
        today = timezone.localtime(timezone=ZoneInfo(organization.time_zone)).date()
        assert delivery.period_start == today - timedelta(days=1)
    assert len(smtp_outbox) == 2


def _export_job(settings, organization) -> ExportJob:
    with tasks_lost(settings), tenant_scope(organization):
        return exports.export_job_create(
            actor=None,
            organization=organization,
            params={"range": "custom", "from": "2026-03-01", "to": "2026-03-31"},
            export_format="csv",
            contact_details=False,
            total=0,
        )


def test_two_sweeps_at_once_purge_expired_exports_and_keep_fresh_ones(settings, org, other_org):
    jobs = {}
    for organization in (org, other_org):
        for name in ("expired", "fresh"):
            job = jobs[organization, name] = _export_job(settings, organization)
            with tenant_scope(organization):
                exports.export_job_run(organization=organization, job_id=job.pk)
    expired = [job.pk for (_org, name), job in jobs.items() if name == "expired"]
    ExportJob.all_objects.filter(pk__in=expired).update(expires_at=timezone.now())

    twice_at_once(sweep_exports)

    assert not ExportChunk.all_objects.filter(job_id__in=expired).exists()
    kept = ExportJob.all_objects.values_list("pk", flat=True)
    assert sorted(kept) == sorted(job.pk for (_org, name), job in jobs.items() if name == "fresh")
    assert ExportChunk.all_objects.filter(job_id__in=kept).count() == 2


def test_two_sweeps_at_once_build_an_export_whose_task_was_lost_once(settings, org, other_org):
    lost = [_export_job(settings, organization) for organization in (org, other_org)]
    long_ago(ExportJob.all_objects.all())

    twice_at_once(sweep_exports)

    for job in lost:
        job.refresh_from_db()
        assert (job.status, job.attempts) == (ExportStatus.READY, 1)
        assert ExportChunk.all_objects.filter(job=job).count() == 1
