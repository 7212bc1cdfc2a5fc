"""Scheduled digests: what the email says (in English and Finnish, received over real SMTP), that
each period is sent once however often or concurrently the sweep runs, and the pages."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from core.models import ActivityLog
from core.scoping import tenant_scope
from cxplatform.celery import app as celery_app
from journeys.models import MeasurementPlan
from metrics import scores
from metrics.rollups import rollups_rebuild
from reports import digests, tasks
from reports.models import Cadence, DeliveryStatus, Digest, DigestDelivery, DigestRecipient
from surveys.services import response_submit
from tenancy.models import Membership
from tests.surveys.factories import make_survey, make_touchpoint

HELSINKI = ZoneInfo("Europe/Helsinki")
# Monday 9 March 2026 at 08:00 in Helsinki: last week was 2-8 March, the one before 23 Feb - 1 Mar.
MONDAY_MORNING = datetime(2026, 3, 9, 8, 0, tzinfo=HELSINKI)
URL = "/o/acme/reports/digests/"


def at(year, month, day, hour=12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HELSINKI)


@pytest.fixture
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def public_base(settings):
    settings.PUBLIC_BASE_URL = "https://cx.example.com"


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run the beat task as beat would: outside a transaction, so its tasks are sent at once."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.send_due_digests()

    return run


@pytest.fixture
def clock(monkeypatch):
    """Set the time the sweep believes it is."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_now


def membership(org, user) -> Membership:
    return Membership.all_objects.get(organization=org, user=user)


@pytest.fixture
def measured(org):
    """Checkout measured by NPS with a target of 30: last week NPS 75 (40 answers), the week
    before -50 (40 answers), so the change is significant."""
    touchpoint = make_touchpoint(org, name="Checkout")
    MeasurementPlan.all_objects.create(
        organization=org,
        touchpoint=touchpoint,
        metric="nps",
        kpi_kind="tactical",
        target_value=Decimal("30"),
    )
    survey = make_survey(org, touchpoint=touchpoint)
    with tenant_scope(org):
        for index, score in enumerate([10] * 35 + [5] * 5):
            response_submit(
                organization=org,
                survey=survey,
                answers={"score": score},
                channel="web",
                language="fi",
                submitted_at=at(2026, 3, 2 + index % 7),
            )
        for index, score in enumerate([10] * 10 + [2] * 30):
            response_submit(
                organization=org,
                survey=survey,
                answers={"score": score},
                channel="web",
                language="fi",
                submitted_at=at(2026, 2, 23) + timedelta(days=index % 7),
            )
        rollups_rebuild(organization=org)
    return touchpoint


@pytest.fixture
def weekly(org, personas, measured):
    personas.analyst.language = "en"
    personas.analyst.save()
    personas.viewer.language = "fi"
    personas.viewer.save()
    digest = Digest.all_objects.create(
        organization=org,
        dashboard_type="touchpoint",
        dashboard_public_id=measured.public_id,
        cadence=Cadence.WEEKLY,
    )
    for user in (personas.analyst, personas.viewer):
        DigestRecipient.all_objects.create(
            organization=org, digest=digest, membership=membership(org, user)
        )
    return digest


