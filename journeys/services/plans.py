"""Writes of measurement plans: which metric at a touchpoint, baseline and target."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import activity_record
from journeys.enums import (
    KpiKind,
    Metric,
)
from journeys.models import MeasurementPlan, Touchpoint
from journeys.services._common import (
    _changed,
    _check_value,
    _plain,
)
from metrics import registry
from tenancy.actors import Actor


def _check_plan(*, touchpoint: Touchpoint, metric: str, kpi_kind: str, values: dict, exclude=None):
    definition = registry.get(metric)
    if definition is None or metric not in Metric.values:
        raise ApplicationError(
            _("Unknown metric."), code="invalid_metric", extra={"field": "metric"}
        )
    # A plan kept from before its metric lost its scorer may be edited; no new one is made.
    keeps_metric = exclude is not None and exclude.metric == metric
    if not definition.plannable and not keeps_metric:
        raise ApplicationError(
            _("%(metric)s cannot be scored yet, so it cannot be planned.")
            % {"metric": definition.label},
            code="metric_not_scorable",
            extra={"field": "metric"},
        )
    if kpi_kind not in KpiKind.values:
        raise ApplicationError(
            _("Unknown KPI kind."), code="invalid_kpi_kind", extra={"field": "kpi_kind"}
        )
    taken = MeasurementPlan.objects.filter(touchpoint=touchpoint, metric=metric)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ApplicationError(
            _("%(metric)s is measured at this touchpoint already.") % {"metric": definition.label},
            code="metric_planned",
            extra={"field": "metric"},
        )
    _check_value(metric, values.get("baseline_value"), "baseline_value")
    _check_value(metric, values.get("target_value"), "target_value")
    for value_field, date_field in (
        ("baseline_value", "baseline_date"),
        ("target_value", "target_date"),
    ):
        if values.get(date_field) and values.get(value_field) is None:
            raise ApplicationError(
                _("Give the value the date belongs to."),
                code="date_without_value",
                extra={"field": value_field},
            )
    baseline_date, target_date = values.get("baseline_date"), values.get("target_date")
    if baseline_date and target_date and target_date < baseline_date:
        raise ApplicationError(
            _("The target date comes after the baseline date."),
            code="target_before_baseline",
            extra={"field": "target_date"},
        )


@transaction.atomic
def measurement_plan_create(
    *,
    actor: Actor,
    touchpoint: Touchpoint,
    metric: str,
    kpi_kind: str = KpiKind.OPERATIONAL,
    baseline_value: Decimal | None = None,
    baseline_date: date | None = None,
    target_value: Decimal | None = None,
    target_date: date | None = None,
) -> MeasurementPlan:
    """Plan a metric at a touchpoint. Raises ApplicationError for a metric planned already,
    a value outside the metric's scale, or a date without its value."""
    values = {
        "baseline_value": baseline_value,
        "baseline_date": baseline_date,
        "target_value": target_value,
        "target_date": target_date,
    }
    _check_plan(touchpoint=touchpoint, metric=metric, kpi_kind=kpi_kind, values=values)
    plan = MeasurementPlan.objects.create(
        organization=touchpoint.organization,
        touchpoint=touchpoint,
        metric=metric,
        kpi_kind=kpi_kind,
        **values,
    )
    activity_record(
        organization=touchpoint.organization,
        actor=actor,
        action="journeys.measurement_plan.created",
        target=plan,
        data={"touchpoint": touchpoint.public_id, **{k: _plain(v) for k, v in values.items()}},
    )
    return plan


@transaction.atomic
def measurement_plan_update(
    *, actor: Actor, plan: MeasurementPlan, **changes: Any
) -> MeasurementPlan:
    """Change the metric, KPI kind, baseline or target; the same checks as creating."""
    allowed = {
        "metric", "kpi_kind", "baseline_value", "baseline_date", "target_value", "target_date",
    }  # fmt: skip
    if set(changes) - allowed:
        raise ApplicationError(_("These fields cannot be changed here."), code="invalid_field")
    merged = {field: changes.get(field, getattr(plan, field)) for field in allowed}
    _check_plan(
        touchpoint=plan.touchpoint,
        metric=merged.pop("metric"),
        kpi_kind=merged.pop("kpi_kind"),
        values=merged,
        exclude=plan,
    )
    diff = _changed(plan, changes)
    if diff:
        plan.save()
        activity_record(
            organization=plan.organization,
            actor=actor,
            action="journeys.measurement_plan.updated",
            target=plan,
            data={"touchpoint": plan.touchpoint.public_id, "changes": diff},
        )
    return plan


@transaction.atomic
def measurement_plan_delete(*, actor: Actor, plan: MeasurementPlan) -> None:
    activity_record(
        organization=plan.organization,
        actor=actor,
        action="journeys.measurement_plan.deleted",
        target=plan,
        data={"touchpoint": plan.touchpoint.public_id, "metric": plan.metric},
    )
    plan.delete()
