"""Benchmark data for bench/bench_alerts.py: a touchpoint with an owner, a published CSAT survey
behind an anonymous link, and a response rule "CSAT <= 2" that opens a case and emails the owner.

Everything goes through the services a CX manager's clicks would call, so the rule, the case
settings and the survey are the real ones. Prints one JSON object (what the benchmark needs to
post answers and find their cases). Refuses to run unless the database name contains 'bench'.
"""

import json
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import User
from accounts.services import user_create
from alerts.enums import ConditionMetric, Operator, Priority, RuleKind
from alerts.models import AlertRule
from alerts.services.rules import rule_create
from core.scoping import tenant_scope
from journeys.models import Touchpoint
from journeys.services import journey_create, stage_create, touchpoint_create
from surveys.models import Survey
from surveys.services.building import survey_create_from_template, survey_publish
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.models import Organization
from tenancy.services import membership_add, organization_create

TEMPLATE = "csat_service"
SCORE_KEY = "satisfaction"
LOW_FOLLOW_UP = "went_wrong"
HIGH_FOLLOW_UP = "went_well"
RULE_NAME = "Low CSAT at the store"


class Command(BaseCommand):
    help = (
        "Benchmarks only (bench/bench_alerts.py): create the organization SLUG (once) with an "
        "owner and a store manager (a CX manager) who owns the touchpoint 'Store', a published "
        "CSAT survey from the 'csat_service' template on it with an anonymous link, and an "
        "active response rule CSAT <= 2 on that touchpoint that opens a case and emails the "
        "owner. Prints JSON: slug, organization id, link slug, question keys, owner's email, rule "
        "id. Running it again changes nothing. Refuses to run unless the database name contains "
        "'bench'."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", default="bench-alerts")

    def handle(self, *args, slug: str, **options):
        database = str(connection.settings_dict["NAME"])
        if "bench" not in database:
            raise CommandError(
                f"Refusing to seed {database!r}: benchmark data goes only into a database "
                "whose name contains 'bench'."
            )
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            organization = self._seed(slug)
        with tenant_scope(organization):
            touchpoint = Touchpoint.objects.get(organization=organization, name="Store")
            survey = Survey.objects.get(organization=organization, touchpoint=touchpoint)
            rule = AlertRule.objects.get(organization=organization, name=RULE_NAME)
            summary = {
                "slug": organization.slug,
                "organization_id": organization.pk,
                "link_slug": survey.link_slug,
                "language": survey.default_language,
                "score_key": SCORE_KEY,
                "low_follow_up": LOW_FOLLOW_UP,
                "high_follow_up": HIGH_FOLLOW_UP,
                "owner_email": touchpoint.owner.email,
                "rule": rule.public_id,
            }
        self.stdout.write(json.dumps(summary))

    @transaction.atomic
    def _seed(self, slug: str) -> Organization:
        founder = self._user(f"{slug}-founder@example.com", "Bench founder")
        organization = organization_create(name=f"Bench {slug}", slug=slug, owner=founder)
        manager = self._user(f"{slug}-store-manager@example.com", "Store manager")
        with tenant_scope(organization):
            actor = Actor.system(organization)
            membership_add(
                actor=actor, organization=organization, user=manager, role=Role.CX_MANAGER
            )
            journey = journey_create(actor=actor, organization=organization, name="Store visit")
            stage = stage_create(actor=actor, journey=journey, name="Checkout")
            touchpoint = touchpoint_create(actor=actor, stage=stage, name="Store", owner=manager)
            survey = survey_create_from_template(
                actor=actor,
                organization=organization,
                template_key=TEMPLATE,
                name="Store CSAT",
                touchpoint=touchpoint,
            )
            survey_publish(actor=actor, survey=survey)
            rule_create(
                actor=actor,
                organization=organization,
                name=RULE_NAME,
                kind=RuleKind.RESPONSE,
                touchpoint=touchpoint,
                metric=ConditionMetric.CSAT,
                operator=Operator.LTE,
                threshold=2,
                priority=Priority.HIGH,
                open_case=True,
                notify_email=True,
            )
        return organization

    def _user(self, email: str, name: str) -> User:
        return User.objects.filter(email=email).first() or user_create(
            email=email, password=secrets.token_urlsafe(18), full_name=name, language="en"
        )
