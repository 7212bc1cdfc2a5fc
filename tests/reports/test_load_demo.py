import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from core.scoping import tenant_scope
from distribution.models import (
    Campaign,
    Contact,
    Invitation,
    InvitationEvent,
    KioskDevice,
    Segment,
)
from distribution.services import invitations as sending
from journeys.models import Journey
from metrics.kpis import kpi_list
from metrics.models import DailyRollup
from surveys.instruments import scale_of
from surveys.models import Answer, Response
from tenancy.models import Organization

pytestmark = pytest.mark.django_db
DEMO_DOMAINS = {"example.com", "example.net", "example.org"}  # reserved (RFC 2606)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """`load_demo` once for the whole module (it takes a while), rolled back at its end.

    Passwords use the suite's fast hasher, which the autouse fixture also sets for each test."""
    fast_hashing = override_settings(PASSWORD_HASHERS=FAST_HASHERS)
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        call_command("load_demo")
        # Check the deferred foreign keys of those 100k rows now, once: otherwise each test's
        # savepoint rollback brings the pending checks back and its teardown runs them again.
        connection.check_constraints()
        yield Organization.objects.get(slug="demo")
        transaction.set_rollback(True)


@pytest.fixture
def owner_signed_in(demo, client):
    signed_in = client.post(
        "/accounts/login/", {"username": "owner@demo.example", "password": "demo-owner-2026"}
    )
    assert signed_in.status_code == 302
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_demo_gives_a_signed_in_owner_a_year_of_measured_journeys(demo, owner_signed_in):
    with tenant_scope(demo):
        assert Journey.objects.count() >= 2
        assert Response.objects.count() > 10_000
        first, last = (
            Response.objects.order_by(f).values_list("submitted_at", flat=True)[0]
            for f in ("submitted_at", "-submitted_at")
        )
        assert (last - first).days >= 300
        assert DailyRollup.objects.exists()
        kpis = kpi_list(organization=demo)
        assert any(kpi.status == "on_target" for kpi in kpis)
        assert any(kpi.status == "below" for kpi in kpis)
    assert User.objects.filter(email__endswith="@demo.example").count() == 4
    assert owner_signed_in.get("/o/demo/journeys/").status_code == 200


def test_demo_contacts_have_invitations_in_every_state(demo):
    with tenant_scope(demo):
        contacts = Contact.objects.all()
        assert 350 <= contacts.count() <= 450
        assert {c.preferred_language for c in contacts} == {"fi", "sv", "en"}
        assert all(c.email.split("@")[1] in DEMO_DOMAINS for c in contacts if c.email)
        assert all(re.fullmatch(r"\+358(4\d|50)\d{7}", c.phone) for c in contacts if c.phone)
        assert contacts.filter(email_opted_out_at__isnull=False).exists()
        assert contacts.filter(sms_opted_out_at__isnull=False).exists()
        assert contacts.filter(email_bounced_at__isnull=False).count() >= 2
        assert Segment.objects.count() == 3

        statuses = set(Invitation.objects.values_list("status", flat=True))
        assert {"answered", "delivered", "opened", "skipped", "bounced"} <= statuses
        assert not statuses & {"queued", "sending"}  # history only: nothing waits to be sent
        reasons = set(Invitation.objects.values_list("skip_reason", flat=True))
        assert {"throttled", "quarantined", "opted_out", "no_consent"} <= reasons
        assert not Invitation.objects.filter(status="skipped", personal_link__isnull=False)
        assert not Invitation.objects.exclude(status="skipped").filter(personal_link=None)
        answered = Invitation.objects.filter(status="answered")
        assert answered.count() >= 20
        assert answered.count() == Response.objects.filter(personal_link__isnull=False).count()
        for invitation in answered.select_related("personal_link"):
            submitted_at = invitation.personal_link.responses.get().submitted_at
            assert invitation.answered_at == submitted_at > invitation.sent_at
        history = list(
            InvitationEvent.objects.filter(invitation=answered.first()).values_list(
                "status", flat=True
            )
        )
        assert history[0] == "queued" and history[-1] == "answered" and "sent" in history