@pytest.mark.django_db
def test_weekly_digest_shows_headline_numbers_in_each_recipients_language(
    weekly, personas, measured, smtp_outbox, eager_tasks, public_base, clock, sweep
):
    clock(MONDAY_MORNING)
    assert sweep() == 1
    smtp_outbox.wait_for(2)
    english = smtp_outbox.to(personas.analyst.email)[0]
    finnish = smtp_outbox.to(personas.viewer.email)[0]

    nps = scores.nps({10: 35, 5: 5})
    low, high = (f"{scores.round_half_away(v, 1):.1f}" for v in (nps.ci_low, nps.ci_high))
    assert english.subject.strip() == "Weekly digest: Checkout (Web shop), 03/02/2026 – 03/08/2026"
    for body in (english.text, english.html):
        assert "Checkout" in body
        assert "75.0" in body
        assert f"{low} – {high}" in body
        assert "On target" in body
        assert "Improving" in body
        assert "+125.0" in body  # points against the week before
        assert f"https://cx.example.com/o/acme/reports/touchpoints/{measured.public_id}/" in body
    assert "n = 40" in english.text
    assert 'lang="en"' in english.html

    # Finnish: the recipient's language decides the words, the date and the decimal comma.
    assert "2.3.2026 – 8.3.2026" in finnish.subject
    assert "75,0" in finnish.text
    assert f"{low.replace('.', ',')} – {high.replace('.', ',')}" in finnish.text
    assert "Tavoitteessa" in finnish.text
    assert 'lang="fi"' in finnish.html
    assert "75.0" not in finnish.text

    delivery = DigestDelivery.all_objects.get(digest=weekly)
    assert (delivery.status, delivery.period_start, delivery.period_end) == (
        DeliveryStatus.SENT,
        date(2026, 3, 2),
        date(2026, 3, 8),
    )
    assert ActivityLog.all_objects.filter(action="reports.digest.sent").count() == 1


@pytest.mark.django_db
def test_overview_digest_lists_the_significant_movers(
    org, personas, measured, smtp_outbox, eager_tasks, clock, sweep
):
    personas.analyst.language = "en"
    personas.analyst.save()
    digest = Digest.all_objects.create(organization=org, cadence=Cadence.WEEKLY)
    DigestRecipient.all_objects.create(
        organization=org, digest=digest, membership=membership(org, personas.analyst)
    )
    clock(MONDAY_MORNING)
    sweep()
    [message] = smtp_outbox.wait_for(1)
    movers = message.text.split("Significant movers", 1)[1]
    assert "Checkout · NPS: Improving, +125.0 points" in movers
    assert "Open the dashboard: http://127.0.0.1:8000/o/acme/" in message.text.splitlines()


@pytest.mark.django_db
def test_each_period_is_sent_once_however_often_the_sweep_runs(
    weekly, smtp_outbox, eager_tasks, clock, sweep
):
    clock(MONDAY_MORNING)
    assert sweep() == 1
    assert sweep() == 0  # already sent: nothing is due
    # Two beat processes that both found the digest due send two tasks: one sends.
    for _ in range(2):
        tasks.send_digest.apply(
            kwargs={
                "organization_id": weekly.organization_id,
                "digest_id": weekly.pk,
                "cadence": "weekly",
                "period_start": "2026-03-02",
            }
        )
    assert len(smtp_outbox.settle()) == 2  # one message to each of the two recipients
    assert DigestDelivery.all_objects.filter(digest=weekly).count() == 1
    clock(MONDAY_MORNING + timedelta(hours=3))
    assert sweep() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_the_period_once(weekly, smtp_outbox):
    organization = weekly.organization
    start = threading.Barrier(3)
    results = []

    def send():
        try:
            start.wait()
            with tenant_scope(organization):
                results.append(
                    digests.digest_deliver(
                        organization=organization,
                        digest_id=weekly.pk,
                        cadence="weekly",
                        period_start=date(2026, 3, 2),
                    )
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len([r for r in results if r is not None]) == 1
    assert len(smtp_outbox.settle(0.5)) == 2
    assert DigestDelivery.all_objects.filter(digest=weekly).count() == 1


@pytest.mark.django_db
def test_a_failed_send_is_retried_and_reaches_only_those_not_yet_sent(
    weekly, personas, smtp_server, smtp_outbox, settings, org, clock
):
    clock(MONDAY_MORNING)
    settings.EMAIL_PORT = 1  # nothing listens there
    with tenant_scope(org), pytest.raises(OSError):
        digests.digest_deliver(
            organization=org, digest_id=weekly.pk, cadence="weekly", period_start=date(2026, 3, 2)
        )
    delivery = DigestDelivery.all_objects.get(digest=weekly)
    assert delivery.status == DeliveryStatus.SENDING
    # Pretend the analyst's message went out before the failure.
    analyst = membership(org, personas.analyst)
    DigestDelivery.all_objects.filter(pk=delivery.pk).update(sent_to=[analyst.pk])
    settings.EMAIL_PORT = smtp_server.port
    with tenant_scope(org):
        assert [d for d, _p in digests.digests_due(organization=org)] == [weekly]
        again = digests.digest_deliver(
            organization=org, digest_id=weekly.pk, cadence="weekly", period_start=date(2026, 3, 2)
        )
    assert again is not None
    assert [m.to for m in smtp_outbox.wait_for(1)] == [[personas.viewer.email]]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


@pytest.mark.django_db
def test_paused_digest_is_not_sent(weekly, smtp_outbox, eager_tasks, clock, sweep):
    Digest.all_objects.filter(pk=weekly.pk).update(is_active=False)
    clock(MONDAY_MORNING)
    assert sweep() == 0
    assert len(smtp_outbox.settle()) == 0


# --- periods in the organization's time zone ------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "moment", "expected"),
    [
        ("weekly", datetime(2026, 3, 9, 6, 59, tzinfo=HELSINKI), None),
        (
            "weekly",
            datetime(2026, 3, 9, 7, 0, tzinfo=HELSINKI),
            (date(2026, 3, 2), date(2026, 3, 8)),
        ),
        ("weekly", datetime(2026, 3, 10, 9, 0, tzinfo=HELSINKI), None),
        (
            "daily",
            datetime(2026, 3, 10, 9, 0, tzinfo=HELSINKI),
            (date(2026, 3, 9), date(2026, 3, 9)),
        ),
        (
            "monthly",
            datetime(2026, 3, 1, 7, 30, tzinfo=HELSINKI),
            (date(2026, 2, 1), date(2026, 2, 28)),
        ),
        ("monthly", datetime(2026, 3, 2, 7, 30, tzinfo=HELSINKI), None),
        (
            "monthly",
            datetime(2026, 1, 1, 8, 0, tzinfo=HELSINKI),
            (date(2025, 12, 1), date(2025, 12, 31)),
        ),
    ],
)
def test_due_periods(cadence, moment, expected):
    period = digests.due_period(cadence, moment)
    assert (None if period is None else (period.start, period.end)) == expected


