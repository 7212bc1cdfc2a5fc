"""Benchmark data: an organization with many NPS responses, written with set-based SQL."""

import json
import secrets
import time
import zoneinfo
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from core.scoping import tenant_scope
from journeys.services import journey_create, stage_create, touchpoint_create
from surveys.models import Question, Response, Survey
from surveys.services.building import survey_create_from_template, survey_publish
from surveys.services.responses import survey_response_counts_refresh
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.services import organization_create

# Weights of the 0-10 answers (a typical, mildly positive NPS) and of channels and languages.
NPS_VALUES = [0, 2, 4, 5, 6, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10]
CHANNELS = ["web", "web", "email", "email", "sms", "qr"]
LANGUAGES = ["fi", "fi", "fi", "sv", "en"]

INSERT_RESPONSES = """
INSERT INTO surveys_response (
    public_id, organization_id, survey_id, version_id, touchpoint_id, channel, language,
    submitted_at, hidden_fields, idempotency_key, personal_link_id, ip_address, user_agent,
    processed_at, created_at, updated_at
)
SELECT
    'rsp_' || translate(substr(md5(%(salt)s || i::text), 1, 20), '01', 'xy'),
    %(organization)s,
    (%(surveys)s::bigint[])[1 + i %% %(touchpoint_count)s],
    (%(versions)s::bigint[])[1 + i %% %(touchpoint_count)s],
    (%(touchpoints)s::bigint[])[1 + i %% %(touchpoint_count)s],
    (%(channels)s::text[])[1 + floor(random() * %(channel_count)s)::int],
    (%(languages)s::text[])[1 + floor(random() * %(language_count)s)::int],
    moment, '{}'::jsonb, NULL, NULL, NULL, '', moment, moment, moment
FROM (
    SELECT i, %(start)s::timestamptz + random() * %(span)s * interval '1 second' AS moment
    FROM generate_series(1, %(count)s) AS i
) AS generated
ORDER BY moment
"""

INSERT_ANSWERS = """
INSERT INTO surveys_answer (
    organization_id, response_id, question_id, value_int, value_int_2, value_text, value_choices
)
SELECT
    r.organization_id, r.id, q.question_id,
    (%(values)s::int[])[1 + floor(random() * %(value_count)s)::int],
    NULL, '', '[]'::jsonb
FROM surveys_response AS r
JOIN unnest(%(surveys)s::bigint[], %(questions)s::bigint[]) AS q (survey_id, question_id)
    ON q.survey_id = r.survey_id
WHERE r.organization_id = %(organization)s
ORDER BY r.id
"""


