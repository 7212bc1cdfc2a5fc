"""Thin Celery tasks of reports: exports, digests and the sweeps that keep them tidy."""

import logging
from datetime import date

from celery import shared_task

from core.models import Handle, HandleKind
from core.scoping import tenant_scope, unscoped
from core.tasks import TenantTask, enqueue_on_commit
from reports import digests, exports, sharing
from reports.models import Digest, DigestDelivery, ExportJob
from tenancy.models import Organization

logger = logging.getLogger(__name__)
DIGEST_SEND_RETRIES = 5


# typing=False: TenantTask.__call__ takes `organization_id` and passes `organization`, so Celery's
# check of the arguments against this signature would refuse every call at apply_async.
@shared_task(base=TenantTask, acks_late=True, typing=False)
def run_export(*, organization, job_id: int) -> None:
    """Build one export job's file (see reports.exports.export_job_run); safe to run twice."""
    exports.export_job_run(organization=organization, job_id=job_id)


@shared_task
def sweep_exports() -> int:
    """Per organization: delete expired export jobs and their files, send again the task of jobs
    whose task was lost (broker down) or whose worker died, and forget the token handles of share
    links that expired a month ago. Returns the export jobs purged."""
    purged = 0
    with unscoped():
        with_jobs = set(
            ExportJob.all_objects.order_by().values_list("organization_id", flat=True).distinct()
        )
        with_links = set(
            Handle.objects.filter(kind=HandleKind.SHARE_LINK)
            .order_by()
            .values_list("organization_id", flat=True)
            .distinct()
        )
    for organization in Organization.objects.filter(pk__in=with_jobs | with_links):
        with tenant_scope(organization):
            if organization.pk in with_jobs:
                purged += exports.export_jobs_purge(organization=organization)
                for job_id in exports.export_jobs_resume(organization=organization):
                    enqueue_on_commit(run_export, organization_id=organization.pk, job_id=job_id)
            if organization.pk in with_links:
                sharing.share_links_purge(organization=organization)
    return purged


@shared_task
def send_due_digests() -> int:
    """Every 15 minutes: send a task for each digest whose period is due and not yet sent or
    claimed. Running it twice, or in two beat processes, is harmless: the delivery row each
    send claims first lets one of them through. Returns the tasks sent."""
    sent = 0
    with unscoped():
        organization_ids = list(
            Digest.all_objects.filter(is_active=True)
            .order_by()
            .values_list("organization_id", flat=True)
            .distinct()
        )
    for organization in Organization.objects.filter(pk__in=organization_ids):
        with tenant_scope(organization):
            for digest, period in digests.digests_due(organization=organization):
                enqueue_on_commit(
                    send_digest,
                    organization_id=organization.pk,
                    digest_id=digest.pk,
                    cadence=digest.cadence,
                    period_start=period.start.isoformat(),
                )
                sent += 1
    return sent


@shared_task(
    base=TenantTask,
    bind=True,
    acks_late=True,
    typing=False,
    max_retries=DIGEST_SEND_RETRIES,
)
def send_digest(self, *, organization, digest_id: int, cadence: str, period_start: str) -> str:
    """Send one digest for one period, once (reports.digests.digest_deliver). Sending errors
    retry with backoff; after the last retry the delivery is recorded as failed."""
    try:
        delivery = digests.digest_deliver(
            organization=organization,
            digest_id=digest_id,
            cadence=cadence,
            period_start=date.fromisoformat(period_start),
        )
    except Exception as error:  # SMTP and provider errors vary by backend
        if self.request.retries >= self.max_retries:
            logger.exception("digest %s for %s failed for good", digest_id, period_start)
            failed = DigestDelivery.objects.filter(
                organization=organization, digest_id=digest_id, period_start=period_start
            ).first()
            if failed is not None:
                digests.digest_delivery_fail(
                    organization=organization, delivery_id=failed.pk, failure=str(error)
                )
            return "failed"
        raise self.retry(exc=error, countdown=min(3600, 60 * 2**self.request.retries)) from error
    return "sent" if delivery is not None else "skipped"
