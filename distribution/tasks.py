from celery import shared_task
from django.utils import timezone

from core.scoping import unscoped
from core.tasks import TenantTask
from distribution.enums import ImportStatus
from distribution.importing import contact_import_run
from distribution.models import ContactImport


# typing=False: TenantTask.__call__ takes `organization_id` and passes `organization`, so Celery's
# check of the arguments against this signature would refuse every call at apply_async.
@shared_task(base=TenantTask, acks_late=True, typing=False)
def import_contacts(*, organization, import_id: int) -> int | None:
    """Import one uploaded CSV (see distribution.importing); returns the rows processed."""
    contact_import = contact_import_run(organization=organization, import_id=import_id)
    return contact_import.processed_rows if contact_import else None


@shared_task
def purge_stale_import_drafts() -> int:
    """Delete drafts nobody mapped within a day: their stored CSV holds personal data."""
    cutoff = timezone.now() - timezone.timedelta(days=1)
    with unscoped():
        deleted, _ = ContactImport.all_objects.filter(
            status=ImportStatus.DRAFT, created_at__lt=cutoff
        ).delete()
    return deleted
