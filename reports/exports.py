"""Response exports (CSV and XLSX): one row per response, one column per question key.

Columns, in order: the response's public id, submission time in the organization's time zone
(ISO 8601 with its offset), survey, touchpoint, channel and language; then one column per
question key (scores as the raw integers, WOMI as `<key>.recommend` and `<key>.discourage`,
yes/no as "yes"/"no", choices joined with "; ", open text as written); then `hidden.<name>` per
hidden field and `contact.<name>` per attribute of the contact the response came from (only
through personal link -> invitation -> contact), with `contact.email` and `contact.phone` when
asked for by someone allowed to export.

The file itself is built by `reports.export_files`: rows in keyset pages of 1,000 over
(submitted_at, id), three queries a page (responses, answers, contacts), whatever the number of
rows, and no server-side cursor. Small exports are built in the request; larger ones by
`reports.tasks.run_export`, which stores the file in `ExportChunk` rows (in the database: workers
may run on another machine, and the web process serving the download then still finds the file)
and reports progress on the `ExportJob` row after every batch.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.replica import lag_tolerant
from core.services import activity_record
from core.tasks import enqueue_on_commit
from distribution.selectors import segment_contacts
from metrics.rollups import day_bounds
from reports.export_files import CONTENT_TYPES, export_write
from reports.filters import Preset, ReportFilterForm, ReportFilters
from reports.models import ExportChunk, ExportFormat, ExportJob, ExportStatus
from surveys.models import Response
from tenancy.policies import Permission

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
EXPORT_DAYS = 7
# A running export whose progress has not moved for this long belongs to a dead worker.
STALE_AFTER = timedelta(minutes=15)


def sync_max_rows() -> int:
    """Exports up to this many responses download at once; larger ones run as a task."""
    return settings.REPORTS_EXPORT_SYNC_MAX_ROWS


# Filters and the rows they choose


def export_filter_form(data, *, organization, today=None) -> ReportFilterForm:
    """The dashboard's filter form without the period (an export has no periods)."""
    form = ReportFilterForm(data, organization=organization, today=today)
    del form.fields["period"]
    return form


def frozen_params(filters: ReportFilters) -> dict[str, str]:
    """The filters as parameters with the preset turned into its dates, so a task that runs
    after midnight exports the same days the member saw."""
    params = filters.params()
    params.pop("period", None)
    params.update(range=Preset.CUSTOM, **{"from": filters.start.isoformat()})
    params["to"] = filters.end.isoformat()
    return params


def response_queryset(*, organization, filters: ReportFilters) -> QuerySet[Response]:
    """The responses an export with these filters holds (the dashboard's date range, channel,
    language, survey and contact segment), oldest first."""
    start = day_bounds(filters.start, organization.time_zone)[0]
    end = day_bounds(filters.end, organization.time_zone)[1]
    # Lag-tolerant: an export may miss the answers of the last seconds (core/replica.py).
    responses = Response.objects.using(lag_tolerant()).filter(
        organization=organization, submitted_at__gte=start, submitted_at__lt=end
    )
    if filters.channel:
        responses = responses.filter(channel=filters.channel)
    if filters.language:
        responses = responses.filter(language=filters.language)
    if filters.survey is not None:
        responses = responses.filter(survey=filters.survey)
    if filters.segment is not None:
        responses = responses.filter(
            personal_link__invitation__contact__in=segment_contacts(filters.segment)
        )
    return responses.order_by("submitted_at", "id")


# Services


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    rows: int


def _may_see_contact_details(actor, asked: bool) -> bool:
    return bool(asked) and actor is not None and actor.can(Permission.EXPORT)


