"""`migrate`, straight to PostgreSQL when DATABASE_DIRECT_URL names it (the `direct` alias): web,
workers and beat may reach the database through PgBouncer in transaction mode, which schema
changes should bypass. `--database` still chooses."""

from django.conf import settings
from django.core.management.commands import migrate


class Command(migrate.Command):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        if "direct" in settings.DATABASES:
            parser.set_defaults(database="direct")