class Command(BaseCommand):
    help = (
        "Benchmarks only (bench/bench_metrics.py): create the organization SLUG with an owner, "
        "one journey with --touchpoints touchpoints and a published NPS survey at each, then "
        "insert --responses responses, each with one NPS answer (0-10, an NPS near +25), spread "
        "evenly over the touchpoints and randomly over the last --days local days, channels and "
        "languages, with INSERT ... SELECT FROM generate_series (a million rows take about a "
        "minute), marked processed, then VACUUM ANALYZE. Rollups are not built: run "
        "`rebuild_rollups --org SLUG` next. When SLUG already exists with that many responses "
        "nothing is written. Prints one JSON object: slug, responses, touchpoint and survey "
        "public ids, the date range, seconds, and whether it seeded. Refuses to run unless the "
        "database name contains 'bench'."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--responses", type=int, required=True)
        parser.add_argument("--touchpoints", type=int, default=20)
        parser.add_argument("--days", type=int, default=365)

    def handle(self, *args, **options):
        database = str(connection.settings_dict["NAME"])
        if "bench" not in database:
            raise CommandError(
                f"Refusing to seed {database!r}: benchmark data goes only into a database "
                "whose name contains 'bench'."
            )
        if options["responses"] < 0 or options["touchpoints"] < 1 or options["days"] < 1:
            raise CommandError("--responses >= 0, --touchpoints >= 1 and --days >= 1.")
        started = time.monotonic()
        organization = Organization.objects.filter(slug=options["slug"]).first()
        seeded = organization is None
        if organization is None:
            organization = self._organization(options["slug"])
            with tenant_scope(organization):
                surveys = self._surveys(organization, options["touchpoints"])
                self._responses(organization, surveys, options["responses"], options["days"])
            self._vacuum()
        with tenant_scope(organization):
            summary = self._summary(organization, options["days"])
        if summary["responses"] != options["responses"]:
            raise CommandError(
                f"{organization.slug} already has {summary['responses']} responses, "
                f"not {options['responses']}; recreate the bench database."
            )
        summary.update(seeded=seeded, seconds=round(time.monotonic() - started, 3))
        self.stdout.write(json.dumps(summary))

    def _organization(self, slug: str) -> Organization:
        email = f"{slug}@example.com"
        owner = User.objects.filter(email=email).first() or user_create(
            email=email, password=secrets.token_urlsafe(18)
        )
        return organization_create(name=f"Bench {slug}", slug=slug, owner=owner)

    @transaction.atomic
    def _surveys(self, organization: Organization, count: int) -> list:
        actor = Actor.system(organization)
        journey = journey_create(actor=actor, organization=organization, name="Bench journey")
        stage = stage_create(actor=actor, journey=journey, name="Bench stage")
        surveys = []
        for number in range(1, count + 1):
            touchpoint = touchpoint_create(actor=actor, stage=stage, name=f"Store {number:02d}")
            survey = survey_create_from_template(
                actor=actor,
                organization=organization,
                template_key="nps",
                name=f"NPS {number:02d}",
                touchpoint=touchpoint,
            )
            survey_publish(actor=actor, survey=survey)
            survey.refresh_from_db()
            surveys.append(survey)
        return surveys

    def _responses(self, organization: Organization, surveys: list, count: int, days: int) -> None:
        if not count:
            return
        zone = zoneinfo.ZoneInfo(organization.time_zone)
        today = timezone.localdate(timezone=zone)
        start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), zone)
        span = (timezone.now() - start).total_seconds()
        questions = {
            question.version_id: question.pk
            for question in Question.objects.filter(metric="nps", version__survey__in=surveys)
        }
        common = {
            "organization": organization.pk,
            "surveys": [survey.pk for survey in surveys],
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.42)")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                # Every foreign key below comes from rows just read, so checking 8 million
                # deferred references at commit (per million responses) proves nothing; only a
                # superuser may skip them, anyone else waits for the checks.
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                INSERT_RESPONSES,
                {
                    **common,
                    "salt": secrets.token_hex(8),
                    "versions": [survey.current_version_id for survey in surveys],
                    "touchpoints": [survey.touchpoint_id for survey in surveys],
                    "touchpoint_count": len(surveys),
                    "channels": CHANNELS,
                    "channel_count": len(CHANNELS),
                    "languages": LANGUAGES,
                    "language_count": len(LANGUAGES),
                    "start": start,
                    "span": span,
                    "count": count,
                },
            )
            cursor.execute(
                INSERT_ANSWERS,
                {
                    **common,
                    "questions": [questions[survey.current_version_id] for survey in surveys],
                    "values": NPS_VALUES,
                    "value_count": len(NPS_VALUES),
                },
            )
        survey_response_counts_refresh(organization=organization)

    def _vacuum(self) -> None:
        """Visibility maps and statistics of every table, as autovacuum leaves a live database
        (without them the planner takes the 20 new questions for one and picks a plan 10 times
        slower than with them)."""
        with connection.cursor() as cursor:
            for table in ("surveys_response", "surveys_answer"):
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute("ANALYZE")

    def _summary(self, organization: Organization, days: int) -> dict:
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))
        surveys = list(
            Survey.objects.select_related("touchpoint").order_by("touchpoint__position", "pk")
        )
        return {
            "slug": organization.slug,
            "responses": Response.objects.count(),
            "touchpoints": [survey.touchpoint.public_id for survey in surveys],
            "surveys": [survey.public_id for survey in surveys],
            "start": (today - timedelta(days=days - 1)).isoformat(),
            "end": today.isoformat(),
        }
