"""Choices of the journeys app; the metrics a plan can name come from metrics.registry."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.channels import TouchpointChannel
from metrics import registry


class JourneyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


# Where a customer meets the company; values and labels from the one vocabulary in core.
Channel = TouchpointChannel


# Used when a touchpoint is created without saying whether it is digital: the channel decides.
DIGITAL_CHANNELS = frozenset({Channel.WEB, Channel.MOBILE_APP, Channel.EMAIL, Channel.CHAT})


# Values and labels come from the one metric registry (metrics/registry.py, pure, no ORM); the
# names (Metric.NPS) are kept for the code that spells metrics out. The model field holds every
# metric with a fixed scale, so plans of a metric that cannot be scored yet still display; forms
# and the API offer only `plannable_metric_choices()` (metrics that can be scored).
Metric = models.TextChoices(
    "Metric", [(name.upper(), (name, label)) for name, label in registry.plan_field_choices()]
)


def plannable_metric_choices() -> list[tuple[str, str]]:
    return registry.plannable_choices()


class KpiKind(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    TACTICAL = "tactical", _("Tactical")


class Direction(models.TextChoices):
    UP = "up", _("Move up")
    DOWN = "down", _("Move down")


class TargetStatus(models.TextChoices):
    """A plan's current value against its target; pages show the label as text."""

    ON_TARGET = "on_target", _("On target")
    BELOW = "below", _("Below target")
    NO_TARGET = "no_target", _("No target set")
    NO_DATA = "no_data", _("No data yet")
    NOT_SCORED = "not_scored", _("Not scored yet")


def target_status(*, metric: str, value: Decimal | float | None, target: Decimal | None) -> str:
    """On target or below, honouring metrics where lower is better (legacy CES).

    metrics.kpis and the report pages judge every target through it, so they agree.
    """
    if value is None:
        return TargetStatus.NO_DATA
    if target is None:
        return TargetStatus.NO_TARGET
    value = Decimal(str(value))
    if not registry.higher_is_better(metric):
        return TargetStatus.ON_TARGET if value <= target else TargetStatus.BELOW
    return TargetStatus.ON_TARGET if value >= target else TargetStatus.BELOW