def export_start(
    *, actor, organization, filters: ReportFilters, export_format: str, contact_details: bool
) -> ExportFile | ExportJob:
    """Export the responses these filters choose: at most `sync_max_rows()` are built now and
    returned as a file; more become an ExportJob that `reports.tasks.run_export` builds (sent
    after commit). Either way one audit entry is written. Raises ApplicationError without the
    EXPORT permission."""
    if actor is None or not actor.can(Permission.EXPORT):
        raise ApplicationError(_("You may not export responses."), code="permission_denied")
    export_format = ExportFormat(export_format)
    details = _may_see_contact_details(actor, contact_details)
    params = frozen_params(filters)
    responses = response_queryset(organization=organization, filters=filters)
    total = responses.count()
    if total > sync_max_rows():
        return export_job_create(
            actor=actor,
            organization=organization,
            params=params,
            export_format=export_format,
            contact_details=details,
            total=total,
        )
    out = io.BytesIO()
    rows = export_write(
        organization=organization,
        responses=responses,
        export_format=export_format,
        contact_details=details,
        out=out,
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="reports.export.downloaded",
        data={"format": export_format.value, "filters": params, "rows": rows},
    )
    stamp = timezone.localtime(timezone=organization.zone).strftime("%Y%m%d-%H%M")
    return ExportFile(
        filename=f"responses-{organization.slug}-{stamp}.{export_format.value}",
        content_type=CONTENT_TYPES[export_format],
        content=out.getvalue(),
        rows=rows,
    )


def export_job_start(
    *, actor, organization, filters: ReportFilters, export_format: str, contact_details: bool
) -> ExportJob:
    """Export the responses these filters choose as a job whatever their number (the API's
    clients poll it and download the file): see `export_job_create`. Raises ApplicationError
    without the EXPORT permission."""
    if actor is None or not actor.can(Permission.EXPORT):
        raise ApplicationError(_("You may not export responses."), code="permission_denied")
    return export_job_create(
        actor=actor,
        organization=organization,
        params=frozen_params(filters),
        export_format=ExportFormat(export_format),
        contact_details=_may_see_contact_details(actor, contact_details),
        total=response_queryset(organization=organization, filters=filters).count(),
    )


@transaction.atomic
def export_job_create(
    *, actor, organization, params: dict, export_format: str, contact_details: bool, total: int
) -> ExportJob:
    """A queued export job and its audit entry; the task is sent after commit."""
    from reports.tasks import run_export

    job = ExportJob.objects.create(
        organization=organization,
        created_by=getattr(actor, "user", None),
        format=export_format,
        filters=params,
        include_contact_details=contact_details,
        total_rows=total,
        expires_at=timezone.now() + timedelta(days=EXPORT_DAYS),
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="reports.export.created",
        target=job,
        data={"format": job.format, "filters": params, "rows": total},
    )
    enqueue_on_commit(run_export, organization_id=organization.pk, job_id=job.pk)
    return job


def _claim(organization, job_id: int) -> bool:
    """Compare-and-swap: a queued job, or a running one whose worker died, becomes ours."""
    now = timezone.now()
    claimable = Q(status=ExportStatus.QUEUED) | Q(
        status=ExportStatus.RUNNING, updated_at__lt=now - STALE_AFTER
    )
    return bool(
        ExportJob.objects.filter(organization=organization, pk=job_id)
        .filter(claimable)
        .update(
            status=ExportStatus.RUNNING,
            started_at=now,
            updated_at=now,
            processed_rows=0,
            attempts=F("attempts") + 1,
        )
    )


