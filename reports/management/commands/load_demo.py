from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from alerts.demo import load_demo_alerts
from distribution.demo import load_demo_distribution, load_demo_kiosks
from journeys.demo import load_demo_journeys
from journeys.models import MeasurementPlan
from metrics.rollups import rollups_rebuild
from surveys.demo import TEMPLATE_FOR_METRIC, load_demo_surveys
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.models import Organization
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-owner-2026"
DEMO_PEOPLE = {
    "owner": ("owner@demo.example", "Olivia Omistaja", Role.OWNER),
    "cx": ("cx@demo.example", "Kalle Kokemus", Role.CX_MANAGER),
    "analyst": ("analyst@demo.example", "Anna Analyytikko", Role.ANALYST),
    "viewer": ("viewer@demo.example", "Ville Katsoja", Role.VIEWER),
}


# The demo spans every app, so it lives in the top layer (reports), which may import them all.
class Command(BaseCommand):
    help = "Load the demo organization, its people and its journeys (what exists is kept)."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {
            key: User.objects.filter(email=email).first()
            or user_create(email=email, password=DEMO_PASSWORD, full_name=name)
            for key, (email, name, _role) in DEMO_PEOPLE.items()
        }
        organization = Organization.objects.filter(slug=DEMO_SLUG).first()
        if organization is None:
            organization = organization_create(
                name="Demo Retail Oy", slug=DEMO_SLUG, owner=users["owner"]
            )
        actor = Actor.system(organization)
        with tenant_scope(organization):
            for key, (_email, _name, role) in DEMO_PEOPLE.items():
                if key != "owner":
                    membership_add(
                        actor=actor, organization=organization, user=users[key], role=role
                    )
        load_demo_journeys(organization=organization, actor=actor, owners=users)
        with tenant_scope(organization):
            measured = [
                (plan.touchpoint, plan.metric)
                for plan in MeasurementPlan.objects.filter(
                    organization=organization,
                    metric__in=TEMPLATE_FOR_METRIC,
                    touchpoint__archived_at=None,
                ).select_related("touchpoint")
            ]
        made = load_demo_surveys(
            organization=organization, actor=actor, touchpoints_with_metric=measured
        )
        if made:
            with tenant_scope(organization):
                rollups_rebuild(organization=organization)
            self.stdout.write(f"  {made} demo responses over the past year")
        distribution = load_demo_distribution(organization=organization, actor=actor)
        if distribution:
            self.stdout.write(
                f"  {distribution['contacts']} demo contacts, {distribution['invitations']} "
                f"invitations ({distribution['answered']} answered), "
                f"{distribution['campaigns']} campaigns"
            )

        kiosks = load_demo_kiosks(organization=organization, actor=actor)
        if kiosks:
            self.stdout.write(f"  {kiosks} kiosk tablets at store exits")

        with tenant_scope(organization):
            alerting = load_demo_alerts(organization=organization, actor=actor, users=users)
        if alerting:
            self.stdout.write(
                f"  {alerting['rules']} alert rules and {alerting['cases']} follow-up cases"
            )

        self.stdout.write(self.style.SUCCESS("Demo organization ready at http://127.0.0.1:8000/"))
        self.stdout.write(f"  sign in as {DEMO_PEOPLE['owner'][0]} / {DEMO_PASSWORD}")
        self.stdout.write("  (also cx@, analyst@ and viewer@demo.example with the same password)")
