"""Reads of the alerts app, shared by pages and the API. `access_*` answers 404 for "missing" and
"not yours" alike."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from alerts.enums import OPEN_CASE_STATUSES, CaseStatus
from alerts.models import (
    Alert,
    AlertRule,
    Case,
    CaseEvent,
    ImprovementItem,
    Notification,
    RootCause,
)


@dataclass(frozen=True)
class CaseFilters:
    """The case inbox's filters; every field optional."""

    assignee_id: int | None = None  # "mine" is the signed-in user's id
    unassigned: bool = False
    statuses: tuple[str, ...] = ()
    open_only: bool = False
    touchpoint_id: int | None = None
    priority: str = ""
    overdue: bool = False
    contact_id: int | None = None
    response_id: int | None = None
    query: str = ""


def case_list(*, organization, filters: CaseFilters | None = None, now: datetime | None = None):
    """Cases newest first with what the inbox shows, in one query however many there are."""
    filters = filters or CaseFilters()
    now = now or timezone.now()
    cases = Case.objects.filter(organization=organization).select_related(
        "assignee", "touchpoint", "root_cause"
    )
    if filters.assignee_id is not None:
        cases = cases.filter(assignee_id=filters.assignee_id)
    if filters.unassigned:
        cases = cases.filter(assignee__isnull=True)
    if filters.statuses:
        cases = cases.filter(status__in=filters.statuses)
    if filters.open_only:
        cases = cases.filter(status__in=OPEN_CASE_STATUSES)
    if filters.touchpoint_id is not None:
        cases = cases.filter(touchpoint_id=filters.touchpoint_id)
    if filters.priority:
        cases = cases.filter(priority=filters.priority)
    if filters.overdue:
        cases = cases.filter(overdue_q(now))
    if filters.contact_id is not None:
        cases = cases.filter(contact_id=filters.contact_id)
    if filters.response_id is not None:
        cases = cases.filter(response_id=filters.response_id)
    if filters.query:
        number = filters.query.lstrip("#")
        q = Q(title__icontains=filters.query)
        if number.isdigit():
            q |= Q(number=int(number))
        cases = cases.filter(q)
    return cases.order_by("-created_at", "-id")


def overdue_q(now: datetime) -> Q:
    """Open cases past their first-contact time without a contact, or past their resolution."""
    return Q(status__in=OPEN_CASE_STATUSES) & (
        Q(first_contact_due__lt=now, first_contacted_at__isnull=True) | Q(resolution_due__lt=now)
    )


def access_case(*, organization, public_id: str) -> Case:
    case = (
        Case.objects.filter(organization=organization, public_id=public_id)
        .select_related(
            "assignee",
            "touchpoint",
            "touchpoint__owner",
            "root_cause",
            "improvement",
            "alert",
            "alert__rule",
            "response",
            "response__survey",
            "contact",
        )
        .first()
    )
    if case is None:
        raise Http404
    return case