def test_contact_page_shows_an_answered_invitation_and_its_score(demo, owner_signed_in):
    with tenant_scope(demo):
        invitation = (
            Invitation.objects.filter(status="answered", campaign=None)
            .select_related("contact", "survey", "personal_link")
            .order_by("answered_at")
            .first()
        )
        score = (
            Answer.objects.filter(
                response=invitation.personal_link.responses.get(), value_int__isnull=False
            )
            .select_related("question")
            .get()
        )
    page = owner_signed_in.get(f"/o/demo/contacts/{invitation.contact.public_id}/")

    assert page.status_code == 200
    text = _text(page)
    assert invitation.contact.name in text
    assert "Answered" in text
    assert invitation.survey.name in text
    assert f"{score.value_int} / {scale_of(score.question)[1]}" in text
    assert "This contact has not answered any survey" not in text


def test_campaign_pages_list_the_two_campaigns_and_count_invitations_by_status(
    demo, owner_signed_in
):
    with tenant_scope(demo):
        sent = Campaign.objects.get(status="sent")
        assert Campaign.objects.filter(status="scheduled").count() == 1
        counts = sending.campaign_status_counts(organization=demo, campaign=sent)

    listing = _text(owner_signed_in.get("/o/demo/campaigns/"))
    assert sent.name in listing
    page = owner_signed_in.get(f"/o/demo/campaigns/{sent.public_id}/")

    assert page.status_code == 200
    html = page.content.decode()
    for label, status in (("Answered", "answered"), ("Skipped", "skipped")):
        assert counts[status] > 0
        shown = re.search(rf'<th scope="row">{label}</th>\s*<td>(\d+)</td>', html)
        assert shown and int(shown.group(1)) == counts[status]


def test_demo_store_exits_have_kiosks_whose_smiley_answers_count_for_the_store_visit(
    demo, owner_signed_in
):
    with tenant_scope(demo):
        devices = list(KioskDevice.objects.select_related("survey", "touchpoint"))
        assert {d.location for d in devices} == {"Kamppi", "Itis", "Sello"}
        survey = devices[0].survey
        assert (
            survey.touchpoint.name == "Store visit" and devices[0].touchpoint == survey.touchpoint
        )
        kiosk_answers = Response.objects.filter(survey=survey, channel="kiosk")
        assert kiosk_answers.count() > 1000
        assert DailyRollup.objects.filter(survey=survey, channel="kiosk", metric="smiley").exists()
    assert demo.embed_allowed_origins == ["https://shop.demo.example"]
    share = owner_signed_in.get(f"/o/demo/surveys/{survey.public_id}/share/")
    assert share.status_code == 200 and "Kamppi main exit" in share.content.decode()
    page = owner_signed_in.get("/o/demo/kiosks/").content.decode()
    assert "Itis exit" in page and "Store visit: SMILEY" in page


def test_demo_leaves_nothing_for_the_workers_to_send(demo):
    with tenant_scope(demo):
        assert sending.due_invitations(grace=timedelta(0)) == []
        assert sending.reminders_due(organization=demo) == []
        assert not Campaign.objects.filter(status="scheduled", scheduled_for__lte=timezone.now())
        # The sweep turns sent or delivered invitations with an opened link into opened ones.
        assert not Invitation.objects.filter(
            status__in=["sent", "delivered"], personal_link__opened_at__isnull=False
        )


def test_running_load_demo_again_adds_nothing(demo):
    def counts() -> list[int]:
        with tenant_scope(demo):
            return [
                Response.objects.count(),
                Response.objects.filter(personal_link__isnull=False).count(),
                Contact.objects.count(),
                Segment.objects.count(),
                Campaign.objects.count(),
                Invitation.objects.count(),
                InvitationEvent.objects.count(),
                DailyRollup.objects.count(),
                KioskDevice.objects.count(),
            ]

    before = counts()
    call_command("load_demo")  # every `make run` does this
    assert counts() == before
