from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from core.exceptions import ApplicationError
from tenancy.services import organization_create


class Command(BaseCommand):
    help = (
        "Create an organization and its owner (an existing user with that email becomes the owner)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", help="Needed when the owner has no account yet.")
        parser.add_argument("--time-zone", default="Europe/Helsinki")
        parser.add_argument("--language", default="fi", choices=["fi", "sv", "en"])

    @transaction.atomic
    def handle(self, *args, **options):
        email = options["owner_email"].strip().lower()
        owner = User.objects.filter(email=email).first()
        try:
            if owner is None:
                if not options["owner_password"]:
                    raise CommandError("--owner-password is needed: no user has that email yet.")
                owner = user_create(email=email, password=options["owner_password"])
            organization = organization_create(
                name=options["name"],
                slug=options["slug"],
                owner=owner,
                time_zone=options["time_zone"],
                default_language=options["language"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except ValidationError as error:  # a bad slug, time zone or language from the command line
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"Created organization {organization.slug} ({organization.public_id}) owned by {owner.email}"
        )