def case_timeline(*, case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(organization_id=case.organization_id, case=case).select_related(
        "actor"
    )


def case_notifications(*, case: Case) -> QuerySet[Notification]:
    return Notification.objects.filter(organization_id=case.organization_id, case=case)


def open_case_count(*, organization, user=None) -> int:
    """The number in the navigation: open cases assigned to `user` (or all open ones)."""
    cases = Case.objects.filter(organization=organization, status__in=OPEN_CASE_STATUSES)
    if user is not None:
        cases = cases.filter(assignee=user)
    return cases.count()


def open_cases_for_touchpoint(*, organization, touchpoint, limit: int = 10):
    return case_list(
        organization=organization, filters=CaseFilters(touchpoint_id=touchpoint.pk, open_only=True)
    )[:limit]


def cases_for_contact(*, organization, contact, limit: int = 100):
    return case_list(organization=organization, filters=CaseFilters(contact_id=contact.pk))[:limit]


def rule_list(*, organization) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(organization=organization).select_related(
        "journey", "touchpoint", "survey"
    )


def access_rule(*, organization, public_id: str) -> AlertRule:
    rule = rule_list(organization=organization).filter(public_id=public_id).first()
    if rule is None:
        raise Http404
    return rule


def alert_list(*, organization, status: str = "", rule_id: int | None = None):
    alerts = Alert.objects.filter(organization=organization).select_related(
        "rule", "touchpoint", "survey", "response"
    )
    if status:
        alerts = alerts.filter(status=status)
    if rule_id is not None:
        alerts = alerts.filter(rule_id=rule_id)
    return alerts.order_by("-created_at", "-id")


def access_alert(*, organization, public_id: str) -> Alert:
    alert = alert_list(organization=organization).filter(public_id=public_id).first()
    if alert is None:
        raise Http404
    return alert


def root_cause_list(*, organization, active_only: bool = False) -> QuerySet[RootCause]:
    causes = RootCause.objects.filter(organization=organization)
    return causes.filter(is_active=True) if active_only else causes


def access_root_cause(*, organization, public_id: str) -> RootCause:
    cause = root_cause_list(organization=organization).filter(public_id=public_id).first()
    if cause is None:
        raise Http404
    return cause


def improvement_list(*, organization) -> QuerySet[ImprovementItem]:
    # Counted in subqueries, not with GROUP BY: the table's primary key is (organization, id),
    # so PostgreSQL would not accept grouping by `id` alone for the selected columns.
    linked = (
        Case.objects.filter(organization=organization, improvement=OuterRef("pk"))
        .order_by()
        .values("improvement")
    )
    return (
        ImprovementItem.objects.filter(organization=organization)
        .select_related("owner", "root_cause")
        .annotate(
            case_count=Coalesce(Subquery(linked.annotate(n=Count("id")).values("n")), 0),
            open_case_count=Coalesce(
                Subquery(
                    linked.filter(status__in=OPEN_CASE_STATUSES).annotate(n=Count("id")).values("n")
                ),
                0,
            ),
        )
    )


def access_improvement(*, organization, public_id: str) -> ImprovementItem:
    item = improvement_list(organization=organization).filter(public_id=public_id).first()
    if item is None:
        raise Http404
    return item


# --- closed-loop measures --------------------------------------------------------------------


@dataclass(frozen=True)
class LoopMeasure:
    """Closed-loop figures of one touchpoint or owner over the cases opened in a period."""

    key: object
    cases: int
    contacted: int
    contacted_within_sla: int
    resolved: int
    resolved_within_sla: int
    avg_hours_to_first_contact: float | None

    @property
    def share_contacted_within_sla(self) -> float | None:
        return self.contacted_within_sla / self.cases if self.cases else None

    @property
    def share_resolved_within_sla(self) -> float | None:
        return self.resolved_within_sla / self.cases if self.cases else None


def closed_loop_measures(*, organization, by: str, start: datetime, end: datetime):
    """Time to first contact and the share within SLA, per touchpoint (`by="touchpoint"`) or
    per assignee (`by="assignee"`), over cases opened between start and end: one query."""
    group = {"touchpoint": "touchpoint_id", "assignee": "assignee_id"}[by]
    rows = (
        Case.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
        .exclude(status=CaseStatus.CANCELLED)
        .values(group)
        .annotate(
            cases=Count("id"),
            contacted=Count("id", filter=Q(first_contacted_at__isnull=False)),
            contacted_within=Count(
                "id",
                filter=Q(
                    first_contacted_at__isnull=False, first_contacted_at__lte=F("first_contact_due")
                ),
            ),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            resolved_within=Count(
                "id", filter=Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due"))
            ),
            avg_first=Avg(
                ExpressionWrapper(
                    F("first_contacted_at") - F("created_at"), output_field=DurationField()
                ),
                filter=Q(first_contacted_at__isnull=False),
            ),
        )
        .order_by(group)
    )
    return [
        LoopMeasure(
            key=row[group],
            cases=row["cases"],
            contacted=row["contacted"],
            contacted_within_sla=row["contacted_within"],
            resolved=row["resolved"],
            resolved_within_sla=row["resolved_within"],
            avg_hours_to_first_contact=(
                row["avg_first"].total_seconds() / 3600 if row["avg_first"] is not None else None
            ),
        )
        for row in rows
    ]
