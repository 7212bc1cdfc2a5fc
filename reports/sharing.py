"""Read-only share links: `/share/<token>/` shows one dashboard without signing in.

The token is 256 random bits shown once; only its SHA-256 is stored, in the link and in the
handle directory (core.handles), which finds the organization from the token before any tenant
is known (ARCHITECTURE.md, "Growing past one machine"). A link answers 404 once expired or
revoked (revoking also deletes the handle). Every view adds a `ShareLinkView` row holding only
its time, and the management page shows the count.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core import handles
from core.exceptions import ApplicationError
from core.models import Handle, HandleKind
from core.scoping import tenant_scope
from core.services import activity_record
from reports.dashboard_refs import DashboardRef, resolve_dashboard, resolve_many
from reports.models import ShareLink, ShareLinkView
from tenancy.models import Organization
from tenancy.policies import Permission

DEFAULT_DAYS = 30
MAX_DAYS = 365


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def default_expiry_date(organization, today: date | None = None) -> date:
    today = today or timezone.localdate(timezone=organization.zone)
    return today + timedelta(days=DEFAULT_DAYS)


def _expiry_moment(organization, expires_on: date, today: date) -> datetime:
    """The end of `expires_on` in the organization's time zone; at most a year ahead."""
    if expires_on <= today:
        raise ApplicationError(
            _("Choose a day after today."), code="invalid_expiry", extra={"field": "expires_on"}
        )
    if expires_on > today + timedelta(days=MAX_DAYS):
        raise ApplicationError(
            _("A link can last at most a year."),
            code="invalid_expiry",
            extra={"field": "expires_on"},
        )
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=organization.zone)


@dataclass(frozen=True)
class CreatedShareLink:
    link: ShareLink
    token: str  # shown once, never stored


@transaction.atomic
def share_link_create(
    *,
    actor,
    organization,
    dashboard_type: str,
    dashboard_public_id: str,
    expires_on: date | None = None,
    label: str = "",
    today: date | None = None,
) -> CreatedShareLink:
    """A new share link and its directory handle; audited. Raises ApplicationError without the
    SHARE permission, for a dashboard outside the organization or an expiry not within a year."""
    if actor is None or not actor.can(Permission.SHARE):
        raise ApplicationError(_("You may not share dashboards."), code="permission_denied")
    if (
        resolve_dashboard(
            organization=organization, dashboard_type=dashboard_type, public_id=dashboard_public_id
        )
        is None
    ):
        raise ApplicationError(
            _("Choose a dashboard of this organization."),
            code="invalid_dashboard",
            extra={"field": "dashboard"},
        )
    today = today or timezone.localdate(timezone=organization.zone)
    expires_on = expires_on or default_expiry_date(organization, today)
    token = secrets.token_urlsafe(32)
    digest = token_hash(token)
    link = ShareLink.objects.create(
        organization=organization,
        created_by=getattr(actor, "user", None),
        dashboard_type=dashboard_type,
        dashboard_public_id=dashboard_public_id,
        label=label.strip()[:200],
        token_hash=digest,
        expires_at=_expiry_moment(organization, expires_on, today),
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="reports.share_link.created",
        target=link,
        data={
            "dashboard": dashboard_type,
            "dashboard_id": dashboard_public_id,
            "expires_at": link.expires_at.isoformat(),
        },
    )
    return CreatedShareLink(link=link, token=token)


@transaction.atomic
def share_link_revoke(*, actor, organization, link: ShareLink) -> ShareLink:
    """Revoke a link at once (it answers 404 from now on); revoking twice changes nothing."""
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.revoked_by = getattr(actor, "user", None)
    link.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    handles.release(HandleKind.SHARE_LINK, link)
    activity_record(
        organization=organization, actor=actor, action="reports.share_link.revoked", target=link
    )
    return link


def share_links_purge(*, organization, older_than_days: int = 30) -> int:
    """Forget the handles of links expired more than `older_than_days` ago (the link rows and
    their view counts stay for the record)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    expired = ShareLink.objects.filter(organization=organization, expires_at__lt=cutoff).values(
        "pk"
    )
    deleted, _counts = Handle.objects.filter(
        organization=organization, kind=HandleKind.SHARE_LINK, object_id__in=expired
    ).delete()
    return deleted


# The public side


@dataclass(frozen=True)
class SharedDashboard:
    organization: Organization
    link: ShareLink
    dashboard: DashboardRef


def shared_dashboard_for_token(token: str, *, now: datetime | None = None) -> SharedDashboard:
    """Find a live link by its token and log the view. Raises Http404 for an unknown, expired or
    revoked token, or a dashboard that no longer exists. The caller opens the returned
    organization's tenant scope to render."""
    if not token or len(token) > 200:
        raise Http404
    handle = handles.resolve(HandleKind.SHARE_LINK, token_hash(token))
    organization = (
        Organization.objects.filter(pk=handle.organization_id).first() if handle else None
    )
    if organization is None:
        raise Http404
    now = now or timezone.now()
    with tenant_scope(organization):
        link = ShareLink.objects.filter(
            organization=organization,
            pk=handle.object_id,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).first()
        if link is None:
            raise Http404
        dashboard = resolve_dashboard(
            organization=organization,
            dashboard_type=link.dashboard_type,
            public_id=link.dashboard_public_id,
        )
        if dashboard is None:
            raise Http404
        ShareLinkView.objects.create(organization=organization, share_link=link)
    return SharedDashboard(organization=organization, link=link, dashboard=dashboard)


# Selectors


def share_link_list(*, organization) -> QuerySet[ShareLink]:
    """Links, newest first, with their number of views: one query."""
    views = (
        ShareLinkView.objects.filter(organization=organization, share_link=OuterRef("pk"))
        .order_by()
        .values("share_link")
        .annotate(count=Count("id"))
        .values("count")
    )
    return (
        ShareLink.objects.filter(organization=organization)
        .select_related("created_by")
        .annotate(view_count=Coalesce(Subquery(views), 0))
    )


@dataclass(frozen=True)
class ShareLinkRow:
    link: ShareLink
    dashboard: DashboardRef | None

    @property
    def is_live(self) -> bool:
        return self.link.revoked_at is None and self.link.expires_at > timezone.now()


def share_link_rows(*, organization) -> list[ShareLinkRow]:
    links = list(share_link_list(organization=organization))
    dashboards = resolve_many(
        organization=organization,
        refs=[(link.dashboard_type, link.dashboard_public_id) for link in links],
    )
    return [
        ShareLinkRow(link, dashboards.get((link.dashboard_type, link.dashboard_public_id)))
        for link in links
    ]


def access_share_link(*, organization, public_id: str) -> ShareLink:
    link = share_link_list(organization=organization).filter(public_id=public_id).first()
    if link is None:
        raise Http404
    return link
