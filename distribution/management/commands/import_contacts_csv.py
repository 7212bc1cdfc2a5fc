"""`manage.py import_contacts_csv FILE --org SLUG [--map COLUMN=TARGET ...] [--region FI]`

Imports a CSV of contacts in this process through the same code the Celery task runs
(upload -> mapping -> `contact_import_run`), prints the counts and the rows per second on its
last line. Without --map, columns are mapped as the upload page would suggest.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ApplicationError
from distribution.enums import ImportTarget
from distribution.services.importing import (
    contact_import_run,
    contact_import_start,
    contact_import_upload,
)
from tenancy.actors import Actor
from tenancy.models import Organization
from tenancy.scoping import tenant_scope


class Command(BaseCommand):
    help = "Import contacts from a CSV file into an organization (in this process, no worker)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=TARGET",
            help=f"map a column by header name; targets: {', '.join(ImportTarget.values[1:])}",
        )
        parser.add_argument("--region", default="FI", help="country of local phone numbers")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization {options['org']!r}.")
        try:
            raw = options["path"].read_bytes()
        except OSError as error:
            raise CommandError(str(error)) from error
        actor = Actor.system(organization)
        started = time.perf_counter()
        with tenant_scope(organization):
            try:
                contact_import = contact_import_upload(
                    actor=actor, organization=organization, filename=options["path"].name, raw=raw
                )
                mapping = dict(contact_import.mapping)
                for item in options["map"]:
                    column, _, target = item.partition("=")
                    if column not in contact_import.header:
                        raise CommandError(f"No column {column!r} in the file.")
                    mapping[str(contact_import.header.index(column))] = target
                contact_import_start(
                    actor=actor,
                    organization=organization,
                    contact_import=contact_import,
                    mapping=mapping,
                    phone_region=options["region"],
                    enqueue=False,
                )
            except ApplicationError as error:
                raise CommandError(error.message) from error
            result = contact_import_run(organization=organization, import_id=contact_import.pk)
        elapsed = time.perf_counter() - started
        if result is None:
            raise CommandError("The import was claimed by another process.")
        rate = result.processed_rows / elapsed if elapsed else 0.0
        self.stdout.write(
            f"{result.public_id} {result.status}: created={result.created_count} "
            f"updated={result.updated_count} skipped={result.skipped_count} "
            f"errors={result.error_count} rows={result.processed_rows} "
            f"seconds={elapsed:.2f} rows_per_second={rate:.1f}"
        )