@pytest.mark.django_db
def test_due_is_judged_in_the_organizations_time_zone(weekly, org):
    # 05:30 UTC on Monday is 07:30 in Helsinki: due there, though not yet 07:00 in UTC.
    with tenant_scope(org):
        due = digests.digests_due(
            organization=org, now=datetime(2026, 3, 9, 5, 30, tzinfo=ZoneInfo("UTC"))
        )
        assert [(d, p.start) for d, p in due] == [(weekly, date(2026, 3, 2))]
        org.time_zone = "America/New_York"
        assert (
            digests.digests_due(
                organization=org, now=datetime(2026, 3, 9, 5, 30, tzinfo=ZoneInfo("UTC"))
            )
            == []
        )


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def analyst_client(client, personas):
    client.force_login(personas.analyst)
    return client


@pytest.mark.django_db
def test_analyst_schedules_a_digest_for_members(analyst_client, org, personas, measured):
    page = analyst_client.get(URL)
    assert page.status_code == 200
    assert f"touchpoint:{measured.public_id}".encode() in page.content
    response = analyst_client.post(
        URL,
        {
            "dashboard": f"touchpoint:{measured.public_id}",
            "cadence": "monthly",
            "recipients": [
                membership(org, personas.analyst).public_id,
                membership(org, personas.owner).public_id,
            ],
        },
    )
    assert response.status_code == 302
    digest = Digest.all_objects.get(organization=org)
    assert (digest.dashboard_type, digest.dashboard_public_id, digest.cadence) == (
        "touchpoint",
        measured.public_id,
        "monthly",
    )
    recipients = DigestRecipient.all_objects.filter(digest=digest).select_related("membership")
    assert {r.membership.user for r in recipients} == {personas.analyst, personas.owner}
    assert ActivityLog.all_objects.filter(action="reports.digest.created").count() == 1
    listing = analyst_client.get(URL)
    assert b"Checkout (Web shop)" in listing.content
    assert personas.owner.email.encode() in listing.content


