"""Helpers the contact import tests share."""

from distribution.models import ContactImport
from distribution.services import importing
from tenancy.scoping import tenant_scope


def import_csv(organization, actor, text: str, mapping: dict[str, str]) -> ContactImport:
    """Upload `text`, map its columns and run the import here, as the task would."""
    with tenant_scope(organization):
        contact_import = importing.contact_import_upload(
            actor=actor, organization=organization, filename="c.csv", raw=text.encode()
        )
        importing.contact_import_start(
            actor=actor, organization=organization, contact_import=contact_import, mapping=mapping
        )
        importing.contact_import_run(organization=organization, import_id=contact_import.pk)
    contact_import.refresh_from_db()
    return contact_import
