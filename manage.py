#!/usr/bin/env python
import os
import sys

# Commands that need neither a database nor secrets run on the embedded default when no
# database is named, so a fresh checkout can check its migrations and translations.
OFFLINE_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
    if sys.argv[1:2] and sys.argv[1] in OFFLINE_COMMANDS and "DATABASE_URL" not in os.environ:
        os.environ.setdefault("CXP_EMBEDDED", "true")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (Django would hide this error behind a later one)
    except ImproperlyConfigured as error:
        sys.exit(f"manage.py: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