@pytest.mark.django_db
def test_recipients_and_dashboards_of_another_organization_are_refused(
    analyst_client, org, other_org, personas
):
    outsider = Membership.all_objects.get(organization=other_org, user=personas.outsider)
    response = analyst_client.post(
        URL, {"dashboard": "overview", "cadence": "daily", "recipients": [outsider.public_id]}
    )
    assert response.status_code == 400
    foreign_touchpoint = make_touchpoint(other_org, name="Theirs")
    response = analyst_client.post(
        URL,
        {
            "dashboard": f"touchpoint:{foreign_touchpoint.public_id}",
            "cadence": "daily",
            "recipients": [membership(org, personas.analyst).public_id],
        },
    )
    assert response.status_code == 400
    assert analyst_client.post(URL, {"dashboard": "nonsense", "cadence": "x"}).status_code == 400
    assert not Digest.all_objects.exists()


@pytest.mark.django_db
def test_edit_pause_and_delete_a_digest(analyst_client, weekly, org, personas):
    edit = f"{URL}{weekly.public_id}/edit/"
    assert analyst_client.get(edit).status_code == 200
    response = analyst_client.post(
        edit,
        {
            "dashboard": "overview",
            "cadence": "daily",
            "recipients": [membership(org, personas.owner).public_id],
        },
    )
    assert response.status_code == 302
    weekly.refresh_from_db()
    assert (weekly.dashboard_type, weekly.cadence, weekly.is_active) == ("overview", "daily", False)
    assert [r.membership.user for r in DigestRecipient.all_objects.filter(digest=weekly)] == [
        personas.owner
    ]
    delete = f"{URL}{weekly.public_id}/delete/"
    assert analyst_client.get(delete).status_code == 200
    assert analyst_client.post(delete).status_code == 302
    assert not Digest.all_objects.filter(pk=weekly.pk).exists()
    assert not DigestRecipient.all_objects.filter(digest_id=weekly.pk).exists()
    actions = set(ActivityLog.all_objects.values_list("action", flat=True))
    assert {"reports.digest.updated", "reports.digest.deleted"} <= actions


@pytest.mark.django_db
def test_viewer_sees_digests_but_cannot_change_them(viewer_client, weekly, org, personas):
    page = viewer_client.get(URL)
    assert page.status_code == 200
    assert b"New digest" not in page.content
    data = {"dashboard": "overview", "cadence": "daily", "recipients": []}
    assert viewer_client.post(URL, data).status_code == 403
    assert viewer_client.get(f"{URL}{weekly.public_id}/edit/").status_code == 403
    assert viewer_client.post(f"{URL}{weekly.public_id}/delete/").status_code == 403
    assert Digest.all_objects.filter(pk=weekly.pk).exists()


@pytest.mark.django_db
def test_outsider_gets_404_for_digest_pages(outsider_client, weekly):
    assert outsider_client.get(URL).status_code == 404
    assert outsider_client.post(URL, {}).status_code == 404
    assert outsider_client.get(f"{URL}{weekly.public_id}/edit/").status_code == 404
    assert outsider_client.post(f"{URL}{weekly.public_id}/delete/").status_code == 404


@pytest.mark.django_db
def test_digest_list_costs_the_same_queries_however_many_digests(
    analyst_client, org, personas, measured, django_assert_max_num_queries
):
    members = [membership(org, user) for user in (personas.analyst, personas.owner)]
    for index in range(10):
        digest = Digest.all_objects.create(
            organization=org,
            dashboard_type="touchpoint" if index % 2 else "overview",
            dashboard_public_id=measured.public_id if index % 2 else "",
            cadence=Cadence.DAILY,
        )
        for member in members:
            DigestRecipient.all_objects.create(organization=org, digest=digest, membership=member)
        DigestDelivery.all_objects.create(
            organization=org,
            digest=digest,
            period_start=date(2026, 3, 1),
            period_end=date(2026, 3, 1),
            claimed_at=timezone.now(),
            status=DeliveryStatus.SENT,
        )
    with django_assert_max_num_queries(14):
        response = analyst_client.get(URL)
    assert response.status_code == 200
    assert response.content.count(b"/edit/") == 10
    assert response.content.count(b"1.3.2026") == 10
