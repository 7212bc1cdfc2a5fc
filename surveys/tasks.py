from celery import shared_task

from core.tasks import TenantTask
from surveys.services.responses import announce_response_submitted


# typing=False: TenantTask.__call__ takes `organization_id` and passes `organization`.
@shared_task(base=TenantTask, acks_late=True, typing=False)
def announce_responses(*, organization, response_ids: list[int]) -> int:
    """Send `response_submitted` for each response of a batch saved together (the bulk API):
    the listeners see every id, as if each had been submitted alone, while the request that
    saved them enqueued one task. Lost (broker down), the listeners' own sweeps pick the
    responses up."""
    for response_id in response_ids:
        announce_response_submitted(organization_id=organization.pk, response_id=response_id)
    return len(response_ids)


@shared_task(base=TenantTask, acks_late=True, typing=False)
def import_responses(*, organization, import_id: int) -> int | None:
    """Import one uploaded CSV of responses (see surveys.importing); returns the rows done."""
    from surveys.importing import response_import_run

    job = response_import_run(organization=organization, import_id=import_id)
    return job.processed_rows if job else None


@shared_task
def sweep_response_imports() -> int:
    """Periodic: send again the task of an import that never started (the broker was down) or
    whose worker died; the run's compare-and-swap lets only one worker have it."""
    from core.scoping import unscoped
    from surveys.importing import response_imports_due_q
    from surveys.models import ResponseImport

    with unscoped():
        due = list(
            ResponseImport.all_objects.filter(response_imports_due_q()).values_list(
                "organization_id", "id"
            )[:100]
        )
    for organization_id, import_id in due:
        import_responses.apply_async(
            kwargs={"organization_id": organization_id, "import_id": import_id}
        )
    return len(due)


@shared_task
def drain_response_spool() -> int:
    """Periodic, every few seconds: store the answers spooled while the database was down."""
    from surveys.spool import spool_drain

    return spool_drain()
