"""Seed and emit for the webhooks benchmark (bench/bench_webhooks.py).

`--setup --url URL` creates the organization `--slug` with an owner, a published NPS survey, a
write API key and one active endpoint for URL subscribed to `response.submitted` (through
`endpoint_create`, so the URL passes the OUTBOUND_* checks), then ANALYZEs (autovacuum is off
on the bench machine). Prints JSON: the survey's id, the key and the endpoint's secret.

`--count N` emits N `response.submitted` events through `webhooks.services.event_emit`, each in
its own transaction (its delivery task is published on commit, as in production). Prints JSON:
how many were recorded, when the first emit began (seconds since the epoch) and how long all
took.

`--floor N --url URL` posts N signed envelopes of the same shape to URL with
`core.safe_http.post_body` one after another, as the worker does, without Celery or the
database (the baseline). Prints JSON: how many were answered 2xx and how long it took.

`--report` prints the organization's deliveries by status and their attempts.
"""

import json
import secrets
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.services import api_key_create, user_create
from core.safe_http import OutboundHTTPError, encode_json, post_body
from core.scoping import tenant_scope
from surveys.models import Survey
from surveys.services import survey_create_from_template, survey_publish
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.services import organization_create
from webhooks import signing
from webhooks.enums import EventType
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, event_emit

SURVEY_NAME = "Bench webhooks NPS"


class Command(BaseCommand):
    help = "Seed, emit events, post a baseline or report deliveries for the webhooks benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="bench-hooks")
        parser.add_argument("--url", help="The receiver's URL (--setup, --floor).")
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--setup", action="store_true")
        mode.add_argument("--count", type=int, help="Emit this many events.")
        mode.add_argument("--floor", type=int, help="Post this many envelopes directly.")
        mode.add_argument("--report", action="store_true")
        parser.add_argument("--prefix", default="bench", help="Response ids are rsp_<prefix>N.")

    def handle(self, *args, slug: str, url: str | None, prefix: str, **options):
        if options["setup"]:
            if not url:
                raise CommandError("--setup needs --url.")
            result = self._setup(slug, url)
        else:
            organization = Organization.objects.filter(slug=slug).first()
            if organization is None:
                raise CommandError(f"No organization {slug!r}: run --setup first.")
            with tenant_scope(organization):
                if options["count"] is not None:
                    result = self._emit(organization, options["count"], prefix)
                elif options["floor"] is not None:
                    if not url:
                        raise CommandError("--floor needs --url.")
                    result = self._floor(organization, options["floor"], url, prefix)
                else:
                    result = self._report(organization)
        self.stdout.write(json.dumps(result))

    def _setup(self, slug: str, url: str) -> dict:
        with transaction.atomic():
            owner = user_create(email=f"{slug}@example.com", password=secrets.token_urlsafe(18))
            organization = organization_create(name="Bench webhooks", slug=slug, owner=owner)
        with tenant_scope(organization):
            actor = Actor.system(organization)
            survey = survey_create_from_template(
                actor=actor, organization=organization, template_key="nps", name=SURVEY_NAME
            )
            survey_publish(actor=actor, survey=survey)
            _key, full_key = api_key_create(
                actor=actor, organization=organization, name="bench", scope="write"
            )
            endpoint = endpoint_create(
                actor=actor,
                organization=organization,
                url=url,
                events=[EventType.RESPONSE_SUBMITTED],
                description="bench receiver",
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return {
            "organization": organization.slug,
            "survey": survey.public_id,
            "key": full_key,
            "endpoint": endpoint.public_id,
            "secret": endpoint.secret,
        }

    def _survey(self, organization) -> Survey:
        return Survey.objects.select_related("current_version").get(
            organization=organization, name=SURVEY_NAME
        )

    def _data(self, survey: Survey, prefix: str, number: int) -> dict:
        """A `response.submitted` payload as a kiosk's NPS answer makes it."""
        return {
            "id": f"rsp_{prefix}{number:06d}",
            "survey": survey.public_id,
            "survey_version": survey.current_version.public_id,
            "touchpoint": None,
            "channel": "kiosk",
            "language": "fi",
            "submitted_at": timezone.now().isoformat(),
            "hidden_fields": {"store": "Helsinki 1"},
            "answers": {"score": number % 11, "liked": "Friendly staff and a short queue"},
        }

    def _emit(self, organization, count: int, prefix: str) -> dict:
        survey = self._survey(organization)
        emitted = 0
        first_emit_at = time.time()
        started = time.perf_counter()
        for number in range(count):
            with transaction.atomic():  # the caller's transaction, as a service has one
                event = event_emit(
                    organization=organization,
                    type=EventType.RESPONSE_SUBMITTED,
                    data=lambda number=number: self._data(survey, prefix, number),
                )
            emitted += event is not None
        seconds = time.perf_counter() - started
        return {"emitted": emitted, "first_emit_at": first_emit_at, "seconds": seconds}

    def _floor(self, organization, count: int, url: str, prefix: str) -> dict:
        survey = self._survey(organization)
        endpoint = WebhookEndpoint.objects.filter(organization=organization).first()
        if endpoint is None:
            raise CommandError("No endpoint: run --setup first.")
        posted, errors, samples = 0, 0, []
        started = time.perf_counter()
        for number in range(count):
            envelope = {
                "type": EventType.RESPONSE_SUBMITTED,
                "timestamp": timezone.now().isoformat(),
                "data": self._data(survey, prefix, number),
            }
            body = encode_json(envelope)
            headers = signing.headers(
                endpoint.secrets_now(), f"evt_{prefix}{number:06d}", int(time.time()), body
            )
            try:
                post_body(url, body, headers=headers, timeout=15.0)
                posted += 1
            except OutboundHTTPError as error:
                errors += 1
                if len(samples) < 3:
                    samples.append(error.message)
        seconds = time.perf_counter() - started
        return {"posted": posted, "errors": errors, "samples": samples, "seconds": seconds}

    def _report(self, organization) -> dict:
        rows = (
            WebhookDelivery.objects.filter(organization=organization)
            .order_by()
            .values("status")
            .annotate(n=Count("id"), attempts=Sum("attempts"))
        )
        return {
            "statuses": {row["status"]: row["n"] for row in rows},
            "attempts": sum(row["attempts"] or 0 for row in rows),
        }
