from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_key_create
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.scoping import tenant_scope


class Command(BaseCommand):
    help = "Create an API key for an organization; the key is printed alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", default="read", choices=["read", "write"])

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {options['org']!r}.")
        with tenant_scope(organization):
            api_key, full_key = api_key_create(
                actor=Actor.system(organization),
                organization=organization,
                name=options["name"],
                scope=options["scope"],
            )
        self.stdout.write(f"Created {api_key.scope} key {api_key.prefix} for {organization.slug}:")
        self.stdout.write(full_key)
