"""Scheduled digests: a dashboard's headline numbers by email, once per period.

A digest names a dashboard (the organization overview or one touchpoint's), a cadence and
recipients among the organization's members; what it says is built by `reports.digest_content`.

Sent once per period even when two beat processes run, a task runs twice or two workers race:
the sender first inserts the `DigestDelivery` row with the unique key (organization, digest,
period start); whoever inserts it sends, everyone else skips. A claim whose worker died (still
"sending" after `CLAIM_STALE_AFTER`) is taken over with a compare-and-swap, and recipients already
sent (`sent_to`) are skipped, so a crash repeats at most the one message in flight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from reports.dashboard_refs import DashboardRef, resolve_dashboard, resolve_many
from reports.digest_content import (
    Period,
    digest_content,
    digest_message,
    due_period,
    period_of,
)
from reports.models import Cadence, DeliveryStatus, Digest, DigestDelivery, DigestRecipient
from tenancy.models import Membership

logger = logging.getLogger(__name__)

CLAIM_STALE_AFTER = timedelta(minutes=30)


# Sending


def digests_due(*, organization, now: datetime | None = None) -> list[tuple[Digest, Period]]:
    """Active digests whose current period has not been sent or claimed (a claim left by a dead
    worker counts as not claimed). Two queries."""
    local_now = timezone.localtime(now or timezone.now(), organization.zone)
    candidates = []
    for digest in Digest.objects.filter(organization=organization, is_active=True):
        period = due_period(digest.cadence, local_now)
        if period is not None:
            candidates.append((digest, period))
    if not candidates:
        return []
    stale = (now or timezone.now()) - CLAIM_STALE_AFTER
    taken = set(
        DigestDelivery.objects.filter(
            organization=organization, digest_id__in=[d.pk for d, _period in candidates]
        )
        .exclude(status=DeliveryStatus.SENDING, claimed_at__lt=stale)
        .values_list("digest_id", "period_start")
    )
    return [(d, p) for d, p in candidates if (d.pk, p.start) not in taken]


def _claim(organization, digest: Digest, period: Period) -> DigestDelivery | None:
    """Insert the period's delivery row (we send), or take over a dead worker's claim with a
    compare-and-swap; None when someone else has it or it is done."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(
                organization=organization,
                digest=digest,
                period_start=period.start,
                period_end=period.end,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    taken = DigestDelivery.objects.filter(
        organization=organization,
        digest=digest,
        period_start=period.start,
        status=DeliveryStatus.SENDING,
        claimed_at__lt=now - CLAIM_STALE_AFTER,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not taken:
        return None
    return DigestDelivery.objects.get(
        organization=organization, digest=digest, period_start=period.start
    )


def release_claim(*, organization, delivery_id: int) -> None:
    """Let the next attempt take the claim at once (after a transient sending error)."""
    DigestDelivery.objects.filter(
        organization=organization, pk=delivery_id, status=DeliveryStatus.SENDING
    ).update(claimed_at=timezone.now() - CLAIM_STALE_AFTER - timedelta(seconds=1))


def _finish(organization, delivery: DigestDelivery, status: str, failure: str = "") -> None:
    DigestDelivery.objects.filter(organization=organization, pk=delivery.pk).update(
        status=status,
        sent_at=timezone.now() if status == DeliveryStatus.SENT else None,
        failure=failure[:300],
    )


def digest_deliver(
    *, organization, digest_id: int, cadence: str, period_start: date
) -> DigestDelivery | None:
    """Send one digest's period to its recipients, once. Returns the delivery when this call
    sent it, None when there was nothing to do (gone, paused, changed, or claimed elsewhere).

    Sending errors propagate after the claim is released, so the task retries; recipients
    already sent are not sent again."""
    digest = Digest.objects.filter(organization=organization, pk=digest_id, is_active=True).first()
    if digest is None or digest.cadence != cadence:
        return None
    period = period_of(cadence, period_start)
    delivery = _claim(organization, digest, period)
    if delivery is None:
        return None
    dashboard = resolve_dashboard(
        organization=organization,
        dashboard_type=digest.dashboard_type,
        public_id=digest.dashboard_public_id,
    )
    if dashboard is None:
        _finish(organization, delivery, DeliveryStatus.FAILED, "dashboard no longer exists")
        return delivery
    content = digest_content(
        organization=organization, dashboard=dashboard, cadence=cadence, period=period
    )
    sent = list(delivery.sent_to)
    connection = get_connection()
    try:
        for recipient in _recipients(organization, digest):
            if recipient.membership_id in sent:
                continue
            message = digest_message(
                organization=organization, content=content, user=recipient.membership.user
            )
            message.connection = connection
            message.send()
            sent.append(recipient.membership_id)
            DigestDelivery.objects.filter(organization=organization, pk=delivery.pk).update(
                sent_to=sent
            )
    except Exception:
        release_claim(organization=organization, delivery_id=delivery.pk)
        raise
    finally:
        connection.close()
    _finish(organization, delivery, DeliveryStatus.SENT)
    activity_record(
        organization=organization,
        actor=None,
        action="reports.digest.sent",
        target=digest,
        data={"period_start": period.start.isoformat(), "recipients": len(sent)},
    )
    return delivery


def digest_delivery_fail(*, organization, delivery_id: int, failure: str) -> None:
    """Give up on a delivery after the task's last retry."""
    DigestDelivery.objects.filter(
        organization=organization, pk=delivery_id, status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.FAILED, failure=failure[:300])


def _recipients(organization, digest: Digest) -> list[DigestRecipient]:
    return list(
        DigestRecipient.objects.filter(
            organization=organization, digest=digest, membership__organization=organization
        )
        .select_related("membership__user")
        .order_by("membership__user__email")
    )


# Services: create, edit, delete


def _check_dashboard(organization, dashboard_type: str, public_id: str) -> DashboardRef:
    dashboard = resolve_dashboard(
        organization=organization, dashboard_type=dashboard_type, public_id=public_id
    )
    if dashboard is None:
        raise ApplicationError(
            _("Choose a dashboard of this organization."),
            code="invalid_dashboard",
            extra={"field": "dashboard"},
        )
    return dashboard


def _check_recipients(organization, recipients: list[Membership]) -> list[Membership]:
    if not recipients:
        raise ApplicationError(
            _("Choose at least one recipient."), code="no_recipients", extra={"field": "recipients"}
        )
    if any(m.organization_id != organization.pk for m in recipients):
        raise ApplicationError(
            _("Recipients must be members of this organization."),
            code="invalid_recipients",
            extra={"field": "recipients"},
        )
    return recipients


def _set_recipients(organization, digest: Digest, recipients: list[Membership]) -> None:
    wanted = {m.pk for m in recipients}
    DigestRecipient.objects.filter(organization=organization, digest=digest).exclude(
        membership_id__in=wanted
    ).delete()
    have = set(
        DigestRecipient.objects.filter(organization=organization, digest=digest).values_list(
            "membership_id", flat=True
        )
    )
    DigestRecipient.objects.bulk_create(
        [
            DigestRecipient(organization=organization, digest=digest, membership_id=pk)
            for pk in sorted(wanted - have)
        ]
    )


@transaction.atomic
def digest_create(
    *,
    actor,
    organization,
    dashboard_type: str,
    dashboard_public_id: str,
    cadence: str,
    recipients: list[Membership],
    is_active: bool = True,
) -> Digest:
    """A new digest, active unless told otherwise; audited. Raises ApplicationError for a
    dashboard or recipients outside the organization."""
    _check_dashboard(organization, dashboard_type, dashboard_public_id)
    _check_recipients(organization, recipients)
    digest = Digest.objects.create(
        organization=organization,
        created_by=getattr(actor, "user", None),
        dashboard_type=dashboard_type,
        dashboard_public_id=dashboard_public_id,
        cadence=Cadence(cadence),
        is_active=is_active,
    )
    _set_recipients(organization, digest, recipients)
    activity_record(
        organization=organization,
        actor=actor,
        action="reports.digest.created",
        target=digest,
        data={"cadence": digest.cadence, "recipients": len(recipients), "active": is_active},
    )
    return digest


@transaction.atomic
def digest_update(
    *,
    actor,
    organization,
    digest: Digest,
    dashboard_type: str,
    dashboard_public_id: str,
    cadence: str,
    recipients: list[Membership],
    is_active: bool = True,
) -> Digest:
    """Change a digest's dashboard, cadence, recipients or pause it; audited."""
    _check_dashboard(organization, dashboard_type, dashboard_public_id)
    _check_recipients(organization, recipients)
    digest.dashboard_type = dashboard_type
    digest.dashboard_public_id = dashboard_public_id
    digest.cadence = Cadence(cadence)
    digest.is_active = is_active
    digest.save()
    _set_recipients(organization, digest, recipients)
    activity_record(
        organization=organization,
        actor=actor,
        action="reports.digest.updated",
        target=digest,
        data={"cadence": digest.cadence, "recipients": len(recipients), "active": is_active},
    )
    return digest


@transaction.atomic
def digest_delete(*, actor, organization, digest: Digest) -> None:
    """Delete a digest with its recipients and delivery history; audited."""
    activity_record(
        organization=organization, actor=actor, action="reports.digest.deleted", target=digest
    )
    DigestRecipient.objects.filter(organization=organization, digest=digest).delete()
    DigestDelivery.objects.filter(organization=organization, digest=digest).delete()
    digest.delete()


# Selectors


@dataclass(frozen=True)
class DigestRow:
    digest: Digest
    dashboard: DashboardRef | None
    recipients: list[Membership]
    last_sent: date | None


def digest_list(*, organization) -> QuerySet[Digest]:
    """Digests with recipients (and their users) and the last sent period: three queries."""
    return (
        Digest.objects.filter(organization=organization)
        .prefetch_related(
            Prefetch(
                "recipients",
                queryset=DigestRecipient.objects.filter(
                    organization=organization, membership__organization=organization
                )
                .select_related("membership__user")
                .order_by("membership__user__email"),
            )
        )
        .annotate(
            # A subquery, not a join with GROUP BY: the primary key is (organization_id, id),
            # so PostgreSQL cannot group the digest's columns by id alone.
            last_sent=Subquery(
                DigestDelivery.objects.filter(
                    organization=organization,
                    digest=OuterRef("pk"),
                    status=DeliveryStatus.SENT,
                )
                .order_by("-period_start")
                .values("period_start")[:1]
            )
        )
    )


def digest_rows(*, organization) -> list[DigestRow]:
    digests = list(digest_list(organization=organization))
    dashboards = resolve_many(
        organization=organization,
        refs=[(d.dashboard_type, d.dashboard_public_id) for d in digests],
    )
    return [
        DigestRow(
            digest=digest,
            dashboard=dashboards.get((digest.dashboard_type, digest.dashboard_public_id)),
            recipients=[r.membership for r in digest.recipients.all()],
            last_sent=digest.last_sent,
        )
        for digest in digests
    ]


def access_digest(*, organization, public_id: str) -> Digest:
    digest = (
        Digest.objects.filter(organization=organization, public_id=public_id)
        .prefetch_related(
            Prefetch(
                "recipients",
                queryset=DigestRecipient.objects.filter(
                    organization=organization, membership__organization=organization
                )
                .select_related("membership")
                .order_by("membership__user__email"),
            )
        )
        .first()
    )
    if digest is None:
        raise Http404
    return digest