def _fail(organization, job_id: int, message: str) -> None:
    ExportJob.objects.filter(organization=organization, pk=job_id).update(
        status=ExportStatus.FAILED,
        failure=message[:300],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def export_job_run(*, organization, job_id: int) -> None:
    """Build a queued job's file and store it. Safe to run twice: only the run that claims the
    job works on it, and a finished job is left alone. A run that died is taken over after
    `STALE_AFTER` and starts again from the first row (its chunks are replaced)."""
    if not _claim(organization, job_id):
        return
    job = ExportJob.objects.get(organization=organization, pk=job_id)
    form = export_filter_form(job.filters, organization=organization)
    if not form.is_valid():
        _fail(organization, job_id, _("A survey or segment in the filters no longer exists."))
        return
    responses = response_queryset(organization=organization, filters=form.report_filters())
    total = responses.count()
    ExportJob.objects.filter(organization=organization, pk=job_id).update(total_rows=total)

    def progress(done: int) -> None:
        ExportJob.objects.filter(organization=organization, pk=job_id).update(
            processed_rows=done, updated_at=timezone.now()
        )

    try:
        with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK_BYTES) as out:
            rows = export_write(
                organization=organization,
                responses=responses,
                export_format=job.format,
                contact_details=job.include_contact_details,
                out=out,
                on_batch=progress,
            )
            size = out.tell()
            out.seek(0)
            _store(organization, job, out, rows=rows, size=size)
    except Exception:
        logger.exception("export %s failed", job.public_id)
        _fail(organization, job_id, _("The export stopped because of an internal error."))


@transaction.atomic
def _store(organization, job: ExportJob, out: IO[bytes], *, rows: int, size: int) -> None:
    ExportChunk.objects.filter(organization=organization, job=job).delete()
    sequence = 0
    while piece := out.read(CHUNK_BYTES):
        ExportChunk.objects.create(
            organization=organization, job=job, sequence=sequence, data=piece
        )
        sequence += 1
    now = timezone.now()
    ExportJob.objects.filter(organization=organization, pk=job.pk).update(
        status=ExportStatus.READY,
        processed_rows=rows,
        total_rows=rows,
        file_size=size,
        finished_at=now,
        updated_at=now,
    )


def export_job_download(*, actor, organization, job: ExportJob) -> Iterator[bytes]:
    """The stored file of a ready job, chunk by chunk (one query each), and an audit entry.
    Raises Http404 when the job is not ready or has expired."""
    if job.status != ExportStatus.READY or job.expires_at <= timezone.now():
        raise Http404
    activity_record(
        organization=organization,
        actor=actor,
        action="reports.export.downloaded",
        target=job,
        data={"format": job.format, "rows": job.total_rows},
    )
    sequences = list(
        ExportChunk.objects.filter(organization=organization, job=job).values_list(
            "sequence", flat=True
        )
    )
    organization_id, job_id = organization.pk, job.pk

    def chunks() -> Iterator[bytes]:
        # Streamed after the view returned, outside the tenant scope: filter explicitly.
        for sequence in sequences:
            data = (
                ExportChunk.all_objects.filter(
                    organization_id=organization_id, job_id=job_id, sequence=sequence
                )
                .values_list("data", flat=True)
                .first()
            )
            if data is not None:
                yield bytes(data)

    return chunks()


def export_jobs_purge(*, organization) -> int:
    """Delete the organization's jobs (and files) past their expiry; returns how many."""
    now = timezone.now()
    expired = ExportJob.objects.filter(organization=organization, expires_at__lte=now)
    with transaction.atomic():
        count = expired.count()
        ExportChunk.objects.filter(organization=organization, job__in=expired).delete()
        ExportJob.objects.filter(organization=organization, pk__in=expired.values("pk")).delete()
    return count


def export_jobs_resume(*, organization) -> list[int]:
    """Ids of jobs whose task was lost (still queued after a minute, or running with no progress
    for `STALE_AFTER`): the sweep sends their task again."""
    now = timezone.now()
    return list(
        ExportJob.objects.filter(organization=organization)
        .filter(
            Q(status=ExportStatus.QUEUED, created_at__lt=now - timedelta(minutes=1))
            | Q(status=ExportStatus.RUNNING, updated_at__lt=now - STALE_AFTER)
        )
        .values_list("pk", flat=True)
    )


# Selectors


def export_job_list(*, organization) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(
        organization=organization, expires_at__gt=timezone.now()
    ).select_related("created_by")


def access_export_job(*, organization, public_id: str) -> ExportJob:
    job = export_job_list(organization=organization).filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job
