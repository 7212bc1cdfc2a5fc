"""Queue triggered invitations for the invitations benchmark (bench/bench_invitations.py).

Creates (once) an organization, a published NPS survey and `--count` contacts who consented to
email and SMS, then queues one invitation per contact (every other one by SMS) through
`distribution.services.invitations.invitation_trigger` (each in its own transaction, so each
task is sent to the broker on commit, as in production). Prints JSON: how many were queued and how long it took.
"""

import json
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.scoping import tenant_scope
from distribution.models import Contact
from distribution.services.invitations import invitation_trigger
from journeys.models import Journey, Stage, Touchpoint
from surveys.enums import SurveyStatus, VersionStatus
from surveys.models import Question, Survey, SurveyVersion
from tenancy.models import Organization


class Command(BaseCommand):
    help = "Queue email and SMS invitations for the invitations benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="bench-invites")
        parser.add_argument("--count", type=int, default=1000)

    def handle(self, *args, slug: str, count: int, **options):
        organization, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": "Bench"})
        with tenant_scope(organization):
            survey = self._survey(organization)
            contacts = self._contacts(organization, count)
            started = time.perf_counter()
            queued = 0
            for number, contact in enumerate(contacts):
                # Half by email, half by SMS: a second invitation to the same contact would be
                # skipped by the organization-wide quarantine once the first is sent.
                result = invitation_trigger(
                    actor=None,
                    organization=organization,
                    contact=contact,
                    survey=survey,
                    channel="email" if number % 2 == 0 else "sms",
                    event_id="bench",
                )
                queued += result.invitation.status == "queued"
            seconds = time.perf_counter() - started
        self.stdout.write(json.dumps({"queued": queued, "seconds": seconds}))

    def _survey(self, organization) -> Survey:
        existing = Survey.objects.filter(organization=organization, name="Bench NPS").first()
        if existing is not None:
            return existing
        with transaction.atomic():
            journey = Journey.objects.create(organization=organization, name="Bench")
            stage = Stage.objects.create(organization=organization, journey=journey, name="Visit")
            touchpoint = Touchpoint.objects.create(
                organization=organization, journey=journey, stage=stage, name="Store"
            )
            survey = Survey.objects.create(
                organization=organization,
                name="Bench NPS",
                touchpoint=touchpoint,
                languages=["fi", "en"],
                default_language="fi",
            )
            version = SurveyVersion.objects.create(
                organization=organization,
                survey=survey,
                number=1,
                status=VersionStatus.PUBLISHED,
                published_at=timezone.now(),
                languages=["fi", "en"],
            )
            Question.objects.create(
                organization=organization,
                version=version,
                position=0,
                key="score",
                type="nps",
                texts={"fi": "Suosittelisitko meitä?", "en": "Would you recommend us?"},
                labels={
                    "fi": {"min": "Ei lainkaan", "max": "Erittäin"},
                    "en": {"min": "Not at all", "max": "Extremely"},
                },
                scale_min=0,
                scale_max=10,
                required=True,
                metric="nps",
            )
            survey.current_version = version
            survey.status = SurveyStatus.PUBLISHED
            survey.save()
        return survey

    def _contacts(self, organization, count: int) -> list[Contact]:
        now = timezone.now()
        Contact.objects.bulk_create(
            [
                Contact(
                    organization=organization,
                    external_id=f"bench-{n}",
                    name=f"Bench {n}",
                    email=f"bench{n}@example.com",
                    phone=f"+3584{n:08d}",
                    preferred_language="fi",
                    email_consent=True,
                    email_consent_at=now,
                    sms_consent=True,
                    sms_consent_at=now,
                )
                for n in range(count)
            ],
            ignore_conflicts=True,
        )
        return list(Contact.objects.filter(organization=organization).order_by("pk")[:count])
