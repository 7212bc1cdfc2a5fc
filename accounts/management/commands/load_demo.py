from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.models import Organization
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-owner-2026"
DEMO_PEOPLE = [
    ("owner@demo.example", "Olivia Owner", Role.OWNER),
    ("cx@demo.example", "Kalle CX-Manager", Role.CX_MANAGER),
    ("analyst@demo.example", "Anna Analyst", Role.ANALYST),
    ("viewer@demo.example", "Ville Viewer", Role.VIEWER),
]


class Command(BaseCommand):
    help = "Load the demo organization and its people (does nothing when it exists already)."

    @transaction.atomic
    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=DEMO_SLUG).first()
        if organization is None:
            users = {}
            for email, name, _role in DEMO_PEOPLE:
                users[email] = User.objects.filter(email=email).first() or user_create(
                    email=email, password=DEMO_PASSWORD, full_name=name
                )
            owner_email = DEMO_PEOPLE[0][0]
            organization = organization_create(
                name="Demo Retail Oy", slug=DEMO_SLUG, owner=users[owner_email]
            )
            with tenant_scope(organization):
                actor = Actor.system(organization)
                for email, _name, role in DEMO_PEOPLE[1:]:
                    membership_add(
                        actor=actor, organization=organization, user=users[email], role=role
                    )
        self.stdout.write(self.style.SUCCESS("Demo organization ready at http://127.0.0.1:8000/"))
        self.stdout.write(f"  sign in as {DEMO_PEOPLE[0][0]} / {DEMO_PASSWORD}")
        self.stdout.write("  (also cx@, analyst@ and viewer@demo.example with the same password)")
