from django.core.management.base import BaseCommand, CommandError

from core.scoping import tenant_scope
from metrics.rollups import rollups_rebuild
from tenancy.models import Organization


class Command(BaseCommand):
    help = "Recompute every metric rollup from raw answers (all organizations, or one with --org)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="The organization's slug.")

    def handle(self, *args, **options):
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"No organization with the slug {options['org']!r}.")
        for organization in organizations:
            with tenant_scope(organization):
                made = rollups_rebuild(organization=organization)
            self.stdout.write(f"{organization.slug}: {made} rollup rows")
