"""How digests and share links name a dashboard: a type and, for a touchpoint dashboard, the
touchpoint's public id. One select field offers them all ("overview" or "touchpoint:<tp_...>").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from journeys.models import Touchpoint
from reports.models import DashboardType

SEPARATOR = ":"


@dataclass(frozen=True)
class DashboardRef:
    type: str
    public_id: str
    label: str
    touchpoint: Touchpoint | None = None

    @property
    def choice(self) -> str:
        return to_choice(self.type, self.public_id)

    def path(self, organization) -> str:
        """The dashboard's address for members (digest emails link back to it)."""
        if self.type == DashboardType.TOUCHPOINT:
            return reverse("reports:touchpoint", args=[organization.slug, self.public_id])
        return reverse("reports:overview", args=[organization.slug])


def to_choice(dashboard_type: str, public_id: str) -> str:
    if dashboard_type == DashboardType.TOUCHPOINT:
        return f"{DashboardType.TOUCHPOINT}{SEPARATOR}{public_id}"
    return DashboardType.OVERVIEW.value


def from_choice(value: str) -> tuple[str, str]:
    """(type, public id) of a choice; raises ValueError for anything else."""
    if value == DashboardType.OVERVIEW:
        return DashboardType.OVERVIEW.value, ""
    kind, _sep, public_id = (value or "").partition(SEPARATOR)
    if kind != DashboardType.TOUCHPOINT or not public_id:
        raise ValueError(value)
    return DashboardType.TOUCHPOINT.value, public_id


def _touchpoints(organization):
    return (
        Touchpoint.objects.filter(organization=organization, archived_at__isnull=True)
        .select_related("journey")
        .order_by("journey__name", "journey_id", "stage__position", "position", "id")
    )


def _touchpoint_label(touchpoint: Touchpoint) -> str:
    return _("%(touchpoint)s (%(journey)s)") % {
        "touchpoint": touchpoint.name,
        "journey": touchpoint.journey.name,
    }


def overview_ref(organization) -> DashboardRef:
    return DashboardRef(DashboardType.OVERVIEW, "", _("Organization overview"))


def dashboard_choices(organization) -> list:
    """Choices for a select: the overview, then each active touchpoint grouped by journey.
    One query."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for touchpoint in _touchpoints(organization):
        groups.setdefault(touchpoint.journey.name, []).append(
            (to_choice(DashboardType.TOUCHPOINT, touchpoint.public_id), touchpoint.name)
        )
    return [(DashboardType.OVERVIEW.value, _("Organization overview")), *groups.items()]


def resolve_dashboard(*, organization, dashboard_type: str, public_id: str) -> DashboardRef | None:
    """The dashboard a digest or share link names, or None when its touchpoint is gone."""
    if dashboard_type == DashboardType.OVERVIEW:
        return overview_ref(organization)
    touchpoint = (
        Touchpoint.objects.filter(organization=organization, public_id=public_id)
        .select_related("journey")
        .first()
    )
    if touchpoint is None:
        return None
    return DashboardRef(
        DashboardType.TOUCHPOINT, public_id, _touchpoint_label(touchpoint), touchpoint
    )


def resolve_many(
    *, organization, refs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], DashboardRef]:
    """Many references at once for list pages: one query for all their touchpoints. A missing
    touchpoint is left out of the answer."""
    refs = set(refs)
    wanted = {public_id for kind, public_id in refs if kind == DashboardType.TOUCHPOINT}
    found: dict[tuple[str, str], DashboardRef] = {}
    if any(kind == DashboardType.OVERVIEW for kind, _public_id in refs):
        found[(DashboardType.OVERVIEW.value, "")] = overview_ref(organization)
    if wanted:
        for touchpoint in Touchpoint.objects.filter(
            organization=organization, public_id__in=wanted
        ).select_related("journey"):
            found[(DashboardType.TOUCHPOINT.value, touchpoint.public_id)] = DashboardRef(
                DashboardType.TOUCHPOINT,
                touchpoint.public_id,
                _touchpoint_label(touchpoint),
                touchpoint,
            )
    return found
